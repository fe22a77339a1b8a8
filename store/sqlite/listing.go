package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
	"github.com/berth/berth/store/listing/bitset"
)

// listingSource is the SQLite side of the listing engine: it reads the
// catalog's columns and orders through the berth_* aggregates (see
// aggregates.go), one blob per set or order rather than a Go round trip per
// row, and follows the change feed that the images table's triggers write
// to image_changes (migrations 006 and 010) with each catalog generation.
type listingSource struct{ db *DB }

var _ listing.Source = listingSource{}

// Snapshot reads in one read-only transaction, so every part of the index
// sees the same catalog, the generation included.
func (s listingSource) Snapshot(ctx context.Context) (listing.Snapshot, error) {
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	snap := &snapshot{tx: tx}
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT generation FROM catalog_generation WHERE id = 1),
		(SELECT COALESCE(MAX(seq), 0) FROM images)`).Scan(&snap.gen, &snap.maxSeq); err != nil {
		tx.Rollback()
		return nil, err
	}
	return snap, nil
}

// snapshot is a listing.Snapshot over a read transaction.
type snapshot struct {
	tx          *sql.Tx
	gen, maxSeq int64
}

func (s *snapshot) Generation() int64 { return s.gen }
func (s *snapshot) MaxSeq() int64     { return s.maxSeq }
func (s *snapshot) Close() error      { return s.tx.Rollback() }

// column names the images column of a field; only these fixed names enter
// the SQL text.
func column(f listing.Field) (string, error) {
	switch f {
	case listing.FieldOS, listing.FieldArchitecture, listing.FieldVariant, listing.FieldPrespawn, listing.FieldPrice,
		listing.FieldSigned, listing.FieldWorstSeverity:
		return string(f), nil
	case listing.FieldEOLDay:
		// listing.EOLDay in SQL: days since 1970-01-01 plus one, 0 without a date.
		return `COALESCE(CAST(julianday(NULLIF(eol_date, '')) - 2440587.5 AS INTEGER) + 1, 0)`, nil
	}
	return "", fmt.Errorf("no column for field %q", f)
}

// Groups reads the set of rows holding each value of the field's column.
func (s *snapshot) Groups(ctx context.Context, field listing.Field, capacity int, got func(value string, rows *bitset.Set)) error {
	col, err := column(field)
	if err != nil {
		return err
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT `+col+`, berth_rowset(seq) FROM images GROUP BY `+col)
	if err != nil {
		return fmt.Errorf("%s: %w", col, err)
	}
	defer rows.Close()
	for rows.Next() {
		var value string
		var blob sql.RawBytes
		if err := rows.Scan(&value, &blob); err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		got(value, setFromBlob(blob, capacity))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", col, err)
	}
	return nil
}

func (s *snapshot) Distinct(ctx context.Context, field listing.Field) (int, error) {
	col, err := column(field)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT `+col+`) FROM images`).Scan(&n)
	return n, err
}

func (s *snapshot) Values(ctx context.Context, field listing.Field, fn func(seq int, value int64)) error {
	col, err := column(field)
	if err != nil {
		return err
	}
	return scanInts(ctx, s.tx, `SELECT /* full scan: a snapshot reads every row */ seq, `+col+` FROM images`, func(v []int64) { fn(int(v[0]), v[1]) })
}

func (s *snapshot) Ratings(ctx context.Context, fn func(seq int, sum, count int64)) error {
	return scanInts(ctx, s.tx, `SELECT seq, rating_sum, rating_count FROM images WHERE rating_count > 0`,
		func(v []int64) { fn(int(v[0]), v[1], v[2]) })
}

// Order reads a sort key's order, as orderBy defines it, and its runs of
// equal keys (berth_runs). The blobs are scanned as RawBytes, not copied
// again: at a million images each order is 4 MB.
func (s *snapshot) Order(ctx context.Context, key string) ([]int32, *bitset.Set, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT berth_seqlist(seq), berth_runs(`+sortColumns(key)+`)
		FROM (SELECT seq, `+sortColumns(key)+` FROM images ORDER BY `+orderBy(key, "asc")+`)`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, nil, fmt.Errorf("no result: %w", rows.Err())
	}
	var blob, runs sql.RawBytes
	if err := rows.Scan(&blob, &runs); err != nil {
		return nil, nil, err
	}
	seqs := make([]int32, len(blob)/4)
	for i := range seqs {
		seqs[i] = int32(binary.LittleEndian.Uint32(blob[4*i:]))
	}
	starts := setFromBlob(runs, len(seqs))
	return seqs, starts, rows.Close()
}

