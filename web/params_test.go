package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// listParams are the parameters of the list API and the catalog page.
var listParams = []string{"search", "os", "architecture", "variant", "alias", "prespawn",
	"min_price", "max_price", "min_rating", "sort_by", "sort_order", "page", "limit"}

// apiError decodes an error envelope.
func apiError(t *testing.T, body []byte) (status int, message, param string) {
	t.Helper()
	var env struct {
		StatusCode int
		Message    string
		Data       struct{ Param string }
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("not an envelope: %v: %.200s", err, body)
	}
	return env.StatusCode, env.Message, env.Data.Param
}

// TestListParamsRefuseBadBytes sends NUL, line breaks, DEL and invalid
// UTF-8 in every list parameter, to the API and to the catalog page (whole
// and as an htmx fragment): each is a 400 that names the parameter, never
// a 500 (a NUL in search was "unterminated string" from the search engine).
func TestListParamsRefuseBadBytes(t *testing.T) {
	s, _ := newTestServer(t)
	bad := []string{"a\x00b", "\x00", "ubuntu\n", "a\rb", "x\x7f", "\xff\xfe", "a\tb"}
	for _, name := range listParams {
		for _, v := range bad {
			q := url.Values{name: {v}}.Encode()
			rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+q, nil)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("API %s: status %d, want 400: %.200s", q, rec.Code, rec.Body)
				continue
			}
			if status, msg, param := apiError(t, rec.Body.Bytes()); status != 400 || param != name || !strings.Contains(msg, name) {
				t.Errorf("API %s: envelope %d %q param %q, want one naming %s", q, status, msg, param, name)
			}
			for _, h := range []http.Header{nil, {"Hx-Request": {"true"}}} {
				rec := do(t, s, http.MethodGet, "/?"+q, h)
				if rec.Code != http.StatusBadRequest {
					t.Errorf("page %s (htmx %v): status %d, want 400", q, h != nil, rec.Code)
					continue
				}
				if p := mustDoc(t, rec).Find("#filter-problem").Text(); !strings.Contains(p, name) {
					t.Errorf("page %s (htmx %v): problem %q does not name %s", q, h != nil, p, name)
				}
			}
		}
	}
	// A bad byte in a second value, or in a parameter's name, is refused too.
	for _, q := range []string{"search=ok&search=a%00b", "os=debian&se%00arch=x"} {
		rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+q, nil)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("API %s: status %d, want 400", q, rec.Code)
		}
	}
}
