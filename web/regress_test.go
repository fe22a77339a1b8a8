package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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

// An explicit popularity sort with search words is not the relevance order.
func TestSearchSortIsPartOfTheCacheKey(t *testing.T) {
	s, _ := newTestServer(t)
	rel := do(t, s, "GET", "/api/v1/images/public?search=ubuntu&limit=100", nil).Body.String()
	pop := do(t, s, "GET", "/api/v1/images/public?search=ubuntu&sort_by=popularity&limit=100", nil).Body.String()
	name := do(t, s, "GET", "/api/v1/images/public?search=ubuntu&sort_by=name&limit=100", nil).Body.String()
	if pop == rel && name == rel {
		t.Error("every sort of a search answered the same body")
	}
	// Without search words, popularity is the default and shares the entry.
	a := do(t, s, "GET", "/api/v1/images/public?os=debian", nil).Body.String()
	b := do(t, s, "GET", "/api/v1/images/public?os=debian&sort_by=popularity", nil).Body.String()
	if a != b {
		t.Error("default and explicit popularity differ")
	}
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
