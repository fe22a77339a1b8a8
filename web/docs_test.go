package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestDocsIndex(t *testing.T) {
	s, _ := newTestServer(t)
	rec := do(t, s, http.MethodGet, "/docs", nil)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	doc := mustDoc(t, rec)
	pages := s.docs.Pages()
	side := doc.Find(".docs-nav a")
	if side.Length() != len(pages) {
		t.Fatalf("sidebar has %d links, want %d", side.Length(), len(pages))
	}
	side.Each(func(i int, a *goquery.Selection) {
		if href, _ := a.Attr("href"); href != "/docs/"+pages[i].Slug || a.Text() != pages[i].Title {
			t.Errorf("sidebar link %d: %s %q, want %s in order", i, href, a.Text(), pages[i].Slug)
		}
	})
	if doc.Find(".docs-cards li").Length() != len(pages) {
		t.Error("the index does not list every page")
	}
	if doc.Find(`form[action="/docs/search"][method=get] input[name=q]`).Length() != 1 {
		t.Error("no search form")
	}
	if doc.Find(`header.site a[href="/docs"][aria-current=page]`).Length() != 1 {
		t.Error("the Docs navigation link is not marked current")
	}
	if rec := do(t, s, http.MethodGet, "/docs/", nil); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/docs" {
		t.Errorf("GET /docs/ = %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestDocsPage(t *testing.T) {
	s, _ := newTestServer(t)
	for _, p := range s.docs.Pages() {
		t.Run(p.Slug, func(t *testing.T) {
			rec := do(t, s, http.MethodGet, "/docs/"+p.Slug, nil)
			if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, %s", rec.Code, rec.Header().Get("Content-Type"))
			}
			doc := mustDoc(t, rec)
			if got := doc.Find("title").Text(); got != p.Title+" · Berth" {
				t.Errorf("title %q", got)
			}
			if got, _ := doc.Find(`meta[name=description]`).Attr("content"); got != p.Description {
				t.Errorf("meta description %q", got)
			}
			if doc.Find("h1").Text() != p.Title {
				t.Errorf("h1 %q", doc.Find("h1").Text())
			}
			if cur := doc.Find(".docs-nav a[aria-current=page]"); cur.Length() != 1 || cur.Text() != p.Title {
				t.Errorf("current page in the sidebar: %q", cur.Text())
			}
			raw := doc.Find("a.raw-link")
			if href, _ := raw.Attr("href"); href != "/docs/"+p.Slug+".md" || !strings.Contains(raw.Text(), "Download raw Markdown") {
				t.Errorf("raw link %q %q", href, raw.Text())
			}
			if dl, ok := raw.Attr("download"); !ok || dl != p.Slug+".md" {
				t.Errorf("raw link download attribute %q", dl)
			}
			toc := doc.Find(".toc a")
			if toc.Length() != len(p.TOC) {
				t.Errorf("TOC has %d links, page has %d h2/h3", toc.Length(), len(p.TOC))
			}
			toc.Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				if doc.Find(`.doc-body [id="`+strings.TrimPrefix(href, "#")+`"]`).Length() != 1 {
					t.Errorf("TOC link %s has no heading", href)
				}
			})
			// Nothing in the rendered Markdown can run script.
			if n := doc.Find(".doc-body script, .doc-body iframe, .doc-body [onerror], .doc-body [onclick], .doc-body [style]").Length(); n != 0 {
				t.Errorf("%d unsafe elements in the body", n)
			}
			if n := doc.Find("script").Length(); n != 3 {
				t.Errorf("%d script elements, want the layout's three", n)
			}
			// Front matter is metadata, not content.
			if strings.Contains(doc.Find(".doc-body").Text(), "order: ") {
				t.Error("front matter shown in the body")
			}
		})
	}
}

