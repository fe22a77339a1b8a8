package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// imageDetail gathers everything the detail page shows for the viewer: the
// shared parts from the image page cache (see imageShared), and the
// viewer's own (owned, their rating, their balance) read afresh.
func (s *Server) imageDetail(c echo.Context, id string) (views.ImageDetail, error) {
	ctx := c.Request().Context()
	var d views.ImageDetail
	shared, err := s.imageShared(ctx, id)
	if err != nil {
		return d, err
	}
	img := shared.image
	d = views.ImageDetail{
		Shell:     s.shell(c, fmt.Sprintf("%s (%s)", img.Alias, img.Architecture), img.Description),
		Image:     img,
		Siblings:  shared.siblings,
		Lineage:   shared.lineage,
		Histogram: shared.histogram,
		Guidance:  shared.guidance,
		Life:      s.life(),
	}
	// The docs have a cache of their own, under the generation the shared
	// parts were read at, and a page waits for them only so long.
	if d.DocsHTML, d.DocsPending, err = s.imageDocs(ctx, img, shared.gen); err != nil {
		return d, err
	}
	d.Pull = s.pullInfo(c)
	if d.Pull.Served, err = s.serves(ctx, img); err != nil {
		return d, err
	}
	if u := currentUser(c); u != nil {
		d.Viewer.SignedIn = true
		if d.Viewer.Owned, err = s.store.Owns(ctx, u.ID, img.ID); err != nil {
			return d, err
		}
		if d.Viewer.BalanceCents, err = s.store.Balance(ctx, u.ID); err != nil {
			return d, err
		}
		if d.Viewer.Rating, d.Viewer.Rated, err = s.store.UserRating(ctx, u.ID, img.ID); err != nil {
			return d, err
		}
	}
	return d, nil
}

// imageDocs is the image's docs body as HTML. Rendering Markdown can take
// seconds on hostile input (store.MaxDocs bounds it), so each body is
// rendered once per image and catalog generation, by one request however
// many want it, in a turn of s.work like any uncached work. A page waits
// for it at most s.docsWait and within its own deadline: past that it is
// shown without the docs (pending), while the render finishes for the
// next view.
func (s *Server) imageDocs(ctx context.Context, img *store.Image, gen int64) (html string, pending bool, err error) {
	if img.Docs == "" {
		return "", false, nil
	}
	wait, cancel := context.WithTimeout(ctx, s.docsWait)
	defer cancel()
	docs := img.Docs
	a, err := s.cachedIn(s.docsCache, wait, "docs|"+img.ID, gen, "", func() ([]byte, error) {
		h, err := s.renderDocs(docs)
		if err != nil {
			return nil, fmt.Errorf("render docs of %s: %w", img.ID, err)
		}
		return []byte(h), nil
	})
	switch {
	case err == nil:
		return string(a.body), false, nil
	case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return "", true, nil
	}
	return "", false, err
}

// handleImage is GET /images/{id}: one image in full, with the chooser for
// its variants and architectures. The chooser's htmx requests get just the
// detail article and the URL to push, so switching happens in place.
func (s *Server) handleImage(c echo.Context) error {
	d, err := s.imageDetail(c, c.Param("id"))
	if err != nil {
		return err
	}
	if wantsFragment(c) {
		c.Response().Header().Set("HX-Push-Url", views.ImageURL(d.Image))
		return s.render(c, http.StatusOK, views.ImageDetailFragment(d))
	}
	return s.render(c, http.StatusOK, views.ImagePage(d))
}

