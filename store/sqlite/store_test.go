package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
)

// mustOpen opens a fresh database file in a temporary directory. A file, not
// :memory:, because each pooled connection would get its own memory database.
// Passwords are hashed at bcrypt's lowest cost: at the default cost every
// account a test creates or logs in costs some 50 ms, ten times that under
// -race, and the cost is not what these tests check (TestDefaultPasswordCost
// does).
func mustOpen(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.PasswordCost = bcrypt.MinCost
	t.Cleanup(func() { db.Close() })
	return db
}

// New passwords are hashed at bcrypt's default cost unless told otherwise.
func TestDefaultPasswordCost(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, "cost@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	var hash []byte
	if err := db.read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(hash); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("hash cost %d (%v), want bcrypt's default %d", cost, err, bcrypt.DefaultCost)
	}
}

// fixture describes a small catalog whose answers the tests can work out by hand.
func fixture() store.CatalogFile {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	img := func(os, rel, variant, arch string, size int64, price float64, added int, prespawn bool, tags ...string) store.CatalogImage {
		alias := os + "/" + rel
		if variant != "default" {
			alias += "-" + variant
		}
		name := os + "-" + rel
		if variant != "default" {
			name += "-" + variant
		}
		return store.CatalogImage{
			Alias: alias, Description: "The " + alias + " image for " + arch + ".", ImageName: name + "-" + arch,
			Architecture: arch, OS: os, Release: rel, Serial: "20240101", Variant: variant,
			Size: size, Price: price, AddedDate: day(added), Prespawn: prespawn, Tags: tags,
			Docs: "## " + alias + "\n\nUse it.",
		}
	}
	return store.CatalogFile{Version: 1, Images: []store.CatalogImage{
		img("ubuntu", "24.04", "default", "amd64", 1500, 0, 10, true, "lts", "apt"),
		img("ubuntu", "24.04", "default", "arm64", 1400, 0, 10, true, "lts", "apt"),
		img("ubuntu", "24.04", "minimal", "amd64", 600, 0, 11, false, "lts", "small"),
		img("debian", "13", "default", "amd64", 500, 0, 5, true, "stable", "apt"),
		img("debian", "13", "postgres", "amd64", 900, 15, 7, false, "database", "postgres"),
		img("alpine", "3.19", "default", "armhf", 50, 0, 3, false, "musl", "small"),
		img("fedora", "42", "gpu", "amd64", 3000, 25, 12, false, "cuda", "database"),
		img("rockylinux", "9", "lamp", "arm64", 1200, 4.99, 1, false, "web", "php"),
	}}
}

