package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
)

// imagePage fetches the detail page of alias on arch.
func imagePage(t *testing.T, s *Server, alias, arch string) *goquery.Document {
	t.Helper()
	rec := do(t, s, http.MethodGet, "/images/"+store.ImageID(alias, arch), nil)
	if rec.Code != 200 {
		t.Fatalf("GET %s@%s = %d", alias, arch, rec.Code)
	}
	return mustDoc(t, rec)
}

// choices reads a chooser group as label → href ("" when unavailable).
func choices(doc *goquery.Document, group string) (map[string]string, []string) {
	out := map[string]string{}
	var order []string
	doc.Find("#" + group + " > li").Each(func(_ int, li *goquery.Selection) {
		if a := li.Find("a"); a.Length() == 1 {
			href, _ := a.Attr("href")
			out[a.Text()] = href
			order = append(order, a.Text())
			return
		}
		name := li.Find(".unavailable .choice-name").Text()
		out[name] = ""
		order = append(order, name)
	})
	return out, order
}

func TestVariantChooser(t *testing.T) {
	s, _ := newTestServer(t)

	t.Run("AllVariantsAndArchitectures", func(t *testing.T) {
		doc := imagePage(t, s, "ubuntu/24.04", "amd64")
		vars, order := choices(doc, "chooser-variants")
		if got := strings.Join(order, " "); got != "standard minimal cloud desktop k3s lamp nodejs" {
			t.Errorf("variants %q", got)
		}
		for label, alias := range map[string]string{"standard": "ubuntu/24.04", "minimal": "ubuntu/24.04-minimal",
			"cloud": "ubuntu/24.04-cloud", "desktop": "ubuntu/24.04-desktop"} {
			if want := "/images/" + store.ImageID(alias, "amd64"); vars[label] != want {
				t.Errorf("variant %s links %q, want %s", label, vars[label], want)
			}
		}
		archs, order := choices(doc, "chooser-archs")
		if got := strings.Join(order, " "); got != "amd64 arm64 armhf" {
			t.Errorf("architectures %q", got)
		}
		if archs["arm64"] != "/images/"+store.ImageID("ubuntu/24.04", "arm64") {
			t.Errorf("arm64 links %q", archs["arm64"])
		}
		if archs["armhf"] != "" || !strings.Contains(doc.Find("#choose-arch-armhf").Text(), "not built for this release") {
			t.Error("armhf, which ubuntu/24.04 lacks, is not shown as unavailable")
		}
		cur := doc.Find(".choices a[aria-current=page]")
		if cur.Length() != 2 || cur.Eq(0).Text() != "standard" || cur.Eq(1).Text() != "amd64" {
			t.Errorf("current choices %q", cur.Text())
		}
		// With htmx the choice swaps the detail in place.
		a := doc.Find("#choose-variant-minimal")
		if hx, _ := a.Attr("hx-get"); hx != vars["minimal"] {
			t.Errorf("hx-get %q", hx)
		}
		if tg, _ := a.Attr("hx-target"); tg != "#image-detail" {
			t.Errorf("hx-target %q", tg)
		}
	})

	t.Run("DesktopUnavailableOnArm64", func(t *testing.T) {
		doc := imagePage(t, s, "ubuntu/24.04", "arm64")
		desk := doc.Find("#choose-variant-desktop")
		if desk.Length() != 1 || goquery.NodeName(desk) == "a" || desk.Find("a").Length() != 0 {
			t.Fatalf("desktop on arm64 is a link or missing: %v", goquery.NodeName(desk))
		}
		if d, _ := desk.Attr("aria-disabled"); d != "true" || !strings.Contains(desk.Text(), "amd64 only") {
			t.Errorf("desktop note %q", desk.Text())
		}
		if doc.Find(`a[href="/images/`+store.ImageID("ubuntu/24.04-desktop", "arm64")+`"]`).Length() != 0 {
			t.Error("a link to a desktop arm64 image that does not exist")
		}
		// And from the desktop page, arm64 is the unavailable one.
		doc = imagePage(t, s, "ubuntu/24.04-desktop", "amd64")
		archs, _ := choices(doc, "chooser-archs")
		if archs["arm64"] != "" || !strings.Contains(doc.Find("#choose-arch-arm64").Text(), "no desktop build") {
			t.Errorf("arm64 from desktop: %q %q", archs["arm64"], doc.Find("#choose-arch-arm64").Text())
		}
	})

	t.Run("Guidance", func(t *testing.T) {
		doc := imagePage(t, s, "ubuntu/24.04-minimal", "amd64")
		g := doc.Find("#guidance")
		if !strings.Contains(g.Find("h3").Text(), "minimal") || !strings.Contains(g.Text(), "size") {
			t.Errorf("guidance %q", g.Text())
		}
		if href, _ := g.Find(".more a").Attr("href"); href != "/docs/variants-and-families#minimal" {
			t.Errorf("guidance link %q", href)
		}
		doc = imagePage(t, s, "ubuntu/24.04-lamp", "amd64")
		if !strings.Contains(doc.Find("#guidance").Text(), "ubuntu/24.04") {
			t.Errorf("lamp guidance %q", doc.Find("#guidance").Text())
		}
	})
}

