package web

import (
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
	facets, err := s.store.FindFacets(ctx)
	if err != nil {
		return err
	}
	m := views.Catalog{
		Shell:  s.shell(c, "Image catalog", "Browse and filter container and OS images by OS, architecture, price and rating."),
		Facets: facets,
		Raw:    c.QueryParams(),
	}
	status := http.StatusOK
	m.Filter, err = store.ParseFilter(c.QueryParams())
	if err == nil {
		m.Result, err = s.store.FindImages(ctx, m.Filter)
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
		return s.render(c, status, views.CatalogResults(m))
	}
	return s.render(c, status, views.CatalogPage(m))
}

// handleImage is GET /images/{id}: one image in full, with the chooser for
// its variants and architectures. The chooser's htmx requests get just the
// detail article and the URL to push, so switching happens in place.
func (s *Server) handleImage(c echo.Context) error {
	ctx := c.Request().Context()
	img, err := s.store.FindImage(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	siblings, err := s.store.FindSiblings(ctx, img)
	if err != nil {
		return err
	}
	lineage, err := s.store.FindLineage(ctx, img)
	if err != nil {
		return err
	}
	docsHTML, err := s.docs.Render(img.Docs)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.ID, err)
	}
	title := fmt.Sprintf("%s (%s)", img.Alias, img.Architecture)
	d := views.ImageDetail{
		Shell:    s.shell(c, title, img.Description),
		Image:    img,
		Siblings: siblings,
		Lineage:  lineage,
		DocsHTML: docsHTML,
	}
	if g, ok := s.docs.Guidance(img.VariantLabel()); ok {
		d.Guidance = &g
	}
	if wantsFragment(c) {
		c.Response().Header().Set("HX-Push-Url", views.ImageURL(img))
		return s.render(c, http.StatusOK, views.ImageDetailFragment(d))
	}
	return s.render(c, http.StatusOK, views.ImagePage(d))
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