func mustImport(t testing.TB, db *DB, f store.CatalogFile) store.ImportResult {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ImportCatalog(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// setRatings stores rating aggregates directly; the rating rules themselves
// are tested where ratings are written.
func setRatings(t testing.TB, db *DB, alias, arch string, sum, count int) {
	t.Helper()
	if _, err := db.write.Exec(`UPDATE images SET rating_sum = ?, rating_count = ? WHERE alias = ? AND architecture = ?`,
		sum, count, alias, arch); err != nil {
		t.Fatal(err)
	}
}

func names(p store.ImagePage) []string {
	out := make([]string, len(p.Images))
	for i, img := range p.Images {
		out[i] = img.ImageName
	}
	return out
}

// find answers query through SQL and through a freshly built listing index,
// fails unless both give the same page, and returns the SQL one. Every test
// that lists images thereby checks the index against SQL.
func find(t *testing.T, db *DB, query string) store.ImagePage {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.ParseFilter(q)
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", query, err)
	}
	ctx := context.Background()
	p, err := db.findImagesSQL(ctx, f)
	if err != nil {
		t.Fatalf("FindImages(%q): %v", query, err)
	}
	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameListing(t, query, p, db, x, f)
	return p
}

// sameListing fails unless the listing index x answers f with the page
// want, which SQL gave.
func sameListing(t *testing.T, query string, want store.ImagePage, db *DB, x *listing.Index, f store.Filter) {
	t.Helper()
	got, err := db.findImagesIndexed(context.Background(), x, f)
	if err != nil {
		t.Fatalf("index: %q: %v", query, err)
	}
	if !equal(ids(got), ids(want)) {
		t.Fatalf("%q: the index lists %v, SQL %v", query, names(got), names(want))
	}
	for i := range got.Images {
		if !reflect.DeepEqual(got.Images[i], want.Images[i]) {
			t.Fatalf("%q: the index shows %+v, SQL %+v", query, *got.Images[i], *want.Images[i])
		}
	}
	if got.Total != want.Total && !(want.Capped && got.Total > store.CountCap) {
		t.Fatalf("%q: the index counts %d, SQL %d (capped %v)", query, got.Total, want.Total, want.Capped)
	}
}

func ids(p store.ImagePage) []string {
	out := make([]string, len(p.Images))
	for i, img := range p.Images {
		out[i] = img.ID
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFindImagesFilters(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture())
	setRatings(t, db, "debian/13", "amd64", 9, 2)      // 4.5
	setRatings(t, db, "ubuntu/24.04", "amd64", 47, 10) // 4.7
	setRatings(t, db, "fedora/42-gpu", "amd64", 19, 4) // 4.75 -> 4.8
	setRatings(t, db, "rockylinux/9-lamp", "arm64", 1, 1)

	tests := []struct {
		query string
		want  []string
	}{
		{"sort_by=name&os=ubuntu", []string{"ubuntu-24.04-amd64", "ubuntu-24.04-arm64", "ubuntu-24.04-minimal-amd64"}},
		{"sort_by=name&os=UBUNTU&architecture=arm64", []string{"ubuntu-24.04-arm64"}},
		{"sort_by=name&architecture=armhf", []string{"alpine-3.19-armhf"}},
		{"sort_by=name&variant=standard&os=ubuntu", []string{"ubuntu-24.04-amd64", "ubuntu-24.04-arm64"}},
		{"sort_by=name&variant=minimal", []string{"ubuntu-24.04-minimal-amd64"}},
		{"sort_by=name&prespawn=true", []string{"debian-13-amd64", "ubuntu-24.04-amd64", "ubuntu-24.04-arm64"}},
		{"sort_by=name&prespawn=false&max_price=0", []string{"alpine-3.19-armhf", "ubuntu-24.04-minimal-amd64"}},
		{"sort_by=name&min_price=0&max_price=0&os=debian", []string{"debian-13-amd64"}},
		{"sort_by=name&min_price=5", []string{"debian-13-postgres-amd64", "fedora-42-gpu-amd64"}},
		{"sort_by=name&min_price=4.99&max_price=4.99", []string{"rockylinux-9-lamp-arm64"}},
		{"sort_by=name&min_price=25", []string{"fedora-42-gpu-amd64"}},
		{"sort_by=name&min_rating=4.5", []string{"debian-13-amd64", "fedora-42-gpu-amd64", "ubuntu-24.04-amd64"}},
		{"sort_by=name&min_rating=4.75", []string{"fedora-42-gpu-amd64"}},
		{"sort_by=name&search=database", []string{"debian-13-postgres-amd64", "fedora-42-gpu-amd64"}},
		{"sort_by=name&search=DATABASE%20cuda", []string{"fedora-42-gpu-amd64"}},
		{"sort_by=name&search=musl", []string{"alpine-3.19-armhf"}},
		{"sort_by=name&search=image%20for%20arm64", []string{"rockylinux-9-lamp-arm64", "ubuntu-24.04-arm64"}},
		{"sort_by=name&search=100%25", nil},
		{"sort_by=name&search=nothing-like-this", nil},
		{"sort_by=name&alias=ubuntu/24.04", []string{"ubuntu-24.04-amd64", "ubuntu-24.04-arm64"}},
		{"sort_by=name&os=plan9", nil},
		{"sort_by=name&os=ubuntu&search=apt&architecture=amd64&prespawn=1&max_price=0&min_rating=4", []string{"ubuntu-24.04-amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := find(t, db, tt.query)
			if got := names(p); !equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if p.Total != len(tt.want) {
				t.Errorf("total = %d, want %d", p.Total, len(tt.want))
			}
		})
	}
}

func TestFindImagesSorts(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture())
	setRatings(t, db, "debian/13", "amd64", 9, 2)      // 4.5 of 2: popularity 39/12 = 3.25
	setRatings(t, db, "ubuntu/24.04", "amd64", 40, 10) // 4.0 of 10: popularity 70/20 = 3.5
	setRatings(t, db, "alpine/3.19", "armhf", 5, 1)    // 5.0 of 1: popularity 35/11 = 3.18
	setRatings(t, db, "fedora/42-gpu", "amd64", 0, 3)  // 0.0 of 3: popularity 30/13 = 2.31

	tests := []struct {
		query string
		want  []string // the first names of the result
	}{
		{"sort_by=rating", []string{"alpine-3.19-armhf", "debian-13-amd64", "ubuntu-24.04-amd64"}},
		{"sort_by=rating&sort_order=asc&os=fedora", []string{"fedora-42-gpu-amd64"}},
		{"sort_by=popularity", []string{"ubuntu-24.04-amd64", "debian-13-amd64", "alpine-3.19-armhf"}},
		{"", []string{"ubuntu-24.04-amd64", "debian-13-amd64", "alpine-3.19-armhf"}},
		{"sort_by=popularity&sort_order=asc", []string{"fedora-42-gpu-amd64"}},
		{"sort_by=price&sort_order=desc", []string{"fedora-42-gpu-amd64", "debian-13-postgres-amd64", "rockylinux-9-lamp-arm64"}},
		{"sort_by=price&min_price=1", []string{"rockylinux-9-lamp-arm64", "debian-13-postgres-amd64", "fedora-42-gpu-amd64"}},
		{"sort_by=size", []string{"alpine-3.19-armhf", "debian-13-amd64", "ubuntu-24.04-minimal-amd64"}},
		{"sort_by=size&sort_order=desc", []string{"fedora-42-gpu-amd64", "ubuntu-24.04-amd64", "ubuntu-24.04-arm64"}},
		{"sort_by=added_date", []string{"fedora-42-gpu-amd64", "ubuntu-24.04-minimal-amd64"}},
		{"sort_by=added_date&sort_order=asc", []string{"rockylinux-9-lamp-arm64", "alpine-3.19-armhf", "debian-13-amd64"}},
		{"sort_by=name", []string{"alpine-3.19-armhf", "debian-13-amd64", "debian-13-postgres-amd64"}},
		{"sort_by=name&sort_order=desc", []string{"ubuntu-24.04-minimal-amd64", "ubuntu-24.04-arm64", "ubuntu-24.04-amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := names(find(t, db, tt.query))
			if len(got) < len(tt.want) || !equal(got[:len(tt.want)], tt.want) {
				t.Errorf("got %v, want it to start with %v", got, tt.want)
			}
		})
	}
}

func TestFindImagesPagination(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture()) // 8 images
	all := names(find(t, db, "sort_by=name&limit=100"))
	if len(all) != 8 {
		t.Fatalf("got %d images, want 8", len(all))
	}
	var paged []string
	for page := 1; page <= 3; page++ {
		p := find(t, db, "sort_by=name&limit=3&page="+string(rune('0'+page)))
		if p.Total != 8 || p.Pages() != 3 || p.Limit != 3 || p.Page != page {
			t.Fatalf("page %d: total %d pages %d limit %d page %d", page, p.Total, p.Pages(), p.Limit, p.Page)
		}
		paged = append(paged, names(p)...)
	}
	if !equal(paged, all) {
		t.Errorf("pages joined = %v, want %v", paged, all)
	}
	t.Run("PastTheEnd", func(t *testing.T) {
		p := find(t, db, "limit=3&page=4")
		if len(p.Images) != 0 || p.Total != 8 || p.Images == nil {
			t.Errorf("got %d images of %d (nil=%v), want an empty non-nil page of 8", len(p.Images), p.Total, p.Images == nil)
		}
	})
	t.Run("ExactMultiple", func(t *testing.T) {
		p := find(t, db, "limit=4&page=2")
		if len(p.Images) != 4 || p.Pages() != 2 {
			t.Errorf("got %d images, %d pages", len(p.Images), p.Pages())
		}
	})
	t.Run("Empty", func(t *testing.T) {
		p := find(t, db, "os=none")
		if p.Total != 0 || p.Pages() != 0 {
			t.Errorf("total %d pages %d", p.Total, p.Pages())
		}
	})
	t.Run("DefaultLimit", func(t *testing.T) {
		if p := find(t, db, ""); p.Limit != store.DefaultLimit || len(p.Images) != 8 {
			t.Errorf("limit %d, %d images", p.Limit, len(p.Images))
		}
	})
}

