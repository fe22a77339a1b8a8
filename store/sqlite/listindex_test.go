package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
	"github.com/berth/berth/store/synth"
	"golang.org/x/crypto/bcrypt"
)

// randomListings returns n listing queries over a generated catalog: every
// filter, search words common and rare, every sort and order, deep pages.
func randomListings(rng *rand.Rand, n int) []string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	out := make([]string, n)
	for i := range out {
		q := url.Values{}
		if rng.IntN(2) == 0 {
			q.Set("search", pick("ubuntu", "debian", "minimal", "postgres", "gpu", "lts", "alp", "ubuntu minimal",
				"lamp web", "nosuchword", "24.04", "DOCKER"))
		}
		if rng.IntN(2) == 0 {
			q.Set("os", pick("ubuntu", "debian", "alpine", "fedora", "centos", "rockylinux", "headjack", "plan9"))
		}
		if rng.IntN(3) == 0 {
			q.Set("architecture", pick("amd64", "arm64", "armhf"))
		}
		if rng.IntN(4) == 0 {
			q.Set("variant", pick("standard", "minimal", "cloud", "desktop", "dind"))
		}
		if rng.IntN(5) == 0 {
			q.Set("prespawn", pick("true", "false"))
		}
		if rng.IntN(4) == 0 {
			q.Set("max_price", pick("0", "4.99", "5", "10", "25"))
		}
		if rng.IntN(5) == 0 {
			q.Set("min_price", pick("0.01", "5", "15"))
			if mx, mn := q.Get("max_price"), q.Get("min_price"); mx != "" && parsePriceCents(mx) < parsePriceCents(mn) {
				q.Del("min_price")
			}
		}
		if rng.IntN(4) == 0 {
			q.Set("min_rating", pick("0", "0.7", "2.5", "3", "4.2", "5"))
		}
		if rng.IntN(4) == 0 {
			q.Set("support", pick("supported", "ending", "ended"))
		}
		if rng.IntN(5) == 0 {
			q.Set("signed", pick("true", "false"))
		}
		if rng.IntN(5) == 0 {
			q.Set("max_severity", pick("none", "low", "medium", "high", "critical"))
		}
		if s := pick("", "", "name", "price", "rating", "size", "added_date", "popularity"); s != "" {
			q.Set("sort_by", s)
			if rng.IntN(2) == 0 {
				q.Set("sort_order", pick("asc", "desc"))
			}
		}
		q.Set("page", fmt.Sprint(1+rng.IntN(4)*rng.IntN(4)))
		q.Set("limit", pick("5", "24", "100"))
		out[i] = q.Encode()
	}
	return out
}

// listingDay is the day the listing tests judge support on.
var listingDay = time.Date(2027, 4, 15, 12, 0, 0, 0, time.UTC)

func parsePriceCents(s string) int64 {
	f, _ := store.ParseFilter(url.Values{"min_price": {s}})
	return *f.MinPrice
}

func parse(t *testing.T, raw string) store.Filter {
	t.Helper()
	q, _ := url.ParseQuery(raw)
	f, err := store.ParseFilter(q)
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", raw, err)
	}
	// A fixed day on which the default catalog has releases supported,
	// ending within 90 days and ended.
	f.Now = listingDay
	return f
}

