package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
)

func TestCatalogPage(t *testing.T) {
	s, _ := newTestServer(t)
	total := len(defaultImages(t))

	t.Run("Full", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/", nil)
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		doc := mustDoc(t, rec)
		if got := doc.Find("#results .card").Length(); got != 20 {
			t.Errorf("%d cards, want 20", got)
		}
		// One card per alias; the heading counts aliases and builds.
		aliases := map[string]bool{}
		for _, img := range defaultImages(t) {
			aliases[img.Alias] = true
		}
		if h := doc.Find("#results-heading").Text(); h != fmt.Sprintf("1–20 of %d images (%d builds)", len(aliases), total) {
			t.Errorf("count heading %q", h)
		}
		seen := map[string]bool{}
		doc.Find("#results .card h3").Each(func(_ int, h *goquery.Selection) {
			if seen[h.Text()] {
				t.Errorf("two cards for %s", h.Text())
			}
			seen[h.Text()] = true
		})
		// Every filter of the API is in the form, and every control has a label.
		for _, name := range []string{"search", "os", "architecture", "variant", "min_price", "max_price",
			"min_rating", "prespawn", "sort_by", "sort_order", "limit"} {
			ctl := doc.Find("#filters [name=" + name + "]")
			if ctl.Length() != 1 {
				t.Errorf("form control %s: %d found", name, ctl.Length())
				continue
			}
			id, _ := ctl.Attr("id")
			if doc.Find(`label[for="`+id+`"]`).Length() != 1 {
				t.Errorf("control %s has no label", name)
			}
		}
		if doc.Find(".pagination a[rel=next]").Length() != 1 {
			t.Error("no next-page link")
		}
		if vary := strings.Join(rec.Header().Values("Vary"), ","); !strings.Contains(vary, "HX-Request") {
			t.Errorf("Vary = %q, want HX-Request in it", vary)
		}
	})

	t.Run("Filtered", func(t *testing.T) {
		// A form sent without script names its blank fields too; the
		// address leaves them out.
		rec := do(t, s, http.MethodGet, "/?os=alpine&architecture=armhf&variant=&min_price=&limit=20", nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?architecture=armhf&os=alpine" {
			t.Errorf("blank fields: %d to %q, want 303 to the canonical query", rec.Code, rec.Header().Get("Location"))
		}
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?os=alpine&architecture=armhf", nil))
		cards := doc.Find("#results .card")
		if cards.Length() == 0 {
			t.Fatal("no alpine armhf cards")
		}
		cards.Each(func(_ int, c *goquery.Selection) {
			if !strings.HasPrefix(c.Find("h3").Text(), "alpine/") || c.Find(".arch").Text() != "armhf" {
				t.Errorf("card %q (%s) does not match the filter", c.Find("h3").Text(), c.Find(".arch").Text())
			}
		})
		if v, _ := doc.Find("#f-os option[selected]").Attr("value"); v != "alpine" {
			t.Errorf("selected os = %q", v)
		}
		if doc.Find(".chips li").Length() != 2 {
			t.Errorf("want two filter chips, got %d", doc.Find(".chips li").Length())
		}
	})

	t.Run("HtmxFragment", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/?os=debian&architecture=&search=&sort_by=popularity", http.Header{"Hx-Request": {"true"}})
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		body := rec.Body.String()
		// The form comes with the results, so that both describe the query.
		if strings.Contains(body, "<html") || !strings.HasPrefix(strings.TrimSpace(body), `<div class="catalog" id="catalog"`) {
			t.Errorf("fragment is not the form and the results: %.120s", body)
		}
		frag := mustDoc(t, rec)
		if v, _ := frag.Find("#f-os option[selected]").Attr("value"); v != "debian" || frag.Find("#results .card").Length() == 0 {
			t.Errorf("fragment form shows os %q with %d cards", v, frag.Find("#results .card").Length())
		}
		if got := rec.Header().Get("HX-Push-Url"); got != "/?os=debian" {
			t.Errorf("HX-Push-Url = %q, want the canonical /?os=debian", got)
		}
		// A history restore needs the whole page.
		rec = do(t, s, http.MethodGet, "/?os=debian", http.Header{"Hx-Request": {"true"}, "Hx-History-Restore-Request": {"true"}})
		if !strings.Contains(rec.Body.String(), "<html") {
			t.Error("history restore got a fragment")
		}
	})

	t.Run("BadFilter", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/?min_price=-3&os=ubuntu", nil)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("status %d, want 400", rec.Code)
		}
		doc := mustDoc(t, rec)
		if a := doc.Find(".alert[role=alert]").Text(); !strings.Contains(a, "Minimum price can't be negative") {
			t.Errorf("alert %q", a)
		}
		if v, _ := doc.Find("#f-min-price").Attr("value"); v != "-3" {
			t.Errorf("typed value lost: %q", v)
		}
		if v, _ := doc.Find("#f-min-price").Attr("aria-invalid"); v != "true" {
			t.Error("bad field not marked invalid")
		}
	})

	t.Run("Empty", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?search=no-such-image-anywhere", nil))
		if !strings.Contains(doc.Find(".empty").Text(), "No images match") || doc.Find(`.empty a[href="/"]`).Length() != 1 {
			t.Errorf("empty state: %q", doc.Find("#results").Text())
		}
	})

	t.Run("Pages", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?limit=10&page=2", nil))
		if cur := doc.Find(`.pagination [aria-current=page]`).Text(); cur != "2" {
			t.Errorf("current page %q", cur)
		}
		if href, _ := doc.Find(".pagination a[rel=prev]").Attr("href"); href != "/?limit=10" {
			t.Errorf("prev href %q", href)
		}
		if href, _ := doc.Find(".pagination a[rel=next]").Attr("href"); href != "/?limit=10&page=3" {
			t.Errorf("next href %q", href)
		}
	})
}

