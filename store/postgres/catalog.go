package postgres

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
// transaction: all of them land or none. Images stored with the same
// content are left alone; ratings are kept across updates.
func (db *DB) ImportCatalog(ctx context.Context, r io.Reader) (store.ImportResult, error) {
	var res store.ImportResult
	imgs, err := store.ParseCatalog(r)
	if err != nil {
		return res, err
	}
	err = db.inTx(ctx, func(tx *Tx) error {
		res = store.ImportResult{}
		for _, img := range imgs {
			// Stored times have whole seconds, as on SQLite.
			img.AddedDate = img.AddedDate.UTC().Truncate(time.Second)
			existing, err := queryImages(ctx, tx, `SELECT `+imageColumns+` FROM images WHERE id = $1 FOR UPDATE`, img.ID)
			if err != nil {
				return fmt.Errorf("import %s: %w", img.Alias, err)
			}
			var old *store.Image
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
				return fmt.Errorf("import %s (%s): %w", img.Alias, img.Architecture, err)
			}
			if err := recordEvents(ctx, tx, old, img); err != nil {
				return fmt.Errorf("import %s (%s): %w", img.Alias, img.Architecture, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.ImportResult{}, err
	}
	// A large import changes what the planner should know of the catalog
	// (as after Restore and BulkAdd); small ones leave it to autovacuum.
	if res.Added+res.Updated >= analyzeAfter {
		if _, err := db.pool.Exec(ctx, `ANALYZE images`); err != nil {
			return res, fmt.Errorf("import: analyze: %w", err)
		}
	}
	return res, nil
}

// analyzeAfter is how many images an import must add or change for it to
// refresh the planner's statistics itself.
const analyzeAfter = 1000

func upsertImage(ctx context.Context, tx *Tx, img *store.Image) error {
	var security *string
	if img.Security != nil {
		s, err := securityJSON(img.Security)
		if err != nil {
			return err
		}
		security = &s
	}
	_, err := tx.Exec(ctx, `INSERT INTO images (`+
		`id, alias, description, image_name, architecture, os, release, serial, variant, size,
		price_cents, added_date, prespawn, tags, based_on, features, pull_ref, security, docs, search,
		eol_date, superseded_by, tags_pinned, source_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::tsvector,
		$21, $22, $23, $24)
		ON CONFLICT (id) DO UPDATE SET alias = excluded.alias, description = excluded.description,
		image_name = excluded.image_name, architecture = excluded.architecture, os = excluded.os,
		release = excluded.release, serial = excluded.serial, variant = excluded.variant,
		size = excluded.size, price_cents = excluded.price_cents, added_date = excluded.added_date,
		prespawn = excluded.prespawn, tags = excluded.tags, based_on = excluded.based_on,
		features = excluded.features, pull_ref = excluded.pull_ref, security = excluded.security,
		docs = excluded.docs, search = excluded.search, eol_date = excluded.eol_date,
		superseded_by = excluded.superseded_by, tags_pinned = excluded.tags_pinned, source_url = excluded.source_url`,
		img.ID, img.Alias, img.Description, img.ImageName, img.Architecture, img.OS, img.Release,
		img.Serial, img.Variant, img.Size, img.PriceCents, img.AddedDate.UTC().Truncate(time.Second),
		img.Prespawn, store.NonNil(img.Tags), img.BasedOn, store.NonNil(img.Features), img.PullRef, security, img.Docs,
		searchVector(img), img.EOLDate, img.SupersededBy, store.NonNil(img.TagsPinned), img.SourceURL)
	if isUniqueViolation(err) {
		return store.Errorf(store.ECONFLICT, "another image already uses alias %s on %s", img.Alias, img.Architecture)
	}
	return err
}

// ExportCatalog writes every image as a catalog file, ordered by id.
func (db *DB) ExportCatalog(ctx context.Context, w io.Writer) error {
	imgs, err := queryImages(ctx, db.pool, `SELECT /* full scan: the export is the whole catalog */ `+imageColumns+` FROM images ORDER BY id`)
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

// defaultCatalogLock is the advisory lock key held while the default
// catalog loads, so instances started together load it once.
const defaultCatalogLock = 0x6265727469

// LoadDefaultCatalog imports the embedded catalog when the catalog is
// empty, and reports whether it did.
func (db *DB) LoadDefaultCatalog(ctx context.Context) (bool, error) {
	loaded := false
	err := db.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, defaultCatalogLock); err != nil {
			return err
		}
		var some bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM images)`).Scan(&some); err != nil || some {
			return err
		}
		imgs, err := store.ParseCatalog(bytes.NewReader(store.DefaultCatalog))
		if err != nil {
			return err
		}
		for _, img := range imgs {
			img.AddedDate = img.AddedDate.UTC().Truncate(time.Second)
			if err := upsertImage(ctx, tx, img); err != nil {
				return fmt.Errorf("load default catalog: %s: %w", img.Alias, err)
			}
			if err := recordEvents(ctx, tx, nil, img); err != nil {
				return fmt.Errorf("load default catalog: %s: %w", img.Alias, err)
			}
		}
		loaded = true
		return nil
	})
	return loaded, err
}

// securityJSON encodes a security record as it is stored.
func securityJSON(sec *store.Security) (string, error) {
	b, err := json.Marshal(sec)
	return string(b), err
}
