package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
	for _, bl := range b.Blobs {
		if !store.ValidDigest(bl.Digest) {
			return store.Invalid("digest", "Digest %q is not a sha256 digest.", bl.Digest)
		}
	}
	return db.inTx(ctx, func(tx *Tx) error {
		// FOR SHARE: the image cannot go away before the build lands.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM images WHERE id = $1 FOR SHARE`, b.ImageID).Scan(&one); noRows(err) {
			return store.Errorf(store.ENOTFOUND, "No image has the id %q.", b.ImageID)
		} else if err != nil {
			return fmt.Errorf("record build %s: %w", b.ImageID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM builds WHERE image_id = $1 AND kind = $2`, b.ImageID, b.Kind); err != nil {
			return fmt.Errorf("record build %s: %w", b.ImageID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO builds (image_id, kind, digest, media_type, size, loaded_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, b.ImageID, b.Kind, b.Manifest.Digest, b.Manifest.MediaType, b.Manifest.Size,
			tx.now); err != nil {
			return fmt.Errorf("record build %s: %w", b.ImageID, err)
		}
		for _, bl := range b.Blobs {
			if _, err := tx.Exec(ctx, `INSERT INTO build_blobs (image_id, kind, digest, size, media_type, role)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				b.ImageID, b.Kind, bl.Digest, bl.Size, bl.MediaType, bl.Role); err != nil {
				return fmt.Errorf("record build %s: blob %s: %w", b.ImageID, bl.Digest, err)
			}
		}
		return nil
	})
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

// builds reads the builds of kind of the given images, with their blobs,
// in two queries.
func (db *DB) builds(ctx context.Context, ids []string, kind string) (map[string]*store.Build, error) {
	out := map[string]*store.Build{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT image_id, digest, media_type, size, loaded_at FROM builds
		WHERE image_id = ANY($1) AND kind = $2`, ids, kind)
	if err != nil {
		return nil, fmt.Errorf("find builds: %w", err)
	}
	for rows.Next() {
		var b store.Build
		var loaded time.Time
		if err := rows.Scan(&b.ImageID, &b.Manifest.Digest, &b.Manifest.MediaType, &b.Manifest.Size, &loaded); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find builds: %w", err)
		}
		b.Kind, b.Manifest.Role, b.LoadedAt = kind, store.RoleManifest, loaded.UTC()
		out[b.ImageID] = &b
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find builds: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	blobs, err := db.pool.Query(ctx, `SELECT image_id, digest, size, media_type, role FROM build_blobs
		WHERE image_id = ANY($1) AND kind = $2 ORDER BY image_id, role, digest`, ids, kind)
	if err != nil {
		return nil, fmt.Errorf("find builds: %w", err)
	}
	defer blobs.Close()
	for blobs.Next() {
		var id string
		var bl store.Blob
		if err := blobs.Scan(&id, &bl.Digest, &bl.Size, &bl.MediaType, &bl.Role); err != nil {
			return nil, fmt.Errorf("find builds: %w", err)
		}
		if b := out[id]; b != nil {
			b.Blobs = append(b.Blobs, bl)
		}
	}
	return out, blobs.Err()
}

// AliasBuilds returns the images of an alias that have content of kind,
// ordered by architecture, and every image of the alias.
func (db *DB) AliasBuilds(ctx context.Context, alias, kind string) ([]store.ImageBuild, []*store.Image, error) {
	imgs, err := queryImages(ctx, db.pool, `SELECT `+imageColumns+` FROM images WHERE alias = $1 ORDER BY architecture`, alias)
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
	imgs, err := queryImages(ctx, db.pool, `SELECT `+imageColumns+` FROM images
		WHERE id IN (SELECT image_id FROM builds WHERE kind = $1) ORDER BY alias, architecture`, kind)
	if err != nil {
		return nil, fmt.Errorf("builds of %s: %w", kind, err)
	}
	ids := make([]string, len(imgs))
	for i, img := range imgs {
		ids[i] = img.ID
	}
	builds, err := db.builds(ctx, ids, kind)
	if err != nil {
		return nil, err
	}
	var out []store.ImageBuild
	for _, img := range imgs {
		if b := builds[img.ID]; b != nil {
			out = append(out, store.ImageBuild{Image: img, Build: b})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
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
	rows, err := db.pool.Query(ctx, `SELECT digest, MAX(size), MIN(media_type), MIN(role)
		FROM build_blobs GROUP BY digest ORDER BY digest`)
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
	return db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pulls (user_id, image_id, count, last_pulled_at) VALUES ($1, $2, 1, $3)
			ON CONFLICT (user_id, image_id) DO UPDATE SET count = pulls.count + 1, last_pulled_at = excluded.last_pulled_at`,
			userID, imageID, tx.now); err != nil {
			return fmt.Errorf("record pull of %s: %w", imageID, err)
		}
		return nil
	})
}

