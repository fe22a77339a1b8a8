package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
	"github.com/berth/berth/store/listing/bitset"
)

// listingSource is the PostgreSQL side of the listing engine: a snapshot
// read row by row in one repeatable-read transaction and handed to
// listing.RowSnapshot (the SQL listings order names as bytes, COLLATE
// "C", as it does), the change feed the images trigger writes to
// image_changes with each generation (001, 003), and the GIN full-text
// index for search words.
type listingSource struct{ db *DB }

var _ listing.Source = listingSource{}

// Snapshot reads the generation and every image's listing fields in one
// snapshot.
func (s listingSource) Snapshot(ctx context.Context) (listing.Snapshot, error) {
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var gen int64
	if err := tx.QueryRow(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&gen); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT /* full scan: a snapshot reads every row, once per listing index build */ seq, id, image_name, alias, os, architecture, variant, prespawn,
		price_cents, size, added_date, rating_sum, rating_count, signed, worst_severity, eol_date FROM images`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []listing.Row
	for rows.Next() {
		var r listing.Row
		var added time.Time
		var eol string
		var worst int16
		if err := rows.Scan(&r.Seq, &r.ID, &r.ImageName, &r.Alias, &r.OS, &r.Architecture, &r.Variant, &r.Prespawn,
			&r.PriceCents, &r.Size, &added, &r.RatingSum, &r.RatingCount, &r.Signed, &worst, &eol); err != nil {
			return nil, err
		}
		r.AddedDate, r.WorstSeverity, r.EOLDay = added.UTC(), int64(worst), listing.EOLDay(eol)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return listing.RowSnapshot(gen, out), nil
}

// ChangesSince reads the change feed, as on SQLite: every generation
// since the index's must be logged, one row each, none reshaping.
func (s listingSource) ChangesSince(ctx context.Context, since int64) (listing.Changes, error) {
	var ch listing.Changes
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return ch, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.QueryRow(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&ch.Generation); err != nil {
		return ch, err
	}
	gen := ch.Generation
	if gen == since {
		return ch, nil
	}
	if gen < since || gen-since > listing.MaxCatchUp {
		ch.Reshaped = true
		return ch, nil
	}
	var logged int64
	var reshaped bool
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(bool_or(reshaped), false) FROM image_changes
		WHERE generation > $1 AND generation <= $2`, since, gen).Scan(&logged, &reshaped); err != nil {
		return ch, err
	}
	if logged != gen-since || reshaped {
		ch.Reshaped = true
		return ch, nil
	}
	rows, err := tx.Query(ctx, `SELECT seq, rating_sum, rating_count FROM images
		WHERE seq IN (SELECT seq FROM image_changes WHERE generation > $1 AND generation <= $2)`, since, gen)
	if err != nil {
		return ch, err
	}
	defer rows.Close()
	for rows.Next() {
		var r listing.Rated
		if err := rows.Scan(&r.Seq, &r.Sum, &r.Count); err != nil {
			return ch, err
		}
		ch.Rated = append(ch.Rated, r)
	}
	return ch, rows.Err()
}

// Images reads listed images by seq in one query.
func (s listingSource) Images(ctx context.Context, seqs []int64) (map[int64]*store.Image, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+listColumns+`, seq FROM images WHERE seq = ANY($1)`, seqs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[int64]*store.Image, len(seqs))
	for rows.Next() {
		var seq int64
		img, err := scanImage(rows, &seq)
		if err != nil {
			return nil, err
		}
		found[seq] = img
	}
	return found, rows.Err()
}

// Matches reads the rows whose words match one search word, as the SQL
// search does, from the GIN index.
func (s listingSource) Matches(ctx context.Context, word string, capacity int) (*bitset.Set, error) {
	set := bitset.New(capacity)
	q := searchQuery(word)
	if q == "" {
		return set, nil
	}
	err := s.fromSearchIndex(ctx, func(rows pgx.Rows) error {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return err
		}
		if seq >= 0 && seq < int64(capacity) {
			set.Add(int(seq))
		}
		return nil
	}, `SELECT seq FROM images WHERE search @@ $1::tsquery`, q)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", word, err)
	}
	return set, nil
}

// Ranks reads the relevance of every row matching all words: ts_rank,
// negated, since the engine puts lower ranks first.
func (s listingSource) Ranks(ctx context.Context, words []string, capacity int) (map[int32]float64, error) {
	var search string
	for _, w := range words {
		search += w + " "
	}
	q := searchQuery(search)
	ranks := map[int32]float64{}
	if q == "" {
		return ranks, nil
	}
	err := s.fromSearchIndex(ctx, func(rows pgx.Rows) error {
		var seq int64
		var rank float32
		if err := rows.Scan(&seq, &rank); err != nil {
			return err
		}
		if seq >= 0 && seq < int64(capacity) {
			ranks[int32(seq)] = -float64(rank)
		}
		return nil
	}, `SELECT seq, ts_rank(search, $1::tsquery) FROM images WHERE search @@ $1::tsquery`, q)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q, err)
	}
	return ranks, nil
}

// fromSearchIndex runs query, a search of the GIN index on search, and
// hands each row to scan, with sequential scans off for it (SET LOCAL,
// in a read-only transaction). For a word in half the catalog the planner
// costs a scan that tests every row's words the same as the bitmap scan
// of the index, and reads the table, which takes three times as long
// (17 ms against 6 ms for "amd64" at 20,000 images); the SQL search's
// counts turn it off for the same reason (findImagesSQL).
func (s listingSource) fromSearchIndex(ctx context.Context, scan func(pgx.Rows) error, query string, args ...any) error {
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Texts reads the searchable text of the given rows.
func (s listingSource) Texts(ctx context.Context, seqs []int64) ([]string, error) {
	return queryStrings(ctx, s.db.pool, `SELECT image_name || ' ' || alias || ' ' || description || ' ' || array_to_string(tags, ' ')
		FROM images WHERE seq = ANY($1)`, seqs)
}

// ListingIndexStatus reports whether listings are served from the
// in-memory index (rather than SQL while it builds) and how long its last
// build took.
func (db *DB) ListingIndexStatus() (ready bool, lastBuild time.Duration) { return db.listings.Status() }

// ListingIndexBuildFailures counts the listing index builds that failed.
func (db *DB) ListingIndexBuildFailures() int64 { return db.listings.BuildFailures() }
