package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// handleStatic serves embedded assets. A URL whose ?v= matches the file's
// hash may be cached for a year, since a new build gives a new URL.
func (s *Server) handleStatic(c echo.Context) error {
	name := path.Clean(strings.TrimPrefix(c.Param("*"), "/"))
	if !s.assets.Has(name) {
		return echo.ErrNotFound
	}
	body, err := fs.ReadFile(s.assets.FS(), name)
	if err != nil {
		return err
	}
	hash := s.assets.Hash(name)
	if c.QueryParam("v") == hash {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
	}
	return serveBytes(c, name, hash, body)
}

// handleIcon is GET /api/v1/images/{id}/icon: the drawing of the image's OS.
func (s *Server) handleIcon(c echo.Context) error {
	img, err := s.store.FindImage(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	name, body, err := s.assets.Icon(img.OS)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=86400")
	// An SVG opened on its own must not run anything.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	return serveBytes(c, name, s.assets.Hash(name), body)
}

func (s *Server) handleFavicon(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return serveBytes(c, "favicon.svg", "favicon1", []byte(favicon))
}

const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="5" fill="#0b6e78"/><path d="M4 15h16l-2.2 4.5H6.2z" fill="#fff"/><path d="M8 13V8h3.5v5M13 13V5h3.5v8" fill="none" stroke="#fff" stroke-width="1.8"/></svg>`

// serveBytes writes an asset with a strong ETag, answering 304 when the
// client already has it; the content type follows the name's extension.
func serveBytes(c echo.Context, name, hash string, body []byte) error {
	c.Response().Header().Set("ETag", `"`+hash+`"`)
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(body))
	return nil
}