// TestListIndexAgreesWithSQL lists a generated catalog through the index
// and through SQL with a few hundred random queries, after building, after
// ratings (which the index follows in place) and after an import (which
// makes it rebuild).
func TestListIndexAgreesWithSQL(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 4000, 21); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	agree := func(stage string, x *listing.Index, queries []string) {
		t.Helper()
		broad, ranked := 0, 0
		for _, raw := range queries {
			f := parse(t, raw)
			want, err := db.findImagesSQL(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if want.Total > broadMatch {
				broad++
			}
			if f.Ranked() && want.Total > 1 && want.Total <= broadMatch {
				ranked++
			}
			// As walks go, and with the rows counted by block at once.
			sameListing(t, stage+": "+raw, want, db, x, f)
			budget := x.SetWalkBudget(func(int) int { return 0 })
			sameListing(t, stage+" (counted): "+raw, want, db, x, f)
			x.SetWalkBudget(budget)
		}
		// Every row's block is where its order puts it.
		if err := x.CheckBlocks(); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		if broad == 0 || ranked == 0 {
			t.Fatalf("%s: %d broad and %d ranked listings: the queries miss a path", stage, broad, ranked)
		}
	}

	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	agree("built", x, randomListings(rng, 300))

	// Ratings: the index catches up in place.
	p, err := db.findImagesSQL(ctx, parse(t, "max_price=0&sort_by=name&limit=40"))
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range p.Images {
		u := mustUser(t, db, fmt.Sprintf("rater%d@example.com", i), 0)
		if err := db.Import(ctx, u.ID, img.ID); err != nil {
			t.Fatal(err)
		}
		for _, r := range []int{i % 6, 5 - i%6} {
			if _, err := db.Rate(ctx, u.ID, img.ID, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	gen, err := db.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.listings.Index(ctx, gen); got != x || x.Generation() != gen {
		t.Fatalf("after ratings: index %p at generation %d, want %p at %d", got, x.Generation(), x, gen)
	}
	queries := randomListings(rng, 150)
	for _, q := range []string{"sort_by=rating", "sort_by=rating&sort_order=asc&page=2", "sort_by=popularity&limit=100",
		"sort_by=popularity&sort_order=asc", "min_rating=3&sort_by=name"} {
		queries = append(queries, q)
	}
	agree("rated", x, queries)

	// An import changes names and prices: the index is dropped and rebuilt.
	var buf bytes.Buffer
	if err := db.ExportCatalog(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	var cf store.CatalogFile
	if err := json.Unmarshal(buf.Bytes(), &cf); err != nil {
		t.Fatal(err)
	}
	cf.Images = cf.Images[:3]
	for i := range cf.Images {
		cf.Images[i].Description += " Renamed."
		cf.Images[i].Price = 12.5
	}
	mustImport(t, db, cf)
	gen, _ = db.Generation(ctx)
	if got := db.listings.Index(ctx, gen); got != nil {
		t.Fatal("after an import the old index is still in use")
	}
	deadline := time.Now().Add(20 * time.Second)
	for x = db.listings.Index(ctx, gen); x == nil; x = db.listings.Index(ctx, gen) {
		if time.Now().After(deadline) {
			t.Fatal("the index was not rebuilt within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	queries = append(randomListings(rng, 100), "search=renamed", "max_price=12.5&min_price=12.5")
	agree("imported", x, queries)
	if p, _ := db.FindImages(ctx, parse(t, "search=renamed")); p.Total != 3 {
		t.Errorf("search for the new words finds %d images, want 3", p.Total)
	}

	// One import per editable field, each of an image listed just before
	// (so the index keeps it encoded): the next listing shows the new value.
	var target store.CatalogImage
	var whole store.CatalogFile
	if err := json.Unmarshal(buf.Bytes(), &whole); err != nil {
		t.Fatal(err)
	}
	for _, ci := range whole.Images {
		if ci.Security != nil && ci.BasedOn != "" && len(ci.Features) > 0 {
			target = ci
			break
		}
	}
	if target.ID == "" {
		t.Fatal("no image with security, a parent and features to edit")
	}
	for _, step := range imageFieldEdits() {
		stage := "edited " + step.field
		listing := targetListing(t, db, target)
		if _, err := db.FindImages(ctx, parse(t, listing)); err != nil {
			t.Fatal(err)
		}
		if x.Stats().KeptImages == 0 {
			t.Fatalf("%s: the index kept no listed images", stage)
		}
		before, err := db.FindImage(ctx, target.ID)
		if err != nil {
			t.Fatal(err)
		}
		step.edit(&target)
		if res := mustImport(t, db, store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{target}}); res.Updated != 1 {
			t.Fatalf("%s: import %+v, want one updated", stage, res)
		}
		if after, err := db.FindImage(ctx, target.ID); err != nil || reflect.DeepEqual(before, after) {
			t.Fatalf("%s: the edit changed nothing (%v)", stage, err)
		}
		gen, _ = db.Generation(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for x = db.listings.Index(ctx, gen); x == nil; x = db.listings.Index(ctx, gen) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the index was not rebuilt within 20s", stage)
			}
			time.Sleep(10 * time.Millisecond)
		}
		listing = targetListing(t, db, target)
		agree(stage, x, append(randomListings(rng, 8), listing, "search=edited", "sort_by=size&limit=100", "search=gpu", "search=lamp web"))
	}
}

// targetListing returns a listing query whose page shows the image ci,
// found through SQL.
func targetListing(t *testing.T, db *DB, ci store.CatalogImage) string {
	t.Helper()
	for page := 1; page < 100; page++ {
		q := url.Values{"os": {ci.OS}, "architecture": {ci.Architecture}, "sort_by": {"name"}, "limit": {"100"},
			"page": {fmt.Sprint(page)}}.Encode()
		p, err := db.findImagesSQL(context.Background(), parse(t, q))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids(p), ci.ID) {
			return q
		}
		if len(p.Images) == 0 {
			break
		}
	}
	t.Fatalf("no listing shows %s", ci.ID)
	return ""
}

// TestListIndexFollowsOtherWriters checks that writes by another process
// (here another DB on the same file, as `berth catalog import` would be)
// reach listings once the generation memo expires.
func TestListIndexFollowsOtherWriters(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	if _, err := db.buildListIndexNow(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f := fixture()
	f.Images[0].Description = "Now with zebras."
	mustImport(t, other, f)
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := db.FindImages(ctx, parse(t, "search=zebras"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Total == 1 && strings.Contains(p.Images[0].Description, "zebras") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other writer's change never showed: %d found", p.Total)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestListIndexManyPrices covers catalogs with more distinct prices than
// the index keeps sets for: price ranges then check each row's price.
func TestListIndexManyPrices(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	f := fixture()
	base := f.Images[0]
	f.Images = nil
	for i := range 256 + 40 { // the index keeps a set per price for up to 256 prices
		img := base
		img.Release = fmt.Sprintf("24.%d", i)
		img.Alias = "ubuntu/" + img.Release
		img.ImageName = "ubuntu-" + img.Release + "-amd64"
		img.Price = float64(i) / 4
		f.Images = append(f.Images, img)
	}
	mustImport(t, db, f)
	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if x.Stats().PriceSets {
		t.Fatalf("%d prices were kept as sets", len(f.Images))
	}
	for _, raw := range []string{"min_price=10&max_price=20.5", "max_price=0", "min_price=70&sort_by=price&sort_order=desc",
		"max_price=1&search=ubuntu", "min_price=3&os=ubuntu&limit=100&page=2"} {
		want, err := db.findImagesSQL(ctx, parse(t, raw))
		if err != nil {
			t.Fatal(err)
		}
		if want.Total == 0 && raw != "max_price=0" {
			t.Fatalf("%s matches nothing", raw)
		}
		sameListing(t, raw, want, db, x, parse(t, raw))
	}
}

// generatedCatalog opens a database with the default catalog and n
// generated images.
func generatedCatalog(t *testing.T, n int, seed uint64) *DB {
	t.Helper()
	db := mustOpen(t)
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, n, seed); err != nil {
		t.Fatal(err)
	}
	return db
}

// indexedCatalog is generatedCatalog with its listing index built and in use.
func indexedCatalog(t *testing.T, n int, seed uint64) (*DB, *listing.Index) {
	t.Helper()
	db := generatedCatalog(t, n, seed)
	x, err := db.buildListIndexNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return db, x
}

func TestWarmReadsCommonWords(t *testing.T) {
	db, x := indexedCatalog(t, 3000, 8)
	ctx := context.Background()
	if err := x.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	total := x.Stats().Images
	warmed := x.CachedWords()
	ubuntu, ok := warmed["ubuntu"]
	if !ok {
		t.Fatalf("ubuntu, in a large share of the catalog, was not read ahead; read %d words", len(warmed))
	}
	// The index reads ahead the words in 1/64 of a sample of rows.
	const warmShare = 64
	for word, rows := range warmed {
		// Sampled counts wander a little around the true share.
		if n := rows.Count(); n*warmShare*2 < total {
			t.Errorf("%s is in %d of %d images, too few to read ahead", word, n, total)
		}
	}
	if len(warmed) < 10 {
		t.Errorf("only %d words read ahead", len(warmed))
	}
	// A search for a warmed word finds it cached.
	f := parse(t, "search=ubuntu&sort_by=name")
	if _, err := db.FindImages(ctx, f); err != nil {
		t.Fatal(err)
	}
	if again := x.CachedWords(); again["ubuntu"] != ubuntu || len(again) != len(warmed) {
		t.Error("searching a warmed word read it again")
	}
}

func TestListedRowsShareTheBudgetWithTheIndex(t *testing.T) {
	db, x := indexedCatalog(t, 1000, 3)
	ctx := context.Background()
	// An order of 4 bytes per row and blocks of 1 for each sort but
	// names, four arrays of 13 bytes per row in all, the alias groups' 13
	// (an architecture rank and a row per architecture), the end-of-life
	// days (4 bytes per row, the default catalog has them) and a few dozen
	// sets of a bit per row.
	s := x.Stats()
	if b := s.Bytes; b < s.Capacity*(5*len(store.SortKeys)-1+13+13+4) || b > s.Capacity*(5*len(store.SortKeys)-1+13+13+4+10) {
		t.Errorf("an index of %d images estimated at %d bytes", s.Images, b)
	}
	// The budget's split itself is TestListedBytes' (store/listing).
	if s.KeptLimit < 20<<20 {
		t.Errorf("a small catalog keeps only %d bytes of listed images", s.KeptLimit)
	}
	// Listing keeps within the budget, however many images it lists.
	x.SetKeptLimit(8 << 10)
	for page := 1; page <= 20; page++ {
		if _, err := db.FindImages(ctx, parse(t, fmt.Sprintf("sort_by=name&limit=50&page=%d", page))); err != nil {
			t.Fatal(err)
		}
		s := x.Stats()
		if s.KeptCounted > s.KeptLimit || s.KeptBytes > s.KeptCounted || s.KeptImages == 0 {
			t.Fatalf("page %d: %d images hold %d bytes, counted %d, over %d", page, s.KeptImages, s.KeptBytes, s.KeptCounted, s.KeptLimit)
		}
	}
}