// sortColumns lists the columns that make up a sort key, before the ties
// broken by name and id.
func sortColumns(key string) string {
	switch key {
	case store.SortName:
		return "image_name, id"
	case store.SortPrice:
		return "price_cents"
	case store.SortRating:
		return "rating_tenths, rating_count"
	case store.SortSize:
		return "size"
	case store.SortAddedDate:
		return "added_date"
	default:
		return "popularity"
	}
}

// scanInts calls fn with the integer columns of each row of query.
func scanInts(ctx context.Context, tx *sql.Tx, query string, fn func(v []int64)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	v := make([]int64, len(cols))
	dest := make([]any, len(cols))
	for i := range v {
		dest[i] = &v[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}

// ChangesSince reads the change feed: the images table's triggers bump
// catalog_generation with every change of an image and log it in
// image_changes, one row per generation, with the image's seq and whether
// anything but its ratings changed (reshaped).
func (s listingSource) ChangesSince(ctx context.Context, since int64) (listing.Changes, error) {
	var ch listing.Changes
	tx, err := s.db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ch, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&ch.Generation); err != nil {
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
	// Every generation since the index's must be in the log, one row each,
	// and none may have reshaped the catalog.
	var logged, reshaped int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(reshaped), 0) FROM image_changes
		WHERE generation > ? AND generation <= ?`, since, gen).Scan(&logged, &reshaped); err != nil {
		return ch, err
	}
	if logged != gen-since || reshaped != 0 {
		ch.Reshaped = true
		return ch, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, rating_sum, rating_count FROM images
		WHERE seq IN (SELECT seq FROM image_changes WHERE generation > ? AND generation <= ?)`, since, gen)
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

// bySeqSQL reads listed images by seq: the seqs as a JSON array.
const bySeqSQL = `SELECT ` + listColumns + `, seq FROM images
		WHERE seq IN (SELECT value FROM json_each(?))`

// Images reads listed images by seq in one query.
func (s listingSource) Images(ctx context.Context, seqs []int64) (map[int64]*store.Image, error) {
	rows, err := preparedReads{s.db}.QueryContext(ctx, bySeqSQL, seqsJSON(seqs))
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

// Matches reads the rows matching one word from the full-text index in one
// aggregate (berth_rowset), not one Go round trip per row.
func (s listingSource) Matches(ctx context.Context, word string, capacity int) (*bitset.Set, error) {
	term := ftsWordTerms([]string{word})[0]
	var blob []byte
	if err := s.db.read.QueryRowContext(ctx, `SELECT berth_rowset(rowid) FROM images_fts WHERE images_fts MATCH ?`,
		term).Scan(&blob); err != nil {
		return nil, fmt.Errorf("search %q: %w", term, err)
	}
	return setFromBlob(blob, capacity), nil
}

// Ranks reads the FTS5 rank of every row matching all words.
func (s listingSource) Ranks(ctx context.Context, words []string, capacity int) (map[int32]float64, error) {
	query := strings.Join(ftsWordTerms(words), " ")
	rows, err := s.db.read.QueryContext(ctx, `SELECT rowid, rank FROM images_fts WHERE images_fts MATCH ?`, query)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	defer rows.Close()
	ranks := map[int32]float64{}
	for rows.Next() {
		var seq int64
		var rank float64
		if err := rows.Scan(&seq, &rank); err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		if seq >= 0 && seq < int64(capacity) {
			ranks[int32(seq)] = rank
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return ranks, nil
}

// Texts reads the searchable text of the given rows.
func (s listingSource) Texts(ctx context.Context, seqs []int64) ([]string, error) {
	return queryStrings(ctx, s.db.read, `SELECT image_name || ' ' || alias || ' ' || description || ' ' || tags
		FROM images WHERE seq IN (SELECT value FROM json_each(?))`, seqsJSON(seqs))
}

// seqsJSON writes seqs as a JSON array, for `seq IN (SELECT value FROM
// json_each(?))`: one statement text however many there are, and no bound
// on their number as with one parameter each.
func seqsJSON(seqs []int64) string {
	list := []byte{'['}
	for i, s := range seqs {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, s, 10)
	}
	return string(append(list, ']'))
}

// PrepareListings starts building the listing index in the background, so
// the first listings after start-up already use it.
func (db *DB) PrepareListings() { db.listings.Prepare() }

// ListingIndexBuildFailures counts the builds of the listing index that
// failed since the database was opened (each is logged, and retried).
func (db *DB) ListingIndexBuildFailures() int64 { return db.listings.BuildFailures() }

// ListingIndexStatus reports whether listings are served from the
// in-memory index (rather than SQL while it builds) and how long its last
// build took.
func (db *DB) ListingIndexStatus() (ready bool, lastBuild time.Duration) { return db.listings.Status() }

// buildListIndexNow builds the listing index and puts it in use at once,
// for tests.
func (db *DB) buildListIndexNow(ctx context.Context) (*listing.Index, error) {
	return db.listings.BuildNow(ctx)
}
