package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
)

// faultyServer serves the real router behind a switch that fails or holds
// htmx requests on demand, and counts the htmx requests per query.
type faultyServer struct {
	URL    string
	status atomic.Int32 // when not 0, htmx requests get this status
	mu     sync.Mutex
	hold   chan struct{} // when not nil, htmx requests wait for it to close
	seen   map[string]int
}

func startFaultyServer(t *testing.T) *faultyServer {
	t.Helper()
	s, _ := newTestServer(t)
	if !s.assets.Has("js/htmx.min.js") || !s.assets.Has("js/idiomorph.min.js") {
		t.Fatal("htmx or idiomorph is not in static/js: run `make assets` (make test does)")
	}
	f := &faultyServer{seen: map[string]int{}}
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("HX-Request") == "true" && r.URL.Path == "/" {
			f.mu.Lock()
			f.seen[r.URL.RawQuery]++
			hold := f.hold
			f.mu.Unlock()
			if hold != nil {
				select {
				case <-hold:
				case <-r.Context().Done():
					return
				}
			}
			if code := f.status.Load(); code != 0 {
				http.Error(w, "injected failure", int(code))
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// sent counts the htmx requests whose canonical query is q.
func (f *faultyServer) sent(q string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for raw, c := range f.seen {
		v, _ := url.ParseQuery(raw)
		if f, err := store.ParseFilter(v); err == nil && f.Query().Encode() == q {
			n += c
		}
	}
	return n
}

func (f *faultyServer) holdRequests() func() {
	ch := make(chan struct{})
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.hold = nil
		f.mu.Unlock()
		close(ch)
	}
}

func value(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`document.querySelector(`+quoteJS(css)+`).value`))
}

// Issue 15 item 1: typing a search, waiting, then clicking the first result
// lands on its page; leaving the search box does not send the same query
// again.
func TestBrowserSearchThenClickFirstResult(t *testing.T) {
	f := startFaultyServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#results .card"))))
	must(t, chromedp.Do(ctx, fill("#f-search", "redis")))
	waitURL(t, ctx, "search=redis")
	waitJS(t, ctx, `[...document.querySelectorAll("#results .card h3")].length > 0 &&
		[...document.querySelectorAll("#results .card")].every(c => /redis/i.test(c.textContent))`)
	must(t, chromedp.Do(ctx, htmxIdle))
	want := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#results .card h3 a").getAttribute("href")`))
	// The click blurs the search box first, which fires its change event.
	must(t, chromedp.Do(ctx, chromedp.Click(fresh(`#results .card h3 a`))))
	waitURL(t, ctx, want)
	waitJS(t, ctx, `document.querySelector(".image-detail h1")`)
	if n := f.sent("search=redis"); n != 1 {
		t.Errorf("the search was sent %d times, want once", n)
	}
}

// Issue 15 item 2: removing a chip clears its control; Back and Forward
// bring the controls back with the chips and the results.
func TestBrowserChipsAndHistoryKeepTheFormInStep(t *testing.T) {
	f := startFaultyServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#results .card"))))
	must(t, chromedp.Do(ctx, choose("#f-os", "debian")))
	waitURL(t, ctx, "os=debian")
	must(t, chromedp.Do(ctx, htmxIdle, choose("#f-arch", "arm64")))
	waitURL(t, ctx, "os=debian", "architecture=arm64")
	waitJS(t, ctx, `document.querySelectorAll(".chips li").length === 2`)
	must(t, chromedp.Do(ctx, htmxIdle))

	// Remove the OS chip: the OS control follows.
	must(t, chromedp.Do(ctx, click(`.chips a[href*="architecture=arm64"]:not([href*="os="])`)))
	waitJS(t, ctx, `!location.search.includes("os=") && document.querySelectorAll(".chips li").length === 1`)
	must(t, chromedp.Do(ctx, htmxIdle))
	if v := value(t, ctx, "#f-os"); v != "" {
		t.Errorf("after removing the OS chip the OS control shows %q", v)
	}
	if v := value(t, ctx, "#f-arch"); v != "arm64" {
		t.Errorf("architecture control %q, want arm64", v)
	}
	// The next change must not bring the removed filter back.
	must(t, chromedp.Do(ctx, choose("#f-prespawn", "true")))
	loc := waitURL(t, ctx, "prespawn=true")
	if strings.Contains(loc, "os=") {
		t.Errorf("the removed OS filter came back: %s", loc)
	}
	must(t, chromedp.Do(ctx, htmxIdle))

	back(t, ctx)
	waitJS(t, ctx, `location.search === "?architecture=arm64"`)
	waitJS(t, ctx, `document.querySelector("#f-prespawn").value === "" && document.querySelector("#f-arch").value === "arm64"`)
	back(t, ctx)
	waitJS(t, ctx, `location.search.includes("os=debian")`)
	waitJS(t, ctx, `document.querySelector("#f-os").value === "debian" && document.querySelector("#f-arch").value === "arm64" &&
		document.querySelectorAll(".chips li").length === 2`)
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`history.forward()`)))
	waitJS(t, ctx, `location.search === "?architecture=arm64"`)
	waitJS(t, ctx, `document.querySelector("#f-os").value === "" && document.querySelectorAll(".chips li").length === 1`)
}

