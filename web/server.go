// Package web is Berth's HTTP layer: the Echo router, the page and API
// handlers, the JSON envelope and the mapping of domain errors to statuses.
package web

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// Options are the operator's choices for a server.
type Options struct {
	// SignupOpen lets visitors create accounts; operators can close it and
	// create accounts with `berth user create`.
	SignupOpen bool
	// TrustProxy believes X-Forwarded-Proto from a reverse proxy that ends TLS.
	TrustProxy bool
	// SessionKeys sign session cookies, newest first (32 or 64 bytes each).
	SessionKeys [][]byte
	// Metrics receives request and business counters; nil turns them off.
	Metrics *Metrics
	// MetricsOnMainAddr serves /metrics on the main listener, where anyone
	// who reaches the server can read it: only when the operator asks (see
	// berth serve --metrics).
	MetricsOnMainAddr bool
	// APIRate and PurchaseRate are per-minute limits per account of token
	// calls and of purchases; 0 means the default, below 0 no limit.
	APIRate, PurchaseRate int
	// PublicURL is the address people reach the server at (such as
	// https://berth.example.com); every snippet and the registry's token
	// realm use it. Empty: the request's own scheme and host.
	PublicURL string
	// Blobs is the blob store the registry serves content from; nil turns
	// the registry off.
	Blobs Blobs
	// AnonymousPull lets anyone pull free images without signing in.
	AnonymousPull bool
	// PullThrough, when set, fetches images with no loaded content from
	// their upstream pull_ref on first pull.
	PullThrough PullThrough
	// Now is the server's clock, which judges images' support and scans'
	// age; nil means time.Now. Tests fix it.
	Now func() time.Time
	// StaleScan is the age past which an image's last scan is flagged as
	// stale; 0 means store.DefaultStaleScan, below 0 no flag.
	StaleScan time.Duration
}

// Server holds what the handlers need. It has no package-level state, so
// tests can run several servers side by side.
type Server struct {
	store    store.Store
	assets   *static.Assets
	docs     *docs.Site
	logger   *slog.Logger
	opts     Options
	sessions *sessionStore
	csrfKeys [][]byte // see csrf.go
	// registryKey signs the registry's bearer tokens (see registry_auth.go).
	registryKey []byte
	limits      limits
	// redeemLimit bounds voucher attempts per account.
	redeemLimit *limiter
	metrics     *Metrics
	cache       *resultCache
	images      *lru[*imageData] // the shared parts of image pages, see imageShared
	// docsCache holds the images' rendered docs bodies, one per image and
	// catalog generation (see imageDocs); renderDocs renders one, and a
	// page waits at most docsWait for it.
	docsCache  *resultCache
	renderDocs func(markdown string) (string, error)
	docsWait   time.Duration
	work       gate // turns for uncached work, see cached
	// The filter choices of the latest catalog generation (see facets).
	facetMemo struct {
		mu     sync.Mutex
		ready  bool
		gen    int64
		facets store.Facets
	}
	echo *echo.Echo
	// routePaths are the registered route patterns, the only values the
	// route label of the metrics takes.
	routePaths map[string]bool
	// openapi is the API's description as an answer (ETag, compression).
	openapi *answer
}

// docsCacheBytes bounds the cache of rendered image docs: a few hundred
// typical bodies, or dozens of the largest a catalog may hold.
const docsCacheBytes = 2 << 20

// docsWait is how long a page waits for an image's docs to render before
// it shows the rest without them (the render carries on, for the next
// view), well inside the request's deadline.
const docsWait = 2 * time.Second

// resultCacheBytes bounds the cache of rendered results and API answers:
// over a hundred catalog pages, or a thousand API pages.
const resultCacheBytes = 4 << 20

