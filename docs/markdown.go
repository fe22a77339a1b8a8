// Package docs holds Berth's documentation pages, embedded, and the Markdown
// renderer used for them and for the per-image docs bodies.
package docs

import (
	"bytes"
	"fmt"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Markdown renders Markdown to HTML safely: raw HTML in the source is
// dropped (goldmark's default, never switched off here) and dangerous link
// schemes are neutralised, so docs bodies from a catalog file cannot inject
// script. Fenced code blocks with a known language are highlighted with CSS
// classes (no inline styles, so a strict Content-Security-Policy holds); the
// palette lives in static/css/berth.css. A Markdown value is safe for
// concurrent use.
type Markdown struct {
	md goldmark.Markdown
}

// NewMarkdown returns a renderer with GitHub-flavoured tables, task lists,
// strikethrough and autolinks, ids on headings for anchors, and syntax
// highlighting of fenced code.
func NewMarkdown() *Markdown {
	return &Markdown{md: goldmark.New(
		goldmark.WithExtensions(
			extension.GFM,
			highlighting.NewHighlighting(
				// Every token gets its class whatever the chroma style
				// defines, so our own palette decides the colours.
				highlighting.WithFormatOptions(chromahtml.WithClasses(true), chromahtml.WithAllClasses(true)),
			),
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)}
}

// Render converts src to HTML.
func (m *Markdown) Render(src string) (string, error) {
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return string(scrollable(buf.Bytes())), nil
}

// scrollable puts code blocks and tables, which scroll sideways when they
// are wider than the page, in the Tab order, so people who use a keyboard
// can scroll them too. Markdown's own HTML is escaped, so every element
// found here came from the renderer.
func scrollable(html []byte) []byte {
	html = bytes.ReplaceAll(html, []byte("<pre>"), []byte(`<pre tabindex="0">`))
	html = bytes.ReplaceAll(html, []byte("<pre "), []byte(`<pre tabindex="0" `))
	return bytes.ReplaceAll(html, []byte("<table>"), []byte(`<table tabindex="0">`))
}

// parse reads src into a syntax tree with a fresh parser context, so heading
// ids are unique within that document.
func (m *Markdown) parse(src []byte) ast.Node {
	return m.md.Parser().Parse(text.NewReader(src))
}

// renderNode writes the HTML of n and its subtree.
func (m *Markdown) renderNode(buf *bytes.Buffer, src []byte, n ast.Node) error {
	var out bytes.Buffer
	if err := m.md.Renderer().Render(&out, src, n); err != nil {
		return fmt.Errorf("render markdown: %w", err)
	}
	buf.Write(scrollable(out.Bytes()))
	return nil
}

// plainText is the text a person reads in n: inline text, code and table
// cells, without markup, with blocks separated by spaces.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if c.Type() == ast.TypeBlock {
				b.WriteByte(' ')
			}
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.AutoLink:
			b.Write(t.Label(src))
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			lines := c.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				b.Write(seg.Value(src))
			}
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// headingID returns the id goldmark gave a heading, "" when it has none.
func headingID(h *ast.Heading) string {
	v, ok := h.AttributeString("id")
	if !ok {
		return ""
	}
	switch id := v.(type) {
	case []byte:
		return string(id)
	case string:
		return id
	}
	return ""
}
