package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// GenerateCatalog adds n synthetic images for load tests and demos of
// scale, in one transaction: all of them or none. For speed, the images'
// secondary indexes and full-text triggers are dropped inside the
// transaction and rebuilt in bulk before it commits. They are modelled on the default catalog: each synthetic build
// repeats one real release's set of variants and architectures under a new
// release name (ubuntu/24.04.b3k9-minimal), with its descriptions and tags,
// jittered sizes, dates and prices, and real rating rows from synthetic
// raters for a share of the free images, so every invariant holds. The
// same seed gives the same catalog.
func (db *DB) GenerateCatalog(ctx context.Context, n int, seed uint64) (int, error) {
	if n < 1 || n > 10_000_000 {
		return 0, Invalid("count", "count must be from 1 to 10,000,000")
	}
	templates, err := ParseCatalog(bytes.NewReader(DefaultCatalog))
	if err != nil {
		return 0, err
	}
	families := map[string][]*Image{}
	var order []string
	for _, img := range templates {
		key := img.OS + "/" + img.Release
		if families[key] == nil {
			order = append(order, key)
		}
		families[key] = append(families[key], img)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6265727468))
	// Each template's JSON columns are encoded once, not per copy.
	type jsonCols struct {
		tags, features string
		security       any
	}
	encoded := map[*Image]jsonCols{}
	for _, t := range templates {
		tags, _ := json.Marshal(nonNil(t.Tags))
		features, _ := json.Marshal(nonNil(t.Features))
		jc := jsonCols{tags: string(tags), features: string(features)}
		if t.Security != nil {
			b, _ := json.Marshal(t.Security)
			jc.security = string(b)
		}
		encoded[t] = jc
	}

	raterHash, err := bcrypt.GenerateFromPassword([]byte(NewSecret(16)), db.passwordCost())
	if err != nil {
		return 0, err
	}
	raters, err := db.generateRaters(ctx, seed, raterHash)
	if err != nil {
		return 0, err
	}

	// A large page cache for the writer while the indexes grow; the pool
	// has one writer connection, so the setting reaches every batch.
	if _, err := db.write.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return 0, err
	}
	defer db.write.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000`)

	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	prices := []int64{0, 0, 0, 0, 0, 0, 499, 500, 1000, 1500, 2500}
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	schema, err := dropImageIndexes(ctx, tx)
	if err != nil {
		return 0, err
	}
	// Builds are numbered after the images already there, so running again
	// with the same seed adds new images instead of colliding.
	var build int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM images`).Scan(&build); err != nil {
		return 0, err
	}
	written := 0
	{
		ins, err := tx.PrepareContext(ctx, `INSERT INTO images (id, alias, description, image_name, architecture,
			os, release, serial, variant, size, price_cents, added_date, prespawn, tags, based_on, features,
			pull_ref, security, docs, rating_sum, rating_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		lib, err := tx.PrepareContext(ctx, `INSERT INTO library (user_id, image_id, how, price_cents, acquired_at) VALUES (?, ?, 'import', 0, ?)`)
		if err != nil {
			return 0, err
		}
		rate, err := tx.PrepareContext(ctx, `INSERT INTO ratings (user_id, image_id, rating, updated_at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		for written < n {
			build++
			fam := families[order[rng.IntN(len(order))]]
			release := fam[0].Release + ".b" + strconv.FormatUint(seed%1000, 36) + strconv.FormatInt(int64(build), 36)
			day := start.AddDate(0, 0, rng.IntN(span))
			for _, t := range fam {
				if written >= n {
					break
				}
				alias := t.OS + "/" + release
				name := t.OS + "-" + release
				if t.Variant != DefaultVariant {
					alias += "-" + t.Variant
					name += "-" + t.Variant
				}
				price := t.PriceCents
				if price > 0 {
					price = prices[6+rng.IntN(len(prices)-6)]
				} else if rng.IntN(20) == 0 {
					price = prices[rng.IntN(len(prices))]
				}
				id := ImageID(alias, t.Architecture)
				added := day.Format(time.RFC3339)
				var sum, count int64
				var votes []int
				if price == 0 && rng.IntN(8) == 0 {
					quality := 2.5 + rng.Float64()*2.4
					for range 1 + rng.IntN(len(raters)) {
						v := max(MinRating, min(MaxRating, int(quality+rng.NormFloat64()+0.5)))
						votes = append(votes, v)
						sum += int64(v)
					}
					count = int64(len(votes))
				}
				js := encoded[t]
				if _, err := ins.ExecContext(ctx, id, alias, t.Description, name+"-"+t.Architecture, t.Architecture,
					t.OS, release, day.Format("20060102"), t.Variant, t.Size*int64(90+rng.IntN(21))/100, price, added,
					boolInt(rng.IntN(5) == 0), js.tags, "", js.features, "", js.security,
					fmt.Sprintf("A synthetic build of %s from %s, generated for load tests.", t.Alias, day.Format("2 January 2006")),
					sum, count); err != nil {
					return 0, fmt.Errorf("generate %s: %w", alias, err)
				}
				for i, v := range votes {
					if _, err := lib.ExecContext(ctx, raters[i], id, added); err != nil {
						return 0, err
					}
					if _, err := rate.ExecContext(ctx, raters[i], id, v, added); err != nil {
						return 0, err
					}
				}
				written++
			}
		}
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("generate: rebuild %q: %w", stmt, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO images_fts (images_fts) VALUES ('rebuild')`); err != nil {
		return 0, fmt.Errorf("generate: rebuild search index: %w", err)
	}
	// The triggers that move the generation were off during the load.
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return 0, fmt.Errorf("generate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("generate: %w", err)
	}
	return written, db.analyze(ctx)
}

// analyze refreshes the statistics the query planner uses to choose between
// indexes (a filter's or a sort's), sampling so it stays quick at scale.
func (db *DB) analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `PRAGMA analysis_limit = 1000; ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// dropImageIndexes drops the images table's own indexes and triggers and
// returns the SQL that recreates them, read from the schema itself.
func dropImageIndexes(ctx context.Context, tx *Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master
		WHERE tbl_name = 'images' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	var schema, drops []string
	for rows.Next() {
		var typ, name, sql string
		if err := rows.Scan(&typ, &name, &sql); err != nil {
			rows.Close()
			return nil, err
		}
		schema = append(schema, sql)
		drops = append(drops, "DROP "+strings.ToUpper(typ)+" "+name)
	}
	rows.Close()
	for _, d := range drops {
		if _, err := tx.ExecContext(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	return schema, rows.Err()
}

// generateRaters makes (or finds) the synthetic people whose ratings the
// generated images carry. Their passwords are random and thrown away.
func (db *DB) generateRaters(ctx context.Context, seed uint64, hash []byte) ([]int64, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ids := make([]int64, 12)
	for i := range ids {
		email := fmt.Sprintf("gen%d-rater%02d@synthetic.berth.example", seed, i+1)
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&ids[i])
		if err == nil {
			continue
		}
		u, err := createUserTx(ctx, tx, email, hash)
		if err != nil {
			return nil, err
		}
		ids[i] = u.ID
	}
	return ids, tx.Commit()
}
