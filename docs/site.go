package docs

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// The documentation pages: one Markdown file per page, each opening with a
// front matter block (title, description, order).
//
//go:embed *.md
var files embed.FS

// Page is one documentation page, parsed and rendered once when the site is
// loaded. Pages are shared between requests and must not be modified.
type Page struct {
	Slug        string // file name without .md; the page lives at /docs/{Slug}
	Title       string
	Description string
	Order       int
	Source      string    // the file as written, front matter included
	HTML        string    // the body rendered to HTML, raw HTML dropped
	TOC         []Heading // the page's h2 and h3 headings, in order

	sections []section // the text under each heading, for search
}

// Heading is an entry of a page's table of contents.
type Heading struct {
	Level int    // 2 or 3
	ID    string // the anchor of the heading, unique in its page
	Text  string
}

// URL is the path of the page.
func (p *Page) URL() string { return "/docs/" + p.Slug }

// RawURL is the path of the page's Markdown source.
func (p *Page) RawURL() string { return "/docs/" + p.Slug + ".md" }

// Site is the immutable index of the documentation: the pages in reading
// order, their search text, and the variant guidance drawn from them. Load
// it once at start and share it; it is safe for concurrent use.
type Site struct {
	md       *Markdown
	pages    []*Page
	bySlug   map[string]*Page
	guidance map[string]Guidance
}

// slugPattern is what a page's file name must look like; it keeps every
// page reachable at a plain /docs/{slug} address.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// reservedSlug is the name under /docs that the search route uses, so no
// page may take it.
const reservedSlug = "search"

// Load parses and renders the embedded documentation.
func Load() (*Site, error) { return LoadFS(files) }

// LoadFS parses and renders every *.md file at the top of fsys. Any page
// without a complete front matter block, or with a name that cannot be a
// slug, is an error, so a broken page stops the server at start rather than
// failing later.
func LoadFS(fsys fs.FS) (*Site, error) {
	s := &Site{md: NewMarkdown(), bySlug: map[string]*Page{}, guidance: map[string]Guidance{}}
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, fmt.Errorf("load docs: %w", err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load docs: %w", err)
		}
		slug := strings.TrimSuffix(path.Base(name), ".md")
		if !slugPattern.MatchString(slug) || slug == reservedSlug {
			return nil, fmt.Errorf("load docs: %s: the file name must be a lowercase slug such as getting-started.md", name)
		}
		p, err := s.loadPage(slug, src)
		if err != nil {
			return nil, fmt.Errorf("load docs: %s: %w", name, err)
		}
		s.pages = append(s.pages, p)
		s.bySlug[slug] = p
	}
	slices.SortStableFunc(s.pages, func(a, b *Page) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.Slug, b.Slug)
	})
	return s, nil
}

func (s *Site) loadPage(slug string, src []byte) (*Page, error) {
	fm, body, err := splitFrontMatter(src)
	if err != nil {
		return nil, err
	}
	p := &Page{Slug: slug, Source: string(src)}
	for _, key := range []string{"title", "description", "order"} {
		if fm[key] == "" {
			return nil, fmt.Errorf("front matter needs %s", key)
		}
	}
	p.Title, p.Description = fm["title"], fm["description"]
	if p.Order, err = strconv.Atoi(fm["order"]); err != nil {
		return nil, fmt.Errorf("front matter: order %q is not a whole number", fm["order"])
	}

	doc := s.md.parse(body)
	p.TOC, p.sections = outline(doc, body)
	if err := s.collectGuidance(p, doc, body); err != nil {
		return nil, err
	}
	addAnchors(doc)
	var buf bytes.Buffer
	if err := s.md.renderNode(&buf, body, doc); err != nil {
		return nil, err
	}
	p.HTML = buf.String()
	return p, nil
}

// splitFrontMatter separates the block between the opening and closing
// "---" lines from the Markdown after it. The block holds "key: value"
// lines; values may be quoted. It is a deliberately small subset of YAML,
// enough for the three keys a page has.
func splitFrontMatter(src []byte) (map[string]string, []byte, error) {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(src, []byte("---\n"))
	if !ok {
		return nil, nil, errors.New("the page must open with a front matter block between --- lines")
	}
	block, body, ok := bytes.Cut(rest, []byte("\n---\n"))
	if !ok {
		return nil, nil, errors.New("the front matter block is not closed with a --- line")
	}
	fm := map[string]string{}
	for i, line := range strings.Split(string(block), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, nil, fmt.Errorf("front matter line %d: want key: value", i+1)
		}
		switch key {
		case "title", "description", "order":
		default:
			return nil, nil, fmt.Errorf("front matter line %d: unknown key %q (title, description and order are known)", i+1, key)
		}
		if _, dup := fm[key]; dup {
			return nil, nil, fmt.Errorf("front matter line %d: %s is given twice", i+1, key)
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		fm[key] = value
	}
	return fm, body, nil
}

// section is the text of a page from one heading to the next.
type section struct {
	id, heading string // "" for the text before the first heading
	text, lower string
}

// outline walks the top-level blocks of a page: its h2 and h3 headings make
// the table of contents, and every heading from h2 down starts a section of
// search text.
func outline(doc ast.Node, src []byte) ([]Heading, []section) {
	var toc []Heading
	cur := section{}
	var secs []section
	flush := func() {
		cur.text = strings.TrimSpace(cur.text)
		if cur.text != "" || cur.heading != "" {
			cur.lower = strings.ToLower(cur.text)
			secs = append(secs, cur)
		}
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level >= 2 {
			flush()
			cur = section{id: headingID(h), heading: plainText(h, src)}
			if h.Level <= 3 {
				toc = append(toc, Heading{Level: h.Level, ID: cur.id, Text: cur.heading})
			}
			continue
		}
		cur.text += plainText(n, src) + " "
	}
	flush()
	return toc, secs
}

// addAnchors gives every h2, h3 and h4 a link to itself, so a reader can
// copy the address of a section.
func addAnchors(doc ast.Node) {
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level < 2 || h.Level > 4 {
			continue
		}
		id := headingID(h)
		if id == "" {
			continue
		}
		link := ast.NewLink()
		link.Destination = []byte("#" + id)
		link.SetAttributeString("class", []byte("anchor"))
		link.SetAttributeString("title", []byte("Link to this section"))
		link.AppendChild(link, ast.NewString([]byte("#")))
		h.AppendChild(h, link)
	}
}

// Pages returns the pages in reading order.
func (s *Site) Pages() []*Page { return slices.Clone(s.pages) }

// Page returns the page with the given slug.
func (s *Site) Page(slug string) (*Page, bool) {
	p, ok := s.bySlug[slug]
	return p, ok
}

// Neighbours returns the pages before and after the given one in reading
// order, nil at either end.
func (s *Site) Neighbours(p *Page) (prev, next *Page) {
	i := slices.Index(s.pages, p)
	if i < 0 {
		return nil, nil
	}
	if i > 0 {
		prev = s.pages[i-1]
	}
	if i+1 < len(s.pages) {
		next = s.pages[i+1]
	}
	return prev, next
}

// Render converts a Markdown body, such as an image's docs, to safe HTML
// with the same rules as the pages.
func (s *Site) Render(src string) (string, error) { return s.md.Render(src) }
