package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// Issue 15 item 7: the comparison keeps the current image in view and
// shows only rows some image has; the image's docs come before the ratings
// and the table; a column's link swaps the page in and shows it from its
// title, which has the focus.
func TestBrowserComparisonTable(t *testing.T) {
	base := startServer(t)
	ctx := newTab(t)
	gpu := "/images/" + store.ImageID("ubuntu/22.04-gpu-ml", "amd64")
	standard := "/images/" + store.ImageID("ubuntu/22.04", "amd64")
	must(t, chromedp.Do(ctx, viewport(1280, 900, false), chromedp.Navigate(base+gpu)))
	waitJS(t, ctx, `document.querySelector("#compare th.current")`)

	if in := run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const th = document.querySelector("#compare th.current").getBoundingClientRect();
		const box = document.querySelector("#compare .table-wrap").getBoundingClientRect();
		return th.left >= box.left && th.right <= box.right + 0.5;
	})()`)); !in {
		t.Error("the current image's column is outside the table's box")
	}
	if first := run(t, ctx, chromedp.Evaluate[bool](`!!(document.querySelector("#docs-h").compareDocumentPosition(document.querySelector("#ratings-h")) & Node.DOCUMENT_POSITION_FOLLOWING) &&
		!!(document.querySelector("#ratings-h").compareDocumentPosition(document.querySelector("#compare-h")) & Node.DOCUMENT_POSITION_FOLLOWING)`)); !first {
		t.Error("the image's docs do not come before the ratings and the comparison")
	}
	empty := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#compare tbody tr:not(.group)")].filter(tr =>
		[...tr.querySelectorAll("td")].every(td => ["", "—", "No"].includes(td.textContent.replace(/not listed/g, "").trim()))
	).map(tr => tr.querySelector("th").textContent)`))
	if len(empty) > 0 {
		t.Errorf("rows no image has: %v", empty)
	}

	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__stay = true`)))
	must(t, chromedp.Do(ctx, chromedp.Click(fresh(`#compare thead a[href="`+standard+`"]`))))
	waitURL(t, ctx, standard)
	waitH1(t, ctx, "ubuntu/22.04 amd64")
	must(t, chromedp.Do(ctx, htmxIdle))
	waitJS(t, ctx, `document.activeElement === document.querySelector("#image-detail h1")`)
	top := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector("#image-detail h1").getBoundingClientRect().top`))
	if top < 0 || top > 300 {
		t.Errorf("after the swap the title is at y=%.0f of the window", top)
	}
	if stayed := run(t, ctx, chromedp.Evaluate[bool](`window.__stay === true`)); !stayed {
		t.Error("the page reloaded; the column's link should swap the detail in place")
	}
	if cur := text(t, ctx, "#compare th.current"); !strings.Contains(cur, "standard") {
		t.Errorf("current column %q after the swap", cur)
	}
}

// signUp creates an account through the sign-up form and gives it the
// image with the given alias on amd64.
func signUp(t *testing.T, ctx context.Context, base string, db *sqlite.DB, email, alias string) string {
	t.Helper()
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+"/signup")))
	waitJS(t, ctx, `document.querySelector("#email")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`main button[type=submit]`))))
	waitJS(t, ctx, `document.querySelector("#nav-balance")`)
	u, err := db.FindUserByEmail(context.Background(), email)
	must(t, err)
	id := store.ImageID(alias, "amd64")
	must(t, db.Import(context.Background(), u.ID, id))
	return "/images/" + id
}

// Issue 15 item 8: a rating saved with htmx updates every place that
// shows the rating and says so in a live region; without script, the
// message is on screen after the redirect.
func TestBrowserRatingUpdatesEveryPlace(t *testing.T) {
	base, db := startServerDB(t)
	ctx := newTabWith(t, 90*time.Second, true)
	page := signUp(t, ctx, base, db, "rater@example.com", "ubuntu/24.04")
	must(t, chromedp.Do(ctx, chromedp.Navigate(base+page)))
	waitJS(t, ctx, `document.querySelector(".rate-form") && document.querySelector("#compare-rating")`)
	title := func(css string) string {
		return run(t, ctx, chromedp.Evaluate[string](`document.querySelector(`+quoteJS(css)+`).title`))
	}
	before := title("#acquire-rating")
	must(t, chromedp.Do(ctx, click(`label[for="rate-1"]`), click(".rate-form button")))
	waitJS(t, ctx, `document.querySelector("#rating-status").textContent.includes("saved")`)
	if role := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#rating-status").getAttribute("role")`)); role != "status" {
		t.Errorf("the message is not in a live region (role %q)", role)
	}
	must(t, chromedp.Do(ctx, htmxIdle))
	summary := text(t, ctx, "#rating-count")
	if top := title("#acquire-rating"); top == before || top != summary {
		t.Errorf("top box went from %q to %q; the ratings section says %q", before, top, summary)
	}
	if cell, want := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#compare-rating").title`)), summary; cell != want {
		t.Errorf("comparison cell says %q, want %q", cell, want)
	}

	// Without script: the form posts, the page comes back with the message
	// in view.
	noJS := newTabWith(t, 60*time.Second, true)
	must(t, chromedp.Do(noJS, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})))
	page = signUp(t, noJS, base, db, "plain@example.com", "debian/13")
	must(t, chromedp.Do(noJS, viewport(390, 700, true), chromedp.Navigate(base+page)))
	waitJS(t, noJS, `document.querySelector(".rate-form")`)
	must(t, chromedp.Do(noJS, chromedp.Click(chromedp.CSS(`label[for="rate-4"]`)), chromedp.Click(chromedp.CSS(".rate-form button"))))
	waitJS(t, noJS, `document.querySelector(".flash")`)
	if !strings.Contains(text(t, noJS, ".flash"), "saved") {
		t.Errorf("flash %q", text(t, noJS, ".flash"))
	}
	waitJS(t, noJS, `(() => { const r = document.querySelector(".flash").getBoundingClientRect(); return r.top >= -1 && r.bottom <= innerHeight; })()`)
}