// New wires the router. Every dependency is passed in explicitly: site is
// the documentation, loaded once at start, which also renders the images'
// Markdown docs.
func New(db store.Store, assets *static.Assets, site *docs.Site, logger *slog.Logger, opts Options) *Server {
	s := &Server{store: db, assets: assets, docs: site, logger: logger, opts: opts,
		limits: newLimits(opts.APIRate, opts.PurchaseRate), redeemLimit: newLimiter(redeemLimit, redeemWindow), metrics: opts.Metrics, cache: newResultCache(resultCacheBytes), images: newImageCache(), work: newGate(runtime.GOMAXPROCS(0)), echo: echo.New(), openapi: newAnswer(OpenAPI)}
	s.docsCache, s.renderDocs, s.docsWait = newResultCache(docsCacheBytes), site.Render, docsWait
	if shared, ok := db.(store.SharedLimiter); ok {
		// Several instances on one database count their requests together.
		s.limits.share(shared)
		s.redeemLimit.share(shared, "redeem")
	}
	s.sessions = newSessionStore(db, opts.SessionKeys, s.isSecure)
	s.csrfKeys = csrfKeys(opts.SessionKeys)
	s.registryKey = registryKey(opts.SessionKeys)
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	// The client address is the peer's: a forwarded header is trivially
	// spoofed and would defeat per-address limits. Behind a trusted proxy
	// (on loopback or a private network) its X-Forwarded-For is believed.
	e.IPExtractor = echo.ExtractIPDirect()
	if opts.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.HTTPErrorHandler = s.handleError
	e.Pre(answerHead)
	// A request that cannot finish in time gives up instead of holding a
	// connection; database calls see the deadline through the context. It
	// wraps the logger, whose error handling must see the same context.
	e.Use(middleware.ContextTimeout(15 * time.Second))
	e.Use(s.logRequests)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}))
	e.Use(s.securityHeaders)
	e.Use(middleware.BodyLimit("1M"))
	// Pages and API answers are compressed where they are written (see
	// sendEncoded), so cached ones are compressed once; this middleware
	// covers the static files.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{MinLength: minCompress, Level: gzip.BestSpeed,
		Skipper: func(c echo.Context) bool { return !strings.HasPrefix(c.Request().URL.Path, "/static/") }}))
	e.Use(s.csrf)
	s.routes()
	s.routePaths = map[string]bool{}
	for _, r := range e.Routes() {
		s.routePaths[r.Path] = true
	}
	return s
}

// now reads the server's clock (Options.Now).
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// life is what pages need to judge support and stale scans as of now.
func (s *Server) life() views.Lifecycle {
	age := s.opts.StaleScan
	if age == 0 {
		age = store.DefaultStaleScan
	}
	return views.Lifecycle{Now: s.now(), StaleScan: age}
}

