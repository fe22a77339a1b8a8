package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestNextStaysOnSite sends the log-in redirect every shape of off-site
// destination a browser would follow elsewhere; each becomes "/".
func TestNextStaysOnSite(t *testing.T) {
	s, _ := newTestServer(t)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	bad := []string{
		"/\t/evil.example/x", "/\x0b/evil.example/x", "/\x0c/evil.example/x", "/\r/evil.example", "/\n/evil.example",
		"/ /evil.example", "/\u00a0/evil.example", "/\u2028/evil.example", "/\x00/evil.example", "/\x7f/evil.example",
		"//evil.example/x", "/\\evil.example", "\\/evil.example", "/\\/evil.example", "https://evil.example/",
		"javascript:alert(1)", "evil.example", "http:/evil.example", "///evil.example", "",
	}
	for _, next := range bad {
		resp, _ := b.get("/login?next=" + url.QueryEscape(next))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("next %q: %d Location %q, want /", next, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, next := range []string{"/library", "/images/abc?tab=docs#x", "/?os=ubuntu&sort_by=name"} {
		resp, _ := b.get("/login?next=" + url.QueryEscape(next))
		if resp.Header.Get("Location") != next {
			t.Errorf("next %q: Location %q", next, resp.Header.Get("Location"))
		}
	}
}

// TestMetricLabelsAreBounded sends made-up methods and paths; the request
// metrics keep a bounded number of series, the methods counted as other.
func TestMetricLabelsAreBounded(t *testing.T) {
	s, _ := newTestServer(t)
	s.metrics = NewMetrics()
	for i := 0; i < 200; i++ {
		do(t, s, fmt.Sprintf("M%d", i), "/", nil)
		do(t, s, fmt.Sprintf("X%d", i), fmt.Sprintf("/api/v1/nothing/%d", i), nil)
		do(t, s, "GET", fmt.Sprintf("/no/such/page/%d", i), nil)
	}
	mfs, err := s.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "berth_http_") {
			continue
		}
		if n := len(mf.GetMetric()); n > 20 {
			t.Errorf("%s has %d series after 600 odd requests", mf.GetName(), n)
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v := l.GetValue(); strings.HasPrefix(v, "M") || strings.HasPrefix(v, "X") || strings.Contains(v, "/no/such") {
					t.Errorf("%s label %s=%q comes from the client", mf.GetName(), l.GetName(), v)
				}
			}
		}
	}
}

// visitor opens the log-in page as a new visitor and returns the headers
// that make a later request theirs: the session cookie and the CSRF token
// the page's forms carry (sent as X-CSRF-Token, as htmx does).
func visitor(t testing.TB, s *Server) http.Header {
	t.Helper()
	rec := do(t, s, "GET", "/login", nil)
	doc := mustDoc(t, rec)
	token, _ := doc.Find(`input[name=_csrf]`).First().Attr("value")
	var cookies []string
	for _, c := range rec.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	if token == "" || len(cookies) == 0 {
		t.Fatalf("the log-in page gave no token (%q) or cookie (%v)", token, cookies)
	}
	return http.Header{"Cookie": {strings.Join(cookies, "; ")}, "X-Csrf-Token": {token}}
}

// postLogin sends the log-in form from a client address, as visitor v.
func postLogin(t *testing.T, s *Server, v http.Header, ip, email, password string) *httptest.ResponseRecorder {
	t.Helper()
	body := url.Values{"email": {email}, "password": {password}}.Encode()
	r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
	r.RemoteAddr = ip + ":4000"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", v.Get("Cookie"))
	r.Header.Set("X-CSRF-Token", v.Get("X-CSRF-Token"))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}

// TestLoginGuessingElsewhereDoesNotLockOutTheOwner: a stranger's wrong
// passwords slow the stranger down, not the owner at another address.
func TestLoginGuessingElsewhereDoesNotLockOutTheOwner(t *testing.T) {
	s, db := newTestServer(t)
	member(t, db, "ada@example.com", 0)
	attacker, owner := visitor(t, s), visitor(t, s)
	var last *httptest.ResponseRecorder
	for i := 0; i < 12; i++ {
		last = postLogin(t, s, attacker, "203.0.113.9", "ada@example.com", fmt.Sprintf("guess number %d", i))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("12th wrong guess from one address = %d, want 429", last.Code)
	}
	if rec := postLogin(t, s, owner, "198.51.100.7", "Ada@Example.com", "correct horse battery"); rec.Code != http.StatusSeeOther {
		t.Errorf("the owner, from another address, = %d, want 303 (signed in)", rec.Code)
	}
}

