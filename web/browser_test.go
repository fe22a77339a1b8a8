package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// The browser tests share one Chromium per test package (a launch costs
// over a second) and open a tab per test.
var browserOnce struct {
	sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browserOnce.cancel != nil {
		browserOnce.cancel()
	}
	if templateDB.dir != "" {
		os.RemoveAll(templateDB.dir)
	}
	os.Exit(code)
}

// newTab opens a tab in the shared headless Chromium. Without a browser the
// test is skipped on a workstation and fails in CI, where .ci/run installs it.
func newTab(t *testing.T) context.Context {
	t.Helper()
	return newTabWith(t, 60*time.Second, false)
}

// newTabWith opens a tab with its own time limit; an isolated tab has a
// browser context of its own, so its cookies are not shared with others.
func newTabWith(t *testing.T, limit time.Duration, isolated bool) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are skipped in -short mode")
	}
	browserOnce.Do(func() {
		path, err := exec.LookPath("chromium")
		if err != nil {
			browserOnce.err = "chromium not found on PATH (apt-get install chromium)"
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-pings", true),
			chromedp.Flag("no-first-run", true),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil {
			browserOnce.err = "start chromium: " + err.Error()
		}
		browserOnce.ctx = ctx
		browserOnce.cancel = func() { cancelBrowser(); cancelAlloc() }
	})
	if browserOnce.err != "" {
		if os.Getenv("CI") != "" {
			t.Fatal(browserOnce.err)
		}
		t.Skip(browserOnce.err)
	}
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	tab, cancelTab := chromedp.NewContext(browserOnce.ctx, opts...)
	tab, cancelTime := context.WithTimeout(tab, limit)
	t.Cleanup(func() { cancelTime(); cancelTab() })
	return tab
}

// newTabWithoutJavaScript opens a tab whose pages run no script at all, to
// check that every page works as plain HTML.
func newTabWithoutJavaScript(t *testing.T) context.Context {
	t.Helper()
	ctx := newTab(t)
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	return ctx
}

// startServer serves the real router on loopback for the browser.
func startServer(t *testing.T) string {
	t.Helper()
	url, _ := startServerDB(t)
	return url
}

// startServerDB is startServer that also hands back the database.
func startServerDB(t *testing.T) (string, *sqlite.DB) {
	t.Helper()
	s, db := newTestServer(t)
	if !s.assets.Has("js/htmx.min.js") {
		t.Fatal("htmx is not in static/js: run `make assets` (make test does)")
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	must(t, err)
	return v
}

// choose picks an option in a select the way a person does: the value
// changes and a change event bubbles, which is what htmx listens for.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](`document.querySelector(`+quoteJS(sel)+
				`).dispatchEvent(new Event("change", {bubbles: true}))`)(ctx, t)
			return err
		}),
	)
}

func quoteJS(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// cards returns "alias|arch" for every card on the page.
func cards(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#results .card")].map(c => c.querySelector("h3").textContent.trim() + "|" + c.querySelector(".arch").textContent.trim())`))
}

// waitJS waits until a JavaScript condition holds. The page itself checks
// it on every animation frame and answers the moment it holds, so the wait
// lasts as long as the condition takes and is bounded only by the tab's
// deadline, not a fixed poll. Each check runs in the page as it is now and
// gives up after a second: a page replaced by a navigation, or restored
// from the back-forward cache (which chromedp's own Poll does not follow),
// gets a check of its own on the next round.
func waitJS(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	// The condition is evaluated from Go every 20 ms rather than awaited
	// in the page: a tab with script disabled (the no-JS tests) never runs
	// the page's animation-frame or timer callbacks, so a promise that
	// waits in the page would not settle until the tab's deadline.
	check := `(() => { try { return !!(` + cond + `); } catch (e) { return false; } })()`
	var err error
	for ctx.Err() == nil {
		var ok bool
		if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](check)); err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("waited in vain for %s (last error: %v)", cond, err)
}