// Issue 15 item 3: a failed request is reported with a retry and the
// controls go back to what the results show; a slow one is marked busy.
func TestBrowserCatalogFailureAndSlowness(t *testing.T) {
	f := startFaultyServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#results .card"))))
	before := cards(t, ctx)

	for _, code := range []int{500, 503} {
		f.status.Store(int32(code))
		must(t, chromedp.Do(ctx, choose("#f-os", "debian")))
		want := map[int]string{500: "(error 500)", 503: "too busy"}[code]
		waitJS(t, ctx, `document.querySelector("#catalog-alert button.retry") &&
			document.querySelector("#catalog-alert").textContent.includes(`+quoteJS(want)+`)`)
		if role := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#catalog-alert").getAttribute("role")`)); role != "alert" {
			t.Errorf("the error is not announced (role %q)", role)
		}
		if v := value(t, ctx, "#f-os"); v != "" {
			t.Errorf("%d: the OS control shows %q over the old results", code, v)
		}
		if loc := run(t, ctx, chromedp.Location()); strings.Contains(loc, "os=") {
			t.Errorf("%d: the address moved to %s", code, loc)
		}
		if got := cards(t, ctx); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Errorf("%d: the results changed", code)
		}
	}

	// Try again once the server is back.
	f.status.Store(0)
	must(t, chromedp.Do(ctx, click("#catalog-alert button.retry")))
	waitURL(t, ctx, "os=debian")
	waitJS(t, ctx, `document.querySelector("#f-os").value === "debian" && document.querySelector("#catalog-alert").textContent === ""`)
	must(t, chromedp.Do(ctx, htmxIdle))

	// A slow answer: busy, announced as such, and the results stay usable.
	release := f.holdRequests()
	must(t, chromedp.Do(ctx, choose("#f-arch", "arm64")))
	waitJS(t, ctx, `document.querySelector("#results").getAttribute("aria-busy") === "true"`)
	waitJS(t, ctx, `getComputedStyle(document.querySelector("#results .busy")).visibility === "visible" &&
		getComputedStyle(document.querySelector("#results .busy")).display !== "none"`)
	if pe := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#results .card h3 a")).pointerEvents`)); pe == "none" {
		t.Error("the results ignore clicks while a request runs")
	}
	release()
	waitURL(t, ctx, "architecture=arm64")
	waitJS(t, ctx, `!document.querySelector("#results").hasAttribute("aria-busy")`)
}

// Issue 15 item 4: with script, a refused value stays, marked, with a
// message in the control's words.
func TestBrowserRefusedFilterIsShown(t *testing.T) {
	f := startFaultyServer(t)
	ctx := newTab(t)
	// A desktop window: on a narrow one the price fields fold away.
	must(t, chromedp.Do(ctx, viewport(1280, 900, false), chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#results .card"))))
	must(t, chromedp.Do(ctx, fill("#f-min-price", "-5"), click(`#filters button[type=submit]`)))
	waitJS(t, ctx, `document.querySelector("#filter-problem")`)
	if msg := text(t, ctx, "#filter-problem"); !strings.Contains(msg, "Minimum price can't be negative") {
		t.Errorf("message %q", msg)
	}
	if v := value(t, ctx, "#f-min-price"); v != "-5" {
		t.Errorf("refused value shows %q", v)
	}
	if inv := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#f-min-price").getAttribute("aria-invalid")`)); inv != "true" {
		t.Errorf("refused control aria-invalid=%q", inv)
	}
}

// Issue 15 item 4: without script, a submitted form leaves blank fields
// out of the address.
func TestBrowserNoScriptSubmitDropsBlankFields(t *testing.T) {
	base := startServer(t)
	ctx := newTabWithoutJavaScript(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#results .card")),
		chromedp.SetValue(chromedp.CSS("#f-os"), "ubuntu"),
		chromedp.Click(chromedp.CSS(`#filters button[type=submit]`)),
	))
	loc := waitURL(t, ctx, "os=ubuntu")
	if u, _ := url.Parse(loc); u.RawQuery != "os=ubuntu" {
		t.Errorf("address after submitting %s, want just os=ubuntu", loc)
	}
}