// TestLoginLimiterKeysAreBounded: an over-long email is refused before it
// can become a limiter key held for minutes.
func TestLoginLimiterKeysAreBounded(t *testing.T) {
	s, _ := newTestServer(t)
	v := visitor(t, s)
	long := strings.Repeat("a", 900_000) + "@example.com"
	rec := postLogin(t, s, v, "203.0.113.9", long, "whatever long")
	if rec.Code != http.StatusBadRequest || rec.Body.Len() > 100_000 {
		t.Errorf("900 KB email = %d with a %d-byte page, want 400 and no echo", rec.Code, rec.Body.Len())
	}
	for k := range s.limits.loginAccount.hits {
		if len(k) > 300 {
			t.Errorf("the account limiter holds a %d-byte key", len(k))
		}
	}
}

// TestHeadIsAnsweredWhereverGetIs: every GET route answers HEAD with the
// same status and headers, and no body.
func TestHeadIsAnsweredWhereverGetIs(t *testing.T) {
	s, _ := newTestServer(t)
	paths := []string{"/", "/?os=ubuntu", "/images/" + freeImage, "/images/by-alias/debian/13", "/docs", "/docs/overview",
		"/docs/overview.md", "/docs/search?q=wallet", "/login", "/signup", "/library", "/healthz", "/readyz", "/favicon.svg",
		s.assets.URL("css/berth.css"), "/api/v1/images/public", "/api/v1/images/public/" + freeImage,
		"/api/v1/images/" + freeImage + "/icon", "/api/v1/images/user", "/nope"}
	for _, p := range paths {
		get, head := do(t, s, "GET", p, nil), do(t, s, "HEAD", p, nil)
		if head.Code != get.Code || head.Header().Get("Content-Type") != get.Header().Get("Content-Type") {
			t.Errorf("HEAD %s = %d %q; GET = %d %q", p, head.Code, head.Header().Get("Content-Type"), get.Code, get.Header().Get("Content-Type"))
		}
		if head.Body.Len() != 0 {
			t.Errorf("HEAD %s sent a %d-byte body", p, head.Body.Len())
		}
	}
}

// TestClientDisconnectIsNotAServerError: a request whose client has gone
// is logged as 499 at info, not as an ERROR with status 500.
func TestClientDisconnectIsNotAServerError(t *testing.T) {
	s, db := newTestServer(t)
	member(t, db, "ada@example.com", 0)
	b := newBrowserClient(t, s)
	b.login("ada@example.com")
	u, _ := url.Parse(b.base)
	var logs bytes.Buffer
	s.logger = slog.New(slog.NewTextHandler(&logs, nil))
	for _, p := range []string{"/library", "/images/" + freeImage + "?x=1", "/api/v1/images/public?search=nothing+here"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // gone before the answer is ready
		r := httptest.NewRequest("GET", p, nil).WithContext(ctx)
		for _, c := range b.http.Jar.Cookies(u) {
			r.AddCookie(c)
		}
		s.Handler().ServeHTTP(httptest.NewRecorder(), r)
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
		t.Errorf("a client that went away was logged as a server error:\n%s", out)
	}
	if strings.Count(out, "status=499") != 3 {
		t.Errorf("want three requests logged with status 499:\n%s", out)
	}
}

// TestPushURLOfARefusedQueryIsCapped: htmx gets the refused query back in
// HX-Push-Url so it can be corrected, but not a huge one.
func TestPushURLOfARefusedQueryIsCapped(t *testing.T) {
	s, _ := newTestServer(t)
	hx := http.Header{"Hx-Request": {"true"}}
	rec := do(t, s, "GET", "/?sort_by="+strings.Repeat("x", 60_000), hx)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("refused query = %d", rec.Code)
	}
	if n := len(rec.Header().Get("HX-Push-Url")); n > 2048 {
		t.Errorf("HX-Push-Url of %d bytes", n)
	}
	if got := do(t, s, "GET", "/?sort_by=nonsense", hx).Header().Get("HX-Push-Url"); got != "/?sort_by=nonsense" {
		t.Errorf("a short refused query pushed %q", got)
	}
}

// TestPersonalPagesAreNotStored: every page answered to someone signed in
// is no-store; the anonymous ones stay cacheable.
func TestPersonalPagesAreNotStored(t *testing.T) {
	s, db := newTestServer(t)
	_, token := member(t, db, "ada@example.com", 0)
	b := newBrowserClient(t, s)
	b.login("ada@example.com")
	for _, p := range []string{"/library", "/wallet", "/account", "/images/" + freeImage, "/", "/?os=debian", "/docs/overview"} {
		resp, _ := b.get(p)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("signed-in GET %s: Cache-Control %q, want no-store", p, got)
		}
	}
	for _, p := range []string{"/api/v1/images/user", "/api/v1/wallet/balances"} {
		if got := do(t, s, "GET", p, http.Header{"Authorization": {"Bearer " + token}}).Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s with a token: Cache-Control %q, want no-store", p, got)
		}
	}
	if got := do(t, s, "GET", "/images/"+freeImage, nil).Header().Get("Cache-Control"); got == "no-store" {
		t.Errorf("an anonymous image page is no-store")
	}
}