// waitURL waits until the page's address contains every one of contains,
// and returns it.
func waitURL(t *testing.T, ctx context.Context, contains ...string) string {
	t.Helper()
	var cond []string
	for _, c := range contains {
		cond = append(cond, "location.href.includes("+quoteJS(c)+")")
	}
	waitJS(t, ctx, strings.Join(cond, " && "))
	return run(t, ctx, chromedp.Location())
}

// fresh selects an element through JavaScript at the moment of use. htmx
// replaces nodes under chromedp's cached DOM tree, so CSS lookups through
// that tree can hit nodes that no longer exist.
func fresh(css string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector(` + quoteJS(css) + `)`)
}

// htmxIdle waits until htmx has no request in flight and has settled its
// last swap, so the nodes a test touches next are the final ones.
var htmxIdle = chromedp.Poll[chromedp.Void](
	`!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`)

func TestBrowserFilterAndOpenImage(t *testing.T) {
	base := startServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#results .card")),
	))
	before := cards(t, ctx)
	if len(before) != 20 {
		t.Fatalf("first page shows %d cards", len(before))
	}
	// A marker on window survives htmx swaps but not a page load.
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`window.__stay = true`)(ctx, tg)
		return err
	})))

	must(t, chromedp.Do(ctx, choose("#f-os", "debian")))
	waitURL(t, ctx, "os=debian")
	must(t, chromedp.Do(ctx, htmxIdle, choose("#f-arch", "arm64")))
	loc := waitURL(t, ctx, "os=debian", "architecture=arm64")
	must(t, chromedp.Do(ctx, chromedp.Poll[chromedp.Void](
		`[...document.querySelectorAll("#results .card .arch")].every(a => a.textContent.trim() === "arm64")`), htmxIdle))

	got := cards(t, ctx)
	if len(got) == 0 {
		t.Fatal("no results for debian arm64")
	}
	for _, c := range got {
		if !strings.HasPrefix(c, "debian/") || !strings.HasSuffix(c, "|arm64") {
			t.Errorf("card %s does not match os=debian architecture=arm64", c)
		}
	}
	if stayed := run(t, ctx, chromedp.Evaluate[bool](`window.__stay === true`)); !stayed {
		t.Error("the page reloaded; htmx should have swapped the results in place")
	}
	heading := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#results-heading").textContent`))
	if !strings.Contains(heading, " images") {
		t.Errorf("result count %q", heading)
	}

	// Open the first result and see its page.
	first := strings.Split(got[0], "|")[0]
	must(t, chromedp.Do(ctx, chromedp.Click(fresh(`#results .card h3 a`))))
	waitURL(t, ctx, "/images/")
	waitJS(t, ctx, `document.querySelector(".image-detail h1")`)
	h1 := run(t, ctx, chromedp.Evaluate[string](`document.querySelector(".image-detail h1").textContent`))
	if !strings.Contains(h1, first) || !strings.Contains(h1, "arm64") {
		t.Errorf("detail heading %q, want %s on arm64", h1, first)
	}

	// Back to the filtered catalog. history.back() rather than NavigateBack,
	// which waits for a load event that a back-forward cache restore never fires.
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`history.back()`)(ctx, tg)
		return err
	})))
	if back := waitURL(t, ctx, "os=debian"); back != loc {
		t.Errorf("back at %s, want %s", back, loc)
	}
	// Poll rather than WaitVisible: chromedp's DOM tracking misses a page
	// restored from the back-forward cache, and Poll fails on a navigation.
	waitJS(t, ctx, `document.querySelectorAll("#results .card").length > 0`)
	if v := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#f-os").value`)); v != "debian" {
		t.Errorf("after going back the OS filter shows %q", v)
	}
}

