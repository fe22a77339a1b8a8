package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// handleCatalog is GET /: the filter form and a page of results. A bad
// filter is a 400 with the form still filled in and a message on how to fix
// it. htmx requests get just the results and the canonical URL to show.
func (s *Server) handleCatalog(c echo.Context) error {
	ctx := c.Request().Context()
	gen, err := s.store.Generation(ctx)
	if err != nil {
		return err
	}
	m := views.Catalog{
		Shell: s.shell(c, "Image catalog", "Browse and filter container and OS images by OS, architecture, price and rating."),
		Raw:   c.QueryParams(),
	}
	status := http.StatusOK
	var results *answer
	m.Filter, err = store.ParseFilter(c.QueryParams())
	if !wantsFragment(c) && hasBlank(c.QueryParams()) {
		// A form sent without script names every field, the blank ones
		// too; the address people keep and share leaves them out.
		to := nonEmpty(c.QueryParams())
		if err == nil {
			to = m.Filter.Query()
		}
		if q := to.Encode(); q != "" {
			return c.Redirect(http.StatusSeeOther, "/?"+q)
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	m.Life = s.life()
	m.Filter.Now = m.Life.Now
	if err == nil {
		m.Shell.FeedURL = m.FeedURL()
	}
	// Nobody signed in, nothing personal: the whole page is the same for
	// every visitor, so it is cached whole, and its results are rendered
	// in place. htmx fragments (the form and the results) are the same for
	// everyone and cached whole too. Other pages embed the results, cached
	// on their own.
	wholePage := !wantsFragment(c) && m.User == nil && m.Flash == ""
	if err == nil && !wholePage && !wantsFragment(c) {
		// The results are the same for everyone, so they are rendered once
		// per query and catalog generation.
		results, err = s.cached(ctx, "results|"+m.Filter.Query().Encode(), gen, "", func() ([]byte, error) {
			page, err := s.store.FindImages(ctx, byAlias(m.Filter))
			if err != nil {
				return nil, err
			}
			r := m
			r.Result = page
			b, err := renderBytes(ctx, views.CatalogResults(r))
			if err != nil {
				return nil, fmt.Errorf("render results: %w", err)
			}
			return b, nil
		})
		if results != nil {
			m.ResultsHTML = results.body
		}
	}
	switch {
	case store.ErrorCode(err) == store.EINVALID:
		status = http.StatusBadRequest
		m.Problem, m.Param = store.ErrorMessage(err), store.ErrorParam(err)
	case err != nil:
		return err
	}
	if wantsFragment(c) {
		url := "/"
		if status == http.StatusOK {
			if q := m.Filter.Query().Encode(); q != "" {
				url += "?" + q
			}
		} else if q := nonEmpty(c.QueryParams()).Encode(); q != "" {
			url += "?" + q
		}
		c.Response().Header().Set("HX-Push-Url", url)
		c.Response().Header().Add("Vary", "HX-Request")
		if status != http.StatusOK {
			if m.Facets, err = s.facets(ctx, gen); err != nil {
				return err
			}
			return s.render(c, status, views.CatalogFragment(m))
		}
		// The form comes with the results, so both describe the query.
		frag, err := s.cached(ctx, "fragment|"+m.Filter.Query().Encode(), gen, encodingFor(c), func() ([]byte, error) {
			var err error
			if m.Result, err = s.store.FindImages(ctx, byAlias(m.Filter)); err != nil {
				return nil, err
			}
			if m.Facets, err = s.facets(ctx, gen); err != nil {
				return nil, err
			}
			b, err := renderBytes(ctx, views.CatalogFragment(m))
			if err != nil {
				return nil, fmt.Errorf("render catalog fragment: %w", err)
			}
			return b, nil
		})
		if err != nil {
			return err
		}
		return sendAnswer(c, status, echo.MIMETextHTMLCharsetUTF8, frag)
	}
	if status == http.StatusOK && wholePage {
		// It carries no CSRF token; the catalog has no form that changes
		// anything.
		m.CSRF = ""
		key := "page|" + m.Filter.Query().Encode()
		page, err := s.cached(ctx, key, gen, encodingFor(c), func() ([]byte, error) {
			var err error
			if m.Result, err = s.store.FindImages(ctx, byAlias(m.Filter)); err != nil {
				return nil, err
			}
			if m.Facets, err = s.facets(ctx, gen); err != nil {
				return nil, err
			}
			b, err := renderBytes(ctx, views.CatalogPage(m))
			if err != nil {
				return nil, fmt.Errorf("render catalog: %w", err)
			}
			return b, nil
		})
		if err != nil {
			return err
		}
		c.Response().Header().Add("Vary", "HX-Request")
		c.Response().Header().Set("Cache-Control", "private, no-cache")
		return sendAnswer(c, status, echo.MIMETextHTMLCharsetUTF8, page)
	}
	if m.Facets, err = s.facets(ctx, gen); err != nil {
		return err
	}
	return s.render(c, status, views.CatalogPage(m))
}

// handleImageByAlias is GET /images/by-alias/{alias}?architecture=: a stable
// link to an image by the name people use, redirected to its page. An alias
// that names nothing gets a 404 page that says why, with the closest aliases.
func (s *Server) handleImageByAlias(c echo.Context) error {
	arch := c.QueryParam("architecture")
	if arch != "" && !store.ValidArchitecture(arch) {
		return store.Invalid("architecture", "architecture must be one of amd64, arm64, armhf")
	}
	alias := c.Param("*")
	if unescaped, err := url.PathUnescape(alias); err == nil {
		alias = unescaped
	}
	img, err := s.store.ResolveAlias(c.Request().Context(), alias, arch)
	var ae *store.AliasError
	if errors.As(err, &ae) {
		title := "No image by that alias"
		if ae.WrongFormat() {
			title = "That is not an alias"
		}
		return s.render(c, http.StatusNotFound, views.AliasMissingPage(views.AliasMissing{
			Shell:         s.shell(c, title, ""),
			Alias:         ae.Alias,
			Architecture:  arch,
			Reason:        ae.Reason,
			WrongFormat:   ae.WrongFormat(),
			Suggestions:   ae.Suggestions,
			Architectures: ae.Architectures,
		}))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.ImageURL(img))
}

// facets returns the filter choices, worked out once per catalog
// generation and shared by every page of it: views only read them.
func (s *Server) facets(ctx context.Context, gen int64) (store.Facets, error) {
	m := &s.facetMemo
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready && m.gen == gen {
		return m.facets, nil
	}
	f, err := s.store.FindFacets(ctx)
	if err != nil {
		return f, err
	}
	if !m.ready || gen >= m.gen {
		m.gen, m.facets, m.ready = gen, f, true
	}
	return f, nil
}

// byAlias is the catalog page's listing of a filter: one card per alias.
func byAlias(f store.Filter) store.Filter {
	f.Group = store.GroupAlias
	return f
}
