package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// The shared parts of an image page are cached, the viewer's own are not:
// two people (and a visitor) read the same cached page data, and each sees
// only their own ownership, rating, balance and CSRF token.
func TestImagePageCacheSharesNothingPersonal(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	page := "/images/" + paidImage

	ada := newBrowserClient(t, s)
	ada.signUp("ada@example.com")
	bob := newBrowserClient(t, s)
	bob.signUp("bob@example.com")
	credit := func(email string, cents int64) {
		u, err := db.FindUserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Credit(ctx, u.ID, cents, "test"); err != nil {
			t.Fatal(err)
		}
	}
	credit("ada@example.com", 5000)
	credit("bob@example.com", 2000)

	// Ada buys and rates the image through the pages.
	_, doc := ada.get(page + "/buy")
	shown, _ := doc.Find(`form[action$="/purchase"] input[name=expected_price]`).Attr("value")
	if resp, _ := ada.post(page+"/purchase", url.Values{"_csrf": {csrfFrom(t, doc)}, "expected_price": {shown}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("purchase answered %d", resp.StatusCode)
	}
	_, doc = ada.get(page)
	if resp, _ := ada.post(page+"/rate", url.Values{"_csrf": {csrfFrom(t, doc)}, "rating": {"4"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rating answered %d", resp.StatusCode)
	}

	// Each reads the page twice, in turns, so that both the first and the
	// later readers of one cache entry are each of them.
	for range 2 {
		_, adaDoc := ada.get(page)
		_, bobDoc := bob.get(page)
		anon := do(t, s, http.MethodGet, page, nil).Body.String()

		if adaDoc.Find("#acquire .owned").Length() != 1 {
			t.Error("Ada's page does not show the image as hers")
		}
		if v, _ := adaDoc.Find("#rate-4").Attr("checked"); adaDoc.Find("#rate-4[checked]").Length() != 1 {
			t.Errorf("Ada's page does not show her rating of 4 (%q)", v)
		}
		if !strings.Contains(adaDoc.Find("header.site").Text(), views.Money(3500)) {
			t.Errorf("Ada's header does not show her balance of %s: %q", views.Money(3500), adaDoc.Find("header.site").Text())
		}

		if bobDoc.Find("#acquire .owned").Length() != 0 || bobDoc.Find(".rate-form").Length() != 0 {
			t.Error("Bob's page shows Ada's image as his")
		}
		if buy := bobDoc.Find("#buy").Text(); !strings.Contains(buy, "balance after "+views.Money(500)) {
			t.Errorf("Bob's buy button does not use his balance: %q", buy)
		}
		if h := bobDoc.Find("header.site").Text(); strings.Contains(h, "ada@example.com") || strings.Contains(h, views.Money(3500)) || !strings.Contains(h, views.Money(2000)) {
			t.Errorf("Bob's header is not his own: %q", h)
		}
		adaToken, _ := adaDoc.Find("body").Attr("hx-headers")
		bobToken, _ := bobDoc.Find("body").Attr("hx-headers")
		if adaToken == "" || adaToken == bobToken {
			t.Errorf("Ada and Bob got the same CSRF token %q", adaToken)
		}
		if strings.Contains(anon, "ada@example.com") || strings.Contains(anon, "bob@example.com") ||
			strings.Contains(anon, "In your library") || strings.Contains(anon, `name="rating"`) || strings.Contains(anon, adaToken) {
			t.Error("a visitor's page shows someone's personal parts")
		}
		// The page itself shows the rating everyone sees.
		if !strings.Contains(bobDoc.Find("#rating-count").Text(), "by 1 person") {
			t.Errorf("Bob's page lacks the shared rating: %q", bobDoc.Find("#rating-count").Text())
		}
	}

	// Equal pages would pass uncached too: the shared data is held once.
	gen, _ := db.Generation(ctx)
	if _, ok := s.images.get(paidImage, gen); !ok {
		t.Error("the image page's shared data is not cached")
	}
}

// Every kind of edit shows on the next view of a cached image page: a
// catalog import changing any field of the image, an import changing the
// image's family (its lineage and siblings), a rating, and a purchase.
func TestImagePageCacheFollowsEveryEdit(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	id := store.ImageID("headjack/systemd", "amd64")
	page := "/images/" + id
	view := func() string {
		t.Helper()
		rec := do(t, s, http.MethodGet, page, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s answered %d", page, rec.Code)
		}
		return rec.Body.String()
	}
	exported := func(alias, arch string) store.CatalogImage {
		t.Helper()
		var buf bytes.Buffer
		if err := db.ExportCatalog(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		var f store.CatalogFile
		if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		for _, img := range f.Images {
			if img.Alias == alias && img.Architecture == arch {
				return img
			}
		}
		t.Fatalf("%s/%s not exported", alias, arch)
		return store.CatalogImage{}
	}
	load := func(imgs ...store.CatalogImage) {
		t.Helper()
		b, err := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: imgs})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ImportCatalog(ctx, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	text := func(body string) string {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(doc.Find("#image-detail").Text()), " ")
	}

	edits := []struct {
		field string
		edit  func(*store.CatalogImage)
		shows func(body string) bool
	}{
		{"description", func(c *store.CatalogImage) { c.Description = "An edited description" },
			func(b string) bool { return strings.Contains(text(b), "An edited description") }},
		{"image_name", func(c *store.CatalogImage) { c.ImageName = "headjack-edited-amd64" },
			func(b string) bool { return strings.Contains(text(b), "headjack-edited-amd64") }},
		{"serial", func(c *store.CatalogImage) { c.Serial = "20991231" },
			func(b string) bool { return prop(t, b, "Serial") == "20991231" }},
		{"size", func(c *store.CatalogImage) { c.Size = 987654321 },
			func(b string) bool { return strings.Contains(text(b), "(987654321 bytes)") }},
		{"price", func(c *store.CatalogImage) { c.Price = 77 },
			func(b string) bool { return prop(t, b, "Price") == views.PriceText(7700) }},
		{"added_date", func(c *store.CatalogImage) { c.AddedDate = time.Date(2031, 2, 3, 0, 0, 0, 0, time.UTC) },
			func(b string) bool { return strings.Contains(b, `datetime="2031-02-03"`) }},
		{"prespawn", func(c *store.CatalogImage) { c.Prespawn = !c.Prespawn },
			nil}, // checked against its own starting value below
		{"tags", func(c *store.CatalogImage) { c.Tags = []string{"editedtag"} },
			func(b string) bool { return strings.Contains(text(b), "#editedtag") }},
		{"based_on", func(c *store.CatalogImage) { c.BasedOn = "ubuntu/24.04" },
			func(b string) bool { return strings.Contains(b, "/images/by-alias/ubuntu/24.04?architecture=amd64") }},
		{"features", func(c *store.CatalogImage) { c.Features = []string{"An edited feature"} },
			func(b string) bool { return strings.Contains(text(b), "An edited feature") }},
		{"pull_ref", func(c *store.CatalogImage) { c.PullRef = "registry.example/edited:1" },
			func(b string) bool { return strings.Contains(text(b), "docker pull registry.example/edited:1") }},
		{"security", func(c *store.CatalogImage) {
			c.Security = &store.Security{Signed: true, SBOM: "edited-sbom-format", LastScan: time.Date(2030, 5, 6, 0, 0, 0, 0, time.UTC)}
		}, func(b string) bool { return strings.Contains(text(b), "edited-sbom-format") }},
		{"docs", func(c *store.CatalogImage) { c.Docs = "## Edited heading\n\nAn edited *docs* body." },
			func(b string) bool { return strings.Contains(b, "An edited <em>docs</em> body.") }},
	}
	for _, e := range edits {
		before := view()
		img := exported("headjack/systemd", "amd64")
		shows := e.shows
		if shows == nil { // prespawn
			had := img.Prespawn
			shows = func(b string) bool { return prop(t, b, "Prespawn") == map[bool]string{true: "No", false: "Yes"}[had] }
		}
		if shows(before) {
			t.Fatalf("%s: the page shows the edit before it was made", e.field)
		}
		e.edit(&img)
		load(img)
		if after := view(); !shows(after) {
			t.Errorf("%s: an import changed it but the image page still shows the old value", e.field)
		}
	}

	// Another image's edit changes this page: dind leaves the lineage, and
	// a new family member appears among the siblings.
	if !strings.Contains(lineageText(t, view()), "headjack/dind") {
		t.Fatal("the lineage does not list headjack/dind to begin with")
	}
	dind := exported("headjack/dind", "amd64")
	dind.BasedOn = "headjack/base"
	load(dind)
	if strings.Contains(lineageText(t, view()), "headjack/dind") {
		t.Error("a child that moved to another parent is still shown under this image")
	}
	before := view()
	gpu := exported("headjack/dind", "amd64")
	gpu.ID, gpu.Alias, gpu.ImageName, gpu.Variant = "", "headjack/gpu", "headjack-gpu-amd64", "gpu"
	gpu.BasedOn = "headjack/systemd"
	load(gpu)
	if after := view(); strings.Contains(before, "headjack/gpu") || !strings.Contains(after, "headjack/gpu") {
		t.Error("a new family member built on this image does not show on its page")
	}

	// A rating moves the average, the count and the histogram.
	u, _ := member(t, db, "rater@example.com", 10000) // the image costs $77 now
	if _, err := db.Purchase(ctx, u.ID, id, ""); err != nil {
		t.Fatal(err)
	}
	before = view()
	if _, err := db.Rate(ctx, u.ID, id, 2); err != nil {
		t.Fatal(err)
	}
	after := view()
	if before == after || !strings.Contains(after, "2.0") {
		t.Error("a rating does not show on the cached image page")
	}

	// A purchase shows for the buyer at once, though the catalog is the same.
	buyer := newBrowserClient(t, s)
	buyer.signUp("carol@example.com")
	carol, _ := db.FindUserByEmail(ctx, "carol@example.com")
	if _, err := db.Credit(ctx, carol.ID, 10000, "test"); err != nil {
		t.Fatal(err)
	}
	if _, doc := buyer.get(page); doc.Find("#acquire .owned").Length() != 0 {
		t.Fatal("Carol owns the image before buying it")
	}
	if _, err := db.Purchase(ctx, carol.ID, id, ""); err != nil {
		t.Fatal(err)
	}
	if _, doc := buyer.get(page); doc.Find("#acquire .owned").Length() != 1 {
		t.Error("a purchase does not show on the buyer's next view of the page")
	}
}

// prop is the value of a property of an image page's properties list.
func prop(t *testing.T, body, label string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var v string
	doc.Find("dl.props dt").Each(func(_ int, dt *goquery.Selection) {
		if strings.TrimSpace(dt.Text()) == label {
			v = strings.TrimSpace(dt.Next().Text())
		}
	})
	return v
}

// lineageText is the lineage box of a page as words.
func lineageText(t *testing.T, body string) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(doc.Find(".lineage").Text()), " ")
}
