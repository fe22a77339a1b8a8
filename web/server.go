// Package web is Berth's HTTP layer: the Echo router, the page and API
// handlers, the JSON envelope and the mapping of domain errors to statuses.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// Server holds what the handlers need. It has no package-level state, so
// tests can run several servers side by side.
type Server struct {
	store  *store.DB
	assets *static.Assets
	docs   *docs.Site
	logger *slog.Logger
	echo   *echo.Echo
}

// New wires the router. Every dependency is passed in explicitly: site is
// the documentation, loaded once at start, which also renders the images'
// Markdown docs.
func New(db *store.DB, assets *static.Assets, site *docs.Site, logger *slog.Logger) *Server {
	s := &Server{store: db, assets: assets, docs: site, logger: logger, echo: echo.New()}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	// The client address is the peer's: a forwarded header is trivially
	// spoofed and would defeat per-address limits.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}))
	e.Use(middleware.BodyLimit("1M"))
	s.routes()
	return s
}

// Handler is the server's root http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// routes lists every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/", s.handleCatalog)
	e.GET("/images/:id", s.handleImage)
	e.GET("/images/by-alias/*", s.handleImageByAlias)
	e.GET("/docs", s.handleDocsIndex)
	e.GET("/docs/", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs") })
	e.GET("/docs/search", s.handleDocsSearch)
	e.GET("/docs/:slug", s.handleDocsPage)
	e.GET("/static/*", s.handleStatic)
	e.GET("/favicon.svg", s.handleFavicon)
	e.GET("/healthz", s.handleHealth)

	api := e.Group("/api/v1")
	api.GET("/images/public", s.handleAPIListImages)
	api.GET("/images/public/:id", s.handleAPIGetImage)
	api.GET("/images/:id/icon", s.handleIcon)
	// Unknown API paths answer with the envelope, not an HTML page.
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// shell fills the parts of the layout every page shares.
func (s *Server) shell(c echo.Context, title, description string) views.Shell {
	return views.Shell{
		Title:       title,
		Description: description,
		Path:        c.Request().URL.Path,
		Assets: views.Assets{
			CSS:  s.assets.URL("css/berth.css"),
			JS:   s.assets.URL("js/berth.js"),
			HTMX: s.assets.URL("js/htmx.min.js"),
		},
	}
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// logRequests writes one structured line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Let the error handler write the response now so the status is known.
			c.Error(err)
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(c.Request().Context(), level, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		)
		return nil
	}
}