// LastPulls returns when the user last pulled each image.
func (db *DB) LastPulls(ctx context.Context, userID int64) (map[string]time.Time, error) {
	rows, err := db.pool.Query(ctx, `SELECT image_id, last_pulled_at FROM pulls WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("last pulls: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("last pulls: %w", err)
		}
		out[id] = at.UTC()
	}
	return out, rows.Err()
}

// maxPullKeys bounds the live pull keys of one account, as on SQLite.
const maxPullKeys = 20

// CreatePullKey makes a personal simplestreams key for a user and returns
// its secret, which is shown once and never stored.
func (db *DB) CreatePullKey(ctx context.Context, userID int64) (string, *store.PullKey, error) {
	secret := store.PullKeyPrefix + store.NewSecret(32)
	var k *store.PullKey
	err := db.inTx(ctx, func(tx *Tx) error {
		// The user's row is locked so two instances cannot both pass the count.
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var live int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM pull_keys WHERE user_id = $1 AND revoked_at IS NULL`, userID).Scan(&live); err != nil {
			return fmt.Errorf("create pull key: %w", err)
		}
		if live >= maxPullKeys {
			return store.Errorf(store.ECONFLICT, "You have %d live pull keys: revoke one before making another.", live)
		}
		k = &store.PullKey{Hint: secret[len(secret)-4:], CreatedAt: tx.now}
		if err := tx.QueryRow(ctx, `INSERT INTO pull_keys (user_id, hash, hint, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			userID, store.HashSecret(secret), k.Hint, tx.now).Scan(&k.ID); err != nil {
			return fmt.Errorf("create pull key: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// PullKeys lists a user's pull keys, newest first.
func (db *DB) PullKeys(ctx context.Context, userID int64) ([]*store.PullKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, hint, created_at, revoked_at FROM pull_keys
		WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list pull keys: %w", err)
	}
	defer rows.Close()
	var out []*store.PullKey
	for rows.Next() {
		var k store.PullKey
		var revoked *time.Time
		if err := rows.Scan(&k.ID, &k.Hint, &k.CreatedAt, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		if revoked != nil {
			r := revoked.UTC()
			k.RevokedAt = &r
		}
		out = append(out, &k)
	}
	return out, rows.Err()
}

// RevokePullKey ends one of the user's pull keys.
func (db *DB) RevokePullKey(ctx context.Context, userID, keyID int64) error {
	return db.inTx(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pull_keys SET revoked_at = COALESCE(revoked_at, $1)
			WHERE id = $2 AND user_id = $3`, tx.now, keyID, userID)
		if err != nil {
			return fmt.Errorf("revoke pull key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return store.Errorf(store.ENOTFOUND, "You have no such pull key.")
		}
		return nil
	})
}

// UserByPullKey returns the owner of a live pull key.
func (db *DB) UserByPullKey(ctx context.Context, secret string) (*store.User, error) {
	bad := store.Errorf(store.EUNAUTHORIZED, "This pull key is not valid: make a new one on your account page.")
	if !strings.HasPrefix(secret, store.PullKeyPrefix) || len(secret) > 128 {
		return nil, bad
	}
	return userByHash(ctx, db.pool, `SELECT u.id, u.email, u.created_at FROM pull_keys k
		JOIN users u ON u.id = k.user_id WHERE k.hash = $1 AND k.revoked_at IS NULL`, store.HashSecret(secret), bad)
}
