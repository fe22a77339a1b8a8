package web

import (
	"net/http"
	"net/url"
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
