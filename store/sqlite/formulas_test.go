package sqlite

import (
	"context"
	"testing"

	"github.com/berth/berth/store"
)

// TestRatingColumnsAreTheDomainFormulas checks that the images table's
// generated rating_tenths and popularity columns, which SQL listings sort
// and filter by, give exactly store.RatingTenths and store.Popularity,
// which the listing engine computes: the formulas are defined once, in
// store, and the columns (migration 001) must agree with them.
func TestRatingColumnsAreTheDomainFormulas(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	f := fixture()
	f.Images = f.Images[:1]
	mustImport(t, db, f)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Every sum of up to a dozen ratings, and sums about the rounding edges
	// of larger counts. (Each is an UPDATE through the change-feed trigger,
	// slow under -race, so not every sum of every count.)
	type aggregate struct{ sum, count int64 }
	var cases []aggregate
	for count := int64(0); count <= 12; count++ {
		for sum := int64(0); sum <= store.MaxRating*count; sum++ {
			cases = append(cases, aggregate{sum, count})
		}
	}
	for _, count := range []int64{99, 1000, 123457} {
		for _, sum := range []int64{0, 1, count, 2*count + count/2, 3*count - 1, count * 475 / 100, count*475/100 + 1,
			count*45/10 - 1, store.MaxRating*count - 1, store.MaxRating * count} {
			cases = append(cases, aggregate{sum, count})
		}
	}
	checked := 0
	for _, c := range cases {
		if _, err := tx.ExecContext(ctx, `UPDATE images SET rating_sum = ?, rating_count = ?`, c.sum, c.count); err != nil {
			t.Fatal(err)
		}
		var tenths int64
		var popularity float64
		if err := tx.QueryRowContext(ctx, `SELECT rating_tenths, popularity FROM images`).Scan(&tenths, &popularity); err != nil {
			t.Fatal(err)
		}
		if want := store.RatingTenths(c.sum, c.count); tenths != want {
			t.Fatalf("%d ratings summing to %d: rating_tenths %d, store.RatingTenths %d", c.count, c.sum, tenths, want)
		}
		if want := store.Popularity(c.sum, c.count); popularity != want {
			t.Fatalf("%d ratings summing to %d: popularity %v, store.Popularity %v", c.count, c.sum, popularity, want)
		}
		checked++
	}
	if checked < 400 {
		t.Fatalf("only %d rating aggregates checked", checked)
	}
}
