package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

// describeGroups writes a grouped page as text: each entry's first build
// and all its builds.
func describeGroups(p store.ImagePage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "total %d builds %d capped %v\n", p.Total, p.BuildTotal, p.Capped)
	for i, img := range p.Images {
		fmt.Fprintf(&b, "%s %s:", img.Alias, img.ID)
		if i < len(p.Builds) {
			for _, bd := range p.Builds[i] {
				fmt.Fprintf(&b, " %s/%s", bd.ID, bd.Architecture)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// groupsByHand groups the whole build listing of f the slow way: each
// alias stands where its first build by architecture stands in the build
// order, with every build of it that passes.
func groupsByHand(t *testing.T, db *DB, f store.Filter) store.ImagePage {
	t.Helper()
	all := f
	all.Group, all.Page, all.Limit = "", 1, 100_000
	p, err := db.findImagesSQL(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	builds := map[string][]*store.Image{}
	for _, img := range p.Images {
		builds[img.Alias] = append(builds[img.Alias], img)
	}
	var firsts []*store.Image
	for _, img := range p.Images {
		bs := builds[img.Alias]
		first := slices.MinFunc(bs, func(a, b *store.Image) int { return store.ArchRank(a.Architecture) - store.ArchRank(b.Architecture) })
		if first == img {
			firsts = append(firsts, img)
		}
	}
	out := store.ImagePage{Grouped: true, Page: f.PageNumber(), Limit: f.PageLimit(), Total: len(firsts), BuildTotal: len(p.Images)}
	lo, hi := min(f.Offset(), len(firsts)), min(f.Offset()+f.PageLimit(), len(firsts))
	out.Images = firsts[lo:hi]
	store.GroupBuilds(&out, p.Images)
	return out
}

// TestGroupedListings checks grouped listings (group=alias) from the index
// and from SQL against grouping the whole build listing by hand.
func TestGroupedListings(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 1000, 7); err != nil {
		t.Fatal(err)
	}
	addFarBuilds(t, db, 24)
	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	queries := append([]string{"", "os=ubuntu", "architecture=arm64", "max_price=0", "min_price=5&sort_by=price",
		"search=ubuntu", "search=redis", "sort_by=name&sort_order=desc", "prespawn=true&page=2&limit=5", "page=3&limit=7"},
		randomListings(rand.New(rand.NewPCG(8, 9)), 40)...)
	split := 0
	for _, raw := range queries {
		f := parse(t, raw)
		f.Group = store.GroupAlias
		want := groupsByHand(t, db, f)
		got, err := db.findImagesSQL(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := describeGroups(got), describeGroups(want); g != w {
			t.Errorf("SQL %s:\n%s\nwant\n%s", raw, g, w)
		}
		if want.BuildTotal > want.Total {
			split++
		}
		// Through the listing index.
		page, err := x.Find(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := describeGroups(page), describeGroups(want); g != w {
			t.Errorf("index %s:\n%s\nwant\n%s", raw, g, w)
		}
	}
	if split == 0 {
		t.Error("no listing had an alias with several builds")
	}
}

// addFarBuilds imports n builds of existing aliases on architectures they
// lack, so that they lie far from the alias's other builds, as when a later
// import completes an alias. Half go after the alias's others by
// architecture; for the other half an existing amd64 build becomes armhf
// and the new one is amd64, before the rest. The index matches builds at
// the usual distances a word at a time and these one by one.
func addFarBuilds(t *testing.T, db *DB, n int) {
	t.Helper()
	f := parse(t, "")
	f.Page, f.Limit = 1, 100_000
	all, err := db.findImagesSQL(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	archs := map[string]map[string]*store.Image{}
	var aliases []string
	for _, img := range all.Images {
		if archs[img.Alias] == nil {
			archs[img.Alias] = map[string]*store.Image{}
			aliases = append(aliases, img.Alias)
		}
		archs[img.Alias][img.Architecture] = img
	}
	var images []store.CatalogImage
	added := 0
	for _, alias := range aliases {
		have := archs[alias]
		if have["armhf"] != nil || have["amd64"] == nil {
			continue
		}
		build := store.CatalogImageOf(have["amd64"])
		build.ID = ""
		if added%2 == 0 {
			build.Architecture = "armhf"
		} else {
			moved := store.CatalogImageOf(have["amd64"])
			moved.Architecture = "armhf"
			images = append(images, moved)
			build.ID = fmt.Sprintf("%024x", 0xfa000000+added) // the id amd64 would get is taken
		}
		images = append(images, build)
		if added++; added == n {
			break
		}
	}
	if added < n {
		t.Fatalf("found %d aliases to add a build to, want %d", added, n)
	}
	if res := mustImport(t, db, store.CatalogFile{Version: store.CatalogVersion, Images: images}); res.Added != n {
		t.Fatalf("import added %d builds, want %d (%+v)", res.Added, n, res)
	}
}
