package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
)

// browserClient is a cookie-keeping HTTP client that does not follow
// redirects, so tests see each answer.
type browserClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newBrowserClient(t *testing.T, s *Server) *browserClient {
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: t, base: srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserClient) get(path string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, doc
}

// csrfFrom reads the CSRF token a page put in its forms.
func csrfFrom(t *testing.T, doc *goquery.Document) string {
	t.Helper()
	v, ok := doc.Find(`input[name=_csrf]`).First().Attr("value")
	if !ok || v == "" {
		t.Fatal("page has no CSRF field")
	}
	return v
}

func (b *browserClient) post(path string, form url.Values) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.http.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

// signUp creates an account through the sign-up form.
func (b *browserClient) signUp(email string) {
	b.t.Helper()
	_, doc := b.get("/signup")
	resp, _ := b.post("/signup", url.Values{"_csrf": {csrfFrom(b.t, doc)}, "email": {email}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-up answered %d", resp.StatusCode)
	}
}

func TestSignupLoginLogout(t *testing.T) {
	s, _ := newTestServer(t)
	b := newBrowserClient(t, s)

	_, doc := b.get("/signup")
	token := csrfFrom(t, doc)
	resp, doc := b.post("/signup", url.Values{"_csrf": {token}, "email": {"Ada@Example.com"}, "password": {"short"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find(".alert").Text(), "at least 8") {
		t.Fatalf("short password: %d %q", resp.StatusCode, doc.Find(".alert").Text())
	}
	if v, _ := doc.Find("#email").Attr("value"); v != "Ada@Example.com" {
		t.Errorf("typed email lost: %q", v)
	}
	if v, ok := doc.Find("#password").Attr("value"); ok && v != "" {
		t.Error("password echoed back")
	}

	resp, _ = b.post("/signup", url.Values{"_csrf": {token}, "email": {"Ada@Example.com"}, "password": {"correct horse battery"}, "next": {"/wallet"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/wallet" {
		t.Fatalf("sign-up = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	_, doc = b.get("/wallet")
	if !strings.Contains(doc.Find("header.site").Text(), "Wallet $0.00") {
		t.Errorf("header after sign-up: %q", doc.Find("header.site").Text())
	}

	// Log out, then log in: the session id changes each time.
	resp, _ = b.post("/logout", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log-out = %d", resp.StatusCode)
	}
	if resp, _ := b.get("/wallet"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fwallet") {
		t.Fatalf("wallet after log-out = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = b.get("/login?next=/library")
	if v, _ := doc.Find("input[name=next]").Attr("value"); v != "/library" {
		t.Errorf("next = %q", v)
	}
	resp, doc = b.post("/login", url.Values{"_csrf": {csrfFrom(t, doc)}, "email": {"ada@example.com"}, "password": {"wrong password"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(doc.Find(".alert").Text(), "do not match") {
		t.Errorf("wrong password = %d %q", resp.StatusCode, doc.Find(".alert").Text())
	}
	resp, _ = b.post("/login", url.Values{"_csrf": {csrfFrom(t, doc)}, "email": {"ADA@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("log-in with an off-site next = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value == session.Value {
			t.Error("session id was not rotated at log-in")
		}
	}
}

func TestCSRF(t *testing.T) {
	s, _ := newTestServer(t)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	for _, path := range []string{"/logout", "/account/tokens", "/images/" + freeImage + "/import", "/login", "/signup"} {
		resp, doc := b.post(path, url.Values{"email": {"x@example.com"}, "password": {"whatever long"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(doc.Text(), "expired or was sent from another site") {
			t.Errorf("POST %s without a token = %d", path, resp.StatusCode)
		}
		resp, _ = b.post(path, url.Values{"_csrf": {"forged"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with a forged token = %d", path, resp.StatusCode)
		}
	}
	// Still signed in: the refused log-out did nothing.
	if resp, _ := b.get("/account"); resp.StatusCode != 200 {
		t.Errorf("account after refused posts = %d", resp.StatusCode)
	}
}

func TestSecureCookiesBehindTrustedProxy(t *testing.T) {
	s, _ := newTestServer(t)
	s.opts.TrustProxy = true
	req := httptest.NewRequest("GET", "/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if len(rec.Result().Cookies()) == 0 {
		t.Fatal("the log-in page set no cookie")
	}
	for _, c := range rec.Result().Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s behind a TLS proxy: Secure=%v HttpOnly=%v", c.Name, c.Secure, c.HttpOnly)
		}
	}
	s.opts.TrustProxy = false
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Secure {
			t.Errorf("cookie %s trusted a forwarded header without --trust-proxy", c.Name)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	s, db := newTestServer(t)
	member(t, db, "ada@example.com", 0)
	b := newBrowserClient(t, s)
	_, doc := b.get("/login")
	token := csrfFrom(t, doc)
	var last *http.Response
	for i := 0; i < 11; i++ {
		last, doc = b.post("/login", url.Values{"_csrf": {token}, "email": {"ada@example.com"}, "password": {"guess number " + string(rune('a'+i))}})
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" ||
		!strings.Contains(doc.Find(".alert").Text(), "Too many log-in attempts for this account") {
		t.Errorf("11th attempt = %d %q", last.StatusCode, doc.Find(".alert").Text())
	}
	// Even the right password waits now.
	resp, _ := b.post("/login", url.Values{"_csrf": {token}, "email": {"ada@example.com"}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password during the lock-out = %d", resp.StatusCode)
	}
}

func TestSignupClosed(t *testing.T) {
	s, _ := newTestServer(t)
	s.opts.SignupOpen = false
	b := newBrowserClient(t, s)
	if resp, _ := b.get("/signup"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /signup when closed = %d", resp.StatusCode)
	}
	_, doc := b.get("/login")
	if doc.Find(`a[href^="/signup"]`).Length() != 0 {
		t.Error("closed sign-up is still linked")
	}
}

func TestAccountTokensPage(t *testing.T) {
	s, db := newTestServer(t)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	_, doc := b.get("/account")
	// Creating answers with a redirect (issue 15 item 11), so reloading
	// the page that shows the token creates no other.
	resp, _ := b.post("/account/tokens", url.Values{"_csrf": {csrfFrom(t, doc)}, "name": {"ci"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account") {
		t.Fatalf("create token = %d to %q, want 303 to the account page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, doc = b.get("/account")
	secret := doc.Find("#new-token").Text()
	if resp.StatusCode != 200 || !strings.HasPrefix(secret, store.TokenPrefix) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("account page after creating = %d %q", resp.StatusCode, secret)
	}
	if tokens, _ := db.Tokens(context.Background(), mustFindUser(t, db, "ada@example.com")); len(tokens) != 1 {
		t.Errorf("%d tokens, want 1", len(tokens))
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", secret, ""); r.status != 200 {
		t.Fatalf("new token refused: %d", r.status)
	}
	// The secret is shown once: the account page never shows it again.
	_, doc = b.get("/account")
	if strings.Contains(doc.Text(), secret) {
		t.Error("account page shows the secret again")
	}
	// Revoking asks first.
	action, _ := doc.Find(`a[href$="/revoke"]`).Attr("href")
	resp, doc = b.get(action)
	if resp.StatusCode != 200 || doc.Find(`form[action="`+action+`"] button`).Length() != 1 || !strings.Contains(doc.Find("h1").Text(), "ci") {
		t.Fatalf("revoke question = %d %q", resp.StatusCode, doc.Find("h1").Text())
	}
	if doc.Find(`nav.bar a[href="/account"][aria-current=page]`).Length() != 1 {
		t.Error("Account is not marked in the navigation on an account page")
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", secret, ""); r.status != 200 {
		t.Fatalf("token revoked by asking: %d", r.status)
	}
	resp, _ = b.post(action, url.Values{"_csrf": {csrfFrom(t, doc)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d", resp.StatusCode)
	}
	if r := api(t, s, "GET", "/api/v1/wallet/balances", secret, ""); r.status != 401 {
		t.Errorf("revoked token = %d", r.status)
	}

	// Another user cannot revoke it (it is gone anyway) nor see it.
	other := newBrowserClient(t, s)
	other.signUp("bob@example.com")
	_, odoc := other.get("/account")
	if resp, _ := other.post(action, url.Values{"_csrf": {csrfFrom(t, odoc)}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob revoking ada's token = %d", resp.StatusCode)
	}
	if strings.Contains(odoc.Text(), "ci") && odoc.Find("table.tokens").Length() > 0 {
		t.Error("bob sees ada's tokens")
	}
	_ = db
}

func TestEndOtherSessions(t *testing.T) {
	s, _ := newTestServer(t)
	laptop := newBrowserClient(t, s)
	laptop.signUp("ada@example.com")
	phone := newBrowserClient(t, s)
	_, doc := phone.get("/login")
	phone.post("/login", url.Values{"_csrf": {csrfFrom(t, doc)}, "email": {"ada@example.com"}, "password": {"correct horse battery"}})
	if resp, _ := phone.get("/account"); resp.StatusCode != 200 {
		t.Fatal("phone not signed in")
	}
	_, doc = laptop.get("/account")
	if !strings.Contains(doc.Text(), "2 browsers") {
		t.Errorf("sessions text: %q", doc.Find("#sessions-h").Parent().Text())
	}
	laptop.post("/account/sessions/end-others", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if resp, _ := phone.get("/account"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("phone still signed in: %d", resp.StatusCode)
	}
	if resp, _ := laptop.get("/account"); resp.StatusCode != 200 {
		t.Errorf("laptop signed out: %d", resp.StatusCode)
	}
}

func TestBuyAndRateThroughPages(t *testing.T) {
	s, db := newTestServer(t)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	u, _ := db.FindUserByEmail(context.Background(), "ada@example.com")
	db.Credit(context.Background(), u.ID, 2000, "test")

	_, doc := b.get("/images/" + paidImage)
	if got := strings.Join(strings.Fields(doc.Find("#buy").Text()), " "); got != "Buy for $15.00 — balance after $5.00" {
		t.Errorf("buy button %q", got)
	}
	if doc.Find(".rate-form").Length() != 0 {
		t.Error("rating offered before owning the image")
	}
	_, doc = b.get("/images/" + paidImage + "/buy")
	resp, _ := b.post("/images/"+paidImage+"/purchase", buyForm(t, doc))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("purchase = %d", resp.StatusCode)
	}
	_, doc = b.get("/images/" + paidImage)
	if !strings.Contains(doc.Find(".flash").Text(), "Purchased for $15.00") || !strings.Contains(doc.Find(".owned").Text(), "In your library") {
		t.Errorf("after purchase: flash %q, box %q", doc.Find(".flash").Text(), doc.Find("#acquire").Text())
	}
	if bal, _ := db.Balance(context.Background(), u.ID); bal != 500 {
		t.Errorf("balance %d", bal)
	}
	// Buying the $25 image is refused on the confirmation page, money untouched.
	resp, doc = b.post("/images/"+priceyImg+"/purchase", url.Values{"_csrf": {csrfFrom(t, doc)}, "expected_price": {"25"}})
	if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(doc.Find(".alert").Text(), "Not enough funds") {
		t.Errorf("unaffordable purchase = %d %q", resp.StatusCode, doc.Find(".alert").Text())
	}

	// Rate with the plain form, then with htmx.
	_, doc = b.get("/images/" + paidImage)
	resp, _ = b.post("/images/"+paidImage+"/rate", url.Values{"_csrf": {csrfFrom(t, doc)}, "rating": {"4"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rate = %d", resp.StatusCode)
	}
	_, doc = b.get("/images/" + paidImage)
	if v, _ := doc.Find("#rate-4").Attr("checked"); doc.Find("#rate-4[checked]").Length() != 1 {
		t.Errorf("own rating not shown (%q)", v)
	}
	if got := doc.Find(".rating-summary .big").Text(); got != "4.0" {
		t.Errorf("average shown %q", got)
	}
	req, _ := http.NewRequest("POST", b.base+"/images/"+paidImage+"/rate", strings.NewReader(url.Values{"rating": {"2"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", csrfFrom(t, doc))
	hx, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	frag, _ := goquery.NewDocumentFromReader(hx.Body)
	hx.Body.Close()
	if hx.StatusCode != 200 || frag.Find("section#ratings").Length() != 1 || frag.Find("header.site").Length() != 0 ||
		frag.Find(".rating-summary .big").Text() != "2.0" {
		t.Errorf("htmx rating = %d, summary %q", hx.StatusCode, frag.Find(".rating-summary .big").Text())
	}
	resp, doc = b.post("/images/"+paidImage+"/rate", url.Values{"_csrf": {csrfFrom(t, doc)}, "rating": {"9"}})
	if resp.StatusCode != http.StatusBadRequest || doc.Find("#ratings .alert").Length() != 1 {
		t.Errorf("rating 9 = %d", resp.StatusCode)
	}

	// Library and wallet pages list what happened.
	_, doc = b.get("/library")
	if !strings.Contains(doc.Find("table").Text(), "fedora/42-python-data") || !strings.Contains(doc.Find("table").Text(), "Purchased") {
		t.Errorf("library page: %q", doc.Find("main").Text())
	}
	_, doc = b.get("/wallet")
	if !strings.Contains(doc.Find(".balance").Text(), "$5.00") || doc.Find("table.ledger tbody tr").Length() != 2 {
		t.Errorf("wallet page: %q", doc.Find("main").Text())
	}
}

func TestAnonymousImageActions(t *testing.T) {
	s, _ := newTestServer(t)
	b := newBrowserClient(t, s)
	_, doc := b.get("/images/" + freeImage)
	href, _ := doc.Find("#acquire a.button").Attr("href")
	if href != "/login?next="+url.QueryEscape("/images/"+freeImage) {
		t.Errorf("anonymous import link %q", href)
	}
	for _, path := range []string{"/library", "/wallet", "/account", "/images/" + paidImage + "/buy"} {
		resp, _ := b.get(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous GET %s = %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func mustFindUser(t *testing.T, db interface {
	FindUserByEmail(context.Context, string) (*store.User, error)
}, email string) int64 {
	t.Helper()
	u, err := db.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
