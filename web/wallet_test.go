package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

func TestAPIWalletRedeemAndHistory(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	_, token := member(t, db, "ada@example.com", 0)
	codes, err := db.CreateVouchers(ctx, 5000, 3, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	r := api(t, s, "POST", "/api/v1/wallet/redeem", token, `{"code": "`+codes[0]+`"}`)
	if r.status != http.StatusOK || r.env.Message != "Voucher redeemed" || string(r.env.Data) != `{"credited":50,"remaining_balance":50}` {
		t.Fatalf("redeem: %d %s %s", r.status, r.env.Message, r.env.Data)
	}
	// The same code again: a conflict that says so, and no second credit.
	r = api(t, s, "POST", "/api/v1/wallet/redeem", token, `{"code": "`+codes[0]+`"}`)
	if r.status != http.StatusConflict || !strings.Contains(r.env.Message, "already been redeemed") {
		t.Fatalf("second redeem: %d %s", r.status, r.env.Message)
	}
	for _, body := range []string{``, `{}`, `{"code": 5}`, `{"code": "nope"}`, `{"code": "BERTH-0000-0000-0000-0000-0000"}`} {
		r = api(t, s, "POST", "/api/v1/wallet/redeem", token, body)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.env.Data), `"param":"code"`) {
			t.Errorf("body %q: %d %s %s", body, r.status, r.env.Message, r.env.Data)
		}
	}
	if r := api(t, s, "POST", "/api/v1/wallet/redeem", "", `{"code": "`+codes[1]+`"}`); r.status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", r.status)
	}
	r = api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, "")
	if r.status != http.StatusOK {
		t.Fatalf("purchase: %d %s", r.status, r.env.Message)
	}

	r = api(t, s, "GET", "/api/v1/wallet/history", token, "")
	var hist struct {
		History []struct {
			Kind     string  `json:"kind"`
			Amount   float64 `json:"amount"`
			Currency string  `json:"currency"`
			ImageID  string  `json:"image_id"`
			Memo     string  `json:"memo"`
			Created  string  `json:"created_at"`
		} `json:"history"`
	}
	if err := json.Unmarshal(r.env.Data, &hist); err != nil || r.status != http.StatusOK {
		t.Fatalf("history: %d %s %v", r.status, r.env.Data, err)
	}
	h := hist.History
	if len(h) != 2 || h[0].Kind != "purchase" || h[0].Amount != -15 || h[0].ImageID != paidImage ||
		h[1].Kind != "credit" || h[1].Amount != 50 || h[1].Currency != "USD" || !strings.Contains(h[1].Memo, "Voucher") {
		t.Fatalf("history %+v", h)
	}
	if _, err := time.Parse(time.RFC3339, h[0].Created); err != nil {
		t.Fatalf("created_at %q", h[0].Created)
	}
}

// TestRedeemRateLimit: guessing codes stops after a few tries per account.
func TestRedeemRateLimit(t *testing.T) {
	s, db := newTestServer(t)
	_, token := member(t, db, "ada@example.com", 0)
	var last apiResult
	for range redeemLimit + 1 {
		last = api(t, s, "POST", "/api/v1/wallet/redeem", token, `{"code": "`+store.NewVoucherCode()+`"}`)
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("attempt %d answered %d, want 429", redeemLimit+1, last.status)
	}
}

func TestWalletPageRedeem(t *testing.T) {
	s, db := newTestServer(t)
	codes, err := db.CreateVouchers(context.Background(), 2550, 1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	_, doc := b.get("/wallet")
	if doc.Find(`form[action="/wallet/redeem"] input[name=code]`).Length() != 1 {
		t.Fatal("the wallet page has no redeem form")
	}
	csrf := csrfFrom(t, doc)

	// A wrong code: the page again, the reason beside the form, the code kept.
	resp, doc := b.post("/wallet/redeem", url.Values{"_csrf": {csrf}, "code": {"BERTH-1234"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#redeem-problem").Text(), "not a voucher code") {
		t.Fatalf("wrong code: %d %q", resp.StatusCode, doc.Find("#redeem-problem").Text())
	}
	if v, _ := doc.Find("#voucher-code").Attr("value"); v != "BERTH-1234" {
		t.Fatalf("typed code not kept: %q", v)
	}

	resp, _ = b.post("/wallet/redeem", url.Values{"_csrf": {csrf}, "code": {codes[0]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/wallet" {
		t.Fatalf("redeem: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = b.get("/wallet")
	if got := doc.Find(".balance strong").Text(); got != "$25.50" {
		t.Fatalf("balance %q after redeeming", got)
	}
	if !strings.Contains(doc.Text(), "Added $25.50 from the voucher") {
		t.Fatal("no message after redeeming")
	}
	resp, doc = b.post("/wallet/redeem", url.Values{"_csrf": {csrf}, "code": {codes[0]}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(doc.Find("#redeem-problem").Text(), "already been redeemed") {
		t.Fatalf("used code: %d", resp.StatusCode)
	}
}
