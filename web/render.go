package web

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"sync"

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

// renderPool keeps buffers grown to a page's size, for renders and their
// gzip forms, so neither regrows one from nothing each time.
var renderPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// renderBytes renders a component into memory, for writing or caching. The
// bytes are the caller's, exactly the size of the body.
func renderBytes(ctx context.Context, comp templ.Component) ([]byte, error) {
	buf := renderPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 { // an outsized page's buffer is left to the GC
			renderPool.Put(buf)
		}
	}()
	if err := comp.Render(ctx, buf); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// answer is a body ready to send: its bytes, their validator, and their
// compressed forms, each made on first need. Cached answers are shared by
// every request for them, so each is checksummed and compressed once.
type answer struct {
	body    []byte
	etag    string
	gzOnce  sync.Once
	gz      []byte
	zstOnce sync.Once
	zst     []byte
}

// newAnswer makes an answer of body. Its validator is a weak ETag (weak
// because compression changes the bytes on the wire): CRC-32C, which runs
// in hardware, and the length.
func newAnswer(body []byte) *answer {
	return &answer{body: body, etag: `W/"` + strconv.FormatUint(uint64(crc32.Checksum(body, castagnoli)), 36) +
		"-" + strconv.Itoa(len(body)) + `"`}
}

// encoded returns the body in a content coding from encodingFor.
func (a *answer) encoded(coding string) []byte {
	switch coding {
	case "gzip":
		a.gzOnce.Do(func() { a.gz = gzipBytes(a.body) })
		return a.gz
	case "zstd":
		a.zstOnce.Do(func() { a.zst = zstdBytes(a.body) })
		return a.zst
	}
	return a.body
}

// send writes a body with a validator: a successful GET carries an ETag,
// and a client that has the body already gets 304 and no body.
func send(c echo.Context, status int, contentType string, body []byte) error {
	return sendAnswer(c, status, contentType, newAnswer(body))
}

// sendAnswer is send for an answer made already, such as a cached one.
func sendAnswer(c echo.Context, status int, contentType string, a *answer) error {
	req := c.Request()
	h := c.Response().Header()
	h["Vary"] = append(h["Vary"], "Accept-Encoding")
	if status == http.StatusOK && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		h["Etag"] = []string{a.etag}
		if match := req.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
			return c.NoContent(http.StatusNotModified)
		}
	}
	body := a.body
	if coding := encodingFor(c); coding != "" && len(a.body) >= minCompress {
		h[echo.HeaderContentEncoding] = []string{coding}
		body = a.encoded(coding)
	}
	// The whole body is known, so its length is sent up front rather than
	// the body chunked.
	h[echo.HeaderContentLength] = []string{strconv.Itoa(len(body))}
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
