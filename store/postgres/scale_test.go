package postgres_test

import (
	"context"
	"net/url"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

// TestListingsAtScale times SQL listings on a generated catalog of
// BERTH_PG_SCALE images (for example 100000) and fails when a listing's
// median passes 400 ms: a query that reads far more rows than its page
// shows here long before it would in the small catalogs of the other
// tests. It is opt-in, as generating the catalog takes a while.
func TestListingsAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BERTH_PG_SCALE"))
	if n <= 0 {
		t.Skip("set BERTH_PG_SCALE=100000 to time listings on a large catalog")
	}
	db := mustOpen(t)
	ctx := context.Background()
	start := time.Now()
	if _, err := synth.Generate(ctx, db, n, 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d images in %v", n, time.Since(start).Round(time.Millisecond))
	for _, q := range []string{
		"", "os=ubuntu&architecture=amd64", "os=alpine", "sort_by=name", "sort_by=price&sort_order=desc",
		"sort_by=rating&page=50", "min_rating=4.5", "variant=minimal&prespawn=true", "min_price=10&max_price=20&sort_by=size",
		"search=ubuntu", "search=ubuntu&sort_by=name", "search=postgres", "search=lts+minimal", "search=zzzz",
		"search=docker&os=debian", "page=400&limit=100",
	} {
		v, _ := url.ParseQuery(q)
		f, err := store.ParseFilter(v)
		if err != nil {
			t.Fatal(err)
		}
		var times []time.Duration
		var total int
		for range 5 {
			s := time.Now()
			p, err := db.FindImages(ctx, f)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			times = append(times, time.Since(s))
			total = p.Total
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		t.Logf("%-45s total %6d  median %v", q, total, times[2].Round(100*time.Microsecond))
		if times[2] > 400*time.Millisecond {
			t.Errorf("%s: median %v", q, times[2])
		}
	}
}