func TestFindImage(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture())
	ctx := context.Background()
	id := store.ImageID("debian/13-postgres", "amd64")
	img, err := db.FindImage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if img.PriceCents != 1500 || img.Alias != "debian/13-postgres" || !equal(img.Tags, []string{"database", "postgres"}) {
		t.Errorf("got %+v", img)
	}
	for _, id := range []string{"000000000000000000000000", "nothex", "", "DEBIAN"} {
		if _, err := db.FindImage(ctx, id); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("FindImage(%q) = %v, want not found", id, err)
		}
	}
}

func TestFindSiblingsAndFacets(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture())
	ctx := context.Background()
	img, err := db.FindImage(ctx, store.ImageID("ubuntu/24.04-minimal", "amd64"))
	if err != nil {
		t.Fatal(err)
	}
	sib, err := db.FindSiblings(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sib {
		got = append(got, s.ImageName)
	}
	if want := []string{"ubuntu-24.04-amd64", "ubuntu-24.04-arm64", "ubuntu-24.04-minimal-amd64"}; !equal(got, want) {
		t.Errorf("siblings = %v, want %v", got, want)
	}
	f, err := db.FindFacets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpine", "debian", "fedora", "rockylinux", "ubuntu"}; !equal(f.OS, want) {
		t.Errorf("os facets = %v, want %v", f.OS, want)
	}
	if len(f.Variants) == 0 || f.Variants[0] != store.DefaultVariant {
		t.Errorf("variant facets = %v, want default first", f.Variants)
	}
}

func TestCatalogRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	if res := mustImport(t, db, fixture()); res.Added != 8 || res.Updated+res.Unchanged != 0 {
		t.Fatalf("first import = %+v", res)
	}
	setRatings(t, db, "debian/13", "amd64", 9, 2)
	var first bytes.Buffer
	if err := db.ExportCatalog(ctx, &first); err != nil {
		t.Fatal(err)
	}
	res, err := db.ImportCatalog(ctx, bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.ImportResult{Unchanged: 8}) {
		t.Errorf("re-import of an export = %+v, want 8 unchanged", res)
	}
	var second bytes.Buffer
	if err := db.ExportCatalog(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("second export differs from the first")
	}

	// The export loads into an empty database and exports the same again.
	other := mustOpen(t)
	if res, err := other.ImportCatalog(ctx, bytes.NewReader(first.Bytes())); err != nil || res.Added != 8 {
		t.Fatalf("import into a new database = %+v, %v", res, err)
	}
	var third bytes.Buffer
	if err := other.ExportCatalog(ctx, &third); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), third.Bytes()) {
		t.Error("export of the copy differs from the original")
	}

	// A changed description is an update that keeps the ratings.
	f := fixture()
	f.Images[3].Description = "Debian 13, refreshed."
	if res := mustImport(t, db, f); res.Updated != 1 || res.Unchanged != 7 {
		t.Errorf("import with one change = %+v", res)
	}
	img, err := db.FindImage(ctx, store.ImageID("debian/13", "amd64"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Description != "Debian 13, refreshed." || img.RatingCount != 2 || img.AverageRating() != 4.5 {
		t.Errorf("after update: %q, %d ratings, average %v", img.Description, img.RatingCount, img.AverageRating())
	}
}

func TestImportCatalogRejects(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	mustImport(t, db, fixture())
	bad := func(mut func(*store.CatalogFile)) []byte {
		f := fixture()
		mut(&f)
		b, _ := json.Marshal(f)
		return b
	}
	tests := map[string][]byte{
		"NotJSON":       []byte("images: []"),
		"UnknownField":  []byte(`{"version":1,"images":[],"extra":true}`),
		"WrongVersion":  []byte(`{"version":2,"images":[]}`),
		"BadArch":       bad(func(f *store.CatalogFile) { f.Images[0].Architecture = "sparc" }),
		"NegativePrice": bad(func(f *store.CatalogFile) { f.Images[0].Price = -1 }),
		"NoDescription": bad(func(f *store.CatalogFile) { f.Images[0].Description = " " }),
		"BadID":         bad(func(f *store.CatalogFile) { f.Images[0].ID = "XYZ" }),
		"Duplicate":     bad(func(f *store.CatalogFile) { f.Images = append(f.Images, f.Images[0]) }),
		"BadAlias":      bad(func(f *store.CatalogFile) { f.Images[0].Alias = "ubuntu:24.04" }),
		"ZeroSize":      bad(func(f *store.CatalogFile) { f.Images[0].Size = 0 }),
		"BadTag":        bad(func(f *store.CatalogFile) { f.Images[0].Tags = []string{"Two Words"} }),
		"AliasConflicts": bad(func(f *store.CatalogFile) {
			f.Images[7].ID = "0123456789abcdef01234567"
			f.Images[7].Alias = "ubuntu/24.04"
			f.Images[7].Architecture = "amd64"
		}),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			before, _ := db.CountImages(ctx)
			_, err := db.ImportCatalog(ctx, bytes.NewReader(body))
			if c := store.ErrorCode(err); c != store.EINVALID && c != store.ECONFLICT {
				t.Errorf("got %v, want an invalid or conflict error", err)
			}
			if after, _ := db.CountImages(ctx); after != before {
				t.Errorf("image count changed from %d to %d", before, after)
			}
		})
	}
}