// Handler is the server's root http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// routes lists every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/static/*", s.handleStatic)
	e.GET("/favicon.svg", s.handleFavicon)
	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/feed.atom", s.handleCatalogFeed)
	e.GET("/feeds/:key", s.handlePersonalFeed)
	if s.metrics != nil && s.opts.MetricsOnMainAddr {
		e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()))
	}

	// Pages know who is signed in; some need someone to be.
	page := e.Group("", s.loadUser)
	page.GET("/", s.handleCatalog)
	page.GET("/images/:id", s.handleImage)
	page.GET("/images/by-alias/*", s.handleImageByAlias)
	page.GET("/docs", s.handleDocsIndex)
	page.GET("/docs/", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs") })
	page.GET("/docs/search", s.handleDocsSearch)
	page.GET("/docs/:slug", s.handleDocsPage)
	page.GET("/signup", s.handleSignupForm)
	page.POST("/signup", s.handleSignup)
	page.GET("/login", s.handleLoginForm)
	page.POST("/login", s.handleLogin)
	page.POST("/logout", s.handleLogout)

	// Route middleware, not a group's: a group's middleware would also
	// wrap the group's catch-all, turning every unknown path into a log-in.
	signedIn := s.requireUser
	page.POST("/images/:id/import", s.handleImport, signedIn)
	page.GET("/images/:id/buy", s.handleBuyForm, signedIn)
	page.POST("/images/:id/purchase", s.handlePurchase, signedIn)
	page.POST("/images/:id/rate", s.handleRate, signedIn)
	page.GET("/library", s.handleLibrary, signedIn)
	page.GET("/wallet", s.handleWallet, signedIn)
	page.POST("/wallet/redeem", s.handleRedeem, signedIn)
	page.GET("/account", s.handleAccount, signedIn)
	page.POST("/account/tokens", s.handleCreateToken, signedIn)
	page.GET("/account/tokens/:token/revoke", s.handleRevokeTokenForm, signedIn)
	page.POST("/account/tokens/:token/revoke", s.handleRevokeToken, signedIn)
	page.POST("/account/sessions/end-others", s.handleEndOtherSessions, signedIn)
	page.POST("/account/password", s.handleChangePassword, signedIn)
	page.POST("/account/pull-keys", s.handleCreatePullKey, signedIn)
	page.POST("/account/pull-keys/:key/revoke", s.handleRevokePullKey, signedIn)
	page.POST("/account/feed", s.handleCreateFeedKey, signedIn)
	page.POST("/account/feed/revoke", s.handleRevokeFeedKey, signedIn)

	api := e.Group("/api/v1")
	api.GET("/openapi.json", s.handleOpenAPI)
	api.GET("/images/public", s.handleAPIListImages)
	api.GET("/images/public/:id", s.handleAPIGetImage)
	api.GET("/images/:id/icon", s.handleIcon)

	token := s.requireToken
	api.GET("/images/user", s.handleAPILibrary, token)
	api.POST("/images/import/:id", s.handleAPIImport, token)
	api.POST("/images/purchase/:id", s.handleAPIPurchase, token)
	api.POST("/images/rate/:id", s.handleAPIRate, token)
	api.GET("/wallet/balances", s.handleAPIBalances, token)
	api.GET("/wallet/history", s.handleAPIWalletHistory, token)
	api.POST("/wallet/redeem", s.handleAPIRedeem, token)

	// Unknown API paths answer with the envelope, not an HTML page.
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })

	// The registry (OCI Distribution Spec, pull side); see registry.go.
	if s.opts.Blobs != nil {
		e.GET("/v2", s.handleRegistryBase)
		e.GET("/v2/", s.handleRegistryBase)
		e.GET("/v2/token", s.handleRegistryToken)
		e.Any("/v2/*", s.handleRegistry)

		// Simplestreams for Incus and LXD: free images for everyone, and
		// a personal remote per pull key; see streams.go.
		e.GET("/streams/v1/:file", s.handleStreams)
		e.GET("/streams/files/:fp/:name", s.handleStreamFile)
		e.GET("/u/:key/streams/v1/:file", s.handleStreams)
		e.GET("/u/:key/streams/files/:fp/:name", s.handleStreamFile)
	}
}

// shell fills the parts of the layout every page shares: assets, the
// signed-in user with their balance, the CSRF token and a pending message.
func (s *Server) shell(c echo.Context, title, description string) views.Shell {
	sh := views.Shell{
		Title:       title,
		Description: description,
		Path:        c.Request().URL.Path,
		Assets: views.Assets{
			CSS:  s.assets.URL("css/berth.css"),
			JS:   s.assets.URL("js/berth.js"),
			HTMX: s.assets.URL("js/htmx.min.js"),
			// Morphing needs htmx; without it the page stands alone.
			Morph: s.assets.URL("js/idiomorph.min.js"),
		},
		SignupOpen: s.opts.SignupOpen,
		Flash:      s.takeFlash(c),
	}
	sh.CSRF = s.csrfFor(c)
	if u := currentUser(c); u != nil {
		sh.User = &views.ShellUser{Email: u.Email}
		if bal, err := s.store.Balance(c.Request().Context(), u.ID); err == nil {
			sh.User.BalanceCents = bal
		}
	}
	return sh
}

// handleHealth is /healthz: the process is up.
func (s *Server) handleHealth(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// handleReady is /readyz: the database answers.
func (s *Server) handleReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.Error("readiness check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
