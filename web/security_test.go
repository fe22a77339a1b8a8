package web

import (
	"fmt"
	"net/http"
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
