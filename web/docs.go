package web

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// maxSearchResults caps the sections one docs search lists.
const maxSearchResults = 30

func (s *Server) docsNav(current, query string) views.DocsNav {
	return views.DocsNav{Pages: s.docs.Pages(), Current: current, Query: query}
}

// handleDocsIndex is GET /docs: the pages in reading order.
func (s *Server) handleDocsIndex(c echo.Context) error {
	return s.render(c, http.StatusOK, views.DocsIndexPage(views.DocsIndex{
		Shell: s.shell(c, "Documentation", "Guides and reference for Berth: choosing images, variants, architectures, the wallet, ratings, the JSON API, the command line and self-hosting."),
		Nav:   s.docsNav("", ""),
	}))
}

// handleDocsPage is GET /docs/{slug}, and GET /docs/{slug}.md for the page's
// Markdown source. Slugs are looked up in the loaded index, never used as
// file paths, so no address reaches outside the docs.
func (s *Server) handleDocsPage(c echo.Context) error {
	slug := c.Param("slug")
	if base, raw := strings.CutSuffix(slug, ".md"); raw {
		p, ok := s.docs.Page(base)
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.Slug + ".md"}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", []byte(p.Source))
	}
	p, ok := s.docs.Page(slug)
	if !ok {
		return s.render(c, http.StatusNotFound, views.Error(views.ErrorPage{
			Shell: s.shell(c, "No such docs page", ""), Status: http.StatusNotFound,
			Heading: "Not found",
			Message: "There is no page of the docs at this address. The docs list every page, and their search finds a topic.",
			BackURL: "/docs", BackText: "Go to the docs",
		}))
	}
	prev, next := s.docs.Neighbours(p)
	return s.render(c, http.StatusOK, views.DocsPageView(views.DocsPage{
		Shell: s.shell(c, p.Title, p.Description),
		Nav:   s.docsNav(p.Slug, ""),
		Page:  p,
		Prev:  prev,
		Next:  next,
	}))
}

// handleDocsSearch is GET /docs/search?q=: the sections of the docs that
// contain every word of the query, linked to their headings.
func (s *Server) handleDocsSearch(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	m := views.DocsSearch{
		Shell: s.shell(c, "Search the docs", "Search Berth's documentation."),
		Query: q,
	}
	status := http.StatusOK
	if len(q) > docs.MaxQuery {
		status = http.StatusBadRequest
		m.Problem = fmt.Sprintf("The search is too long: use at most %d characters.", docs.MaxQuery)
	} else if store.CheckText("q", q) != nil {
		// A NUL or a line break is no word of the docs: say so rather than
		// find nothing.
		status = http.StatusBadRequest
		m.Problem = "The search can't contain control characters (such as NUL, tabs or line breaks) or broken text."
		m.Query = strings.ToValidUTF8(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, q), "")
	} else {
		m.Results = s.docs.Search(q, maxSearchResults)
	}
	if q != "" {
		m.Shell.Title = "“" + q + "” in the docs"
	}
	m.Nav = s.docsNav("", q)
	return s.render(c, status, views.DocsSearchPage(m))
}
