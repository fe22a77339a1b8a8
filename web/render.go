package web

import (
	"bytes"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a component after rendering it into a buffer, so that a
// failure half-way becomes a proper error response instead of a torn page.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Request().URL.Path, err)
	}
	// The same URL answers with a fragment or a page depending on HX-Request.
	c.Response().Header().Add("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// wantsFragment reports whether htmx asked for a partial: an htmx request
// that is neither a boosted navigation nor a history restore, both of which
// need the whole page.
func wantsFragment(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" &&
		h.Get("HX-History-Restore-Request") != "true"
}
