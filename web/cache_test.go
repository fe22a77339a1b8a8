package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestCatalogCacheFollowsTheCatalog(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	q := "/api/v1/images/public?alias=debian/13&architecture=amd64"
	first := do(t, s, "GET", q, nil).Body.String()
	if again := do(t, s, "GET", q, nil).Body.String(); again != first {
		t.Fatal("a cached answer differs")
	}
	page := do(t, s, "GET", "/?alias=debian/13&architecture=amd64", nil).Body.String()
	if !strings.Contains(page, "Not rated yet") {
		t.Fatal("fixture image is rated already")
	}
	// A rating changes the catalog generation: both caches see it at once.
	u, _ := member(t, db, "ada@example.com", 0)
	if err := db.Import(ctx, u.ID, freeImage); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rate(ctx, u.ID, freeImage, 5); err != nil {
		t.Fatal(err)
	}
	if after := do(t, s, "GET", q, nil).Body.String(); !strings.Contains(after, `"rating_count":1`) {
		t.Errorf("API still serves the old rating: %.200s", after)
	}
	if after := do(t, s, "GET", "/?alias=debian/13&architecture=amd64", nil).Body.String(); !strings.Contains(after, "Rated 5.0 out of 5 by 1 person") {
		t.Error("catalog page still shows the old rating")
	}
	// The signed-in header is never cached across people.
	b := newBrowserClient(t, s)
	b.signUp("bob@example.com")
	_, doc := b.get("/?alias=debian/13")
	if !strings.Contains(doc.Find("header.site").Text(), "Wallet") {
		t.Error("signed-in header missing on a cached catalog page")
	}
	if anon := do(t, s, "GET", "/?alias=debian/13", nil).Body.String(); strings.Contains(anon, "bob@example.com") || strings.Contains(anon, "nav-balance") {
		t.Error("another person's header leaked into an anonymous page")
	}
}

var zstdDecoder, _ = zstd.NewReader(nil)

func TestETagsAndCompression(t *testing.T) {
	s, _ := newTestServer(t)
	for _, path := range []string{"/", "/?os=ubuntu", "/api/v1/images/public?os=debian", "/api/v1/images/public/" + freeImage, "/images/" + freeImage} {
		rec := do(t, s, "GET", path, nil)
		etag := rec.Header().Get("ETag")
		if rec.Code != 200 || etag == "" {
			t.Fatalf("%s: %d, ETag %q", path, rec.Code, etag)
		}
		// A browser sends back its cookies, so its CSRF token, and with it
		// the page, stays the same.
		var cookies []string
		for _, c := range rec.Result().Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		if len(cookies) > 0 {
			rec = do(t, s, "GET", path, http.Header{"Cookie": {strings.Join(cookies, "; ")}})
			etag = rec.Header().Get("ETag")
		}
		again := do(t, s, "GET", path, http.Header{"If-None-Match": {etag}, "Cookie": {strings.Join(cookies, "; ")}})
		if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("%s with its ETag = %d (%d bytes)", path, again.Code, again.Body.Len())
		}
		if other := do(t, s, "GET", path, http.Header{"If-None-Match": {`W/"other"`}}); other.Code != 200 {
			t.Errorf("%s with a stale ETag = %d", path, other.Code)
		}
		gz := do(t, s, "GET", path, http.Header{"Accept-Encoding": {"gzip"}})
		if gz.Header().Get("Content-Encoding") != "gzip" || gz.Body.Len() >= rec.Body.Len() {
			t.Errorf("%s: not compressed (%q, %d vs %d bytes)", path, gz.Header().Get("Content-Encoding"), gz.Body.Len(), rec.Body.Len())
		}
		// zstd when the client takes it, as browsers do; gzip when it
		// refuses zstd.
		zst := do(t, s, "GET", path, http.Header{"Accept-Encoding": {"gzip, deflate, br, zstd"}, "Cookie": {strings.Join(cookies, "; ")}})
		if zst.Header().Get("Content-Encoding") != "zstd" {
			t.Errorf("%s: a client taking zstd got %q", path, zst.Header().Get("Content-Encoding"))
		} else if plain, err := zstdDecoder.DecodeAll(zst.Body.Bytes(), nil); err != nil || !bytes.Equal(plain, rec.Body.Bytes()) {
			t.Errorf("%s: the zstd body does not decode to the page (%v)", path, err)
		}
		if got := do(t, s, "GET", path, http.Header{"Accept-Encoding": {"zstd;q=0, gzip"}}).Header().Get("Content-Encoding"); got != "gzip" {
			t.Errorf("%s: a client refusing zstd got %q", path, got)
		}
		for _, r := range []*httptest.ResponseRecorder{rec, gz, zst} {
			if got := r.Header().Get("Content-Length"); got != strconv.Itoa(r.Body.Len()) {
				t.Errorf("%s: Content-Length %q for %d bytes", path, got, r.Body.Len())
			}
		}
	}
}

// The anonymous catalog page is cached whole and carries no CSRF token;
// a signed-in person's page is made for them, token included.
func TestAnonymousCatalogPageIsShared(t *testing.T) {
	s, _ := newTestServer(t)
	a := do(t, s, "GET", "/?os=alpine", nil).Body.String()
	b := do(t, s, "GET", "/?os=alpine", nil).Body.String()
	if a != b || !strings.Contains(a, `hx-headers="{&#34;X-CSRF-Token&#34;:&#34;&#34;}"`) {
		t.Errorf("anonymous pages differ or carry a token: %.300s", a)
	}
	// Equal pages alone would pass uncached too: the page itself is kept.
	s.cache.mu.Lock()
	el, cached := s.cache.entries[s.cacheKey("page|os=alpine")]
	s.cache.mu.Unlock()
	if !cached || string(el.Value.(*cacheEntry).body.body) != a {
		t.Error("the anonymous catalog page is not cached whole")
	}
	u := newBrowserClient(t, s)
	u.signUp("ada@example.com")
	_, doc := u.get("/?os=alpine")
	if h, _ := doc.Find("body").Attr("hx-headers"); strings.Contains(h, `"X-CSRF-Token":""`) || !strings.Contains(h, "X-CSRF-Token") {
		t.Errorf("signed-in page hx-headers %q", h)
	}
}

// TestResultCacheBoundedByBytes checks that the cache holds bodies up to
// its size, evicting the least recently used, and follows generations.
func TestResultCacheBoundedByBytes(t *testing.T) {
	c := newResultCache(100)
	body := func(n int) *answer { return newAnswer([]byte(strings.Repeat("x", n))) }
	c.put("a", 1, body(40))
	c.put("b", 1, body(40))
	if _, ok := c.get("a", 1); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", 1, body(40)) // 120 bytes: b, the least recently used, goes
	if _, ok := c.get("b", 1); ok {
		t.Error("b kept past the size bound")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k, 1); !ok {
			t.Errorf("%s evicted too", k)
		}
	}
	if c.bytes != 80 {
		t.Errorf("holds %d bytes, want 80", c.bytes)
	}
	c.put("a", 1, body(10)) // replacing an entry counts its new size only
	if _, ok := c.get("c", 2); ok || c.bytes != 10 {
		t.Errorf("after a new generation: c served, or %d bytes held (want 10)", c.bytes)
	}
	c.put("big", 1, body(500)) // larger than the bound: kept alone
	if _, ok := c.get("big", 1); !ok || c.lru.Len() != 1 {
		t.Errorf("an oversized body: kept %v, %d entries", ok, c.lru.Len())
	}
}
