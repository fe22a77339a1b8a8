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
	checked := 0
	for count := int64(0); count <= 60; count++ {
		for sum := int64(0); sum <= store.MaxRating*count; sum++ {
			if _, err := tx.ExecContext(ctx, `UPDATE images SET rating_sum = ?, rating_count = ?`, sum, count); err != nil {
				t.Fatal(err)
			}
			var tenths int64
			var popularity float64
			if err := tx.QueryRowContext(ctx, `SELECT rating_tenths, popularity FROM images`).Scan(&tenths, &popularity); err != nil {
				t.Fatal(err)
			}
			if want := store.RatingTenths(sum, count); tenths != want {
				t.Fatalf("%d ratings summing to %d: rating_tenths %d, store.RatingTenths %d", count, sum, tenths, want)
			}
			if want := store.Popularity(sum, count); popularity != want {
				t.Fatalf("%d ratings summing to %d: popularity %v, store.Popularity %v", count, sum, popularity, want)
			}
			checked++
		}
	}
	if checked < 9000 {
		t.Fatalf("only %d rating aggregates checked", checked)
	}
}
