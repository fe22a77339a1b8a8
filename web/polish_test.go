package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// Issue 15 item 12: the library shows each image's icon, architecture,
// the reference to copy and whether it is rated; prices print one way, OS
// names are display names, sizes name their binary units, and docs search
// marks a match inside a word without splitting it.
func TestPagesSpeakPlainly(t *testing.T) {
	s, db := newTestServer(t)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	ctx := context.Background()
	u, err := db.FindUserByEmail(ctx, "ada@example.com")
	must(t, err)
	rated, unrated := store.ImageID("debian/13", "amd64"), store.ImageID("ubuntu/24.04", "arm64")
	must(t, db.Import(ctx, u.ID, rated))
	must(t, db.Import(ctx, u.ID, unrated))
	_, err = db.Rate(ctx, u.ID, rated, 4)
	must(t, err)

	_, doc := b.get("/library")
	rows := doc.Find("table.library-table tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("%d library rows", rows.Length())
	}
	for i := range rows.Length() {
		row := rows.Eq(i)
		alias := row.Find(".lib-image a").Text()
		if row.Find(".lib-image img[src^='/api/v1/images/']").Length() != 1 || row.Find(".arch-tag").Text() == "" {
			t.Errorf("%s: no icon or architecture", alias)
		}
		if ref := row.Find(".lib-use code").Text(); ref == "" || row.Find(".lib-use button[data-copy]").Length() != 1 {
			t.Errorf("%s: nothing to copy", alias)
		}
		label, _ := row.Find(".lib-use button").Attr("aria-label")
		if !strings.HasPrefix(label, "Copy ") || label == "Copy " {
			t.Errorf("%s: copy button named %q", alias, label)
		}
		switch alias {
		case "debian/13":
			if !strings.Contains(row.Text(), "4 of 5") {
				t.Errorf("rated row says %q", row.Text())
			}
		case "ubuntu/24.04":
			if row.Find(`a[href$="#ratings"]`).Length() != 1 {
				t.Errorf("unrated row has no way to rate: %q", row.Text())
			}
		}
	}

	// One way to write a price; display names; binary units.
	_, doc = b.get("/images/" + store.ImageID("ubuntu/22.04-gpu-ml", "amd64"))
	if p := doc.Find("#acquire .price").Text(); p != "$25.00" {
		t.Errorf("price %q, want $25.00", p)
	}
	if sz := doc.Find(".image-head .meta").Text(); !strings.Contains(sz, "iB") {
		t.Errorf("size in %q is not in binary units", sz)
	}
	_, doc = b.get("/")
	if doc.Find(`#f-os option[value="rockylinux"]`).Text() != "Rocky Linux" {
		t.Errorf("OS choice %q", doc.Find(`#f-os option[value="rockylinux"]`).Text())
	}

	// A match inside a word leaves the word whole.
	rec := do(t, s, http.MethodGet, "/docs/search?q="+url.QueryEscape("rating"), nil)
	body := rec.Body.String()
	if !strings.Contains(body, "<mark>rating</mark>s") {
		t.Error(`no "ratings" with its prefix marked and the word whole`)
	}
}
