package storetest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// imageViewCases check FindImageView, which a backend may read in one
// round trip, against the parts read one at a time (store.ReadImageView
// over the backend's own FindImage, FindSiblings, FindLineage and
// Histogram), on every image of the default catalog and on lineages built
// to reach each rule of store.FindLineage.
var imageViewCases = []Case{
	{"ImageViewMatchesItsParts", func(t *testing.T, open Opener) {
		s := openDefault(t, open)
		chain := func(alias, arch, basedOn string) store.CatalogImage {
			os, rel, _ := strings.Cut(alias, "/")
			return store.CatalogImage{Alias: alias, Description: "Built for the lineage of the image view.", ImageName: strings.ReplaceAll(alias, "/", "-") + "-" + arch,
				Architecture: arch, OS: os, Release: rel, Serial: "20260101", Variant: "default", Size: 10, AddedDate: Fixture().Images[0].AddedDate,
				BasedOn: basedOn, Docs: "## " + alias}
		}
		f := store.CatalogFile{Version: store.CatalogVersion}
		// A chain longer than store.MaxLineageDepth, on amd64 only but for
		// its last link, whose parent is then taken from amd64.
		prev := ""
		for _, rel := range []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"} {
			f.Images = append(f.Images, chain("deep/"+rel, "amd64", prev))
			prev = "deep/" + rel
		}
		f.Images = append(f.Images, chain("deep/r10", "arm64", "deep/r9"),
			// One alias whose builds have different parents, one of them
			// missing; parents with no build on the child's architecture,
			// taken from amd64, else arm64.
			chain("split/top", "amd64", ""), chain("split/other", "arm64", ""), chain("split/other", "armhf", ""),
			chain("split/both", "amd64", ""), chain("split/both", "arm64", ""),
			chain("split/child", "amd64", "split/top"), chain("split/child", "arm64", "split/missing"),
			chain("split/child", "armhf", "split/both"), chain("split/leaf", "armhf", "split/child"),
			chain("split/kid", "amd64", "split/other"),
			// A cycle.
			chain("loop/a", "amd64", "loop/b"), chain("loop/b", "amd64", "loop/a"))
		MustImport(t, s, f)
		u := MustUser(t, s, "viewer@example.com", 0)
		someone := MustUser(t, s, "other@example.com", 0)
		debian, err := s.FindImageByAlias(ctx, "debian/13", "amd64")
		if err != nil {
			t.Fatal(err)
		}
		for i, who := range []*store.User{u, someone} {
			if err := s.Import(ctx, who.ID, debian.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Rate(ctx, who.ID, debian.ID, 4+i); err != nil {
				t.Fatal(err)
			}
		}

		var ids []string
		for p := 1; ; p++ {
			page, err := s.FindImages(ctx, store.Filter{Page: p, Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			for _, img := range page.Images {
				ids = append(ids, img.ID)
			}
			if p >= page.Pages() {
				break
			}
		}
		if len(ids) < len(f.Images)+50 {
			t.Fatalf("only %d images listed", len(ids))
		}
		families := 0
		for _, id := range ids {
			got, err := s.FindImageView(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := store.ReadImageView(ctx, s, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Image, want.Image) {
				t.Errorf("%s: image %+v, want %+v", id, got.Image, want.Image)
			}
			if g, w := aliasesOf(got.Siblings), aliasesOf(want.Siblings); g != w || !reflect.DeepEqual(got.Siblings, want.Siblings) {
				t.Errorf("%s: siblings %s, want %s", want.Image.Alias, g, w)
			}
			if g, w := lineageString(got.Lineage), lineageString(want.Lineage); g != w || !reflect.DeepEqual(got.Lineage, want.Lineage) {
				t.Errorf("%s@%s: lineage %s, want %s", want.Image.Alias, want.Image.Architecture, g, w)
			}
			if got.Histogram != want.Histogram {
				t.Errorf("%s: histogram %v, want %v", want.Image.Alias, got.Histogram, want.Histogram)
			}
			if want.Lineage != nil {
				families++
			}
		}
		if families < 20 {
			t.Errorf("only %d of %d images have a lineage", families, len(ids))
		}
		// What the lineage rules give, spelt out, so that the two ways
		// cannot agree on a wrong tree.
		for _, tt := range []struct{ alias, arch, want string }{
			// store.MaxLineageDepth generations of descendants, no more.
			{"deep/r0", "amd64", "deep/r0@amd64(deep/r1@amd64(deep/r2@amd64(deep/r3@amd64(deep/r4@amd64(deep/r5@amd64(deep/r6@amd64(deep/r7@amd64(deep/r8@amd64))))))))"},
			// store.MaxLineageDepth parents, no more.
			{"deep/r10", "arm64", "deep/r2@amd64(deep/r3@amd64(deep/r4@amd64(deep/r5@amd64(deep/r6@amd64(deep/r7@amd64(deep/r8@amd64(deep/r9@amd64(deep/r10@arm64))))))))"},
			{"split/child", "arm64", ""},
			{"split/child", "armhf", "split/both@amd64(split/child@armhf(split/leaf@armhf))"},
			{"split/child", "amd64", "split/top@amd64(split/child@amd64)"},
			{"split/kid", "amd64", "split/other@arm64(split/kid@amd64)"},
			{"loop/a", "amd64", "loop/a@amd64(loop/b@amd64)"},
		} {
			img, err := s.FindImageByAlias(ctx, tt.alias, tt.arch)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.FindImageView(ctx, img.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := lineageString(v.Lineage); got != tt.want {
				t.Errorf("%s@%s: lineage %s, want %s", tt.alias, tt.arch, got, tt.want)
			}
		}
		v, err := s.FindImageView(ctx, debian.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Histogram != [store.MaxRating + 1]int64{4: 1, 5: 1} {
			t.Errorf("debian/13 histogram %v", v.Histogram)
		}
		for _, id := range []string{"0123456789abcdef01234567", "not an id", ""} {
			if _, err := s.FindImageView(ctx, id); !store.IsNotFound(err) {
				t.Errorf("FindImageView(%q) = %v, want not found", id, err)
			}
		}
	}},
}

func aliasesOf(imgs []*store.Image) string {
	var s []string
	for _, img := range imgs {
		s = append(s, img.Alias+"@"+img.Architecture)
	}
	return strings.Join(s, " ")
}