func TestBrowserFilterWithoutJavaScript(t *testing.T) {
	base := startServer(t)
	ctx := newTabWithoutJavaScript(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#results .card")),
		chromedp.SetValue(chromedp.CSS("#f-os"), "ubuntu"),
		chromedp.SetValue(chromedp.CSS("#f-arch"), "amd64"),
		chromedp.Click(chromedp.CSS(`#filters button[type=submit]`)),
	))
	waitURL(t, ctx, "os=ubuntu", "architecture=amd64")
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#results .card"))))
	got := cards(t, ctx)
	if len(got) == 0 {
		t.Fatal("no results for ubuntu amd64")
	}
	for _, c := range got {
		if !strings.HasPrefix(c, "ubuntu/") || !strings.HasSuffix(c, "|amd64") {
			t.Errorf("card %s does not match os=ubuntu architecture=amd64", c)
		}
	}
	// htmx never ran: no htmx request classes or globals.
	if htmx := run(t, ctx, chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)); htmx {
		t.Error("scripts ran although JavaScript is disabled")
	}
	must(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#results .card h3 a")),
		chromedp.WaitVisible(chromedp.CSS(".image-detail h1")),
	))
	waitURL(t, ctx, "/images/")
}

// fill types into a field the way a person does.
func fill(css, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(fresh(css), text)
}

// click presses an element found at the moment of the click.
func click(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(fresh(css))
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return strings.Join(strings.Fields(run(t, ctx, chromedp.Evaluate[string](
		`(document.querySelector(`+quoteJS(css)+`) || {textContent: ""}).textContent`))), " ")
}

// TestBrowserAccountJourney walks the whole account story: sign up, log
// out and in, import a free image, buy a paid one and watch the balance
// fall, rate it and watch the average move, find both in the library, and
// log out.
func TestBrowserAccountJourney(t *testing.T) {
	base, db := startServerDB(t)
	ctx := newTab(t)
	free := "/images/" + store.ImageID("debian/13", "amd64")
	paid := "/images/" + store.ImageID("alpine/3.19-nodejs", "amd64") // $4.99

	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/signup")))
	waitJS(t, ctx, `document.querySelector("#email")`)
	must(t, chromedp.Do(ctx, fill("#email", "ada@example.com"), fill("#password", "correct horse battery"),
		click(`main button[type=submit]`)))
	waitJS(t, ctx, `document.querySelector("#nav-balance")`)

	// The operator tops the wallet up.
	u, err := db.FindUserByEmail(context.Background(), "ada@example.com")
	must(t, err)
	_, err = db.Credit(context.Background(), u.ID, 2000, "Top-up")
	must(t, err)

	must(t, chromedp.Do(ctx, click(`form.logout button`)))
	waitJS(t, ctx, `document.querySelector('a[href="/login"]')`)
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+free)))
	waitJS(t, ctx, `document.querySelector("#acquire a.button")`)
	if got := text(t, ctx, "#acquire a.button"); got != "Log in to import" {
		t.Errorf("anonymous button %q", got)
	}
	must(t, chromedp.Do(ctx, click("#acquire a.button")))
	waitJS(t, ctx, `document.querySelector("#email")`)
	must(t, chromedp.Do(ctx, fill("#email", "ada@example.com"), fill("#password", "correct horse battery"),
		click(`main button[type=submit]`)))
	waitURL(t, ctx, free) // back where we were

	waitJS(t, ctx, `document.querySelector("#acquire button")`)
	must(t, chromedp.Do(ctx, click("#acquire button")))
	waitJS(t, ctx, `document.querySelector("#acquire .owned")`)
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "Imported") {
		t.Errorf("flash after import %q", got)
	}

	must(t, chromedp.Do(ctx, chromedp.Navigate(base+paid)))
	waitJS(t, ctx, `document.querySelector("#buy")`)
	if got := text(t, ctx, "#buy"); got != "Buy for $4.99 — balance after $15.01" {
		t.Errorf("buy button %q", got)
	}
	must(t, chromedp.Do(ctx, click("#buy")))
	waitJS(t, ctx, `document.querySelector("main form[action$='/purchase'] button")`)
	must(t, chromedp.Do(ctx, click("main form[action$='/purchase'] button")))
	waitJS(t, ctx, `document.querySelector("#acquire .owned")`)
	if got := text(t, ctx, "#nav-balance"); got != "Wallet $15.01" {
		t.Errorf("balance in the header after buying: %q", got)
	}

	// Rate 5 stars with htmx; the average changes in place.
	before := text(t, ctx, "#rating-count")
	must(t, chromedp.Do(ctx, click(`label[for="rate-5"]`), htmxIdle, click(".rate-form button"), htmxIdle))
	waitJS(t, ctx, `document.querySelector("#ratings .big").textContent.trim() === "5.0"`)
	if after := text(t, ctx, "#rating-count"); after == before || !strings.Contains(after, "5.0") {
		t.Errorf("rating summary went from %q to %q", before, after)
	}

	must(t, chromedp.Do(ctx, click(`a[href="/library"]`)))
	waitJS(t, ctx, `document.querySelector("table.library-table")`)
	lib := text(t, ctx, "table.library-table tbody")
	if !strings.Contains(lib, "debian/13") || !strings.Contains(lib, "alpine/3.19-nodejs") {
		t.Errorf("library shows %q", lib)
	}

	must(t, chromedp.Do(ctx, click(`form.logout button`)))
	waitJS(t, ctx, `document.querySelector('a[href="/login"]')`)
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "logged out") {
		t.Errorf("flash after log-out %q", got)
	}
}

