package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// Unknown paths are 404 for everyone, not a log-in redirect.
func TestUnknownPathsAre404(t *testing.T) {
	s, _ := newTestServer(t)
	for _, p := range []string{"/nope", "/metrics", "/images/" + freeImage + "/nope", "/api/v1/images/nothing"} {
		if rec := do(t, s, "GET", p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
}

// An explicit popularity sort with search words is not the relevance order:
// each sort of a search is cached apart and answers its own order, even
// when the other sorts were asked (and cached) first.
func TestSearchSortIsPartOfTheCacheKey(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	// A rating lifts one image in popularity, so that popularity, name and
	// relevance give three different orders.
	u, _ := member(t, db, "rater@example.com", 0)
	last := listedIDs(t, do(t, s, "GET", "/api/v1/images/public?search=ubuntu&sort_by=name&sort_order=desc&max_price=0&limit=1", nil))
	if err := db.Import(ctx, u.ID, last[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rate(ctx, u.ID, last[0], 5); err != nil {
		t.Fatal(err)
	}
	queries := []string{"search=ubuntu&limit=100", "search=ubuntu&sort_by=popularity&limit=100", "search=ubuntu&sort_by=name&limit=100"}
	want := map[string][]string{}
	for _, q := range queries {
		v, _ := url.ParseQuery(q)
		f, err := store.ParseFilter(v)
		if err != nil {
			t.Fatal(err)
		}
		p, err := db.FindImages(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range p.Images {
			want[q] = append(want[q], img.ID)
		}
		for other, ids := range want {
			if other != q && slices.Equal(ids, want[q]) {
				t.Fatalf("%s and %s give the same order: the test would not see them share an entry", q, other)
			}
		}
	}
	for round := range 2 { // the second round is answered from the cache
		for _, q := range queries {
			if got := listedIDs(t, do(t, s, "GET", "/api/v1/images/public?"+q, nil)); !slices.Equal(got, want[q]) {
				t.Errorf("round %d: %s answered %v, want %v", round+1, q, got, want[q])
			}
		}
	}
	// Without search words, popularity is the default and shares the entry.
	a := do(t, s, "GET", "/api/v1/images/public?os=debian", nil).Body.String()
	b := do(t, s, "GET", "/api/v1/images/public?os=debian&sort_by=popularity", nil).Body.String()
	if a != b {
		t.Error("default and explicit popularity differ")
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	shared := 0
	for key := range s.cache.entries {
		if strings.Contains(key, "os=debian") {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("default and explicit popularity are cached as %d entries, want one", shared)
	}
}

// listedIDs reads the image ids of a list API answer, in order.
func listedIDs(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var env struct {
		Data struct {
			Images []struct {
				ID string `json:"id"`
			} `json:"images"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != 200 {
		t.Fatalf("list answered %d: %v: %.200s", rec.Code, err, rec.Body.String())
	}
	var ids []string
	for _, img := range env.Data.Images {
		ids = append(ids, img.ID)
	}
	return ids
}

// Behind a trusted proxy each client has its own log-in limit; without
// --trust-proxy a forged X-Forwarded-For changes nothing.
func TestLoginLimitPerClientBehindProxy(t *testing.T) {
	for _, trust := range []bool{true, false} {
		s, _ := newTestServer(t)
		s.opts.TrustProxy = trust
		s = New(s.store, s.assets, s.docs, s.logger, s.opts)
		s.limits.loginIP = newLimiter(1, time.Minute)
		statuses := []int{}
		v := visitor(t, s)
		for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
			req := strings.NewReader(url.Values{"email": {"x@example.com"}, "password": {"whatever long"}}.Encode())
			r, _ := http.NewRequest("POST", "/login", req)
			r.RemoteAddr = "127.0.0.1:4000"
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Forwarded-For", ip)
			r.Header.Set("Cookie", v.Get("Cookie"))
			r.Header.Set("X-CSRF-Token", v.Get("X-CSRF-Token"))
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, r)
			statuses = append(statuses, rec.Code)
		}
		if trust && statuses[1] == http.StatusTooManyRequests {
			t.Errorf("behind a trusted proxy, a second client was limited: %v", statuses)
		}
		if !trust && statuses[1] != http.StatusTooManyRequests {
			t.Errorf("without --trust-proxy, X-Forwarded-For escaped the limit: %v", statuses)
		}
	}
}
