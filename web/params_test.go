package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

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
	for _, name := range store.ListParams() {
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
				// The page speaks the form's label (issue 15 item 4).
				if p := mustDoc(t, rec).Find("#filter-problem").Text(); !strings.Contains(p, views.FilterLabel(name)) {
					t.Errorf("page %s (htmx %v): problem %q does not name %s", q, h != nil, p, views.FilterLabel(name))
				}
			}
		}
	}
	// A made-up name of 100 KB is named, but not echoed back whole.
	long := strings.Repeat("x", 100<<10)
	rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+long+"=1", nil)
	if rec.Code != http.StatusBadRequest || rec.Body.Len() > 2000 {
		t.Errorf("a 100 KB parameter name: %d with a body of %d bytes", rec.Code, rec.Body.Len())
	}
	rec = do(t, s, http.MethodGet, "/api/v1/images/public?"+long+"=%00", nil)
	if rec.Code != http.StatusBadRequest || rec.Body.Len() > 2000 {
		t.Errorf("a 100 KB parameter name with a NUL: %d with a body of %d bytes", rec.Code, rec.Body.Len())
	}
	// A bad byte in a second value, or in a parameter's name, is refused too.
	for _, q := range []string{"search=ok&search=a%00b", "os=debian&se%00arch=x"} {
		rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+q, nil)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("API %s: status %d, want 400", q, rec.Code)
		}
	}
}

// TestUnknownListParams: a parameter the list does not know is a 400 that
// names it and the parameter it likely meant, on the API and beside the
// catalog page's form; before, each of these listed every image.
func TestUnknownListParams(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct{ query, param, meant string }{
		{"arch=arm64", "arch", "architecture"},
		{"sortBy=rating", "sortBy", "sort_by"},
		{"q=docker", "q", "search"},
		{"min-price=25", "min-price", "min_price"},
		{"per_page=5", "per_page", "limit"},
		{"serach=nginx", "serach", "search"},
		{"os=debian&limt=5", "limt", "limit"},
		{"zzzzzz=1", "zzzzzz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+tt.query, nil)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("API: status %d, want 400: %.200s", rec.Code, rec.Body)
			}
			status, msg, param := apiError(t, rec.Body.Bytes())
			if status != 400 || param != tt.param || !strings.Contains(msg, `"`+tt.param+`"`) {
				t.Errorf("API: envelope %d %q param %q, want one naming %s", status, msg, param, tt.param)
			}
			if tt.meant != "" && !strings.Contains(msg, "did you mean "+tt.meant+"?") {
				t.Errorf("API: message %q does not suggest %s", msg, tt.meant)
			}
			if tt.meant == "" && (strings.Contains(msg, "did you mean") || !strings.Contains(msg, "architecture")) {
				t.Errorf("API: message %q should list the parameters, not guess", msg)
			}
			for _, h := range []http.Header{nil, {"Hx-Request": {"true"}}} {
				rec := do(t, s, http.MethodGet, "/?"+tt.query, h)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("page (htmx %v): status %d, want 400", h != nil, rec.Code)
				}
				if p := mustDoc(t, rec).Find("#filter-problem").Text(); !strings.Contains(p, msg) {
					t.Errorf("page (htmx %v): problem %q, want the API's message %q", h != nil, p, msg)
				}
			}
			if rec := do(t, s, http.MethodGet, "/", nil); !strings.Contains(rec.Body.String(), `id="filters"`) {
				t.Error("the catalog page lost its form")
			}
		})
	}
	// Every known parameter still works, blank (as the form sends unset
	// fields) or set, and so do the page's own links and htmx requests.
	for _, name := range store.ListParams() {
		for _, h := range []http.Header{nil, {"Hx-Request": {"true"}}} {
			rec := do(t, s, http.MethodGet, "/?"+name+"=", h)
			if h == nil && rec.Code == http.StatusSeeOther && rec.Header().Get("Location") == "/" {
				continue // a form sent without script: the address drops blank fields
			}
			if rec.Code != http.StatusOK {
				t.Errorf("page ?%s= (htmx %v): status %d", name, h != nil, rec.Code)
			}
		}
		if rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+name+"=", nil); rec.Code != http.StatusOK {
			t.Errorf("API ?%s=: status %d", name, rec.Code)
		}
	}
	full := "search=ubuntu&os=ubuntu&architecture=amd64&variant=standard&prespawn=false&min_price=0&max_price=50&min_rating=0&sort_by=name&sort_order=desc&page=1&limit=5"
	if rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+full, nil); rec.Code != http.StatusOK {
		t.Errorf("API with every filter: status %d: %.300s", rec.Code, rec.Body)
	}
	rec := do(t, s, http.MethodGet, "/?os=ubuntu&limit=5", nil)
	next, _ := mustDoc(t, rec).Find(`a[rel="next"]`).Attr("href")
	if rec.Code != http.StatusOK || next == "" {
		t.Fatalf("catalog: status %d, next link %q", rec.Code, next)
	}
	if rec := do(t, s, http.MethodGet, next, http.Header{"Hx-Request": {"true"}}); rec.Code != http.StatusOK {
		t.Errorf("next page %s via htmx: status %d", next, rec.Code)
	}
}
