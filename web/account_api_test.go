package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

type apiResult struct {
	status int
	env    struct {
		StatusCode int             `json:"statusCode"`
		Message    string          `json:"message"`
		Data       json.RawMessage `json:"data"`
	}
	header http.Header
}

// api sends one API request through the router with an optional token.
func api(t *testing.T, s *Server, method, path, token, body string, header ...string) apiResult {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var r apiResult
	r.status, r.header = rec.Code, rec.Header()
	if err := json.Unmarshal(rec.Body.Bytes(), &r.env); err != nil {
		t.Fatalf("%s %s: body is not the JSON envelope: %s", method, path, rec.Body)
	}
	if r.env.StatusCode != rec.Code {
		t.Errorf("%s %s: statusCode %d but HTTP %d", method, path, r.env.StatusCode, rec.Code)
	}
	return r
}

// member creates an account with a balance in cents and returns its token.
func member(t *testing.T, db *sqlite.DB, email string, cents int64) (*store.User, string) {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, email, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if cents > 0 {
		if _, err := db.Credit(ctx, u.ID, cents, "test"); err != nil {
			t.Fatal(err)
		}
	}
	token, _, err := db.CreateToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return u, token
}

var (
	freeImage  = store.ImageID("debian/13", "amd64")
	paidImage  = store.ImageID("fedora/42-python-data", "amd64") // $15
	priceyImg  = store.ImageID("ubuntu/24.04-k3s", "amd64")      // $25
	cheapImage = store.ImageID("alpine/3.19-nodejs", "amd64")    // $4.99
)

func TestAPIImportPurchaseRate(t *testing.T) {
	s, db := newTestServer(t)
	ada, token := member(t, db, "ada@example.com", 50000) // $500

	steps := []struct {
		name, method, path, body string
		status                   int
		message, data            string // message must contain; data must equal (when set)
	}{
		{"ImportFree", "POST", "/api/v1/images/import/" + freeImage, "", 200, "Free image imported successfully", `{}`},
		{"ImportAgain", "POST", "/api/v1/images/import/" + freeImage, "", 200, "Free image imported successfully", `{}`},
		{"ImportPaid", "POST", "/api/v1/images/import/" + paidImage, "", 400, "/api/v1/images/purchase/", ""},
		{"ImportUnknown", "POST", "/api/v1/images/import/ffffffffffffffffffffffff", "", 404, "No image", ""},
		{"Purchase", "POST", "/api/v1/images/purchase/" + paidImage, "", 200, "Image purchased successfully", `{"price_paid":15,"remaining_balance":485}`},
		{"PurchaseOwned", "POST", "/api/v1/images/purchase/" + paidImage, "", 200, "Image purchased successfully", `{"price_paid":0,"remaining_balance":485}`},
		{"PurchaseFree", "POST", "/api/v1/images/purchase/" + freeImage, "", 400, "/api/v1/images/import/", ""},
		{"PurchaseUnknown", "POST", "/api/v1/images/purchase/nothing", "", 404, "No image", ""},
		{"PurchaseCheap", "POST", "/api/v1/images/purchase/" + cheapImage, "", 200, "Image purchased successfully", `{"price_paid":4.99,"remaining_balance":480.01}`},
		{"Balances", "GET", "/api/v1/wallet/balances", "", 200, "", `{"balances":[{"currency":"USD","amount":480.01}]}`},
		{"RateNotOwned", "POST", "/api/v1/images/rate/" + priceyImg, `{"rating":5}`, 403, "Buy ubuntu/24.04-k3s first", ""},
		{"RateZero", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":0}`, 200, "Rating saved", `{"average_rating":0,"rating":0,"rating_count":1}`},
		{"Rerate", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":4}`, 200, "Rating saved", `{"average_rating":4,"rating":4,"rating_count":1}`},
		{"RateSix", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":6}`, 400, "rating", ""},
		{"RateNegative", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":-1}`, 400, "rating", ""},
		{"RateFraction", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":4.5}`, 400, "whole number", ""},
		{"RateString", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":"4"}`, 400, "rating", ""},
		{"RateNull", "POST", "/api/v1/images/rate/" + paidImage, `{"rating":null}`, 400, "rating", ""},
		{"RateNoBody", "POST", "/api/v1/images/rate/" + paidImage, ``, 400, "rating", ""},
		{"RateNotJSON", "POST", "/api/v1/images/rate/" + paidImage, `rating=4`, 400, "rating", ""},
		{"RateUnknown", "POST", "/api/v1/images/rate/ffffffffffffffffffffffff", `{"rating":3}`, 404, "No image", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := api(t, s, st.method, st.path, token, st.body)
			if r.status != st.status || !strings.Contains(r.env.Message, st.message) {
				t.Fatalf("got %d %q, want %d containing %q", r.status, r.env.Message, st.status, st.message)
			}
			if st.data != "" && string(r.env.Data) != st.data {
				t.Errorf("data = %s, want %s", r.env.Data, st.data)
			}
		})
	}

	t.Run("InsufficientFunds", func(t *testing.T) {
		_, poor := member(t, db, "poor@example.com", 1000) // $10
		r := api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, poor, "")
		if r.status != http.StatusPaymentRequired || !strings.Contains(r.env.Message, "Not enough funds") {
			t.Fatalf("got %d %q", r.status, r.env.Message)
		}
		b := api(t, s, "GET", "/api/v1/wallet/balances", poor, "")
		if string(b.env.Data) != `{"balances":[{"currency":"USD","amount":10}]}` {
			t.Errorf("balance after a refused purchase: %s", b.env.Data)
		}
	})

	t.Run("Library", func(t *testing.T) {
		r := api(t, s, "GET", "/api/v1/images/user", token, "")
		var data struct {
			Images []struct {
				ID          string  `json:"id"`
				Alias       string  `json:"alias"`
				AcquiredVia string  `json:"acquired_via"`
				AcquiredAt  string  `json:"acquired_at"`
				PricePaid   float64 `json:"price_paid"`
			} `json:"images"`
		}
		if err := json.Unmarshal(r.env.Data, &data); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.env.Data)
		}
		got := map[string]string{}
		for _, img := range data.Images {
			got[img.ID] = img.AcquiredVia
			if img.AcquiredAt == "" || img.Alias == "" {
				t.Errorf("incomplete library entry %+v", img)
			}
		}
		want := map[string]string{freeImage: "import", paidImage: "purchase", cheapImage: "purchase"}
		if len(got) != 3 || got[freeImage] != want[freeImage] || got[paidImage] != want[paidImage] || got[cheapImage] != want[cheapImage] {
			t.Errorf("library = %v, want %v (each image once)", got, want)
		}
	})

	t.Run("AggregatesVisibleInPublicAPI", func(t *testing.T) {
		r := api(t, s, "GET", "/api/v1/images/public/"+paidImage, "", "")
		var img struct {
			AverageRating float64 `json:"average_rating"`
			RatingCount   int     `json:"rating_count"`
		}
		json.Unmarshal(r.env.Data, &img)
		if img.AverageRating != 4 || img.RatingCount != 1 {
			t.Errorf("public aggregate %+v", img)
		}
	})
	_ = ada
}

func TestAPIIdempotencyKey(t *testing.T) {
	s, db := newTestServer(t)
	_, token := member(t, db, "ada@example.com", 2000)
	first := api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, "", "Idempotency-Key", "order-17")
	again := api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, "", "Idempotency-Key", "order-17")
	if first.status != 200 || again.status != 200 || string(first.env.Data) != string(again.env.Data) ||
		again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("first %d %s, replay %d %s %v", first.status, first.env.Data, again.status, again.env.Data, again.header)
	}
	if string(first.env.Data) != `{"price_paid":15,"remaining_balance":5}` {
		t.Errorf("first = %s", first.env.Data)
	}
	other := api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, token, "", "Idempotency-Key", "order-17")
	if other.status != http.StatusConflict {
		t.Errorf("key reused for another image: %d %s", other.status, other.env.Message)
	}
}