// handleImport is POST /images/{id}/import.
func (s *Server) handleImport(c echo.Context) error {
	id := c.Param("id")
	if err := s.store.Import(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.count(func(m *Metrics) { m.imports.Inc() })
	s.setFlash(c, "Imported: the image is in your library.")
	return s.redirect(c, "/images/"+id)
}

// handleBuyForm is GET /images/{id}/buy: the confirmation before paying.
func (s *Server) handleBuyForm(c echo.Context) error {
	b, err := s.buyPage(c)
	if err != nil {
		return err
	}
	if b.Image.Free() {
		return c.Redirect(http.StatusSeeOther, views.ImageURL(b.Image))
	}
	if owned, err := s.store.Owns(c.Request().Context(), currentUser(c).ID, b.Image.ID); err != nil {
		return err
	} else if owned {
		s.setFlash(c, "This image is already in your library.")
		return c.Redirect(http.StatusSeeOther, views.ImageURL(b.Image))
	}
	if b.BalanceCents < b.Image.PriceCents {
		b.Problem = fmt.Sprintf("Your balance of %s does not cover the price. Add funds by redeeming a voucher on your wallet page first.", views.Money(b.BalanceCents))
	}
	return s.render(c, http.StatusOK, views.BuyConfirmPage(b))
}

func (s *Server) buyPage(c echo.Context) (views.BuyPage, error) {
	var b views.BuyPage
	img, err := s.store.FindImage(c.Request().Context(), c.Param("id"))
	if err != nil {
		return b, err
	}
	bal, err := s.store.Balance(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return b, err
	}
	return views.BuyPage{Shell: s.shell(c, "Buy "+img.Alias, ""), Image: img, BalanceCents: bal}, nil
}

// handlePurchase is POST /images/{id}/purchase: the confirmed purchase.
// The confirmation form carries the price it showed (expected_price), and
// only that price is charged: when the price changed in between, or the
// form did not say, the confirmation page comes back with the current
// price and asks again.
func (s *Server) handlePurchase(c echo.Context) error {
	var res store.PurchaseResult
	shown, err := parseExpectedPrice(c.FormValue("expected_price"))
	if err == nil {
		res, err = s.purchase(c, "", &shown)
	}
	if err != nil {
		p := s.classify(err)
		if p.status >= 500 || p.status == http.StatusNotFound || p.status == http.StatusTooManyRequests {
			return err
		}
		b, berr := s.buyPage(c)
		if berr != nil {
			return berr
		}
		b.Problem = p.message
		return s.render(c, p.status, views.BuyConfirmPage(b))
	}
	if res.AlreadyOwned {
		s.setFlash(c, "This image was already in your library; nothing was charged.")
	} else {
		s.setFlash(c, fmt.Sprintf("Purchased for %s. Your balance is now %s.", views.Money(res.PricePaidCents), views.Money(res.RemainingCents)))
	}
	return c.Redirect(http.StatusSeeOther, "/images/"+c.Param("id"))
}

// handleRate is POST /images/{id}/rate from the stars form. htmx gets the
// refreshed ratings section; a plain form gets the page again.
func (s *Server) handleRate(c echo.Context) error {
	id := c.Param("id")
	rating, err := strconv.Atoi(c.FormValue("rating"))
	if err == nil {
		if _, err = s.store.Rate(c.Request().Context(), currentUser(c).ID, id, rating); err == nil {
			s.count(func(m *Metrics) { m.ratings.Inc() })
		}
	} else {
		err = store.Invalid("rating", "Choose from 0 to 5 stars.")
	}
	status := http.StatusOK
	var problem string
	if err != nil {
		p := s.classify(err)
		if p.status >= 500 || p.status == http.StatusNotFound {
			return err
		}
		status, problem = p.status, p.message
	}
	if !wantsFragment(c) && err == nil {
		// The message is where the page opens, at the top of the content.
		s.setFlash(c, "Thanks, your rating is saved.")
		return c.Redirect(http.StatusSeeOther, "/images/"+id+"#flash")
	}
	d, derr := s.imageDetail(c, id)
	if derr != nil {
		return derr
	}
	d.Problem = problem
	if wantsFragment(c) {
		if err == nil {
			return s.render(c, status, views.RatingSaved(d, fmt.Sprintf("Thanks, your rating of %d %s is saved.", rating, stars(rating))))
		}
		return s.render(c, status, views.RatingSection(d))
	}
	return s.render(c, status, views.ImagePage(d))
}

// handleLibrary is GET /library.
func (s *Server) handleLibrary(c echo.Context) error {
	ctx := c.Request().Context()
	items, err := s.store.Library(ctx, currentUser(c).ID)
	if err != nil {
		return err
	}
	l := views.Library{Shell: s.shell(c, "Library", ""), Items: items, Pull: s.pullInfo(c), Served: map[string]bool{}}
	for _, it := range items {
		if l.Served[it.Image.ID], err = s.serves(ctx, it.Image); err != nil {
			return err
		}
	}
	if l.LastPulled, err = s.store.LastPulls(ctx, currentUser(c).ID); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.LibraryPage(l))
}

// purchase buys the image named in the path for the signed-in user, within
// the per-account purchase limit, and counts the outcome.
// With expectedCents it charges only that price (see
// store.PurchaseAtPrice).
func (s *Server) purchase(c echo.Context, idemKey string, expectedCents *int64) (store.PurchaseResult, error) {
	u := currentUser(c)
	if err := s.limits.purchase.check(strconv.FormatInt(u.ID, 10), "purchases from this account"); err != nil {
		return store.PurchaseResult{}, err
	}
	var res store.PurchaseResult
	var err error
	if expectedCents != nil {
		res, err = s.store.PurchaseAtPrice(c.Request().Context(), u.ID, c.Param("id"), idemKey, *expectedCents)
	} else {
		res, err = s.store.Purchase(c.Request().Context(), u.ID, c.Param("id"), idemKey)
	}
	s.count(func(m *Metrics) {
		switch {
		case err != nil:
			m.purchases.WithLabelValues("refused").Inc()
		case res.PricePaidCents > 0 && !res.IdempotentReplay:
			m.purchases.WithLabelValues("paid").Inc()
		default:
			m.purchases.WithLabelValues("owned").Inc()
		}
	})
	return res, err
}

// count updates metrics when the server has them.
func (s *Server) count(f func(*Metrics)) {
	if s.metrics != nil {
		f(s.metrics)
	}
}

func stars(n int) string {
	if n == 1 {
		return "star"
	}
	return "stars"
}

// parseExpectedPrice reads the price a buy confirmation showed, in USD.
func parseExpectedPrice(v string) (int64, error) {
	if v == "" {
		return 0, store.Invalid("expected_price", "This confirmation did not say which price it showed. Check the price below and confirm again.")
	}
	return store.ParseUSD("expected_price", v)
}

// pullInfo is the public address snippets use.
func (s *Server) pullInfo(c echo.Context) views.Pull {
	return views.Pull{Host: s.registryHost(c), Base: s.publicBase(c)}
}

// serves reports whether the registry serves img: its content is loaded,
// or pull-through will fetch it from its pull_ref.
func (s *Server) serves(ctx context.Context, img *store.Image) (bool, error) {
	if s.opts.Blobs == nil {
		return false, nil
	}
	if s.opts.PullThrough != nil && img.PullRef != "" {
		return true, nil
	}
	_, err := s.store.FindBuild(ctx, img.ID, store.ContentOCI)
	if store.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
