package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// Voucher redemptions allowed per account, pages and API together: enough
// for a person with a handful of codes and a few typos, far too few to
// guess a 100-bit code.
const (
	redeemLimit  = 10
	redeemWindow = 10 * time.Minute
)

// walletPage renders the wallet with the redeem form as given.
func (s *Server) walletPage(c echo.Context, status int, form views.RedeemForm) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	bal, err := s.store.Balance(ctx, u.ID)
	if err != nil {
		return err
	}
	ledger, err := s.store.Ledger(ctx, u.ID)
	if err != nil {
		return err
	}
	return s.render(c, status, views.WalletPage(views.Wallet{Shell: s.shell(c, "Wallet", ""),
		BalanceCents: bal, Ledger: ledger, Redeem: form}))
}

// handleWallet is GET /wallet: the balance, the redeem form and the history.
func (s *Server) handleWallet(c echo.Context) error {
	return s.walletPage(c, http.StatusOK, views.RedeemForm{})
}

// handleRedeem is POST /wallet/redeem, the form on the wallet page. A code
// that cannot be redeemed shows the page again with the reason beside the
// form and what was typed kept.
func (s *Server) handleRedeem(c echo.Context) error {
	code := c.FormValue("code")
	res, err := s.redeem(c, code)
	if err != nil {
		if store.ErrorCode(err) == store.EINTERNAL && !isTooMany(err) {
			return err
		}
		p := s.classify(err)
		if len(code) > 64 {
			code = code[:64]
		}
		return s.walletPage(c, p.status, views.RedeemForm{Code: code, Error: p.message})
	}
	s.setFlash(c, fmt.Sprintf("Added %s from the voucher. Your balance is now %s.",
		views.Money(res.CreditedCents), views.Money(res.BalanceCents)))
	return c.Redirect(http.StatusSeeOther, "/wallet")
}

// handleAPIRedeem is POST /api/v1/wallet/redeem with {"code": "..."}.
func (s *Server) handleAPIRedeem(c echo.Context) error {
	var body struct {
		Code *string `json:"code"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 4096)).Decode(&body); err != nil || body.Code == nil {
		return store.Invalid("code", `Send the voucher code as JSON: {"code": "BERTH-…"}.`)
	}
	res, err := s.redeem(c, *body.Code)
	if err != nil {
		return err
	}
	return ok(c, "Voucher redeemed", map[string]any{
		"credited":          store.CentsToUSD(res.CreditedCents),
		"remaining_balance": store.CentsToUSD(res.BalanceCents),
	})
}

// redeem applies the per-account limit, then redeems the code.
func (s *Server) redeem(c echo.Context, code string) (store.Redemption, error) {
	u := currentUser(c)
	if err := s.redeemLimit.check(strconv.FormatInt(u.ID, 10), "voucher attempts from this account"); err != nil {
		return store.Redemption{}, err
	}
	return s.store.RedeemVoucher(c.Request().Context(), u.ID, code)
}

func isTooMany(err error) bool {
	var tm *tooManyError
	return errors.As(err, &tm)
}

// handleAPIWalletHistory is GET /api/v1/wallet/history: every change of the
// caller's balance, newest first, as the wallet page shows it.
func (s *Server) handleAPIWalletHistory(c echo.Context) error {
	ledger, err := s.store.Ledger(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	type entry struct {
		ID           int64   `json:"id"`
		Kind         string  `json:"kind"`
		Amount       float64 `json:"amount"`
		Currency     string  `json:"currency"`
		ImageID      string  `json:"image_id,omitempty"`
		Alias        string  `json:"alias,omitempty"`
		Architecture string  `json:"architecture,omitempty"`
		Memo         string  `json:"memo"`
		CreatedAt    string  `json:"created_at"`
	}
	out := make([]entry, 0, len(ledger))
	for _, e := range ledger {
		out = append(out, entry{ID: e.ID, Kind: e.Kind, Amount: store.CentsToUSD(e.AmountCents), Currency: store.Currency,
			ImageID: e.ImageID, Alias: e.ImageAlias, Architecture: e.ImageArch, Memo: e.Memo,
			CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339)})
	}
	return ok(c, "", map[string]any{"history": out})
}
