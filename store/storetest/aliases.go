package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// openDefault opens a store holding the embedded default catalog.
func openDefault(t testing.TB, open Opener) store.Store {
	t.Helper()
	s := open(t, nil)
	if _, err := s.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Aliases, their suggestions and the lineage and variants around an image,
// on the default catalog (moved here from store/sqlite's tests).
var aliasCases = []Case{
	{"SuggestAliases", func(t *testing.T, open Opener) {
		s := openDefault(t, open)
		tests := []struct {
			in    string
			first []string // the suggestions must start with these
			none  bool
		}{
			{"ubuntu:24.04", []string{"ubuntu/24.04"}, false},
			{"ubuntu-24.04", []string{"ubuntu/24.04"}, false},
			{"ubuntu-24.04-minimal", []string{"ubuntu/24.04-minimal"}, false},
			{"ubuntu:24.04-minimal", []string{"ubuntu/24.04-minimal"}, false},
			{"ubuntu", []string{"ubuntu/24.04", "ubuntu/22.04"}, false},
			{"debian", []string{"debian/13", "debian/12"}, false},
			{"ubuntu-24.04-amd64", []string{"ubuntu/24.04"}, false},               // an image_name
			{"ghcr.io/gilmanlab/headjack:dind", []string{"headjack/dind"}, false}, // a pull_ref
			{"ubunt/24.04", []string{"ubuntu/24.04"}, false},                      // a typo
			{"fedora/43", []string{"fedora/42", "fedora/41"}, false},
			{"debian/13-desk", []string{"debian/13-desktop"}, false},
			{"ubuntu/25.04-minimal", []string{"ubuntu/24.04-minimal", "ubuntu/22.04-minimal"}, false},
			{"ubuntu:24.04", []string{"ubuntu/24.04", "ubuntu/24.04-minimal", "ubuntu/24.04-cloud", "ubuntu/24.04-desktop"}, false},
			{"zzzzzz/qqqq", nil, true},
		}
		if got, _ := s.SuggestAliases(ctx, "ubuntu/24.04-desk", "arm64", store.MaxSuggestions); len(got) == 0 || got[0] == "ubuntu/24.04-desktop" {
			t.Errorf("suggested %v on arm64, where there is no desktop", got)
		}
		for _, tt := range tests {
			got, err := s.SuggestAliases(ctx, tt.in, "", store.MaxSuggestions)
			if err != nil {
				t.Fatal(err)
			}
			if tt.none {
				if len(got) != 0 {
					t.Errorf("SuggestAliases(%q) = %v, want none", tt.in, got)
				}
				continue
			}
			if len(got) > store.MaxSuggestions || len(got) < len(tt.first) {
				t.Errorf("SuggestAliases(%q) = %v", tt.in, got)
				continue
			}
			for i, w := range tt.first {
				if got[i] != w {
					t.Errorf("SuggestAliases(%q) = %v, want it to start with %v", tt.in, got, tt.first)
					break
				}
			}
		}
	}},
	{"SuggestAliasesAfterImport", func(t *testing.T, open Opener) {
		// The newest releases of an OS are kept per catalog generation
		// (store.AliasOutline): an import must show in the next
		// suggestion. Twenty fedora/43 variants fill the rows either side
		// of "fedora" in alias order, so only the newest releases can
		// find fedora/44.
		s := openFixture(t, open)
		f := store.CatalogFile{Version: store.CatalogVersion}
		for i := range 20 {
			img := Fixture().Images[6] // fedora/42-gpu amd64
			img.Release, img.Variant = "43", fmt.Sprintf("v%02d", i)
			img.Alias, img.ImageName = "fedora/43-"+img.Variant, "fedora-43-"+img.Variant+"-amd64"
			f.Images = append(f.Images, img)
		}
		MustImport(t, s, f)
		if got, err := s.SuggestAliases(ctx, "fedora", "", store.MaxSuggestions); err != nil || len(got) == 0 || !strings.HasPrefix(got[0], "fedora/43-") {
			t.Fatalf("before: %v %v", got, err)
		}
		img := Fixture().Images[6]
		img.Release, img.Variant, img.Alias, img.ImageName = "44", "default", "fedora/44", "fedora-44-amd64"
		MustImport(t, s, store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{img}})
		if got, err := s.SuggestAliases(ctx, "fedora", "", store.MaxSuggestions); err != nil || len(got) == 0 || got[0] != "fedora/44" {
			t.Errorf("after importing fedora/44: %v %v", got, err)
		}
	}},
	{"ResolveAlias", func(t *testing.T, open Opener) {
		s := openDefault(t, open)
		img, err := s.ResolveAlias(ctx, "ubuntu/24.04-minimal", "arm64")
		if err != nil || img.Alias != "ubuntu/24.04-minimal" || img.Architecture != "arm64" {
			t.Fatalf("%v %v", img, err)
		}
		img, err = s.ResolveAlias(ctx, " Headjack/Base ", "")
		if err != nil || img.Alias != "headjack/base" || img.Architecture != "amd64" {
			t.Fatalf("%v %v", img, err)
		}
		for _, in := range []string{"ubuntu:24.04", "ubuntu-24.04", "ubuntu"} {
			_, err := s.ResolveAlias(ctx, in, "")
			var ae *store.AliasError
			if !errors.As(err, &ae) || store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != "alias" {
				t.Fatalf("%s: %v", in, err)
			}
			if len(ae.Suggestions) == 0 || ae.Suggestions[0] != "ubuntu/24.04" {
				t.Errorf("%s: suggestions %v", in, ae.Suggestions)
			}
			msg := store.ErrorMessage(err)
			if !strings.Contains(msg, "os/release") || !strings.Contains(msg, "Closest aliases: ubuntu/24.04") {
				t.Errorf("%s: message %q", in, msg)
			}
		}
		_, err = s.ResolveAlias(ctx, "ubuntu/25.04", "")
		var ae *store.AliasError
		if !errors.As(err, &ae) || !store.IsNotFound(err) || len(ae.Suggestions) == 0 || !strings.HasPrefix(ae.Suggestions[0], "ubuntu/2") {
			t.Errorf("unknown alias: %v %+v", err, ae)
		}
		_, err = s.ResolveAlias(ctx, "ubuntu/24.04-desktop", "arm64")
		if !errors.As(err, &ae) || !store.IsNotFound(err) || len(ae.Architectures) != 1 || ae.Architectures[0] != "amd64" {
			t.Errorf("other architecture: %v %+v", err, ae)
		} else if !strings.Contains(store.ErrorMessage(err), "not built for arm64") {
			t.Errorf("message %q", store.ErrorMessage(err))
		}
		if err := s.ExplainAlias(ctx, "debian/13", "armhf"); err != nil {
			t.Errorf("ExplainAlias of a good alias = %v", err)
		}
	}},
	{"Lineage", func(t *testing.T, open Opener) {
		s := openDefault(t, open)
		for _, tt := range []struct{ alias, arch, want string }{
			{"headjack/base", "amd64", "headjack/base@amd64(headjack/systemd@amd64(headjack/dind@amd64))"},
			{"headjack/systemd", "arm64", "headjack/base@arm64(headjack/systemd@arm64(headjack/dind@arm64))"},
			{"headjack/dind", "amd64", "headjack/base@amd64(headjack/systemd@amd64(headjack/dind@amd64))"},
			{"ubuntu/24.04", "amd64", "ubuntu/24.04@amd64(ubuntu/24.04-k3s@amd64 ubuntu/24.04-lamp@amd64 ubuntu/24.04-nodejs@amd64)"},
			{"ubuntu/24.04-lamp", "arm64", "ubuntu/24.04@arm64(ubuntu/24.04-lamp@arm64)"},
			{"ubuntu/24.04-minimal", "amd64", ""},
		} {
			img, err := s.FindImageByAlias(ctx, tt.alias, tt.arch)
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.FindLineage(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			if got := lineageString(n); got != tt.want {
				t.Errorf("%s@%s: %s, want %s", tt.alias, tt.arch, got, tt.want)
			}
		}
	}},
	{"LineageCycle", func(t *testing.T, open Opener) {
		s := open(t, nil)
		f := Fixture()
		a := f.Images[0] // ubuntu/24.04 amd64
		b := f.Images[2] // ubuntu/24.04-minimal amd64
		a.BasedOn, b.BasedOn = b.Alias, a.Alias
		MustImport(t, s, store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{a, b}})
		img, err := s.FindImageByAlias(ctx, a.Alias, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.FindLineage(ctx, img)
		if err != nil || n == nil {
			t.Fatalf("%v %v", n, err)
		}
		if got := lineageString(n); strings.Count(got, "ubuntu/24.04@") != 1 || strings.Count(got, "minimal") != 1 {
			t.Errorf("cycle drawn as %s", got)
		}
	}},
	{"VariantOrder", func(t *testing.T, open Opener) {
		s := openDefault(t, open)
		for alias, want := range map[string]string{
			"ubuntu/24.04":  "default minimal cloud desktop k3s lamp nodejs",
			"headjack/base": "base systemd dind",
			"alpine/3.19":   "default minimal cloud nginx-proxy nodejs redis",
		} {
			img, err := s.FindImageByAlias(ctx, alias, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			sib, err := s.FindSiblings(ctx, img)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(store.VariantOrder(sib), " "); got != want {
				t.Errorf("%s: variants %q, want %q", alias, got, want)
			}
		}
	}},
}
