package docs

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// Guidance says when to use one variant, in the words of the docs: the
// section under an h3 heading that consists of the variant's name as code,
// such as "### `minimal`", in any page. The detail page shows it next to the
// variant chooser, so the docs and the page never disagree.
type Guidance struct {
	Variant string // as people read it: standard, minimal, base, …
	Summary string // the first paragraph as plain text
	HTML    string // the whole section, rendered
	URL     string // the section in the docs
}

// Guidance returns the guidance for a variant, named as people read it
// ("standard", not "default").
func (s *Site) Guidance(variant string) (Guidance, bool) {
	g, ok := s.guidance[variant]
	return g, ok
}

// collectGuidance finds the variant sections of a page.
func (s *Site) collectGuidance(p *Page, doc ast.Node, src []byte) error {
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level != 3 {
			continue
		}
		variant, ok := codeHeading(h, src)
		if !ok {
			continue
		}
		if prev, dup := s.guidance[variant]; dup {
			return fmt.Errorf("guidance for %s is given twice (first in %s)", variant, prev.URL)
		}
		g := Guidance{Variant: variant, URL: p.URL() + "#" + headingID(h)}
		var buf bytes.Buffer
		for b := h.NextSibling(); b != nil; b = b.NextSibling() {
			if next, ok := b.(*ast.Heading); ok && next.Level <= 3 {
				break
			}
			if g.Summary == "" && b.Kind() == ast.KindParagraph {
				g.Summary = plainText(b, src)
			}
			if err := s.md.renderNode(&buf, src, b); err != nil {
				return err
			}
		}
		if g.Summary == "" {
			return fmt.Errorf("guidance for %s has no paragraph", variant)
		}
		g.HTML = buf.String()
		s.guidance[variant] = g
	}
	return nil
}

// codeHeading reports whether a heading is a lone code span, and its text.
func codeHeading(h *ast.Heading, src []byte) (string, bool) {
	c, ok := h.FirstChild().(*ast.CodeSpan)
	if !ok || c.NextSibling() != nil {
		return "", false
	}
	name := strings.TrimSpace(plainText(c, src))
	return name, name != ""
}
