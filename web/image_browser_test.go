package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
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