func TestImagePage(t *testing.T) {
	s, db := newTestServer(t)
	id := store.ImageID("ubuntu/24.04", "amd64")
	rec := do(t, s, http.MethodGet, "/images/"+id, nil)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	doc := mustDoc(t, rec)
	if h := doc.Find("h1").Text(); !strings.Contains(h, "ubuntu/24.04") || !strings.Contains(h, "amd64") {
		t.Errorf("h1 %q", h)
	}
	if doc.Find("#usage-alias").Text() != "ubuntu/24.04" {
		t.Errorf("usage snippet %q", doc.Find("#usage-alias").Text())
	}
	if doc.Find(".docs-body h2").Length() == 0 {
		t.Error("docs body not rendered from Markdown")
	}
	if doc.Find(".docs-body pre.chroma span.s2").Length() == 0 {
		t.Error("code in the docs body is not highlighted")
	}
	for _, term := range []string{"ID", "Image name", "OS", "Release", "Variant", "Architecture", "Serial", "Size", "Price", "Added", "Prespawn"} {
		found := false
		doc.Find(".props dt").Each(func(_ int, dt *goquery.Selection) { found = found || dt.Text() == term })
		if !found {
			t.Errorf("property %s not shown", term)
		}
	}
	if doc.Find(`#chooser a[href^="/images/"]`).Length() == 0 {
		t.Error("no links to the other variants")
	}

	t.Run("NotFound", func(t *testing.T) {
		for _, bad := range []string{"ffffffffffffffffffffffff", "nope"} {
			rec := do(t, s, http.MethodGet, "/images/"+bad, nil)
			if rec.Code != 404 || !strings.Contains(rec.Body.String(), "Not found") || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") {
				t.Errorf("GET /images/%s = %d", bad, rec.Code)
			}
		}
	})

	t.Run("RawHTMLInDocsIsNotRendered", func(t *testing.T) {
		cat := `{"version":1,"images":[{"alias":"evil/1","description":"x","image_name":"evil-1-amd64",
			"architecture":"amd64","os":"evil","release":"1","serial":"20240101","variant":"default","size":1,
			"price":0,"added_date":"2024-01-01T00:00:00Z","prespawn":false,"tags":[],"based_on":"","features":[],
			"pull_ref":"","security":null,
			"docs":"# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[link](javascript:alert(3))"}]}`
		if _, err := db.ImportCatalog(context.Background(), strings.NewReader(cat)); err != nil {
			t.Fatal(err)
		}
		body := do(t, s, http.MethodGet, "/images/"+store.ImageID("evil/1", "amd64"), nil).Body.String()
		for _, bad := range []string{"<script>alert", "onerror=", "javascript:alert"} {
			if strings.Contains(body, bad) {
				t.Errorf("page contains %q", bad)
			}
		}
	})
}

func TestStaticAssets(t *testing.T) {
	s, _ := newTestServer(t)
	url := s.assets.URL("css/berth.css")
	rec := do(t, s, http.MethodGet, url, nil)
	if rec.Code != 200 || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("GET %s = %d %v", url, rec.Code, rec.Header())
	}
	if rec := do(t, s, http.MethodGet, "/static/css/berth.css?v=old", nil); strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
		t.Error("a stale version URL is cached forever")
	}
	for _, bad := range []string{"/static/../store/db.go", "/static/nothing.css", "/static/"} {
		if rec := do(t, s, http.MethodGet, bad, nil); rec.Code != 404 {
			t.Errorf("GET %s = %d", bad, rec.Code)
		}
	}
}

func TestImageByAlias(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		path   string
		status int
		target string
	}{
		{"/images/by-alias/ubuntu/24.04", 303, "/images/" + store.ImageID("ubuntu/24.04", "amd64")},
		{"/images/by-alias/ubuntu/24.04?architecture=arm64", 303, "/images/" + store.ImageID("ubuntu/24.04", "arm64")},
		{"/images/by-alias/headjack/base", 303, "/images/" + store.ImageID("headjack/base", "amd64")},
		{"/images/by-alias/ubuntu/24.04-desktop?architecture=arm64", 404, ""},
		{"/images/by-alias/ubuntu:24.04", 404, ""},
		{"/images/by-alias/Ubuntu/24.04-Minimal?architecture=arm64", 303, "/images/" + store.ImageID("ubuntu/24.04-minimal", "arm64")},
		{"/images/by-alias/", 404, ""},
		{"/images/by-alias/ubuntu/24.04?architecture=sparc", 400, ""},
	}
	for _, tt := range tests {
		rec := do(t, s, http.MethodGet, tt.path, nil)
		if rec.Code != tt.status || rec.Header().Get("Location") != tt.target {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, rec.Code, rec.Header().Get("Location"), tt.status, tt.target)
		}
	}
}
