// Package storetest is the contract every store.Store backend keeps: one
// suite of cases, run against SQLite (store/sqlite) and PostgreSQL
// (store/postgres) alike, through the store.Store interface only. A backend
// runs it with
//
//	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store { ... })
//
// To add a case, add an entry to one of the case tables (catalogCases,
// aliasCases, accountCases, libraryCases, voucherCases, lifecycleCases) or add a table of its own in a
// new file and list it in Run.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// Opener opens a fresh, empty, migrated store for one test, closed when
// the test ends. When now is not nil the store reads the time from it
// (the backends' Now field), so cases can move the clock; its bcrypt cost
// should be the minimum, to keep the suite fast.
type Opener func(t testing.TB, now func() time.Time) store.Store

// Case is one named check of the contract.
type Case struct {
	Name string
	Run  func(t *testing.T, open Opener)
}

// Run runs every case against the backend open opens, each in parallel
// with the others on a store of its own.
func Run(t *testing.T, open Opener) {
	for _, table := range [][]Case{catalogCases, importCases, aliasCases, imageViewCases, accountCases, libraryCases, voucherCases, lifecycleCases} {
		for _, c := range table {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				c.Run(t, open)
			})
		}
	}
}

// Clock is a settable time source for Opener's now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var ctx = context.Background()

// Fixture is a small catalog whose answers the cases work out by hand.
func Fixture() store.CatalogFile {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	img := func(os, rel, variant, arch string, size int64, price float64, added int, prespawn bool, tags ...string) store.CatalogImage {
		alias := os + "/" + rel
		name := os + "-" + rel
		if variant != "default" {
			alias += "-" + variant
			name += "-" + variant
		}
		return store.CatalogImage{
			Alias: alias, Description: "The " + alias + " image for " + arch + ".", ImageName: name + "-" + arch,
			Architecture: arch, OS: os, Release: rel, Serial: "20240101", Variant: variant,
			Size: size, Price: price, AddedDate: day(added), Prespawn: prespawn, Tags: tags,
			Docs: "## " + alias + "\n\nUse it.",
		}
	}
	f := store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{
		img("ubuntu", "24.04", "default", "amd64", 1500, 0, 10, true, "lts", "apt"),
		img("ubuntu", "24.04", "default", "arm64", 1400, 0, 10, true, "lts", "apt"),
		img("ubuntu", "24.04", "minimal", "amd64", 600, 0, 11, false, "lts", "small"),
		img("debian", "13", "default", "amd64", 500, 0, 5, true, "stable", "apt"),
		img("debian", "13", "postgres", "amd64", 900, 15, 7, false, "database", "postgres"),
		img("alpine", "3.19", "default", "armhf", 50, 0, 3, false, "musl", "small"),
		img("fedora", "42", "gpu", "amd64", 3000, 25, 12, false, "cuda", "database"),
		img("rockylinux", "9", "lamp", "arm64", 1200, 4.99, 1, false, "web", "php"),
	}}
	f.Images[5].Description = "Alpine for the Zürich Café's kiosks; musl-based."
	return f
}

// IDs of fixture images the cases buy, import and rate.
var (
	UbuntuID   = store.ImageID("ubuntu/24.04", "amd64")
	UbuntuArm  = store.ImageID("ubuntu/24.04", "arm64")
	MinimalID  = store.ImageID("ubuntu/24.04-minimal", "amd64")
	DebianID   = store.ImageID("debian/13", "amd64")
	PostgresID = store.ImageID("debian/13-postgres", "amd64") // $15
	AlpineID   = store.ImageID("alpine/3.19", "armhf")
	GPUID      = store.ImageID("fedora/42-gpu", "amd64")     // $25
	LampID     = store.ImageID("rockylinux/9-lamp", "arm64") // $4.99
)

// MustImport imports a catalog file.
func MustImport(t testing.TB, s store.Store, f store.CatalogFile) store.ImportResult {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportCatalog(ctx, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// openFixture opens a store holding the fixture catalog.
func openFixture(t testing.TB, open Opener) store.Store {
	t.Helper()
	s := open(t, nil)
	MustImport(t, s, Fixture())
	return s
}

// MustUser creates an account with a wallet of cents.
func MustUser(t testing.TB, s store.Store, email string, cents int64) *store.User {
	t.Helper()
	u, err := s.CreateUser(ctx, email, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if cents > 0 {
		if _, err := s.Credit(ctx, u.ID, cents, "test funds"); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// MustCheck fails the test when the store's invariants do not hold.
func MustCheck(t testing.TB, s store.Store) {
	t.Helper()
	problems, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("check:", p)
	}
}

// names lists the image names of a page, in order.
func names(p store.ImagePage) []string {
	out := make([]string, len(p.Images))
	for i, img := range p.Images {
		out[i] = img.ImageName
	}
	return out
}

// find lists with a query string as the API receives it.
func find(t testing.TB, s store.Store, query string) store.ImagePage {
	t.Helper()
	q, err := parseQuery(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	f, err := store.ParseFilter(q)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	p, err := s.FindImages(ctx, f)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return p
}

// wantNames fails unless the listing of query has exactly these names in
// this order.
func wantNames(t testing.TB, s store.Store, query string, want ...string) {
	t.Helper()
	p := find(t, s, query)
	if got := names(p); !slices.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", query, strings.Join(got, " "), strings.Join(want, " "))
	}
	if p.Total != len(want) && p.Page == 1 && p.Limit >= len(want) {
		t.Errorf("%s: total %d, want %d", query, p.Total, len(want))
	}
}

// wantSet is wantNames for listings whose order is the backend's own
// (relevance).
func wantSet(t testing.TB, s store.Store, query string, want ...string) {
	t.Helper()
	p := find(t, s, query)
	got := names(p)
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) || p.Total != len(want) {
		t.Errorf("%s:\n got %s (total %d)\nwant %s", query, strings.Join(got, " "), p.Total, strings.Join(want, " "))
	}
}
