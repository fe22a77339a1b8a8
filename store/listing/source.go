// Package listing answers catalog listings (filters, search words, every
// sort, exact counts, deep pages) from memory, for any backend. It knows
// no SQL: a backend gives it a Source, and the Engine builds an Index from
// it in the background, follows ratings through the source's change feed,
// and rebuilds after any other change. Until an index is ready the backend
// answers listings with its own SQL, which must give the same pages: the
// same filters, the same orders (each sort key, ties by image name then
// id, compared as bytes), store.RatingTenths and store.Popularity as its
// rating keys, store.BroadMatch as the bound on relevance.
//
// # What a backend provides
//
// Row numbers. Every image has a stable, non-negative integer row number
// below 2^31-1, small enough that sets sized by the largest one stay small
// (SQLite's images.seq; a bigserial or identity column elsewhere). The
// full-text index names rows by the same numbers.
//
// A catalog generation. One counter that moves, in the same transaction,
// with every change of an image row, ratings included (SQLite's
// catalog_generation, bumped by triggers on images). Callers pass the
// current generation to Engine.Index, which catches up or rebuilds when
// its index is behind.
//
// A change feed. One entry per generation, written with it: the row it
// changed and whether anything but the rating sum and count changed
// (SQLite's image_changes table, filled by the same triggers, which compare
// every stored column; a column added to images must be compared there
// too). Elsewhere the same shape works: a row-level trigger, or the store's
// own write paths, that bumps the counter and inserts (generation, row,
// reshaped) in the writing transaction, reshaped being whether any column
// but the ratings IS DISTINCT FROM before. Several instances on one
// database then follow each other's writes through it alone. ChangesSince
// turns the entries after a generation into Changes; a feed may drop old
// entries (SQLite keeps 10,000), which makes an index older than them
// rebuild.
//
// A Snapshot. One consistent read of the whole catalog (a read-only
// transaction), giving the generation, the largest row number, the rows
// holding each value of the filter fields, prices, ratings, and every sort
// key's order with where its runs of equal keys start. SQLite builds each
// set or order in one aggregate (berth_rowset, berth_seqlist, berth_runs)
// rather than a Go round trip per row. A backend may instead read the rows
// (one query in that transaction) and hand them to RowSnapshot, which
// builds the sets and orders in Go; its SQL listings must then order as
// RowSnapshot does (names as bytes, e.g. COLLATE "C" in PostgreSQL).
// store/sqlite's TestRowSnapshotIsSQLitesSnapshot shows the two agree.
//
// Images, Matches, Ranks and Texts: the page's images by row number, the
// rows matching a search word as a prefix of a word of the name, alias,
// description or tags (as the backend's SQL search does), their relevance
// (lower first: the value its SQL orders relevance by, ties by name then
// id), and the searchable text of a sample of rows.
package listing

import (
	"context"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// Source is what the listing engine reads from a backend: a snapshot of the
// catalog to build from, a change feed to follow ratings with, the images
// on a page, and full-text matches. It is all the engine knows of the
// database.
type Source interface {
	// Snapshot starts a consistent read of the catalog: everything read
	// through it sees one catalog generation. The engine closes it.
	Snapshot(ctx context.Context) (Snapshot, error)
	// ChangesSince reports the catalog's generation now and what changed
	// after generation gen (see Changes).
	ChangesSince(ctx context.Context, gen int64) (Changes, error)
	// Images reads the images with the given row numbers, keyed by row,
	// leaving Docs empty; rows no longer in the catalog are left out.
	Images(ctx context.Context, seqs []int64) (map[int64]*store.Image, error)
	// Matches returns the rows below capacity whose searchable text (name,
	// alias, description, tags) has a word that starts with word, a word as
	// store.SearchWords gives it.
	Matches(ctx context.Context, word string, capacity int) (*bitset.Set, error)
	// Ranks returns the relevance of every row below capacity that matches
	// all words, lower meaning more relevant.
	Ranks(ctx context.Context, words []string, capacity int) (map[int32]float64, error)
	// Texts returns the searchable text of the given rows, in any order,
	// which the engine samples for the words worth reading ahead.
	Texts(ctx context.Context, seqs []int64) ([]string, error)
}

// Field is a column the listing filters by.
type Field string

// The fields a Snapshot groups rows by.
const (
	FieldOS           Field = "os"
	FieldArchitecture Field = "architecture"
	FieldVariant      Field = "variant"
	FieldPrespawn     Field = "prespawn"    // values "0" and "1"
	FieldPrice        Field = "price_cents" // values in cents, as decimal text
	// The lifecycle and supply-chain filters' fields.
	FieldSigned        Field = "signed"         // values "0" and "1": a signature on record
	FieldWorstSeverity Field = "worst_severity" // store.SeverityRank of the worst finding, as decimal text
	FieldEOLDay        Field = "eol_day"        // integer: EOLDay(eol_date), 0 without one
)

// Snapshot is one consistent read of the catalog, by row number: a
// backend's stable, non-negative integer id of an image row, below 2^31-1.
type Snapshot interface {
	// Generation is the catalog generation the snapshot reads.
	Generation() int64
	// MaxSeq is the largest row number, 0 in an empty catalog.
	MaxSeq() int64
	// Groups calls got with the set of rows (of capacity rows) holding each
	// value of field.
	Groups(ctx context.Context, field Field, capacity int, got func(value string, rows *bitset.Set)) error
	// Distinct counts the distinct values of field.
	Distinct(ctx context.Context, field Field) (int, error)
	// Values calls fn with each row's value of an integer field.
	Values(ctx context.Context, field Field, fn func(seq int, value int64)) error
	// Ratings calls fn with the rating sum and count of every rated row.
	Ratings(ctx context.Context, fn func(seq int, sum, count int64)) error
	// Order returns every row in the ascending order of a sort key
	// (store.SortKeys), ties broken by image name then id, and the
	// positions in it where the key differs from the one before, as a set
	// of capacity len(seqs). Names and ids compare as bytes; the rating key
	// is store.RatingTenths then the count, and popularity is
	// store.Popularity.
	Order(ctx context.Context, key string) (seqs []int32, runs *bitset.Set, err error)
	// Aliases calls fn with every row's alias and architecture, the rows of
	// one alias one after the other (for grouped listings).
	Aliases(ctx context.Context, fn func(seq int, alias, architecture string)) error
	// Close ends the read.
	Close() error
}

// MaxCatchUp is the most generations the engine follows through the change
// feed; an index further behind is rebuilt.
const MaxCatchUp = 1000

// Changes is what the change feed says happened after a generation.
type Changes struct {
	// Generation is the catalog's generation now.
	Generation int64
	// Reshaped is set unless every generation after the one asked about,
	// up to Generation, is in the feed and changed nothing of its image
	// but the ratings; and when there are more than MaxCatchUp of them, or
	// the generation went back. The engine then rebuilds.
	Reshaped bool
	// Rated holds, when not Reshaped, the ratings now of each image the
	// generations changed.
	Rated []Rated
}

// Rated is an image's rating aggregates.
type Rated struct{ Seq, Sum, Count int64 }
