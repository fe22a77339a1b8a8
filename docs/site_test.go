package docs

import (
	"strings"
	"testing"
	"testing/fstest"
)

func mustLoad(t testing.TB) *Site {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoad(t *testing.T) {
	s := mustLoad(t)
	pages := s.Pages()
	// The issue names these pages; each must exist with its front matter.
	for _, slug := range []string{"overview", "choosing-an-image", "variants-and-families", "architectures",
		"wallet-and-purchases", "rating", "api", "command-line", "self-hosting", "troubleshooting", "faq"} {
		p, ok := s.Page(slug)
		if !ok {
			t.Errorf("no page %s", slug)
			continue
		}
		if p.Title == "" || p.Description == "" || p.Order == 0 || len(p.TOC) == 0 {
			t.Errorf("page %s: title %q, description %q, order %d, %d TOC entries", slug, p.Title, p.Description, p.Order, len(p.TOC))
		}
		if strings.HasPrefix(p.HTML, "---") || strings.Contains(p.HTML, "<hr>\n<h2>title:") {
			t.Errorf("page %s: front matter rendered as content", slug)
		}
		if !strings.HasPrefix(p.Source, "---\ntitle: ") {
			t.Errorf("page %s: Source is not the file as written", slug)
		}
	}
	for i := 1; i < len(pages); i++ {
		if pages[i-1].Order > pages[i].Order {
			t.Errorf("pages out of order: %s (%d) before %s (%d)", pages[i-1].Slug, pages[i-1].Order, pages[i].Slug, pages[i].Order)
		}
	}
	if pages[0].Slug != "overview" {
		t.Errorf("first page %s, want overview", pages[0].Slug)
	}
	prev, next := s.Neighbours(pages[0])
	if prev != nil || next != pages[1] {
		t.Error("neighbours of the first page are wrong")
	}
	if _, ok := s.Page("../go"); ok {
		t.Error("a path found a page")
	}
}

func TestPageRendering(t *testing.T) {
	s := mustLoad(t)
	p, _ := s.Page("choosing-an-image")
	for _, want := range []string{
		`<table tabindex="0">`, // GFM tables, which scroll, reachable by keyboard
		`<h2 id="quick-answer">Quick answer<a href="#quick-answer" class="anchor" title="Link to this section">#</a></h2>`,
		`<pre tabindex="0" class="chroma"><code>`, // highlighted code
		`<span class="s1">&#39;http://localhost:8080/api/v1/images/public?os=fedora&amp;sort_by=added_date&#39;</span>`, // token classes
	} {
		if !strings.Contains(p.HTML, want) {
			t.Errorf("choosing-an-image lacks %s", want)
		}
	}
	if strings.Contains(p.HTML, "style=") {
		t.Error("highlighting wrote inline styles, which a strict CSP blocks")
	}
	if p.TOC[0] != (Heading{Level: 2, ID: "quick-answer", Text: "Quick answer"}) {
		t.Errorf("first TOC entry %+v", p.TOC[0])
	}
	for _, h := range p.TOC {
		if h.Level < 2 || h.Level > 3 || h.ID == "" || strings.Contains(h.Text, "#") {
			t.Errorf("TOC entry %+v", h)
		}
	}
}

func TestRawHTMLIsNotRendered(t *testing.T) {
	fsys := fstest.MapFS{"evil.md": {Data: []byte("---\ntitle: Evil\ndescription: x\norder: 1\n---\n\n" +
		"## Hi <script>alert(1)</script>\n\n<script>alert(2)</script>\n\n<img src=x onerror=alert(3)>\n\n" +
		"[a](javascript:alert(4)) [b](javascript&colon;alert(5)) <a href=\"javascript:alert(6)\">c</a>\n\n" +
		"```html\n<script>alert(7)</script>\n```\n\n```\"><script>alert(8)</script>\nx\n```\n")}}
	s, err := LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.Page("evil")
	for _, bad := range []string{"<script", "<img", "onerror", "javascript:", "javascript&colon;"} {
		if strings.Contains(strings.ToLower(p.HTML), bad) {
			t.Errorf("rendered page contains %q:\n%s", bad, p.HTML)
		}
	}
	html, err := s.Render("<script>alert(1)</script>\n\n[x](javascript:alert(1))")
	if err != nil || strings.Contains(html, "<script") || strings.Contains(html, "javascript:") {
		t.Errorf("Render let HTML through: %q %v", html, err)
	}
}

func TestFrontMatterErrors(t *testing.T) {
	for name, src := range map[string]string{
		"none":        "# Title\n",
		"unclosed":    "---\ntitle: a\ndescription: b\norder: 1\n",
		"no title":    "---\ndescription: b\norder: 1\n---\nx\n",
		"bad order":   "---\ntitle: a\ndescription: b\norder: first\n---\nx\n",
		"unknown key": "---\ntitle: a\ndescription: b\norder: 1\nlayout: wide\n---\nx\n",
		"duplicate":   "---\ntitle: a\ntitle: b\ndescription: b\norder: 1\n---\nx\n",
	} {
		if _, err := LoadFS(fstest.MapFS{"page.md": {Data: []byte(src)}}); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
	for _, bad := range []string{"Bad Name.md", "search.md", "UPPER.md"} {
		if _, err := LoadFS(fstest.MapFS{bad: {Data: []byte("---\ntitle: a\ndescription: b\norder: 1\n---\nx\n")}}); err == nil {
			t.Errorf("file %q loaded", bad)
		}
	}
	s, err := LoadFS(fstest.MapFS{"q.md": {Data: []byte("---\r\ntitle: \"Quoted: yes\"\r\ndescription: 'd'\r\norder: 3\r\n---\r\nbody\r\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Page("q"); p.Title != "Quoted: yes" || p.Description != "d" || p.Order != 3 {
		t.Errorf("parsed %+v", p)
	}
}

func TestGuidance(t *testing.T) {
	s := mustLoad(t)
	for _, v := range []string{"standard", "minimal", "cloud", "desktop", "base", "systemd", "dind"} {
		g, ok := s.Guidance(v)
		if !ok {
			t.Errorf("no guidance for %s", v)
			continue
		}
		if g.Summary == "" || !strings.Contains(g.HTML, "<p>") || g.URL != "/docs/variants-and-families#"+v {
			t.Errorf("guidance for %s: %+v", v, g)
		}
		if strings.Contains(g.HTML, `href="#`) {
			t.Errorf("guidance for %s links within its page, which breaks on the detail page", v)
		}
	}
	if _, ok := s.Guidance("default"); ok {
		t.Error("guidance is keyed by the stored name")
	}
}

func TestSearch(t *testing.T) {
	s := mustLoad(t)
	t.Run("HeadingFirst", func(t *testing.T) {
		res := s.Search("musl caveat", 10)
		if len(res) == 0 || res[0].URL() != "/docs/choosing-an-image#the-musl-caveat" {
			t.Fatalf("results %+v", res)
		}
		if !strings.EqualFold(res[0].Snippet.Match, "musl") && !strings.EqualFold(res[0].Snippet.Match, "caveat") {
			t.Errorf("snippet %+v", res[0].Snippet)
		}
	})
	t.Run("EveryWord", func(t *testing.T) {
		for _, r := range s.Search("402 wallet", 50) {
			text := strings.ToLower(r.Page.Title + " " + r.Heading + " " + r.Snippet.Before + r.Snippet.Match + r.Snippet.After)
			if !strings.Contains(text, "402") && !strings.Contains(text, "wallet") {
				t.Errorf("result %s matches neither word", r.URL())
			}
		}
	})
	t.Run("Limit", func(t *testing.T) {
		if n := len(s.Search("the", 5)); n != 5 {
			t.Errorf("%d results, want 5", n)
		}
	})
	t.Run("Nothing", func(t *testing.T) {
		if res := s.Search("zzqx-not-a-word", 10); len(res) != 0 {
			t.Errorf("results %+v", res)
		}
		if res := s.Search("   ", 10); res != nil {
			t.Errorf("blank query gave %+v", res)
		}
	})
}

func TestSnippet(t *testing.T) {
	text := strings.Repeat("word ", 40) + "Ünïcode MATCH here " + strings.Repeat("tail ", 60)
	sn := snippet(text, []string{"match"})
	if sn.Match != "MATCH" || !strings.HasPrefix(sn.Before, "…") || !strings.HasSuffix(sn.After, "…") {
		t.Errorf("snippet %+v", sn)
	}
	if i := indexFold("straße STRASSE", "strasse"); i != len("straße ") {
		t.Errorf("indexFold = %d", i)
	}
}
