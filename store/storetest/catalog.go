package storetest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

func parseQuery(q string) (url.Values, error) { return url.ParseQuery(q) }

// Names of the fixture images, in name order.
const (
	alpine   = "alpine-3.19-armhf"
	debian   = "debian-13-amd64"
	postgres = "debian-13-postgres-amd64"
	gpu      = "fedora-42-gpu-amd64"
	lamp     = "rockylinux-9-lamp-arm64"
	ubuntu   = "ubuntu-24.04-amd64"
	ubuntuA  = "ubuntu-24.04-arm64"
	minimal  = "ubuntu-24.04-minimal-amd64"
)

var catalogCases = []Case{
	{"CatalogFilters", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		wantNames(t, s, "sort_by=name", alpine, debian, postgres, gpu, lamp, ubuntu, ubuntuA, minimal)
		wantNames(t, s, "os=ubuntu&sort_by=name", ubuntu, ubuntuA, minimal)
		wantNames(t, s, "architecture=arm64&sort_by=name", lamp, ubuntuA)
		wantNames(t, s, "variant=standard&sort_by=name", alpine, debian, ubuntu, ubuntuA)
		wantNames(t, s, "variant=minimal", minimal)
		wantNames(t, s, "prespawn=true&sort_by=name", debian, ubuntu, ubuntuA)
		wantNames(t, s, "prespawn=false&sort_by=name", alpine, postgres, gpu, lamp, minimal)
		wantNames(t, s, "min_price=5&sort_by=price", postgres, gpu)
		wantNames(t, s, "max_price=0&sort_by=name", alpine, debian, ubuntu, ubuntuA, minimal)
		wantNames(t, s, "min_price=4.99&max_price=15&sort_by=price", lamp, postgres)
		wantNames(t, s, "alias=ubuntu/24.04&sort_by=name", ubuntu, ubuntuA)
		wantNames(t, s, "os=ubuntu&architecture=amd64&sort_by=name", ubuntu, minimal)
		wantNames(t, s, "os=gentoo")
	}},
	{"CatalogSorts", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		// With no ratings every popularity is equal: ties go by name.
		wantNames(t, s, "", alpine, debian, postgres, gpu, lamp, ubuntu, ubuntuA, minimal)
		wantNames(t, s, "sort_by=name&sort_order=desc", minimal, ubuntuA, ubuntu, lamp, gpu, postgres, debian, alpine)
		wantNames(t, s, "sort_by=size", alpine, debian, minimal, postgres, lamp, ubuntuA, ubuntu, gpu)
		wantNames(t, s, "sort_by=size&sort_order=desc", gpu, ubuntu, ubuntuA, lamp, postgres, minimal, debian, alpine)
		wantNames(t, s, "sort_by=price", alpine, debian, ubuntu, ubuntuA, minimal, lamp, postgres, gpu)
		// Ties break by name ascending whatever the direction.
		wantNames(t, s, "sort_by=price&sort_order=desc", gpu, postgres, lamp, alpine, debian, ubuntu, ubuntuA, minimal)
		wantNames(t, s, "sort_by=added_date", gpu, minimal, ubuntu, ubuntuA, postgres, debian, alpine, lamp)
		wantNames(t, s, "sort_by=added_date&sort_order=asc", lamp, alpine, debian, postgres, ubuntu, ubuntuA, minimal, gpu)
	}},
	{"CatalogRatingSorts", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		ada, bob := MustUser(t, s, "ada@example.com", 0), MustUser(t, s, "bob@example.com", 0)
		rate := func(u *store.User, id string, r int) {
			t.Helper()
			if err := s.Import(ctx, u.ID, id); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Rate(ctx, u.ID, id, r); err != nil {
				t.Fatal(err)
			}
		}
		rate(ada, UbuntuID, 5)
		rate(bob, UbuntuID, 4) // 4.5 from two
		rate(ada, DebianID, 5) // 5.0 from one
		rate(ada, AlpineID, 1)
		wantNames(t, s, "sort_by=rating", debian, ubuntu, alpine, postgres, gpu, lamp, ubuntuA, minimal)
		wantNames(t, s, "sort_by=rating&sort_order=asc", postgres, gpu, lamp, ubuntuA, minimal, alpine, ubuntu, debian)
		// Popularity weighs the average by the number of ratings: (sum+30)/(count+10).
		wantNames(t, s, "sort_by=popularity", ubuntu, debian, postgres, gpu, lamp, ubuntuA, minimal, alpine)
		wantNames(t, s, "", ubuntu, debian, postgres, gpu, lamp, ubuntuA, minimal, alpine)
		wantNames(t, s, "min_rating=4.5&sort_by=name", debian, ubuntu)
		wantNames(t, s, "min_rating=4.6&sort_by=name", debian)
		wantNames(t, s, "min_rating=0.95&sort_by=name", alpine, debian, ubuntu)
		img, err := s.FindImage(ctx, UbuntuID)
		if err != nil || img.AverageRating() != 4.5 || img.RatingCount != 2 {
			t.Errorf("ubuntu rated %v from %d: %v", img.AverageRating(), img.RatingCount, err)
		}
	}},
	{"CatalogPagination", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		p := find(t, s, "sort_by=name&limit=3&page=2")
		if got := strings.Join(names(p), " "); got != gpu+" "+lamp+" "+ubuntu || p.Total != 8 || p.Pages() != 3 || p.Capped {
			t.Errorf("page 2: %s total %d pages %d", got, p.Total, p.Pages())
		}
		wantNames(t, s, "sort_by=name&limit=3&page=3", ubuntuA, minimal)
		p = find(t, s, "sort_by=name&limit=3&page=4")
		if len(p.Images) != 0 || p.Images == nil || p.Total != 8 {
			t.Errorf("past the end: %v total %d", names(p), p.Total)
		}
		p = find(t, s, "os=gentoo")
		if p.Images == nil || p.Total != 0 || p.Pages() != 0 {
			t.Errorf("no match: %#v", p)
		}
	}},
	{"CatalogSearchWordPrefixes", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		wantSet(t, s, "search=postgres", postgres)
		wantSet(t, s, "search=postg", postgres) // a word prefix
		wantSet(t, s, "search=gres")            // not the start of a word
		wantSet(t, s, "search=24.04", ubuntu, ubuntuA, minimal)
		wantSet(t, s, "search=ubuntu-24.04-min", minimal)
		wantSet(t, s, "search=database", postgres, gpu)
		wantSet(t, s, "search=lts+small", minimal) // every word must match
		wantSet(t, s, "search=UBUNTU+ARM", ubuntuA)
		wantSet(t, s, "search=zurich", alpine) // diacritics folded
		wantSet(t, s, "search=CAF%C3%89", alpine)
		wantSet(t, s, "search=caf%C3%A9%27s", alpine)
		wantSet(t, s, "search=musl", alpine)
		wantSet(t, s, "search=image+arm64", ubuntuA, lamp)
		wantSet(t, s, "search=%2B%2B%2B", alpine, debian, postgres, gpu, lamp, ubuntu, ubuntuA, minimal) // no words
		wantSet(t, s, "search=%22ubuntu*+OR")                                                            // operators are text
		wantNames(t, s, "search=database&sort_by=price", postgres, gpu)
		wantNames(t, s, "search=apt&sort_by=name&os=ubuntu", ubuntu, ubuntuA)
	}},
	{"FindImage", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		img, err := s.FindImage(ctx, PostgresID)
		if err != nil {
			t.Fatal(err)
		}
		want := Fixture().Images[4]
		if img.Alias != want.Alias || img.PriceCents != 1500 || img.Docs != want.Docs || img.Size != 900 ||
			!img.AddedDate.Equal(want.AddedDate) || img.AddedDate.Location().String() != "UTC" ||
			strings.Join(img.Tags, ",") != "database,postgres" || img.Features == nil || img.Prespawn {
			t.Errorf("FindImage = %+v", img)
		}
		for _, id := range []string{"0123456789abcdef01234567", "nope", ""} {
			if _, err := s.FindImage(ctx, id); !store.IsNotFound(err) {
				t.Errorf("FindImage(%q) = %v", id, err)
			}
		}
		if img, err := s.FindImageByAlias(ctx, "ubuntu/24.04", ""); err != nil || img.Architecture != "amd64" {
			t.Errorf("by alias, any architecture: %v %v", img, err)
		}
		if img, err := s.FindImageByAlias(ctx, "ubuntu/24.04", "arm64"); err != nil || img.ID != UbuntuArm {
			t.Errorf("by alias on arm64: %v %v", img, err)
		}
		if _, err := s.FindImageByAlias(ctx, "ubuntu/24.04", "armhf"); !store.IsNotFound(err) {
			t.Errorf("by alias on armhf: %v", err)
		}
	}},
	{"SiblingsAndFacets", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		img, _ := s.FindImage(ctx, MinimalID)
		sib, err := s.FindSiblings(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, i := range sib {
			got = append(got, i.ImageName)
		}
		if strings.Join(got, " ") != ubuntu+" "+ubuntuA+" "+minimal {
			t.Errorf("siblings %v", got)
		}
		f, err := s.FindFacets(ctx)
		if err != nil || strings.Join(f.OS, " ") != "alpine debian fedora rockylinux ubuntu" ||
			strings.Join(f.Variants, " ") != "default gpu lamp minimal postgres" {
			t.Errorf("facets %+v %v", f, err)
		}
		if n, err := s.CountImages(ctx); n != 8 || err != nil {
			t.Errorf("count %d %v", n, err)
		}
	}},
	{"CatalogRoundTrip", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		u := MustUser(t, s, "ada@example.com", 0)
		if err := s.Import(ctx, u.ID, DebianID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rate(ctx, u.ID, DebianID, 4); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := s.ExportCatalog(ctx, &out); err != nil {
			t.Fatal(err)
		}
		res, err := s.ImportCatalog(ctx, bytes.NewReader(out.Bytes()))
		if err != nil || res != (store.ImportResult{Unchanged: 8}) {
			t.Errorf("re-import of an export = %+v, %v", res, err)
		}
		var f store.CatalogFile
		if err := json.Unmarshal(out.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		for i := range f.Images {
			if f.Images[i].ID == DebianID {
				f.Images[i].Description = "Debian, described anew."
			}
		}
		if res := MustImport(t, s, f); res != (store.ImportResult{Updated: 1, Unchanged: 7}) {
			t.Errorf("import with one change = %+v", res)
		}
		img, _ := s.FindImage(ctx, DebianID)
		if img.Description != "Debian, described anew." || img.RatingCount != 1 || img.RatingSum != 4 {
			t.Errorf("after update: %q, ratings %d/%d", img.Description, img.RatingSum, img.RatingCount)
		}
		wantSet(t, s, "search=anew", debian)
		var again bytes.Buffer
		s.ExportCatalog(ctx, &again)
		var g store.CatalogFile
		json.Unmarshal(again.Bytes(), &g)
		if len(g.Images) != 8 || g.Images[0].ID > g.Images[1].ID {
			t.Errorf("export: %d images, not in id order", len(g.Images))
		}
		MustCheck(t, s)
	}},
	{"CatalogImportIsAllOrNothing", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		f := Fixture()
		extra := f.Images[0]
		extra.ID = "0123456789abcdef01234567" // a new id for an alias and architecture taken
		bad := store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{f.Images[1], extra}}
		bad.Images[0].Description = "changed"
		b, _ := json.Marshal(bad)
		if _, err := s.ImportCatalog(ctx, bytes.NewReader(b)); store.ErrorCode(err) != store.ECONFLICT {
			t.Errorf("import over a taken alias = %v", err)
		}
		if img, _ := s.FindImage(ctx, UbuntuArm); img.Description == "changed" {
			t.Error("a refused import changed an image")
		}
		for _, in := range []string{"{", `{"version": 99, "images": []}`, `{"version": 1, "images": [{"alias": "x"}]}`} {
			if _, err := s.ImportCatalog(ctx, strings.NewReader(in)); store.ErrorCode(err) != store.EINVALID {
				t.Errorf("import %s = %v", in, err)
			}
		}
		if n, _ := s.CountImages(ctx); n != 8 {
			t.Errorf("%d images after refused imports", n)
		}
	}},
	{"DefaultCatalogAndGeneration", func(t *testing.T, open Opener) {
		s := open(t, nil)
		g0, err := s.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if loaded, err := s.LoadDefaultCatalog(ctx); !loaded || err != nil {
			t.Fatalf("first load = %v, %v", loaded, err)
		}
		if loaded, err := s.LoadDefaultCatalog(ctx); loaded || err != nil {
			t.Errorf("second load = %v, %v", loaded, err)
		}
		n, _ := s.CountImages(ctx)
		p := find(t, s, "limit=100")
		if n < 50 || p.Total != n {
			t.Errorf("default catalog: %d images, listing total %d", n, p.Total)
		}
		g1, _ := s.Generation(ctx)
		if g1 == g0 {
			t.Error("the generation did not move with an import")
		}
		u := MustUser(t, s, "ada@example.com", 0)
		img, err := s.FindImageByAlias(ctx, "debian/12", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Import(ctx, u.ID, img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rate(ctx, u.ID, img.ID, 3); err != nil {
			t.Fatal(err)
		}
		if g2, _ := s.Generation(ctx); g2 == g1 {
			t.Error("the generation did not move with a rating")
		}
	}},
}

// lineageString draws a tree as alias@arch(child child).
func lineageString(n *store.LineageNode) string {
	if n == nil {
		return ""
	}
	s := n.Image.Alias + "@" + n.Image.Architecture
	if len(n.Children) > 0 {
		var kids []string
		for _, c := range n.Children {
			kids = append(kids, lineageString(c))
		}
		s += "(" + strings.Join(kids, " ") + ")"
	}
	return s
}
