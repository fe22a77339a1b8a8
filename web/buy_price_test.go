package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// buyForm is what the confirmation page's purchase form submits.
func buyForm(t *testing.T, doc *goquery.Document) url.Values {
	t.Helper()
	form := doc.Find(`form[action$="/purchase"]`)
	if form.Length() != 1 {
		t.Fatalf("no purchase form on the page: %q", doc.Find("main").Text())
	}
	v := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		v.Set(name, val)
	})
	return v
}

// setPrice changes an image's price the way an operator does: a catalog
// import of the exported catalog with that one price edited.
func setPrice(t *testing.T, db *sqlite.DB, id string, usd float64) {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	if err := db.ExportCatalog(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	var f store.CatalogFile
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Images {
		if f.Images[i].ID == id {
			f.Images[i].Price = usd
		}
	}
	b, _ := json.Marshal(f)
	if res, err := db.ImportCatalog(ctx, bytes.NewReader(b)); err != nil || res.Updated != 1 {
		t.Fatalf("reprice %s: %+v, %v", id, res, err)
	}
}

// TestBuyIsBoundToTheShownPrice: a confirmation page shown at $4.99 and
// confirmed after the price went to $9 charges nothing; the page comes
// back (409) with the new price and asks again, and confirming that
// charges $9. Before, the old confirmation charged the new price. A
// confirmation that names no price is asked again too.
func TestBuyIsBoundToTheShownPrice(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	u, _ := db.FindUserByEmail(ctx, "ada@example.com")
	db.Credit(ctx, u.ID, 2000, "test")

	_, doc := b.get("/images/" + cheapImage + "/buy")
	form := buyForm(t, doc)
	if form.Get("expected_price") != "4.99" {
		t.Errorf("the form carries expected_price %q, want 4.99", form.Get("expected_price"))
	}
	setPrice(t, db, cheapImage, 9)

	resp, doc := b.post("/images/"+cheapImage+"/purchase", form)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("confirming the old price: status %d, want 409", resp.StatusCode)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 2000 {
		t.Fatalf("balance %d after confirming the old price, want 2000 (nothing charged)", bal)
	}
	if owned, _ := db.Owns(ctx, u.ID, cheapImage); owned {
		t.Fatal("the image was bought at a price nobody confirmed")
	}
	alert := doc.Find(".alert").Text()
	if !strings.Contains(alert, "$9") || !strings.Contains(alert, "$4.99") {
		t.Errorf("alert %q should give the new and the old price", alert)
	}
	again := buyForm(t, doc)
	if again.Get("expected_price") != "9" || !strings.Contains(doc.Find(`form[action$="/purchase"] button`).Text(), "$9.00") {
		t.Errorf("the page asks again with expected_price %q, button %q; want 9 / $9.00", again.Get("expected_price"), doc.Find("form button").Text())
	}

	// A form that says no price is asked again, nothing charged.
	noPrice := url.Values{"_csrf": {again.Get("_csrf")}}
	if resp, doc := b.post("/images/"+cheapImage+"/purchase", noPrice); resp.StatusCode != http.StatusBadRequest || buyForm(t, doc).Get("expected_price") != "9" {
		t.Errorf("no expected_price: status %d, want 400 and the confirmation again", resp.StatusCode)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 2000 {
		t.Fatalf("balance %d, want 2000", bal)
	}

	resp, _ = b.post("/images/"+cheapImage+"/purchase", again)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming the new price: status %d", resp.StatusCode)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 1100 {
		t.Errorf("balance %d, want 1100 (charged $9)", bal)
	}
}

// TestAPIPurchaseExpectedPrice: {"expected_price": ...} in USD, the unit of
// the API's price field, is a 409 with the envelope (data.param and the
// current price) when the price differs, charging nothing; an equal price
// buys; no body buys at the current price as before; and an
// Idempotency-Key keeps replaying the first answer.
func TestAPIPurchaseExpectedPrice(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	u, token := member(t, db, "bea@example.com", 5000)
	setPrice(t, db, cheapImage, 9)

	r := api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, token, `{"expected_price": 4.99}`, "Idempotency-Key", "order-1")
	if r.status != http.StatusConflict || r.env.StatusCode != 409 || paramOf(r) != "expected_price" {
		t.Fatalf("stale expected_price: %d %+v, want 409 naming expected_price", r.status, r.env)
	}
	var data struct{ Price float64 }
	json.Unmarshal(r.env.Data, &data)
	if data.Price != 9 || !strings.Contains(r.env.Message, "$9") {
		t.Errorf("409 data.price %v, message %q; want the current price 9", data.Price, r.env.Message)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 5000 {
		t.Fatalf("balance %d after a refused purchase, want 5000", bal)
	}

	for _, body := range []string{`{"expected_price": "9"}`, `{"expected_price": -9}`, `{"expected_price": 9.001}`, `{"expected_prize": 9}`, `not json`} {
		r := api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, token, body)
		if r.status != http.StatusBadRequest || (paramOf(r) != "expected_price" && paramOf(r) != "body") {
			t.Errorf("%s: %d param %q, want 400", body, r.status, paramOf(r))
		}
	}

	// The refused attempt was not remembered: the same key at the right
	// price buys, and repeating it replays the first answer.
	r = api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, token, `{"expected_price": 9}`, "Idempotency-Key", "order-1")
	if r.status != http.StatusOK {
		t.Fatalf("right expected_price: %d %+v", r.status, r.env)
	}
	var paid struct {
		PricePaid        float64 `json:"price_paid"`
		RemainingBalance float64 `json:"remaining_balance"`
	}
	json.Unmarshal(r.env.Data, &paid)
	if paid.PricePaid != 9 || paid.RemainingBalance != 41 {
		t.Errorf("paid %+v, want 9 and 41", paid)
	}
	setPrice(t, db, cheapImage, 12)
	r = api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, token, `{"expected_price": 9}`, "Idempotency-Key", "order-1")
	if r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d replayed %q", r.status, r.header.Get("Idempotent-Replayed"))
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 4100 {
		t.Errorf("balance %d, want 4100", bal)
	}

	// Without a body the purchase is at the current price, as before.
	r = api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, "")
	if r.status != http.StatusOK {
		t.Errorf("no body: %d %+v", r.status, r.env)
	}
	// An owned image is not charged again, whatever price is expected.
	r = api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, `{"expected_price": 1}`)
	if r.status != http.StatusOK {
		t.Errorf("owned, other price: %d %+v", r.status, r.env)
	}
}

// paramOf is data.param of an error envelope.
func paramOf(r apiResult) string {
	var d struct{ Param string }
	json.Unmarshal(r.env.Data, &d)
	return d.Param
}
