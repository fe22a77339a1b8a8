// Package docs holds Berth's documentation pages, embedded, and the Markdown
// renderer used for them and for the per-image docs bodies.
package docs

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Markdown renders Markdown to HTML safely: raw HTML in the source is
// dropped (goldmark's default, never switched off here) and dangerous link
// schemes are neutralised, so docs bodies from a catalog file cannot inject
// script. A Markdown value is safe for concurrent use.
type Markdown struct {
	md goldmark.Markdown
}

// NewMarkdown returns a renderer with GitHub-flavoured tables, task lists,
// strikethrough and autolinks, and ids on headings for anchors.
func NewMarkdown() *Markdown {
	return &Markdown{md: goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)}
}

// Render converts src to HTML.
func (m *Markdown) Render(src string) (string, error) {
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}
