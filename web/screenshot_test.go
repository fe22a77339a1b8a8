package web

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/berth/berth/store"
)

// TestScreenshots writes the screenshots in docs/screenshots (the catalog
// and an image page, at 1280 and 390 px) when BERTH_SCREENSHOTS is set:
// `make screenshots` runs it after the pages change.
func TestScreenshots(t *testing.T) {
	if os.Getenv("BERTH_SCREENSHOTS") == "" {
		t.Skip("set BERTH_SCREENSHOTS=1 (make screenshots) to write docs/screenshots")
	}
	base := startServer(t)
	ctx := newTabWith(t, 2*time.Minute, true)
	dir := filepath.Join("..", "docs", "screenshots")
	must(t, os.MkdirAll(dir, 0o755))
	pages := map[string]string{
		"catalog": "/",
		"image":   "/images/" + store.ImageID("headjack/dind", "amd64"),
	}
	for _, vp := range []struct {
		width, height int64
		mobile        bool
	}{{1280, 900, false}, {390, 844, true}} {
		must(t, chromedp.Do(ctx, viewport(vp.width, vp.height, vp.mobile)))
		for name, path := range pages {
			must(t, chromedp.Do(ctx, chromedp.Navigate(base+path)))
			waitJS(t, ctx, `document.readyState === "complete" && [...document.images].every(i => i.complete || i.getBoundingClientRect().top > innerHeight)`)
			must(t, chromedp.Do(ctx, htmxIdle))
			png := run(t, ctx, chromedp.CaptureScreenshot())
			file := filepath.Join(dir, name+"-"+map[bool]string{false: "1280", true: "390"}[vp.mobile]+".png")
			must(t, os.WriteFile(file, png, 0o644))
			t.Logf("wrote %s (%d bytes)", file, len(png))
		}
	}
}
