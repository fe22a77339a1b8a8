package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	s, _ := newTestServer(t)
	for _, path := range []string{"/", "/images/" + freeImage, "/images/nope", "/api/v1/images/public", "/login", s.assets.URL("css/berth.css")} {
		rec := do(t, s, http.MethodGet, path, nil)
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") ||
			strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Request-Id") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", path)
		}
	}
	// The pages themselves hold no inline script or style that the CSP would block.
	body := do(t, s, http.MethodGet, "/images/"+freeImage, nil).Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Error("detail page has inline script or style")
	}
	s.opts.TrustProxy = true
	rec := do(t, s, http.MethodGet, "/", http.Header{"X-Forwarded-Proto": {"https"}})
	if !strings.Contains(rec.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS behind a TLS proxy")
	}
}

func TestRequestID(t *testing.T) {
	s, _ := newTestServer(t)
	if got := do(t, s, "GET", "/healthz", http.Header{"X-Request-Id": {"abc-123"}}).Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("sane incoming id replaced by %q", got)
	}
	if got := do(t, s, "GET", "/healthz", http.Header{"X-Request-Id": {"<script>"}}).Header().Get("X-Request-Id"); got == "<script>" || len(got) != 16 {
		t.Errorf("unsafe incoming id kept: %q", got)
	}
}

func TestHealthAndReady(t *testing.T) {
	s, db := newTestServer(t)
	if rec := do(t, s, "GET", "/healthz", nil); rec.Code != 200 {
		t.Errorf("healthz %d", rec.Code)
	}
	if rec := do(t, s, "GET", "/readyz", nil); rec.Code != 200 {
		t.Errorf("readyz %d", rec.Code)
	}
	db.Close()
	if rec := do(t, s, "GET", "/readyz", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed = %d", rec.Code)
	}
	if rec := do(t, s, "GET", "/api/v1/images/public", nil); rec.Code != 500 || strings.Contains(rec.Body.String(), "sql") {
		t.Errorf("API with the database closed = %d %s", rec.Code, rec.Body)
	}
}

