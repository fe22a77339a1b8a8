package web

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The store's count of failed listing index builds is exported as a
// counter, read at each scrape.
func TestMetricsCountListingIndexBuildFailures(t *testing.T) {
	m := NewMetrics()
	var failures atomic.Int64
	m.WatchListingFailures(failures.Load)
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if body := scrape(); !strings.Contains(body, "\nberth_listing_index_build_failures_total 0\n") ||
		!strings.Contains(body, "# TYPE berth_listing_index_build_failures_total counter") {
		t.Fatalf("no failure counter at 0:\n%s", body)
	}
	failures.Add(2)
	if body := scrape(); !strings.Contains(body, "\nberth_listing_index_build_failures_total 2\n") {
		t.Errorf("the counter did not move to 2")
	}
}