func TestDocsRawMarkdown(t *testing.T) {
	s, _ := newTestServer(t)
	p, _ := s.docs.Page("api")
	rec := do(t, s, http.MethodGet, "/docs/api.md", nil)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=api.md` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	if rec.Body.String() != p.Source || !strings.HasPrefix(rec.Body.String(), "---\ntitle: API reference\n") {
		t.Errorf("body is not the Markdown source: %.80q", rec.Body.String())
	}
}

func TestDocsNotFound(t *testing.T) {
	s, _ := newTestServer(t)
	for _, target := range []string{
		"/docs/no-such-page",
		"/docs/no-such-page.md",
		"/docs/Overview",
		"/docs/overview.MD",
		"/docs/overview.md.md",
		"/docs/overview/",
		"/docs/overview/extra",
		"/docs/.md",
		"/docs/..",
		"/docs/../go.mod",
		"/docs/../store/db.go",
		"/docs/%2e%2e/store/db.go",
		"/docs/%2e%2e%2fgo.mod",
		"/docs/..%2fgo.mod",
		"/docs/..%2f..%2fgo.mod",
		"/docs/..%2fdocs%2fapi",
		"/docs/..%5cgo.mod",
		"/docs/%2fetc%2fpasswd",
		"/docs/markdown.go",
		"/docs/site",
		"/docs/api%00.md",
		"/docs/%2e%2e.md",
	} {
		rec := do(t, s, http.MethodGet, target, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, rec.Code)
			continue
		}
		body := rec.Body.String()
		if strings.Contains(body, "package ") || strings.Contains(body, "module github.com") || strings.Contains(body, "root:") {
			t.Errorf("GET %s leaked a file", target)
		}
		if !strings.Contains(body, "Not found") {
			t.Errorf("GET %s: no error page", target)
		}
		// Issue 15 item 12: a missing docs page leads back to the docs.
		if !strings.HasSuffix(target, ".md") && strings.Count(target, "/") == 2 && !strings.Contains(body, `<a class="button" href="/docs">`) {
			t.Errorf("GET %s: the 404 does not link back to the docs", target)
		}
	}
}

func TestDocsSearch(t *testing.T) {
	s, _ := newTestServer(t)
	t.Run("Results", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/docs/search?q=exec+format+error", nil)
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		doc := mustDoc(t, rec)
		links := doc.Find(".search-results li > a")
		if links.Length() == 0 {
			t.Fatal("no results")
		}
		found := false
		links.Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			found = found || href == "/docs/troubleshooting#architecture-mismatch"
			if !strings.HasPrefix(href, "/docs/") {
				t.Errorf("result link %s", href)
			}
		})
		if !found {
			t.Error("the architecture mismatch section is not among the results")
		}
		if doc.Find(".search-results mark").Length() == 0 {
			t.Error("matches are not marked")
		}
		if v, _ := doc.Find("#docs-q").Attr("value"); v != "exec format error" {
			t.Errorf("search box shows %q", v)
		}
	})
	t.Run("ResultAnchorsExist", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/docs/search?q=alias", nil))
		doc.Find(".search-results li > a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			path, frag, _ := strings.Cut(href, "#")
			page := mustDoc(t, do(t, s, http.MethodGet, path, nil))
			if frag != "" && page.Find(`[id="`+frag+`"]`).Length() != 1 {
				t.Errorf("result %s: no such heading", href)
			}
		})
	})
	t.Run("NoResults", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/docs/search?q=zzqx", nil))
		if !strings.Contains(doc.Find(".docs-results").Text(), "No section contains every word") {
			t.Errorf("empty state: %q", doc.Find(".docs-results").Text())
		}
	})
	t.Run("Empty", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/docs/search", nil)
		if rec.Code != 200 || mustDoc(t, rec).Find(".search-results").Length() != 0 {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("Escaped", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/docs/search?q="+url.QueryEscape(`<script>alert(1)</script>`), nil)
		if strings.Contains(rec.Body.String(), "<script>alert") {
			t.Error("the query is echoed unescaped")
		}
	})
	t.Run("ControlCharacters", func(t *testing.T) {
		for _, q := range []string{"a%00b", "exec%0Aformat", "%FF%FE"} {
			rec := do(t, s, http.MethodGet, "/docs/search?q="+q, nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(mustDoc(t, rec).Find(".alert[role=alert]").Text(), "control characters") {
				t.Errorf("q=%s: status %d", q, rec.Code)
			}
		}
	})
	t.Run("TooLong", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/docs/search?q="+strings.Repeat("a", 201), nil)
		if rec.Code != http.StatusBadRequest || mustDoc(t, rec).Find(".alert[role=alert]").Length() != 1 {
			t.Errorf("status %d", rec.Code)
		}
	})
}

// guardedPaths are links the docs make to pages and calls that need
// someone signed in, with how an anonymous GET must answer: pages send
// visitors to log in, token calls answer 401, and log-out takes only POST.
var guardedPaths = map[string]int{
	"/account": http.StatusSeeOther, "/wallet": http.StatusSeeOther, "/library": http.StatusSeeOther,
	"/logout":             http.StatusMethodNotAllowed,
	"/api/v1/images/user": http.StatusUnauthorized, "/api/v1/wallet/balances": http.StatusUnauthorized,
}

// TestDocsLinks walks every link on every docs page through the real
// router: pages must answer, alias links must redirect to an image page,
// and every #fragment must name an element of its target page.
func TestDocsLinks(t *testing.T) {
	s, _ := newTestServer(t)
	pages := map[string]*goquery.Document{}
	fetch := func(path string) (*goquery.Document, int) {
		if d, ok := pages[path]; ok {
			return d, 200
		}
		rec := do(t, s, http.MethodGet, path, nil)
		if rec.Code == http.StatusSeeOther && strings.HasPrefix(path, "/images/by-alias/") {
			loc := rec.Header().Get("Location")
			if !strings.HasPrefix(loc, "/images/") {
				t.Errorf("%s redirects to %s", path, loc)
			}
			rec = do(t, s, http.MethodGet, loc, nil)
		} else if strings.HasPrefix(path, "/images/by-alias/") {
			return nil, rec.Code
		}
		if rec.Code != 200 {
			return nil, rec.Code
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			return nil, 200
		}
		d := mustDoc(t, rec)
		pages[path] = d
		return d, 200
	}
	checked := 0
	for _, p := range s.docs.Pages() {
		src, _ := fetch(p.URL())
		// Every id on a page is unique, or its anchors would be ambiguous.
		seen := map[string]bool{}
		src.Find("[id]").Each(func(_ int, e *goquery.Selection) {
			id, _ := e.Attr("id")
			if seen[id] {
				t.Errorf("%s: id %q is used twice", p.URL(), id)
			}
			seen[id] = true
		})
		src.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			u, err := url.Parse(href)
			if err != nil {
				t.Errorf("%s: bad link %q", p.URL(), href)
				return
			}
			if u.Scheme != "" || u.Host != "" {
				if u.Scheme != "https" && u.Scheme != "http" {
					t.Errorf("%s: link with scheme %q: %s", p.URL(), u.Scheme, href)
				}
				return // outside Berth; the tests have no network
			}
			target := u.Path
			if target == "" {
				target = p.URL()
			}
			if want, ok := guardedPaths[target]; ok {
				checked++
				if got := do(t, s, http.MethodGet, target, nil).Code; got != want {
					t.Errorf("%s: link %s answers %d, want %d", p.URL(), href, got, want)
				}
				return
			}
			checked++
			pathQuery := target
			if u.RawQuery != "" {
				pathQuery += "?" + u.RawQuery
			}
			d, status := fetch(pathQuery)
			if status != 200 {
				t.Errorf("%s: link %s answers %d", p.URL(), href, status)
				return
			}
			if u.Fragment != "" && (d == nil || d.Find(`[id="`+u.Fragment+`"]`).Length() == 0) {
				t.Errorf("%s: link %s: no element has the id %q", p.URL(), href, u.Fragment)
			}
		})
	}
	if checked < 100 {
		t.Errorf("only %d links checked; is the walk broken?", checked)
	}
}