func TestMetrics(t *testing.T) {
	s, db := newTestServer(t)
	m := NewMetrics()
	s = New(s.store, s.assets, s.docs, s.logger, Options{SessionKeys: s.opts.SessionKeys, Metrics: m, MetricsOnMainAddr: true})
	_, token := member(t, db, "ada@example.com", 2000)
	do(t, s, "GET", "/images/"+freeImage, nil)
	do(t, s, "GET", "/images/"+paidImage, nil)
	api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, token, "")
	api(t, s, "POST", "/api/v1/images/import/"+freeImage, token, "")
	rec := do(t, s, "GET", "/metrics", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`berth_http_requests_total{method="GET",route="/images/:id",status="200"} 2`,
		`berth_purchases_total{outcome="paid"} 1`,
		`berth_imports_total 1`,
		`berth_http_request_duration_seconds_bucket{method="POST",route="/api/v1/images/purchase/:id"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAPIRateLimits(t *testing.T) {
	s, db := newTestServer(t)
	s.limits.token = newLimiter(3, time.Minute)
	_, token := member(t, db, "ada@example.com", 0)
	for i := 0; i < 3; i++ {
		if r := api(t, s, "GET", "/api/v1/wallet/balances", token, ""); r.status != 200 {
			t.Fatalf("call %d = %d", i, r.status)
		}
	}
	r := api(t, s, "GET", "/api/v1/wallet/balances", token, "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.env.Message, "Too many") {
		t.Errorf("4th call = %d %q %v", r.status, r.env.Message, r.header)
	}

	s.limits.purchase = newLimiter(1, time.Minute)
	_, other := member(t, db, "bob@example.com", 5000)
	if r := api(t, s, "POST", "/api/v1/images/purchase/"+paidImage, other, ""); r.status != 200 {
		t.Fatalf("first purchase = %d", r.status)
	}
	if r := api(t, s, "POST", "/api/v1/images/purchase/"+cheapImage, other, ""); r.status != 429 {
		t.Errorf("purchase over the limit = %d", r.status)
	}
	b := api(t, s, "GET", "/api/v1/wallet/balances", other, "")
	if string(b.env.Data) != `{"balances":[{"currency":"USD","amount":35}]}` {
		t.Errorf("a refused purchase moved money: %s", b.env.Data)
	}
}

// TestAuthorizationMatrix sends every account route as nobody, as the
// owner, as another user, with a revoked token and with an expired session,
// and checks both the status and that nobody sees another's data.
func TestAuthorizationMatrix(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	ada, adaToken := member(t, db, "ada@example.com", 5000)
	_, bobToken := member(t, db, "bob@example.com", 700)
	if _, err := db.Purchase(ctx, ada.ID, paidImage, ""); err != nil {
		t.Fatal(err)
	}
	revokedSecret, revoked, _ := db.CreateToken(ctx, ada.ID, "old")
	db.RevokeToken(ctx, ada.ID, revoked.ID)
	adaTok, revocable, _ := db.CreateToken(ctx, ada.ID, "revocable")

	// API: status by principal, and each caller sees only their own data.
	apiRoutes := []struct{ method, path, body string }{
		{"GET", "/api/v1/images/user", ""},
		{"GET", "/api/v1/wallet/balances", ""},
		{"POST", "/api/v1/images/import/" + freeImage, ""},
		{"POST", "/api/v1/images/purchase/" + cheapImage, ""},
		{"POST", "/api/v1/images/rate/" + paidImage, `{"rating":3}`},
	}
	for _, rt := range apiRoutes {
		for name, tc := range map[string]struct {
			token string
			want  int
		}{"anonymous": {"", 401}, "revoked": {revokedSecret, 401}, "owner": {adaToken, 200}} {
			if r := api(t, s, rt.method, rt.path, tc.token, rt.body); r.status != tc.want {
				t.Errorf("%s %s as %s = %d, want %d", rt.method, rt.path, name, r.status, tc.want)
			}
		}
	}
	// Bob cannot rate what only Ada bought, and sees his own wallet and library.
	if r := api(t, s, "POST", "/api/v1/images/rate/"+paidImage, bobToken, `{"rating":1}`); r.status != 403 {
		t.Errorf("bob rating ada's purchase = %d", r.status)
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", bobToken, ""); !strings.Contains(string(r.env.Data), `"amount":7}`) {
		t.Errorf("bob's balances: %s", r.env.Data)
	}
	if r := api(t, s, "GET", "/api/v1/images/user", bobToken, ""); string(r.env.Data) != `{"images":[]}` {
		t.Errorf("bob's library: %s", r.env.Data)
	}

	// Pages: sign both in through the real forms.
	adaPages, bobPages := newBrowserClient(t, s), newBrowserClient(t, s)
	login := func(b *browserClient, email string) {
		_, doc := b.get("/login")
		if resp, _ := b.post("/login", url.Values{"_csrf": {csrfFrom(t, doc)}, "email": {email}, "password": {"correct horse battery"}}); resp.StatusCode != 303 {
			t.Fatalf("log-in of %s = %d", email, resp.StatusCode)
		}
	}
	login(adaPages, "ada@example.com")
	login(bobPages, "bob@example.com")
	anon := newBrowserClient(t, s)
	for _, path := range []string{"/library", "/wallet", "/account", "/images/" + priceyImg + "/buy"} {
		if resp, _ := anon.get(path); resp.StatusCode != 303 {
			t.Errorf("anonymous GET %s = %d", path, resp.StatusCode)
		}
		if resp, _ := adaPages.get(path); resp.StatusCode != 200 {
			t.Errorf("ada GET %s = %d", path, resp.StatusCode)
		}
	}
	_, bobLib := bobPages.get("/library")
	_, bobWallet := bobPages.get("/wallet")
	_, bobAccount := bobPages.get("/account")
	if strings.Contains(bobLib.Text(), "python-data") || strings.Contains(bobWallet.Text(), "python-data") ||
		strings.Contains(bobAccount.Text(), "revocable") || strings.Contains(bobAccount.Text(), "ada@example.com") {
		t.Error("bob's pages show ada's data")
	}
	// Bob cannot revoke Ada's token through the page, even with a valid form.
	path := "/account/tokens/" + strconv.FormatInt(revocable.ID, 10) + "/revoke"
	if resp, _ := bobPages.post(path, url.Values{"_csrf": {csrfFrom(t, bobAccount)}}); resp.StatusCode != 404 {
		t.Errorf("bob revoking ada's token = %d", resp.StatusCode)
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", adaTok, ""); r.status != 200 {
		t.Errorf("ada's token died after bob's attempt: %d", r.status)
	}
	// Anonymous posts are sent to log in and change nothing.
	_, doc := anon.get("/login")
	for _, p := range []string{"/images/" + freeImage + "/import", "/images/" + cheapImage + "/purchase", "/images/" + paidImage + "/rate", "/account/tokens", "/account/sessions/end-others"} {
		resp, _ := anon.post(p, url.Values{"_csrf": {csrfFrom(t, doc)}, "rating": {"1"}})
		if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("anonymous POST %s = %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// An expired session is no session.
	db.Now = func() time.Time { return time.Now().Add(sessionMaxAge + time.Hour) }
	if resp, _ := adaPages.get("/wallet"); resp.StatusCode != 303 {
		t.Errorf("expired session GET /wallet = %d", resp.StatusCode)
	}
	db.Now = func() time.Time { return time.Now().UTC() }
	if problems, _ := db.Check(ctx); len(problems) > 0 {
		t.Errorf("invariants: %v", problems)
	}
}

// TestEveryRouteForEveryone sends every registered route, with its
// parameters filled in, as nobody, as a signed-in person, with a good and
// a revoked token and with an expired session. Whatever the answer, it is
// never a server error, and routes that need someone never answer 200 to
// nobody.
func TestEveryRouteForEveryone(t *testing.T) {
	s, db := newTestServer(t)
	ctx := context.Background()
	ada, token := member(t, db, "ada@example.com", 5000)
	revokedSecret, revoked, _ := db.CreateToken(ctx, ada.ID, "old")
	db.RevokeToken(ctx, ada.ID, revoked.ID)

	signedIn := newBrowserClient(t, s)
	signedIn.signUp("bob@example.com")
	expired := newBrowserClient(t, s)
	expired.signUp("cy@example.com")
	// Every request carries its sender's CSRF token, to reach the handler.
	anon := visitor(t, s)
	_, doc := signedIn.get("/account")
	signedInToken := csrfFrom(t, doc)
	_, doc = expired.get("/account")
	expiredToken := csrfFrom(t, doc)
	fill := strings.NewReplacer(":id", freeImage, ":slug", "overview", ":token", strconv.FormatInt(revoked.ID, 10), "*", "ubuntu/24.04")

	protected := func(path string) bool {
		for _, p := range []string{"/library", "/wallet", "/account", "/buy", "/import", "/purchase", "/rate", "/images/user", "/wallet/balances"} {
			if strings.Contains(path, p) && path != "/images/:id/icon" {
				return true
			}
		}
		return false
	}
	routes := 0
	for _, r := range s.echo.Routes() {
		if r.Method == "echo_route_any" || strings.HasSuffix(r.Path, "/*") && r.Path != "/images/by-alias/*" && r.Path != "/static/*" {
			continue
		}
		path := fill.Replace(r.Path)
		if r.Path == "/static/*" {
			path = s.assets.URL("css/berth.css")
		}
		routes++
		for _, who := range []string{"anonymous", "token", "revoked", "signed-in", "expired"} {
			req, _ := http.NewRequest(r.Method, path, strings.NewReader(`{"rating":3}`))
			switch who {
			case "token":
				req.Header.Set("Authorization", "Bearer "+token)
			case "revoked":
				req.Header.Set("Authorization", "Bearer "+revokedSecret)
			}
			switch who {
			case "signed-in":
				req.Header.Set("X-CSRF-Token", signedInToken)
			case "expired":
				req.Header.Set("X-CSRF-Token", expiredToken)
			default:
				req.Header.Set("X-CSRF-Token", anon.Get("X-CSRF-Token"))
				req.Header.Set("Cookie", anon.Get("Cookie"))
			}
			var status int
			switch who {
			case "signed-in", "expired":
				b := signedIn
				if who == "expired" {
					b = expired
					db.Now = func() time.Time { return time.Now().Add(sessionMaxAge + time.Hour) }
				}
				req.URL, _ = url.Parse(b.base + path)
				resp, err := b.http.Do(req)
				db.Now = func() time.Time { return time.Now().UTC() }
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				status = resp.StatusCode
			default:
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				status = rec.Code
			}
			if status >= 500 {
				t.Errorf("%s %s as %s = %d", r.Method, path, who, status)
			}
			if protected(r.Path) && (who == "anonymous" || who == "revoked" || who == "expired") && status < 300 {
				t.Errorf("%s %s as %s = %d, but it needs someone", r.Method, path, who, status)
			}
		}
	}
	if routes < 30 {
		t.Errorf("only %d routes walked", routes)
	}
}
