package views

import (
	"html"
	"strconv"

	"github.com/berth/berth/docs"
)

// DocsNav is the sidebar of every docs page: the search box and the pages
// in reading order.
type DocsNav struct {
	Pages   []*docs.Page
	Current string // slug of the page shown, "" on the index and search
	Query   string // the search box's value
}

// DocsIndex is the model of /docs: every page with its description.
type DocsIndex struct {
	Shell
	Nav DocsNav
}

// DocsPage is the model of one documentation page.
type DocsPage struct {
	Shell
	Nav        DocsNav
	Page       *docs.Page
	Prev, Next *docs.Page // neighbours in reading order, nil at the ends
}

// DocsSearch is the model of the docs search results.
type DocsSearch struct {
	Shell
	Nav     DocsNav
	Query   string
	Results []docs.Result
	Problem string // why the query could not be run, "" when it ran
}

// TOCItem is an h2 of a page's table of contents with its h3s.
type TOCItem struct {
	docs.Heading
	Children []docs.Heading
}

// TOC nests the page's h3 headings under their h2. An h3 before any h2
// becomes an entry of its own.
func (d DocsPage) TOC() []TOCItem {
	var out []TOCItem
	for _, h := range d.Page.TOC {
		if h.Level == 3 && len(out) > 0 {
			out[len(out)-1].Children = append(out[len(out)-1].Children, h)
			continue
		}
		out = append(out, TOCItem{Heading: h})
	}
	return out
}

// CountText says how many results a search found.
func (d DocsSearch) CountText() string {
	switch len(d.Results) {
	case 0:
		return "No sections match"
	case 1:
		return "1 section matches"
	}
	return strconv.Itoa(len(d.Results)) + " sections match"
}

// snippetHTML writes a search result's excerpt with its match marked, with
// nothing between the parts: a match inside a word ("rating" in
// "ratings") must not split the word. Every part is escaped.
func snippetHTML(s docs.Snippet) string {
	out := html.EscapeString(s.Before)
	if s.Match != "" {
		out += "<mark>" + html.EscapeString(s.Match) + "</mark>"
	}
	return out + html.EscapeString(s.After)
}
