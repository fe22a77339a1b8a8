package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
)

// pageKinds signs someone up in the tab (with a library, a wallet history
// and a token) and returns one URL of every kind of page, the widest
// content each can hold included.
func pageKinds(t *testing.T, ctx context.Context) (base string, pages []string) {
	t.Helper()
	base, db := startServerDB(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/signup")))
	waitJS(t, ctx, `document.querySelector("#email")`)
	must(t, chromedp.Do(ctx, fill("#email", "wide@example.com"), fill("#password", "correct horse battery"),
		click(`main button[type=submit]`)))
	waitJS(t, ctx, `document.querySelector("#nav-balance")`)
	bg := context.Background()
	u, err := db.FindUserByEmail(bg, "wide@example.com")
	must(t, err)
	_, err = db.Credit(bg, u.ID, 5000, "Top-up for a test")
	must(t, err)
	for _, alias := range []string{"ubuntu/22.04-gpu-ml", "debian/13", "alpine/3.19-nodejs"} {
		img, err := db.FindImageByAlias(bg, alias, "amd64")
		must(t, err)
		if img.Free() {
			must(t, db.Import(bg, u.ID, img.ID))
		} else if _, err := db.Purchase(bg, u.ID, img.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = db.CreateToken(bg, u.ID, "a token with a rather long name for a narrow screen")
	must(t, err)
	long := strings.Repeat("unbrokensearchword", 9)
	return base, []string{
		"/",
		"/?search=" + long,
		"/?os=ubuntu&min_price=-1",
		"/images/" + store.ImageID("ubuntu/22.04-gpu-ml", "amd64"),
		"/images/" + store.ImageID("headjack/dind", "amd64"),
		"/images/" + store.ImageID("alpine/3.19-nodejs", "amd64"),
		"/images/" + store.ImageID("alpine/3.19-nodejs", "amd64") + "/buy",
		"/docs",
		"/docs/api",
		"/docs/variants-and-families",
		"/docs/search?q=" + "architecture mismatch",
		"/docs/search?q=" + long,
		"/docs/no-such-page",
		"/account",
		"/library",
		"/wallet",
		"/images/by-alias/ubuntu/99.99?architecture=amd64",
		"/images/by-alias/not-an-alias-" + long,
		"/images/nosuchimage",
	}
}

// viewport sets the tab's size as a phone or a desktop browser would.
func viewport(width, height int64, mobile bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile})
		return err
	})
}

// Issue 15 item 6: no page is wider than a 320 or 390 px phone.
func TestBrowserNoPageScrollsSideways(t *testing.T) {
	ctx := newTabWith(t, 5*time.Minute, true)
	base, pages := pageKinds(t, ctx)
	for _, width := range []int64{320, 390} {
		must(t, chromedp.Do(ctx, viewport(width, 800, true)))
		for _, p := range pages {
			must(t, chromedp.Do(ctx, chromedp.Navigate(base+p)))
			waitJS(t, ctx, `document.readyState === "complete" && document.querySelector("footer.site")`)
			got := run(t, ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, innerWidth]`))
			if got[0] > got[1] {
				wide := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(-3).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).join("; ")`))
				t.Errorf("%d px: %s is %d px wide: %s", width, p, got[0], wide)
			}
		}
	}
}

// axeSource is axe-core as npm installed it (make assets).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (make assets runs npm ci): %v", err)
	}
	return string(b)
}

type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// Issue 15: axe-core finds nothing to fix on any page, on a phone and on a
// desktop.
func TestBrowserAxeFindsNoViolations(t *testing.T) {
	axe := axeSource(t)
	ctx := newTabWith(t, 5*time.Minute, true)
	base, pages := pageKinds(t, ctx)
	for _, vp := range []struct {
		width, height int64
		mobile        bool
	}{{390, 844, true}, {1280, 900, false}} {
		must(t, chromedp.Do(ctx, viewport(vp.width, vp.height, vp.mobile)))
		for _, p := range pages {
			must(t, chromedp.Do(ctx, chromedp.Navigate(base+p)))
			waitJS(t, ctx, `document.readyState === "complete" && document.querySelector("footer.site")`)
			must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)))
			raw := run(t, ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
				func(p *runtime.EvaluateParams) { p.AwaitPromise = ptrTrue() }))
			var vs []axeViolation
			must(t, json.Unmarshal([]byte(raw), &vs))
			for _, v := range vs {
				var where []string
				for _, n := range v.Nodes[:min(3, len(v.Nodes))] {
					where = append(where, fmt.Sprint(n.Target))
				}
				t.Errorf("%d px %s: %s (%s), %d nodes: %s", vp.width, p, v.ID, v.Help, len(v.Nodes), strings.Join(where, " "))
			}
		}
	}
}

func ptrTrue() *bool { b := true; return &b }

// Issue 15 item 9: on a phone the catalog's results and a docs page's text
// start on the first screen (the filters, the docs' page list and table of
// contents fold behind buttons), and the catalog offers a skip link to the
// results, whose count alone is announced.
func TestBrowserPhoneFirstScreen(t *testing.T) {
	base := startServer(t)
	ctx := newTab(t)
	must(t, chromedp.Do(ctx, viewport(390, 844, true), chromedp.Navigate(base+"/")))
	waitJS(t, ctx, `document.documentElement.classList.contains("js") && document.querySelector("#results .card")`)
	if y := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector("#results-heading").getBoundingClientRect().top`)); y > 844 {
		t.Errorf("the results start at y=%.0f, below the first screen", y)
	}
	if live := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("#results").getAttribute("aria-live") || "") + "|" + document.querySelector("#results-heading").getAttribute("aria-live")`)); live != "|polite" {
		t.Errorf("live regions (results|count): %q", live)
	}
	if href := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("a.skip")].map(a => a.getAttribute("href")).join(",")`)); !strings.Contains(href, "#results") {
		t.Errorf("skip links %q", href)
	}
	// The folded filters open with their button, and still work.
	must(t, chromedp.Do(ctx, click(`button[data-collapse="filter-more"]`)))
	waitJS(t, ctx, `getComputedStyle(document.querySelector("#f-os")).display !== "none" &&
		document.querySelector('button[data-collapse="filter-more"]').getAttribute("aria-expanded") === "true"`)
	must(t, chromedp.Do(ctx, choose("#f-os", "debian")))
	waitURL(t, ctx, "os=debian")
	must(t, chromedp.Do(ctx, htmxIdle))
	waitJS(t, ctx, `getComputedStyle(document.querySelector("#f-os")).display !== "none" &&
		document.querySelector('button[data-collapse="filter-more"]').getAttribute("aria-expanded") === "true"`)

	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/docs/api")))
	waitJS(t, ctx, `document.documentElement.classList.contains("js") && document.querySelector("#doc-title")`)
	if y := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector(".doc-body").getBoundingClientRect().top`)); y > 844 {
		t.Errorf("the docs text starts at y=%.0f, below the first screen", y)
	}
	must(t, chromedp.Do(ctx, click(`button[data-collapse="doc-toc"]`)))
	waitJS(t, ctx, `getComputedStyle(document.querySelector("#doc-toc")).display !== "none"`)
}
