package web

import (
	"net/http"

	"github.com/PuerkitoBio/goquery"
	"strings"
	"testing"
)

// Issue 15 item 4: the form speaks its own labels, shows only real choices
// and keeps a refused value, marked.
func TestCatalogFormWords(t *testing.T) {
	s, _ := newTestServer(t)
	options := func(t *testing.T, target, sel string) (labels []string, selected string) {
		t.Helper()
		doc := mustDoc(t, do(t, s, http.MethodGet, target, nil))
		doc.Find(sel + " option").Each(func(_ int, o *goquery.Selection) {
			labels = append(labels, o.Text())
			if _, ok := o.Attr("selected"); ok {
				selected = o.Text()
			}
		})
		return labels, selected
	}
	t.Run("NoBestMatchWithoutSearch", func(t *testing.T) {
		labels, sel := options(t, "/", "#f-sort")
		if strings.Contains(strings.Join(labels, ","), "Best match") || sel != "Popularity" {
			t.Errorf("sort choices %v, selected %q", labels, sel)
		}
		labels, sel = options(t, "/?search=redis", "#f-sort")
		if labels[0] != "Best match" || sel != "Best match" {
			t.Errorf("with search: sort choices %v, selected %q", labels, sel)
		}
	})
	t.Run("OrdersAreNamed", func(t *testing.T) {
		labels, sel := options(t, "/?sort_by=name", "#f-order")
		if strings.Join(labels, ",") != "A to Z,Z to A" || sel != "A to Z" {
			t.Errorf("name orders %v, selected %q", labels, sel)
		}
		labels, sel = options(t, "/?sort_by=price&sort_order=desc", "#f-order")
		if strings.Join(labels, ",") != "Lowest price first,Highest price first" || sel != "Highest price first" {
			t.Errorf("price orders %v, selected %q", labels, sel)
		}
		if labels, _ := options(t, "/", "#f-order"); strings.Contains(strings.Join(labels, ","), "Natural") {
			t.Errorf("orders %v", labels)
		}
	})
	t.Run("RefusedSelectKeepsItsValue", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/?sort_by=bogus&os=debian", nil)
		doc := mustDoc(t, rec)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("status %d", rec.Code)
		}
		if msg := doc.Find("#filter-problem").Text(); !strings.Contains(msg, "Sort by must be one of Popularity") || strings.Contains(msg, "sort_by") {
			t.Errorf("message %q", msg)
		}
		if v, _ := doc.Find("#f-sort option[selected]").Attr("value"); v != "bogus" {
			t.Errorf("refused sort shows %q", v)
		}
		if v, _ := doc.Find("#f-sort").Attr("aria-invalid"); v != "true" {
			t.Error("refused sort is not marked")
		}
		// Fields after the refused one keep their values too.
		if v, _ := doc.Find("#f-os option[selected]").Attr("value"); v != "debian" {
			t.Errorf("os shows %q", v)
		}
	})
	t.Run("OneImage", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?alias=debian/13&architecture=amd64", nil))
		if h := strings.TrimSpace(doc.Find("#results-heading").Text()); h != "1 image" {
			t.Errorf("heading %q", h)
		}
	})
}
