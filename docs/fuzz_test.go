package docs

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzMarkdown renders arbitrary Markdown, as a catalog file's docs body or
// a docs page could hold, and checks with a real HTML tokenizer that no
// script element, event handler or script URL comes out.
func FuzzMarkdown(f *testing.F) {
	for _, seed := range []string{
		"# Title\n\nText with `code` and **bold**.\n",
		"<script>alert(1)</script>",
		"<SCRIPT SRC=//x></SCRIPT>",
		"<img src=x onerror=alert(1)>",
		"<a href=\"javascript:alert(1)\">x</a>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](javascript&colon;alert(1))",
		"[x](<javascript:alert(1)>)",
		"[x]: javascript:alert(1)\n\n[x]",
		"![i](javascript:alert(1))",
		"<javascript:alert(1)>",
		"[x](vbscript:msgbox(1))",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"```html\n<script>alert(1)</script>\n```\n",
		"```\"><script>alert(1)</script>\nx\n```\n",
		"```js {hl_lines=[1] linenos=true}\nalert(1)\n```\n",
		"| a | b |\n|---|---|\n| <script> | [x](javascript:y) |\n",
		"## Heading <em onclick=x>h</em>\n",
		"<!-- <script> -->\n\n<details open ontoggle=alert(1)>",
		"www.example.com/<script> https://example.com/\"onmouseover=\"alert(1)",
	} {
		f.Add(seed)
	}
	md := NewMarkdown()
	f.Fuzz(func(t *testing.T, src string) {
		out, err := md.Render(src)
		if err != nil {
			return
		}
		if problem := unsafeHTML(out); problem != "" {
			t.Fatalf("%s in the HTML of %q:\n%s", problem, src, out)
		}
	})
}

// unsafeHTML names the first thing in s that could run script, "" if none.
func unsafeHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return ""
			}
			return "unparsable HTML"
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style", "base", "form", "meta", "link":
				return "a <" + tok.Data + "> element"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" {
					return "an " + key + " attribute"
				}
				if key == "href" || key == "src" || key == "action" || key == "formaction" {
					if scheme := scriptScheme(a.Val); scheme != "" {
						return "a " + scheme + " URL"
					}
				}
			}
		}
	}
}

// scriptScheme reports the scheme of a URL that a browser would run, as a
// browser reads it: entities already decoded, ASCII whitespace and control
// characters removed, case ignored.
func scriptScheme(u string) string {
	var b strings.Builder
	for _, r := range u {
		if r > ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	v := strings.ToLower(b.String())
	for _, scheme := range []string{"javascript:", "vbscript:", "data:text/html"} {
		if strings.HasPrefix(v, scheme) {
			return strings.TrimSuffix(scheme, ":")
		}
	}
	return ""
}
