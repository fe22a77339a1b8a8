package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Issue 15 item 5: the API lists builds by default and one entry per alias
// with group=alias; the catalog page shows one card per alias, linking
// each architecture, and filters apply to builds.
func TestGroupedByAlias(t *testing.T) {
	s, _ := newTestServer(t)
	builds := map[string][]string{} // alias -> architectures
	for _, img := range defaultImages(t) {
		builds[img.Alias] = append(builds[img.Alias], img.Architecture)
	}
	type entry struct {
		ID            string   `json:"id"`
		Alias         string   `json:"alias"`
		Architecture  string   `json:"architecture"`
		Architectures []string `json:"architectures"`
		MinPrice      *float64 `json:"min_price"`
		Builds        []struct {
			ID           string `json:"id"`
			Architecture string `json:"architecture"`
		} `json:"builds"`
	}
	var body struct {
		Data struct {
			Images     []entry `json:"images"`
			Pagination struct {
				Total  int  `json:"total"`
				Builds *int `json:"builds"`
			} `json:"pagination"`
		} `json:"data"`
	}
	get := func(t *testing.T, target string) {
		t.Helper()
		rec := do(t, s, http.MethodGet, target, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", target, rec.Code, rec.Body)
		}
		body.Data.Images = nil
		body.Data.Pagination.Builds = nil
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("APIListsBuilds", func(t *testing.T) {
		get(t, "/api/v1/images/public?limit=100")
		if n := body.Data.Pagination.Total; n != len(defaultImages(t)) || body.Data.Pagination.Builds != nil {
			t.Errorf("total %d, want every build (%d), and no build count", n, len(defaultImages(t)))
		}
		if body.Data.Images[0].Architectures != nil {
			t.Error("a build listing has architectures")
		}
	})
	t.Run("APIGroupAlias", func(t *testing.T) {
		get(t, "/api/v1/images/public?group=alias&limit=100")
		p := body.Data.Pagination
		if p.Total != len(builds) || p.Builds == nil || *p.Builds != len(defaultImages(t)) {
			t.Errorf("total %d builds %v, want %d aliases of %d builds", p.Total, p.Builds, len(builds), len(defaultImages(t)))
		}
		seen := map[string]bool{}
		for _, e := range body.Data.Images {
			if seen[e.Alias] {
				t.Errorf("%s listed twice", e.Alias)
			}
			seen[e.Alias] = true
			if len(e.Builds) != len(builds[e.Alias]) || len(e.Architectures) != len(e.Builds) || e.MinPrice == nil {
				t.Errorf("%s: %d builds (%v), want %v", e.Alias, len(e.Builds), e.Architectures, builds[e.Alias])
			}
			if len(e.Builds) > 0 && (e.Builds[0].ID != e.ID || e.Architectures[0] != e.Architecture) {
				t.Errorf("%s: the entry is not its first build", e.Alias)
			}
		}
	})
	t.Run("FiltersApplyToBuilds", func(t *testing.T) {
		get(t, "/api/v1/images/public?group=alias&architecture=arm64&limit=100")
		want := 0
		for _, archs := range builds {
			if strings.Contains(strings.Join(archs, ","), "arm64") {
				want++
			}
		}
		if body.Data.Pagination.Total != want {
			t.Errorf("%d aliases with an arm64 build, want %d", body.Data.Pagination.Total, want)
		}
		for _, e := range body.Data.Images {
			if len(e.Builds) != 1 || e.Builds[0].Architecture != "arm64" {
				t.Errorf("%s: builds %v, want just arm64", e.Alias, e.Architectures)
			}
		}
	})
	t.Run("BadGroup", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/api/v1/images/public?group=os", nil)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"param":"group"`) {
			t.Errorf("group=os: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("PageCardPerAlias", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?limit=100", nil))
		cards := doc.Find("#results .card")
		if cards.Length() != len(builds) {
			t.Errorf("%d cards, want one per alias (%d)", cards.Length(), len(builds))
		}
		cards.Each(func(_ int, c *goquery.Selection) {
			alias := c.Find("h3").Text()
			links := c.Find("a.arch")
			if links.Length() != len(builds[alias]) {
				t.Errorf("%s links %d architectures, want %v", alias, links.Length(), builds[alias])
			}
			links.Each(func(_ int, a *goquery.Selection) {
				if href, _ := a.Attr("href"); !strings.HasPrefix(href, "/images/") {
					t.Errorf("%s: architecture link %q", alias, href)
				}
			})
		})
	})
}
