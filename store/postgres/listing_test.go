package postgres_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/synth"
)

// TestListingIndexIsSQL: on PostgreSQL the listing engine (store/listing,
// fed by listing.RowSnapshot) answers every filter, sort, search, page
// and grouping with the page, order and totals SQL gives, on the default
// catalog plus 600 generated images with ratings and lifecycle facts; and
// it follows a rating made after it was built, in place.
func TestListingIndexIsSQL(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 600, 7); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	queries := []string{
		"", "limit=100", "limit=7&page=3", "page=999", "sort_by=name", "sort_by=name&sort_order=desc",
		"sort_by=price&sort_order=desc", "sort_by=size", "sort_by=added_date&sort_order=asc", "sort_by=rating",
		"sort_by=rating&sort_order=asc&limit=50", "sort_by=popularity&limit=50&page=4",
		"os=ubuntu", "os=ubuntu&architecture=arm64", "architecture=armhf&sort_by=size", "variant=minimal",
		"prespawn=true&sort_by=price", "min_price=0&max_price=0", "min_price=5&max_price=15&sort_by=price",
		"min_rating=3.5&sort_by=rating", "min_rating=0",
		"search=ubuntu&sort_by=name", "search=ubuntu", "search=24.04&sort_by=size", "search=docker+systemd",
		"search=postg", "search=lts+minimal&limit=100", "search=nothing-like-this",
		"support=ended&sort_by=name", "support=ending", "support=supported&sort_by=size&limit=100",
		"signed=true&sort_by=name", "signed=false", "max_severity=none", "max_severity=high&sort_by=name&limit=100",
		"group=alias", "group=alias&sort_by=name&limit=10&page=2", "group=alias&architecture=arm64&support=supported",
		"group=alias&sort_by=size&sort_order=desc&limit=100", "group=alias&search=ubuntu&sort_by=name", "group=alias&search=debian",
	}
	compare := func(t *testing.T) {
		t.Helper()
		for _, q := range queries {
			v, _ := url.ParseQuery(q)
			f, err := store.ParseFilter(v)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			f.Now = now
			want, err := postgres.FindImagesSQL(ctx, db, f)
			if err != nil {
				t.Fatalf("%s: SQL: %v", q, err)
			}
			got, err := db.FindImages(ctx, f)
			if err != nil {
				t.Fatalf("%s: index: %v", q, err)
			}
			if !slices.Equal(ids(got.Images), ids(want.Images)) || got.Total != want.Total || got.Capped != want.Capped ||
				got.Grouped != want.Grouped || got.BuildTotal != want.BuildTotal {
				t.Errorf("%s:\nindex %v (total %d, builds %d)\n  SQL %v (total %d, builds %d)", q,
					ids(got.Images), got.Total, got.BuildTotal, ids(want.Images), want.Total, want.BuildTotal)
				continue
			}
			for i := range got.Builds {
				if !slices.Equal(ids(got.Builds[i]), ids(want.Builds[i])) {
					t.Errorf("%s: builds of entry %d: index %v, SQL %v", q, i, ids(got.Builds[i]), ids(want.Builds[i]))
				}
			}
		}
	}
	if _, err := postgres.BuildListingIndexNow(ctx, db); err != nil {
		t.Fatal(err)
	}
	if ready, _ := db.ListingIndexStatus(); !ready {
		t.Fatal("the index is not in use after building it")
	}
	compare(t)

	// A rating is followed in place; an import reshapes and rebuilds.
	u, err := db.CreateUser(ctx, "rater@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	id := store.ImageID("debian/13", "amd64")
	if err := db.Import(ctx, u.ID, id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rate(ctx, u.ID, id, 5); err != nil {
		t.Fatal(err)
	}
	compare(t)
	if ready, _ := db.ListingIndexStatus(); !ready {
		t.Error("a rating made the index rebuild rather than follow it")
	}
}

func ids(imgs []*store.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.ID
	}
	return out
}