func TestVariantComparison(t *testing.T) {
	s, _ := newTestServer(t)
	doc := imagePage(t, s, "headjack/systemd", "amd64")
	table := doc.Find("#compare table")
	if table.Length() != 1 {
		t.Fatal("no comparison table")
	}
	var heads []string
	table.Find("thead th").Each(func(i int, th *goquery.Selection) {
		if i > 0 {
			heads = append(heads, strings.TrimSpace(th.Text()))
		}
	})
	if strings.Join(heads, " ") != "base systemd dind" {
		t.Fatalf("columns %v", heads)
	}
	row := func(name string) []string {
		var cells []string
		table.Find("tbody tr").Each(func(_ int, tr *goquery.Selection) {
			if strings.TrimSpace(tr.Find("th").First().Text()) == name {
				tr.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
			}
		})
		return cells
	}
	for name, want := range map[string]string{
		"Ubuntu 24.04 LTS":     "Yes Yes Yes",
		"systemd init system":  "No Yes Yes",
		"Docker CE":            "No No Yes",
		"Docker Buildx plugin": "No No Yes",
		"Prespawn":             "Yes No No",
		"Price":                "Free Free Free",
		"Based on":             "— headjack/base headjack/systemd",
	} {
		if got := strings.Join(row(name), " "); got != want {
			t.Errorf("row %s = %q, want %q", name, got, want)
		}
	}
	if sizes := row("Size"); len(sizes) != 3 || sizes[2] != "1 GiB" {
		t.Errorf("sizes %v", sizes)
	}
	// The current column is marked, the others link to their images.
	if table.Find(`thead [aria-current=page]`).Text() != "systemd" {
		t.Error("current variant not marked")
	}
	if href, _ := table.Find("thead a").First().Attr("href"); href != "/images/"+store.ImageID("headjack/base", "amd64") {
		t.Errorf("base column links %q", href)
	}

	t.Run("MissingVariantNamed", func(t *testing.T) {
		doc := imagePage(t, s, "ubuntu/24.04", "arm64")
		if doc.Find(`#compare thead th:contains("desktop")`).Length() != 0 ||
			!strings.Contains(doc.Find(".compare-missing").Text(), "desktop") {
			t.Errorf("desktop on arm64: %q", doc.Find(".compare-missing").Text())
		}
	})
	t.Run("NoComparisonAlone", func(t *testing.T) {
		doc := imagePage(t, s, "centos/9", "amd64")
		if doc.Find("#compare").Length() != 0 {
			t.Error("a comparison of one image")
		}
	})
}

func TestLineage(t *testing.T) {
	s, _ := newTestServer(t)
	for _, tt := range []struct{ alias, current string }{
		{"headjack/base", "headjack/base"}, {"headjack/systemd", "headjack/systemd"}, {"headjack/dind", "headjack/dind"},
	} {
		doc := imagePage(t, s, tt.alias, "arm64")
		box := doc.Find(".lineage")
		var chain []string
		box.Find("li").Each(func(_ int, li *goquery.Selection) {
			chain = append(chain, li.Children().First().Text())
		})
		if strings.Join(chain, " → ") != "headjack/base → headjack/systemd → headjack/dind" {
			t.Errorf("%s: chain %v", tt.alias, chain)
		}
		if box.Find("[aria-current=page]").Text() != tt.current {
			t.Errorf("%s: current %q", tt.alias, box.Find("[aria-current=page]").Text())
		}
		box.Find("a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if href != "/images/"+store.ImageID(a.Text(), "arm64") {
				t.Errorf("%s: %s links %s, want the arm64 build", tt.alias, a.Text(), href)
			}
		})
	}
	if imagePage(t, s, "ubuntu/24.04-minimal", "amd64").Find(".lineage").Length() != 0 {
		t.Error("a lineage for an image with no parent or children")
	}
}

func TestImageFragment(t *testing.T) {
	s, _ := newTestServer(t)
	id := store.ImageID("ubuntu/24.04-minimal", "arm64")
	rec := do(t, s, http.MethodGet, "/images/"+id, http.Header{"Hx-Request": {"true"}})
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := strings.TrimSpace(rec.Body.String())
	if strings.Contains(body, "<html") || !strings.HasPrefix(body, "<title>ubuntu/24.04-minimal (arm64) · Berth</title>") ||
		!strings.Contains(body, `<article class="image-detail" id="image-detail">`) {
		t.Errorf("fragment: %.200s", body)
	}
	if got := rec.Header().Get("HX-Push-Url"); got != "/images/"+id {
		t.Errorf("HX-Push-Url %q", got)
	}
	if vary := strings.Join(rec.Header().Values("Vary"), ","); !strings.Contains(vary, "HX-Request") {
		t.Errorf("Vary %q lacks HX-Request", vary)
	}
	// History restores and boosted requests need the whole page.
	for _, h := range []http.Header{
		{"Hx-Request": {"true"}, "Hx-History-Restore-Request": {"true"}},
		{"Hx-Request": {"true"}, "Hx-Boosted": {"true"}},
	} {
		if !strings.Contains(do(t, s, http.MethodGet, "/images/"+id, h).Body.String(), "<html") {
			t.Errorf("%v got a fragment", h)
		}
	}
}

func TestImageDetailLinksToDocs(t *testing.T) {
	s, _ := newTestServer(t)
	doc := imagePage(t, s, "headjack/dind", "amd64")
	href, ok := doc.Find("#guidance .more a").Attr("href")
	if !ok || !strings.HasPrefix(href, "/docs/") {
		t.Fatalf("no docs link: %q", href)
	}
	path, frag, _ := strings.Cut(href, "#")
	page := mustDoc(t, do(t, s, http.MethodGet, path, nil))
	if page.Find(`[id="`+frag+`"]`).Length() != 1 {
		t.Errorf("docs link %s has no target", href)
	}
}