func TestAPITokens(t *testing.T) {
	s, db := newTestServer(t)
	ada, token := member(t, db, "ada@example.com", 0)
	revokedSecret, revoked, _ := db.CreateToken(context.Background(), ada.ID, "old")
	if err := db.RevokeToken(context.Background(), ada.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	routes := [][2]string{
		{"GET", "/api/v1/images/user"},
		{"POST", "/api/v1/images/import/" + freeImage},
		{"POST", "/api/v1/images/purchase/" + paidImage},
		{"POST", "/api/v1/images/rate/" + freeImage},
		{"GET", "/api/v1/wallet/balances"},
	}
	for _, rt := range routes {
		for name, tok := range map[string]string{"missing": "", "bad": "berth_notarealtoken", "revoked": revokedSecret, "garbage": "x y z"} {
			r := api(t, s, rt[0], rt[1], tok, "")
			if r.status != http.StatusUnauthorized || r.env.Message == "" || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %s token = %d %q", rt[0], rt[1], name, r.status, r.env.Message)
			}
		}
	}
	// A Basic header is not a bearer token.
	req := httptest.NewRequest("GET", "/api/v1/wallet/balances", nil)
	req.Header.Set("Authorization", "Basic "+token)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("Basic auth = %d", rec.Code)
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", token, ""); r.status != 200 {
		t.Errorf("good token = %d", r.status)
	}
	// The public catalog needs no token, and a bad one does not hurt it.
	if r := api(t, s, "GET", "/api/v1/images/public?limit=1", "berth_bad", ""); r.status != 200 {
		t.Errorf("public list with a bad token = %d", r.status)
	}
}
