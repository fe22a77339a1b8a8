package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestChangePassword: with the current password, a new one is set; this
// browser stays signed in on a new session, every other one is signed out,
// and the old password no longer logs in.
func TestChangePassword(t *testing.T) {
	s, db := newTestServer(t)
	member(t, db, "ada@example.com", 0)
	laptop, phone := newBrowserClient(t, s), newBrowserClient(t, s)
	laptop.login("ada@example.com")
	phone.login("ada@example.com")
	_, doc := laptop.get("/account")
	if doc.Find(`form[action="/account/password"] input[name=current_password]`).Length() != 1 {
		t.Fatal("the account page has no change-password form")
	}
	token := csrfFrom(t, doc)
	for _, tc := range []struct{ current, next, param, says string }{
		{"wrong password", "a much better one", "current_password", "current password is not right"},
		{"correct horse battery", "password1", "new_password", "most common"},
		{"correct horse battery", "short", "new_password", "at least 8"},
	} {
		resp, doc := laptop.post("/account/password", url.Values{"_csrf": {token}, "current_password": {tc.current}, "new_password": {tc.next}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(doc.Find("#password-problem").Text(), tc.says) {
			t.Errorf("%s → %s: %d %q", tc.current, tc.next, resp.StatusCode, doc.Find("#password-problem").Text())
		}
		if v, _ := doc.Find(`input[name=` + tc.param + `]`).Attr("aria-invalid"); v != "true" {
			t.Errorf("%s → %s: %s not marked invalid", tc.current, tc.next, tc.param)
		}
	}
	before := sessionCookieOf(t, laptop)
	resp, _ := laptop.post("/account/password", url.Values{"_csrf": {token}, "current_password": {"correct horse battery"}, "new_password": {"a much better one"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password = %d", resp.StatusCode)
	}
	if resp, _ := laptop.get("/account"); resp.StatusCode != 200 {
		t.Errorf("the browser that changed it was signed out: %d", resp.StatusCode)
	}
	if sessionCookieOf(t, laptop) == before {
		t.Error("the session id was not rotated")
	}
	if resp, _ := phone.get("/wallet"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session survived the change: %d", resp.StatusCode)
	}
	ctx := t.Context()
	if _, err := db.Authenticate(ctx, "ada@example.com", "correct horse battery"); err == nil {
		t.Error("the old password still works")
	}
	if _, err := db.Authenticate(ctx, "ada@example.com", "a much better one"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
}

func sessionCookieOf(t *testing.T, b *browserClient) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestSignOutEverywhereCanRevokeTokens: the account page offers to revoke
// every API token with the other sessions; unticked, tokens stay.
func TestSignOutEverywhereCanRevokeTokens(t *testing.T) {
	s, db := newTestServer(t)
	_, token := member(t, db, "ada@example.com", 0)
	b := newBrowserClient(t, s)
	b.login("ada@example.com")
	_, doc := b.get("/account")
	form := doc.Find(`form[action="/account/sessions/end-others"]`)
	if form.Find(`input[type=checkbox][name=revoke_tokens]`).Length() != 1 {
		t.Fatal("sign out everywhere does not offer to revoke tokens")
	}
	balances := func() int {
		return do(t, s, "GET", "/api/v1/wallet/balances", http.Header{"Authorization": {"Bearer " + token}}).Code
	}
	b.post("/account/sessions/end-others", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if got := balances(); got != 200 {
		t.Fatalf("unticked, the token stopped working: %d", got)
	}
	resp, _ := b.post("/account/sessions/end-others", url.Values{"_csrf": {csrfFrom(t, doc)}, "revoke_tokens": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere = %d", resp.StatusCode)
	}
	if got := balances(); got != http.StatusUnauthorized {
		t.Errorf("ticked, the token still answers %d", got)
	}
	if _, doc := b.get("/account"); !strings.Contains(doc.Find(".flash, [role=status]").Text()+doc.Text(), "revoked 1 API token") {
		t.Error("the page does not say the tokens were revoked")
	}
}
