package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

// BulkAdd adds the images fill hands to add, with their synthetic raters'
// imports and votes, in one transaction: all of them or none. Rows go in
// by COPY; the per-row change trigger is switched off for the load (inside
// the transaction, so no other writer sees it off) and the catalog
// generation moves once instead, with one reshaping change logged, as a
// rebuild of any listing built on the change log needs.
func (db *DB) BulkAdd(ctx context.Context, raters []string, fill func(existing int, add func(*synth.Build) error) error) (int, error) {
	raterHash, err := bcrypt.GenerateFromPassword([]byte(store.NewSecret(16)), db.passwordCost())
	if err != nil {
		return 0, err
	}
	written := 0
	err = db.inTx(ctx, func(tx *Tx) error {
		written = 0
		raterIDs := make([]int64, len(raters))
		for i, email := range raters {
			err := tx.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&raterIDs[i])
			if noRows(err) {
				var u *store.User
				if u, err = createUserTx(ctx, tx, email, raterHash); err == nil {
					raterIDs[i] = u.ID
				}
			}
			if err != nil {
				return err
			}
		}
		var existing int
		if err := tx.QueryRow(ctx, `SELECT /* full scan: once per bulk load */ COUNT(*) FROM images`).Scan(&existing); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE images DISABLE TRIGGER images_changed`); err != nil {
			return err
		}
		var images, library, ratings [][]any
		err := fill(existing, func(b *synth.Build) error {
			img := &b.Image
			if len(b.Votes) > len(raterIDs) {
				return fmt.Errorf("%d votes for %d raters", len(b.Votes), len(raterIDs))
			}
			var security *string
			if img.Security != nil {
				s, err := securityJSON(img.Security)
				if err != nil {
					return err
				}
				security = &s
			}
			added := img.AddedDate.UTC().Truncate(time.Second)
			images = append(images, []any{img.ID, img.Alias, img.Description, img.ImageName, img.Architecture,
				img.OS, img.Release, img.Serial, img.Variant, img.Size, img.PriceCents, added, img.Prespawn,
				store.NonNil(img.Tags), img.BasedOn, store.NonNil(img.Features), img.PullRef, security, img.Docs,
				img.RatingSum, img.RatingCount, searchVector(img)})
			for i, v := range b.Votes {
				library = append(library, []any{raterIDs[i], img.ID, "import", int64(0), added})
				ratings = append(ratings, []any{raterIDs[i], img.ID, v, added})
			}
			written++
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"images"}, []string{"id", "alias", "description", "image_name",
			"architecture", "os", "release", "serial", "variant", "size", "price_cents", "added_date", "prespawn",
			"tags", "based_on", "features", "pull_ref", "security", "docs", "rating_sum", "rating_count", "search"},
			pgx.CopyFromRows(images)); err != nil {
			return fmt.Errorf("copy images: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"library"}, []string{"user_id", "image_id", "how", "price_cents", "acquired_at"},
			pgx.CopyFromRows(library)); err != nil {
			return fmt.Errorf("copy library: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ratings"}, []string{"user_id", "image_id", "rating", "updated_at"},
			pgx.CopyFromRows(ratings)); err != nil {
			return fmt.Errorf("copy ratings: %w", err)
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE images ENABLE TRIGGER images_changed`); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `WITH g AS (UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation)
			INSERT INTO image_changes (generation, seq, reshaped) SELECT generation, 0, true FROM g`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bulk add: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) images`); err != nil {
		return written, fmt.Errorf("bulk add: analyze: %w", err)
	}
	return written, nil
}
