package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a server's Prometheus collectors, in a registry of their own
// rather than the library's global one, so servers in tests stay apart.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	purchases *prometheus.CounterVec
	imports   prometheus.Counter
	ratings   prometheus.Counter
	cache     *prometheus.CounterVec
	pulls     *prometheus.CounterVec
	refusals  *prometheus.CounterVec
}

// NewMetrics registers Berth's collectors with Go runtime and process ones.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		purchases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_purchases_total", Help: "Purchases by outcome: paid, owned (charged nothing), refused.",
		}, []string{"outcome"}),
		imports: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_imports_total", Help: "Successful imports of free images."}),
		ratings: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_ratings_total", Help: "Ratings saved."}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_cache_requests_total", Help: "Catalog cache lookups by result: hit or miss.",
		}, []string{"result"}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_pulls_total", Help: "Images pulled, by protocol (oci: the registry, incus: simplestreams) and price (free, paid).",
		}, []string{"protocol", "price"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_registry_errors_total", Help: "Registry answers that were errors, by OCI error code.",
		}, []string{"code"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.purchases, m.imports, m.ratings, m.cache, m.pulls, m.refusals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchListings exports the state of the store's listing index: whether it
// serves listings, and how long its last build took.
func (m *Metrics) WatchListings(status func() (bool, time.Duration)) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "berth_listing_index_ready", Help: "1 when catalog listings come from the in-memory index, 0 while it builds.",
		}, func() float64 {
			if ready, _ := status(); ready {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "berth_listing_index_build_seconds", Help: "How long the last build of the listing index took.",
		}, func() float64 {
			_, took := status()
			return took.Seconds()
		}))
}

// WatchListingFailures exports how many builds of the listing index
// failed (each is logged with its cause by the store).
func (m *Metrics) WatchListingFailures(failures func() int64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "berth_listing_index_build_failures_total", Help: "Builds of the in-memory listing index that failed.",
	}, func() float64 { return float64(failures()) }))
}

// pulled counts one image pulled.
func (m *Metrics) pulled(protocol string, free bool) {
	price := "paid"
	if free {
		price = "free"
	}
	m.pulls.WithLabelValues(protocol, price).Inc()
}

// registryRefused counts a registry error by its code, one of the few the
// registry writes.
func (m *Metrics) registryRefused(code string) { m.refusals.WithLabelValues(code).Inc() }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observe records one finished request. Every label comes from a bounded
// set, never from the client: the route is a registered pattern (never the
// raw path, so ids do not explode the number of series), the method one of
// HTTP's own or "other", the status a three-digit code.
func (m *Metrics) observe(route, method string, status int, took time.Duration) {
	code := "other"
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

// methodLabel is a request method as a metric label: a made-up method
// would otherwise become a series of its own on every request.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// routeLabel is the route pattern that answered, or "unmatched" when it is
// not one of the server's registered patterns.
func (s *Server) routeLabel(c echo.Context) string {
	if route := c.Path(); route != "" && s.routePaths[route] {
		return route
	}
	return "unmatched"
}
