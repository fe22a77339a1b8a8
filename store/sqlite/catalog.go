package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/berth/berth/store"
)

// ImportCatalog adds or updates the images of a catalog file in one
// transaction: all of them land or none. Images already stored with the same
// content are left alone, so importing an export changes nothing. Ratings
// are kept across updates.
func (db *DB) ImportCatalog(ctx context.Context, r io.Reader) (store.ImportResult, error) {
	var res store.ImportResult
	imgs, err := store.ParseCatalog(r)
	if err != nil {
		return res, err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	for _, img := range imgs {
		var old *store.Image
		existing, err := queryImages(ctx, tx, `SELECT `+imageColumns+` FROM images WHERE id = ?`, img.ID)
		if err != nil {
			return res, fmt.Errorf("import %s: %w", img.Alias, err)
		}
		if len(existing) == 1 {
			old = existing[0]
			img.RatingSum, img.RatingCount = old.RatingSum, old.RatingCount
			if reflect.DeepEqual(old, img) {
				res.Unchanged++
				continue
			}
			res.Updated++
		} else {
			res.Added++
		}
		if err := upsertImage(ctx, tx, img); err != nil {
			return res, fmt.Errorf("import %s (%s): %w", img.Alias, img.Architecture, err)
		}
		if err := recordEvents(ctx, tx, old, img); err != nil {
			return res, fmt.Errorf("import %s (%s): %w", img.Alias, img.Architecture, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("import catalog: %w", err)
	}
	if res.Added+res.Updated > 0 {
		return res, db.analyze(ctx)
	}
	return res, nil
}

func upsertImage(ctx context.Context, tx *Tx, img *store.Image) error {
	tags, _ := json.Marshal(store.NonNil(img.Tags))
	features, _ := json.Marshal(store.NonNil(img.Features))
	pinned, _ := json.Marshal(store.NonNil(img.TagsPinned))
	var security any
	if img.Security != nil {
		b, err := json.Marshal(img.Security)
		if err != nil {
			return err
		}
		security = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO images (`+
		`id, alias, description, image_name, architecture, os, release, serial, variant, size,
		price_cents, added_date, prespawn, tags, based_on, features, pull_ref, security, docs,
		eol_date, superseded_by, tags_pinned, source_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET alias = excluded.alias, description = excluded.description,
		image_name = excluded.image_name, architecture = excluded.architecture, os = excluded.os,
		release = excluded.release, serial = excluded.serial, variant = excluded.variant,
		size = excluded.size, price_cents = excluded.price_cents, added_date = excluded.added_date,
		prespawn = excluded.prespawn, tags = excluded.tags, based_on = excluded.based_on,
		features = excluded.features, pull_ref = excluded.pull_ref, security = excluded.security,
		docs = excluded.docs, eol_date = excluded.eol_date, superseded_by = excluded.superseded_by,
		tags_pinned = excluded.tags_pinned, source_url = excluded.source_url`,
		img.ID, img.Alias, img.Description, img.ImageName, img.Architecture, img.OS, img.Release,
		img.Serial, img.Variant, img.Size, img.PriceCents, img.AddedDate.UTC().Format(time.RFC3339),
		boolInt(img.Prespawn), string(tags), img.BasedOn, string(features), img.PullRef, security, img.Docs,
		img.EOLDate, img.SupersededBy, string(pinned), img.SourceURL)
	if err != nil && isUniqueViolation(err) {
		return store.Errorf(store.ECONFLICT, "another image already uses alias %s on %s", img.Alias, img.Architecture)
	}
	return err
}

// ExportCatalog writes every image as a catalog file, ordered by id so that
// two exports of the same catalog are byte for byte equal.
func (db *DB) ExportCatalog(ctx context.Context, w io.Writer) error {
	imgs, err := queryImages(ctx, db.read, `SELECT /* full scan: the export is the whole catalog */ `+imageColumns+` FROM images ORDER BY id`)
	if err != nil {
		return fmt.Errorf("export catalog: %w", err)
	}
	f := store.CatalogFile{Version: store.CatalogVersion, Images: make([]store.CatalogImage, len(imgs))}
	for i, img := range imgs {
		f.Images[i] = store.CatalogImageOf(img)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("export catalog: %w", err)
	}
	return nil
}

// LoadDefaultCatalog imports the embedded catalog when the catalog is empty,
// and reports whether it did.
func (db *DB) LoadDefaultCatalog(ctx context.Context) (bool, error) {
	// EXISTS, not a count: a count reads a whole index, which at a million
	// images would slow every start.
	var some bool
	if err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM images LIMIT 1)`).Scan(&some); err != nil || some {
		return false, err
	}
	if _, err := db.ImportCatalog(ctx, bytes.NewReader(store.DefaultCatalog)); err != nil {
		return false, fmt.Errorf("load default catalog: %w", err)
	}
	return true, nil
}