// h1 reads the detail heading as it is now.
func h1(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`(document.querySelector(".image-detail h1") || {textContent: ""}).textContent.replace(/\s+/g, " ").trim()`))
}

// waitH1 waits until the detail heading is exactly want.
func waitH1(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitJS(t, ctx, `(document.querySelector(".image-detail h1") || {textContent: ""}).textContent.replace(/\s+/g, " ").trim() === `+quoteJS(want))
	if got := h1(t, ctx); got != want {
		t.Fatalf("heading %q, want %q", got, want)
	}
}

func back(t *testing.T, ctx context.Context) {
	t.Helper()
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`history.back()`)(ctx, tg)
		return err
	})))
}

func TestBrowserVariantChooser(t *testing.T) {
	base := startServer(t)
	ctx := newTab(t)
	standard := "/images/" + store.ImageID("ubuntu/24.04", "amd64")
	minimal := "/images/" + store.ImageID("ubuntu/24.04-minimal", "amd64")
	minimalArm := "/images/" + store.ImageID("ubuntu/24.04-minimal", "arm64")

	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+standard),
		chromedp.WaitVisible(chromedp.CSS("#chooser")),
	))
	waitH1(t, ctx, "ubuntu/24.04 amd64")
	must(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[chromedp.Void](`window.__stay = true`)(ctx, tg)
		return err
	})))

	// Switch to minimal: the URL, the heading, the title and the chooser follow.
	must(t, chromedp.Do(ctx, chromedp.Click(fresh("#choose-variant-minimal"))))
	waitURL(t, ctx, minimal)
	waitH1(t, ctx, "ubuntu/24.04-minimal amd64")
	must(t, chromedp.Do(ctx, htmxIdle))
	if title := run(t, ctx, chromedp.Evaluate[string](`document.title`)); title != "ubuntu/24.04-minimal (amd64) · Berth" {
		t.Errorf("title %q", title)
	}
	if cur := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#chooser-variants [aria-current=page]").textContent`)); cur != "minimal" {
		t.Errorf("current variant %q", cur)
	}
	if g := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#guidance h3").textContent`)); !strings.Contains(g, "minimal") {
		t.Errorf("guidance %q", g)
	}

	// Then to arm64.
	must(t, chromedp.Do(ctx, chromedp.Click(fresh("#choose-arch-arm64"))))
	waitURL(t, ctx, minimalArm)
	waitH1(t, ctx, "ubuntu/24.04-minimal arm64")
	must(t, chromedp.Do(ctx, htmxIdle))
	if desk := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#choose-variant-desktop").tagName`)); desk == "A" {
		t.Error("desktop is a link on arm64")
	}
	if stayed := run(t, ctx, chromedp.Evaluate[bool](`window.__stay === true`)); !stayed {
		t.Error("the page reloaded; the chooser should swap the detail in place")
	}

	// Back twice: minimal on amd64, then the standard image.
	back(t, ctx)
	if loc := waitURL(t, ctx, minimal); !strings.HasSuffix(loc, minimal) {
		t.Errorf("back at %s", loc)
	}
	waitH1(t, ctx, "ubuntu/24.04-minimal amd64")
	back(t, ctx)
	if loc := waitURL(t, ctx, standard); !strings.HasSuffix(loc, standard) {
		t.Errorf("back at %s", loc)
	}
	waitH1(t, ctx, "ubuntu/24.04 amd64")

	// From the detail page to the docs it quotes.
	must(t, chromedp.Do(ctx, htmxIdle, chromedp.Click(fresh("#guidance .more a"))))
	waitURL(t, ctx, "/docs/variants-and-families")
	waitJS(t, ctx, `document.querySelector("h1") && document.querySelector("h1").textContent === "Variants and families"`)
	if loc := run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/docs/variants-and-families#standard") {
		t.Errorf("docs link went to %s", loc)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".toc a").length`)); n == 0 {
		t.Error("the docs page has no table of contents")
	}
}

func TestBrowserVariantChooserWithoutJavaScript(t *testing.T) {
	base := startServer(t)
	ctx := newTabWithoutJavaScript(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/images/"+store.ImageID("ubuntu/24.04", "amd64")),
		chromedp.WaitVisible(chromedp.CSS("#chooser")),
		chromedp.Click(chromedp.CSS("#choose-variant-cloud")),
	))
	waitURL(t, ctx, "/images/"+store.ImageID("ubuntu/24.04-cloud", "amd64"))
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#choose-arch-arm64"))))
	waitH1(t, ctx, "ubuntu/24.04-cloud amd64")
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#choose-arch-arm64"))))
	waitURL(t, ctx, "/images/"+store.ImageID("ubuntu/24.04-cloud", "arm64"))
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#chooser"))))
	waitH1(t, ctx, "ubuntu/24.04-cloud arm64")
}

// TestBrowserSupportFilterAndSuccessor: choosing "Support ended" swaps in
// only ended images, each badged, with the feed link following the query;
// an ended card's successor link opens the successor's page.
func TestBrowserSupportFilterAndSuccessor(t *testing.T) {
	base := startServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/?os=alpine&limit=50"),
		chromedp.WaitVisible(chromedp.CSS("#results .card")),
	))
	must(t, chromedp.Do(ctx, choose("#f-support", "ended")))
	waitURL(t, ctx, "support=ended")
	must(t, chromedp.Do(ctx, htmxIdle))
	waitJS(t, ctx, `[...document.querySelectorAll("#results .card")].length > 0 && [...document.querySelectorAll("#results .card")].every(c => c.querySelector(".badge.support-ended"))`)
	feed := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#results a.feed-link").getAttribute("href")`))
	if !strings.Contains(feed, "support=ended") || !strings.Contains(feed, "os=alpine") {
		t.Errorf("feed link %q does not follow the query", feed)
	}
	must(t, chromedp.Do(ctx, chromedp.Click(fresh(`#results .card .successor a`))))
	waitURL(t, ctx, "/images/")
	waitJS(t, ctx, `document.querySelector(".image-detail h1")`)
	if h := h1(t, ctx); !strings.Contains(h, "alpine/3.19") {
		t.Errorf("the successor link opened %q", h)
	}
}
