package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// libraryImageJSON is an image in the caller's library with how and when
// it was acquired and what was paid.
type libraryImageJSON struct {
	imageJSON
	AcquiredVia string  `json:"acquired_via"`
	AcquiredAt  string  `json:"acquired_at"`
	PricePaid   float64 `json:"price_paid"`
}

// handleAPILibrary is GET /api/v1/images/user.
func (s *Server) handleAPILibrary(c echo.Context) error {
	items, err := s.store.Library(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	out := make([]libraryImageJSON, len(items))
	for i, it := range items {
		out[i] = libraryImageJSON{
			imageJSON:   newImageJSON(it.Image, s.life()),
			AcquiredVia: it.How,
			AcquiredAt:  it.AcquiredAt.UTC().Format(time.RFC3339),
			PricePaid:   store.CentsToUSD(it.PriceCents),
		}
	}
	return ok(c, "", map[string]any{"images": out})
}

// handleAPIImport is POST /api/v1/images/import/{id}.
func (s *Server) handleAPIImport(c echo.Context) error {
	if err := s.store.Import(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return nameTheCall(err, c.Param("id"))
	}
	s.count(func(m *Metrics) { m.imports.Inc() })
	return ok(c, "Free image imported successfully", struct{}{})
}

// handleAPIPurchase is POST /api/v1/images/purchase/{id}. An optional
// Idempotency-Key makes a retried request answer with the first result.
func (s *Server) handleAPIPurchase(c echo.Context) error {
	key := strings.TrimSpace(c.Request().Header.Get("Idempotency-Key"))
	expected, err := parsePurchaseBody(c.Request().Body)
	if err != nil {
		return err
	}
	res, err := s.purchase(c, key, expected)
	if err != nil {
		return nameTheCall(err, c.Param("id"))
	}
	if res.IdempotentReplay {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return ok(c, "Image purchased successfully", map[string]float64{
		"price_paid":        store.CentsToUSD(res.PricePaidCents),
		"remaining_balance": store.CentsToUSD(res.RemainingCents),
	})
}

// parsePurchaseBody reads the optional body of a purchase,
// {"expected_price": 15} in USD like the API's price field: the price the
// client agreed to pay. No body, or no expected_price, buys at the current
// price.
func parsePurchaseBody(r io.Reader) (*int64, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return nil, fmt.Errorf("read purchase body: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var body struct {
		ExpectedPrice json.RawMessage `json:"expected_price"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, store.Invalid("body", `The body must be JSON such as {"expected_price": 15}, or empty.`)
	}
	if len(body.ExpectedPrice) == 0 || string(body.ExpectedPrice) == "null" {
		return nil, nil
	}
	cents, err := store.ParseUSD("expected_price", string(body.ExpectedPrice))
	if err != nil {
		return nil, err
	}
	return &cents, nil
}

// handleAPIRate is POST /api/v1/images/rate/{id} with {"rating": 0..5}.
func (s *Server) handleAPIRate(c echo.Context) error {
	rating, err := parseRatingBody(c.Request().Body)
	if err != nil {
		return err
	}
	sum, err := s.store.Rate(c.Request().Context(), currentUser(c).ID, c.Param("id"), rating)
	if err != nil {
		return err
	}
	s.count(func(m *Metrics) { m.ratings.Inc() })
	return ok(c, "Rating saved", map[string]any{
		"rating":         sum.Rating,
		"average_rating": sum.Average(),
		"rating_count":   sum.RatingCount,
	})
}

// parseRatingBody reads {"rating": n} and insists on a whole number 0–5:
// 4.5, "4", true and null are all refused with a message naming rating.
func parseRatingBody(r io.Reader) (int, error) {
	bad := store.Invalid("rating", `rating must be a whole number from 0 to 5, sent as JSON: {"rating": 4}`)
	var body struct {
		Rating json.RawMessage `json:"rating"`
	}
	if err := json.NewDecoder(io.LimitReader(r, 4096)).Decode(&body); err != nil {
		return 0, bad
	}
	// Only a bare JSON integer: strconv refuses "4.5", `"4"`, true and null.
	n, err := strconv.Atoi(string(body.Rating))
	if err != nil || n < store.MinRating || n > store.MaxRating {
		return 0, bad
	}
	return n, nil
}

// handleAPIBalances is GET /api/v1/wallet/balances.
func (s *Server) handleAPIBalances(c echo.Context) error {
	bal, err := s.store.Balance(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	type balance struct {
		Currency string  `json:"currency"`
		Amount   float64 `json:"amount"`
	}
	return ok(c, "", map[string]any{
		"balances": []balance{{Currency: store.Currency, Amount: store.CentsToUSD(bal)}},
	})
}

// nameTheCall adds the API call to use to the refusal of importing a paid
// image or buying a free one; the store says what is wrong, only the API
// knows its own routes.
func nameTheCall(err error, id string) error {
	var e *store.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, store.ErrNeedsPurchase):
		return &store.Error{Code: e.Code, Param: e.Param, Err: e.Err,
			Message: strings.TrimSuffix(e.Message, ".") + ": POST /api/v1/images/purchase/" + id + "."}
	case errors.Is(err, store.ErrNeedsImport):
		return &store.Error{Code: e.Code, Param: e.Param, Err: e.Err,
			Message: strings.TrimSuffix(e.Message, ".") + ": POST /api/v1/images/import/" + id + "."}
	}
	return err
}
