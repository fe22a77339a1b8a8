package sqlite

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
	"github.com/berth/berth/store/listing/bitset"
)

// rowSource is the SQLite source with its snapshot replaced by
// listing.RowSnapshot over the catalog's rows, the way a backend that reads
// rows rather than sets and orders builds its index.
type rowSource struct{ listingSource }

func (s rowSource) Snapshot(ctx context.Context) (listing.Snapshot, error) {
	tx, err := s.db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var gen int64
	if err := tx.QueryRowContext(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&gen); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, image_name, alias, os, architecture, variant, prespawn, price_cents,
		size, added_date, rating_sum, rating_count, signed, worst_severity, eol_date FROM images`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []listing.Row
	for rows.Next() {
		var r listing.Row
		var added, eol string
		if err := rows.Scan(&r.Seq, &r.ID, &r.ImageName, &r.Alias, &r.OS, &r.Architecture, &r.Variant, &r.Prespawn,
			&r.PriceCents, &r.Size, &added, &r.RatingSum, &r.RatingCount, &r.Signed, &r.WorstSeverity, &eol); err != nil {
			return nil, err
		}
		r.EOLDay = listing.EOLDay(eol) // in Go, where SQLite's snapshot counts days in SQL
		if r.AddedDate, err = time.Parse(time.RFC3339, added); err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// In no particular order: the snapshot sorts.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return listing.RowSnapshot(gen, all), nil
}

func members(s *bitset.Set) []int {
	var out []int
	s.Each(func(i int) bool { out = append(out, i); return true })
	return out
}

// TestRowSnapshotIsSQLitesSnapshot checks that listing.RowSnapshot, built
// in Go from the catalog's rows, gives what SQLite's snapshot reads with
// SQL (the same sets, the same orders and runs), and that an index built
// from it lists as SQL does: a backend reading rows gets SQLite's listings.
func TestRowSnapshotIsSQLitesSnapshot(t *testing.T) {
	db := generatedCatalog(t, 3000, 12)
	ctx := context.Background()
	setRatings(t, db, "ubuntu/24.04", "amd64", 9, 2) // 4.5 of 2, as ratings make ties of tenths with other counts
	setRatings(t, db, "debian/13", "amd64", 45, 10)
	// Names compare as bytes: capitals before every lower-case letter.
	if _, err := db.write.ExecContext(ctx, `UPDATE images SET image_name = 'Zulu-' || image_name WHERE alias = 'alpine/3.19'`); err != nil {
		t.Fatal(err)
	}
	sql, err := listingSource{db}.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close()
	rows, err := rowSource{listingSource{db}}.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sql.Generation() != rows.Generation() || sql.MaxSeq() != rows.MaxSeq() {
		t.Fatalf("generation %d and max seq %d, want %d and %d", rows.Generation(), rows.MaxSeq(), sql.Generation(), sql.MaxSeq())
	}
	capacity := int(sql.MaxSeq()) + 1
	for _, f := range []listing.Field{listing.FieldOS, listing.FieldArchitecture, listing.FieldVariant, listing.FieldPrespawn, listing.FieldPrice,
		listing.FieldSigned, listing.FieldWorstSeverity} {
		groups := func(s listing.Snapshot) map[string][]int {
			out := map[string][]int{}
			if err := s.Groups(ctx, f, capacity, func(v string, set *bitset.Set) { out[v] = members(set) }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		want, got := groups(sql), groups(rows)
		if len(want) < 2 || len(got) != len(want) {
			t.Fatalf("%s: %d groups, want %d", f, len(got), len(want))
		}
		for v, seqs := range want {
			if !slices.Equal(got[v], seqs) {
				t.Fatalf("%s = %q: rows %v, want %v", f, v, got[v], seqs)
			}
		}
		dw, _ := sql.Distinct(ctx, f)
		dg, _ := rows.Distinct(ctx, f)
		if dw != dg {
			t.Fatalf("%s: %d distinct, want %d", f, dg, dw)
		}
	}
	values := func(s listing.Snapshot) map[int]int64 {
		out := map[int]int64{}
		if err := s.Values(ctx, listing.FieldPrice, func(seq int, v int64) { out[seq] = v }); err != nil {
			t.Fatal(err)
		}
		if err := s.Values(ctx, listing.FieldEOLDay, func(seq int, v int64) { out[1<<40+seq] = v }); err != nil {
			t.Fatal(err)
		}
		if err := s.Ratings(ctx, func(seq int, sum, count int64) { out[-1-seq] = sum*1000 + count }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if want, got := values(sql), values(rows); len(want) < capacity/2 || len(got) != len(want) {
		t.Fatalf("%d prices and ratings, want %d", len(got), len(want))
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("row %d: %d, want %d", k, got[k], v)
			}
		}
	}
	for _, key := range store.SortKeys {
		wantSeqs, wantRuns, err := sql.Order(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		gotSeqs, gotRuns, err := rows.Order(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotSeqs, wantSeqs) {
			for i := range min(len(gotSeqs), len(wantSeqs)) {
				if gotSeqs[i] != wantSeqs[i] {
					t.Fatalf("order by %s: row %d at %d, want %d", key, gotSeqs[i], i, wantSeqs[i])
				}
			}
			t.Fatalf("order by %s: %d rows, want %d", key, len(gotSeqs), len(wantSeqs))
		}
		if w, g := members(wantRuns), members(gotRuns); !slices.Equal(g, w) || len(w) < 2 {
			t.Fatalf("order by %s: %d runs, want %d", key, len(g), len(w))
		}
	}

	// And the listings of an index built from rows are SQL's.
	x, err := listing.New(rowSource{listingSource{db}}, db.log).BuildNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range randomListings(rand.New(rand.NewPCG(7, 8)), 200) {
		f := parse(t, raw)
		want, err := db.findImagesSQL(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		sameListing(t, "rows: "+raw, want, db, x, f)
	}
}
