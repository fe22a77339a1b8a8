package sqlite

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/berth/berth/store"
)

// RecordBuild records the build of an image, replacing any earlier build
// of the same kind, in one transaction. The caller has made every blob
// durable first.
func (db *DB) RecordBuild(ctx context.Context, b store.Build) error {
	if b.Kind != store.ContentOCI && b.Kind != store.ContentIncus {
		return store.Invalid("kind", "Content kind %q is neither oci nor incus.", b.Kind)
	}
	if !store.ValidDigest(b.Manifest.Digest) {
		return store.Invalid("digest", "Digest %q is not a sha256 digest.", b.Manifest.Digest)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := findImage(ctx, tx, b.ImageID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM builds WHERE image_id = ? AND kind = ?`, b.ImageID, b.Kind); err != nil {
		return fmt.Errorf("record build %s: %w", b.ImageID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO builds (image_id, kind, digest, media_type, size, loaded_at)
		VALUES (?, ?, ?, ?, ?, ?)`, b.ImageID, b.Kind, b.Manifest.Digest, b.Manifest.MediaType, b.Manifest.Size,
		tx.now.Format(time.RFC3339)); err != nil {
		return fmt.Errorf("record build %s: %w", b.ImageID, err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO build_blobs (image_id, kind, digest, size, media_type, role)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("record build %s: %w", b.ImageID, err)
	}
	defer stmt.Close()
	for _, bl := range b.Blobs {
		if !store.ValidDigest(bl.Digest) {
			return store.Invalid("digest", "Digest %q is not a sha256 digest.", bl.Digest)
		}
		if _, err := stmt.ExecContext(ctx, b.ImageID, b.Kind, bl.Digest, bl.Size, bl.MediaType, bl.Role); err != nil {
			return fmt.Errorf("record build %s: blob %s: %w", b.ImageID, bl.Digest, err)
		}
	}
	return tx.Commit()
}

// FindBuild returns an image's build of kind.
func (db *DB) FindBuild(ctx context.Context, imageID, kind string) (*store.Build, error) {
	builds, err := db.builds(ctx, []string{imageID}, kind)
	if err != nil {
		return nil, err
	}
	if b := builds[imageID]; b != nil {
		return b, nil
	}
	return nil, store.Errorf(store.ENOTFOUND, "No %s content is loaded for image %s.", kind, imageID)
}

// builds reads the builds of kind of the given images, with their blobs.
func (db *DB) builds(ctx context.Context, ids []string, kind string) (map[string]*store.Build, error) {
	out := map[string]*store.Build{}
	for _, id := range ids {
		var b store.Build
		var loaded string
		rows, err := db.read.QueryContext(ctx, `SELECT digest, media_type, size, loaded_at FROM builds
			WHERE image_id = ? AND kind = ?`, id, kind)
		if err != nil {
			return nil, fmt.Errorf("find build %s: %w", id, err)
		}
		found := rows.Next()
		if found {
			err = rows.Scan(&b.Manifest.Digest, &b.Manifest.MediaType, &b.Manifest.Size, &loaded)
		}
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("find build %s: %w", id, err)
		}
		if !found {
			continue
		}
		b.ImageID, b.Kind, b.Manifest.Role = id, kind, store.RoleManifest
		b.LoadedAt, _ = time.Parse(time.RFC3339, loaded)
		blobs, err := db.read.QueryContext(ctx, `SELECT digest, size, media_type, role FROM build_blobs
			WHERE image_id = ? AND kind = ? ORDER BY role, digest`, id, kind)
		if err != nil {
			return nil, fmt.Errorf("find build %s: %w", id, err)
		}
		for blobs.Next() {
			var bl store.Blob
			if err := blobs.Scan(&bl.Digest, &bl.Size, &bl.MediaType, &bl.Role); err != nil {
				blobs.Close()
				return nil, fmt.Errorf("find build %s: %w", id, err)
			}
			b.Blobs = append(b.Blobs, bl)
		}
		blobs.Close()
		if err := blobs.Err(); err != nil {
			return nil, fmt.Errorf("find build %s: %w", id, err)
		}
		out[id] = &b
	}
	return out, nil
}

// AliasBuilds returns the images of an alias that have content of kind,
// ordered by architecture, and every image of the alias.
func (db *DB) AliasBuilds(ctx context.Context, alias, kind string) ([]store.ImageBuild, []*store.Image, error) {
	imgs, err := queryImages(ctx, preparedReads{db}, `SELECT `+imageColumns+` FROM images WHERE alias = ? ORDER BY architecture`, alias)
	if err != nil {
		return nil, nil, fmt.Errorf("alias builds %s: %w", alias, err)
	}
	ids := make([]string, len(imgs))
	for i, img := range imgs {
		ids[i] = img.ID
	}
	builds, err := db.builds(ctx, ids, kind)
	if err != nil {
		return nil, nil, err
	}
	var out []store.ImageBuild
	for _, img := range imgs {
		if b := builds[img.ID]; b != nil {
			out = append(out, store.ImageBuild{Image: img, Build: b})
		}
	}
	return out, imgs, nil
}

// KindBuilds returns every image with content of kind, by alias and
// architecture.
func (db *DB) KindBuilds(ctx context.Context, kind string) ([]store.ImageBuild, error) {
	ids, err := queryStrings(ctx, db.read, `SELECT image_id FROM builds WHERE kind = ?`, kind)
	if err != nil {
		return nil, fmt.Errorf("builds of %s: %w", kind, err)
	}
	builds, err := db.builds(ctx, ids, kind)
	if err != nil {
		return nil, err
	}
	var out []store.ImageBuild
	for _, id := range ids {
		img, err := findImage(ctx, db.read, id)
		if err != nil {
			return nil, err
		}
		out = append(out, store.ImageBuild{Image: img, Build: builds[id]})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Image, out[j].Image
		if a.Alias != b.Alias {
			return a.Alias < b.Alias
		}
		return a.Architecture < b.Architecture
	})
	return out, nil
}

// ReferencedBlobs returns every blob some build references, once each.
func (db *DB) ReferencedBlobs(ctx context.Context) ([]store.Blob, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT digest, MAX(size), MIN(media_type), MIN(role)
		FROM build_blobs /* full scan: every referenced blob is wanted */ GROUP BY digest ORDER BY digest`)
	if err != nil {
		return nil, fmt.Errorf("referenced blobs: %w", err)
	}
	defer rows.Close()
	var out []store.Blob
	for rows.Next() {
		var bl store.Blob
		if err := rows.Scan(&bl.Digest, &bl.Size, &bl.MediaType, &bl.Role); err != nil {
			return nil, fmt.Errorf("referenced blobs: %w", err)
		}
		out = append(out, bl)
	}
	return out, rows.Err()
}

// RecordPull notes that a user pulled an image now.
func (db *DB) RecordPull(ctx context.Context, userID int64, imageID string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO pulls (user_id, image_id, count, last_pulled_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (user_id, image_id) DO UPDATE SET count = count + 1, last_pulled_at = excluded.last_pulled_at`,
		userID, imageID, tx.now.Format(time.RFC3339)); err != nil {
		return fmt.Errorf("record pull of %s: %w", imageID, err)
	}
	return tx.Commit()
}

// LastPulls returns when the user last pulled each image.
func (db *DB) LastPulls(ctx context.Context, userID int64) (map[string]time.Time, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT image_id, last_pulled_at FROM pulls WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("last pulls: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id, at string
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("last pulls: %w", err)
		}
		out[id], _ = time.Parse(time.RFC3339, at)
	}
	return out, rows.Err()
}