func TestDefaultCatalog(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	loaded, err := db.LoadDefaultCatalog(ctx)
	if err != nil || !loaded {
		t.Fatalf("LoadDefaultCatalog = %v, %v", loaded, err)
	}
	if loaded, err := db.LoadDefaultCatalog(ctx); err != nil || loaded {
		t.Fatalf("second LoadDefaultCatalog = %v, %v; want no load", loaded, err)
	}
	n, _ := db.CountImages(ctx)
	if n < 60 {
		t.Errorf("default catalog has %d images, want at least 60", n)
	}
	for _, q := range []string{
		"os=debian&architecture=amd64", "os=ubuntu&architecture=arm64", "os=alpine", "os=fedora",
		"os=centos", "os=rockylinux", "variant=minimal", "variant=cloud", "variant=desktop",
		"variant=base", "variant=systemd", "variant=dind", "min_price=5", "prespawn=true",
		"search=docker", "search=database", "architecture=armhf",
	} {
		if p := find(t, db, q); p.Total == 0 {
			t.Errorf("default catalog: nothing for %s", q)
		}
	}
	// Every image is complete, and every based_on names an image.
	p := find(t, db, "limit=100")
	for page := 2; len(p.Images) < p.Total; page++ {
		p.Images = append(p.Images, find(t, db, "limit=100&page="+string(rune('0'+page))).Images...)
	}
	aliases := map[string]bool{}
	for _, img := range p.Images {
		aliases[img.Alias] = true
	}
	for _, listed := range p.Images {
		if listed.Docs != "" {
			t.Errorf("%s: listings should leave the docs body out", listed.Alias)
		}
		img, err := db.FindImage(ctx, listed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(img.Tags) == 0 || img.Docs == "" || img.Serial == "" {
			t.Errorf("%s (%s) lacks tags, docs or serial", img.Alias, img.Architecture)
		}
		if img.BasedOn != "" && !aliases[img.BasedOn] {
			t.Errorf("%s is based on unknown %s", img.Alias, img.BasedOn)
		}
		if img.ID != store.ImageID(img.Alias, img.Architecture) {
			t.Errorf("%s (%s) has id %s, want the derived one", img.Alias, img.Architecture, img.ID)
		}
	}
}

func TestOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("migrations recorded = %d, %v", n, err)
		}
		// The read pool refuses writes.
		if _, err := db.read.Exec(`DELETE FROM images`); err == nil {
			t.Error("read pool accepted a write")
		}
		db.Close()
	}
}

// TestOpenOddPath keeps characters that mean something in a URI, such as
// '#' and '?', part of the file name.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a #b?c %20 d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x#y.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

// TestLazyStatementRetries: a statement whose first preparation failed (the
// request that wanted it went away) is prepared by the next caller, and then
// kept.
func TestLazyStatementRetries(t *testing.T) {
	db := mustOpen(t)
	mustImport(t, db, fixture())
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	p := preparedReads{db}
	if _, err := p.stmt(gone, bySeqSQL); err == nil {
		t.Fatal("prepared with a cancelled context")
	}
	first, err := p.stmt(context.Background(), bySeqSQL)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.stmt(context.Background(), bySeqSQL); err != nil || again != first {
		t.Errorf("second get: %p, %v; want the first statement %p", again, err, first)
	}
	rows, err := first.Query(`[1]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Errorf("no image with seq 1 through the statement: %v", rows.Err())
	}
}
