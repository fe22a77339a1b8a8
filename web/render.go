package web

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a component after rendering it into a buffer, so that a
// failure half-way becomes a proper error response instead of a torn page.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	body, err := renderBytes(c.Request().Context(), comp)
	if err != nil {
		return fmt.Errorf("render %s: %w", c.Request().URL.Path, err)
	}
	// The same URL answers with a fragment or a page depending on HX-Request.
	c.Response().Header().Add("Vary", "HX-Request")
	if c.Response().Header().Get("Cache-Control") == "" {
		// Pages may be personal: the browser may keep them but must ask again.
		c.Response().Header().Set("Cache-Control", "private, no-cache")
	}
	return send(c, status, echo.MIMETextHTMLCharsetUTF8, body)
}

// renderBytes renders a component into memory, for writing or caching.
func renderBytes(ctx context.Context, comp templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// send writes a body with a validator: a successful GET carries a weak
// ETag over the bytes, and a client that has them already gets 304 and no
// body. Weak, because compression may change the bytes on the wire.
func send(c echo.Context, status int, contentType string, body []byte) error {
	return sendEncoded(c, status, contentType, body, nil)
}

// sendEncoded is send with the gzip form of body made already, as the
// cache keeps it; nil means compress here when the client takes gzip.
func sendEncoded(c echo.Context, status int, contentType string, body, gz []byte) error {
	req := c.Request()
	c.Response().Header().Add("Vary", "Accept-Encoding")
	if status == http.StatusOK && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		// CRC-32C runs in hardware; with the length it makes a validator
		// that is cheap enough to compute on every answer.
		etag := `W/"` + strconv.FormatUint(uint64(crc32.Checksum(body, castagnoli)), 36) + "-" + strconv.Itoa(len(body)) + `"`
		c.Response().Header().Set("ETag", etag)
		if match := req.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
			return c.NoContent(http.StatusNotModified)
		}
	}
	if len(body) >= minCompress && acceptsGzip(c) {
		if gz == nil {
			gz = gzipBytes(body)
		}
		c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(status, contentType, gz)
	}
	return c.Blob(status, contentType, body)
}

// etagMatches compares an If-None-Match list with an ETag, weakly.
func etagMatches(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == want {
			return true
		}
	}
	return false
}

// wantsFragment reports whether htmx asked for a partial: an htmx request
// that is neither a boosted navigation nor a history restore, both of which
// need the whole page.
func wantsFragment(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" &&
		h.Get("HX-History-Restore-Request") != "true"
}
