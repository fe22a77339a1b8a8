package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows only our own scripts, styles and images: no
// inline script, no eval (htmx is configured for that), no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets strict headers on every response; HSTS only when the
// client came over TLS, since it would lock out a plain-HTTP install.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.isSecure(c.Request()) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		// htmx puts HX-Push-Url in the address bar; a refused query is
		// echoed there so it can be corrected, but a huge one (68 KB was
		// seen) is better left out than sent back in a header.
		c.Response().Before(func() {
			if len(h.Get("HX-Push-Url")) > maxPushURL {
				h.Del("HX-Push-Url")
			}
			// Whatever is answered to someone signed in may be personal
			// (library, wallet, tokens, balance in the header): no cache,
			// the browser's included, keeps a copy.
			if currentUser(c) != nil {
				h.Set("Cache-Control", "no-store")
			}
		})
		return next(c)
	}
}

// maxPushURL is the longest HX-Push-Url sent: 2 KB, as long as URLs that
// every browser and proxy keep.
const maxPushURL = 2048

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// logRequests gives each request an id (a sane incoming X-Request-ID is
// kept, so ids can follow a request through a proxy), echoes it in the
// response, writes one structured log line per request and feeds the
// metrics.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.Set("request_id", id)
		if err := next(c); err != nil {
			// Let the error handler write the response now so the status is known.
			c.Error(err)
		}
		took := time.Since(start)
		status := c.Response().Status
		if gone, _ := c.Get(ctxGone).(bool); gone {
			status = statusClientClosed
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(c.Request().Context(), level, "request",
			slog.String("id", id),
			slog.String("method", requestMethod(c)),
			slog.String("path", redactPath(c.Request().URL.Path)),
			slog.Int("status", status),
			slog.Duration("duration", took),
			slog.String("ip", c.RealIP()),
		)
		if s.metrics != nil {
			s.metrics.observe(s.routeLabel(c), methodLabel(requestMethod(c)), status, took)
		}
		return nil
	}
}
