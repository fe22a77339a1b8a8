package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postWith sends a form as the browser client, with extra headers.
func (b *browserClient) postWith(path string, form url.Values, h http.Header) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// login signs a browser client in through the log-in form.
func (b *browserClient) login(email string) {
	b.t.Helper()
	_, doc := b.get("/login")
	if resp, _ := b.post("/login", url.Values{"_csrf": {csrfFrom(b.t, doc)}, "email": {email}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("log-in of %s = %d", email, resp.StatusCode)
	}
}

// TestCSRFIsBoundToTheSession replays the reviewed attack: a page on a
// sibling origin sets berth_csrf=x for the purchase path and posts _csrf=x.
// It, an empty token, a token in the URL, another session's token and a
// same-site or foreign-origin request each charge nothing.
func TestCSRFIsBoundToTheSession(t *testing.T) {
	s, db := newTestServer(t)
	member(t, db, "bob@example.com", 0)
	bob := newBrowserClient(t, s)
	bob.login("bob@example.com")
	_, bobDoc := bob.get("/account")
	bobToken := csrfFrom(t, bobDoc)
	path := "/images/" + paidImage + "/purchase"

	x, empty := "x", ""
	cases := []struct {
		name   string
		cookie *string // a berth_csrf cookie the attacker sets for the path
		query  bool    // the page's token in the URL rather than the body
		form   url.Values
		extra  http.Header
	}{
		{name: "attacker-set cookie and token", cookie: &x, form: url.Values{"_csrf": {"x"}}},
		{name: "the same in a header", cookie: &x, extra: http.Header{"X-Csrf-Token": {"x"}}},
		{name: "empty cookie and token", cookie: &empty, form: url.Values{"_csrf": {""}}},
		{name: "empty cookie, no token", cookie: &empty},
		{name: "token in the query", query: true},
		{name: "another session's token", form: url.Values{"_csrf": {bobToken}}},
		{name: "same-site", extra: http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{name: "cross-site", extra: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{name: "foreign origin", extra: http.Header{"Origin": {"http://evil.example"}}},
		{name: "sibling port", extra: http.Header{"Origin": {"http://127.0.0.1:1"}}},
		{name: "null origin", extra: http.Header{"Origin": {"null"}}},
		{name: "the page's own token, from this origin", extra: http.Header{"Sec-Fetch-Site": {"same-origin"}}},
	}
	for i, tc := range cases {
		// Each case has a victim of its own, signed in with $100.
		email := fmt.Sprintf("victim%d@example.com", i)
		victim, _ := member(t, db, email, 10000)
		b := newBrowserClient(t, s)
		b.login(email)
		_, doc := b.get("/images/" + paidImage)
		token := csrfFrom(t, doc)
		u, _ := url.Parse(b.base + path)
		if tc.cookie != nil {
			b.http.Jar.SetCookies(u, []*http.Cookie{{Name: "berth_csrf", Value: *tc.cookie, Path: path}})
		}
		target, form := path, tc.form
		if tc.query {
			target += "?_csrf=" + url.QueryEscape(token)
		} else if form == nil && tc.extra["X-Csrf-Token"] == nil && tc.cookie == nil {
			form = url.Values{"_csrf": {token}, "expected_price": {"15"}}
		}
		resp := b.postWith(target, form, tc.extra)
		bal, err := db.Balance(context.Background(), victim.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(tc.name, "the page's own") {
			if resp.StatusCode == http.StatusForbidden || bal != 8500 {
				t.Errorf("%s: %d, balance %d: a real purchase was refused", tc.name, resp.StatusCode, bal)
			}
			continue
		}
		if resp.StatusCode != http.StatusForbidden || bal != 10000 {
			t.Errorf("%s: %d, balance %d; want 403 and 10000 (nothing charged)", tc.name, resp.StatusCode, bal)
		}
	}

	// Signed-out forms are bound too: another visitor's token does not log
	// this one in, and log-in gives a new token.
	member(t, db, "ada@example.com", 0)
	anon, other := newBrowserClient(t, s), newBrowserClient(t, s)
	_, anonDoc := anon.get("/login")
	_, otherDoc := other.get("/login")
	creds := url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}
	creds.Set("_csrf", csrfFrom(t, otherDoc))
	if resp := anon.postWith("/login", creds, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("log-in with another visitor's token = %d", resp.StatusCode)
	}
	before := csrfFrom(t, anonDoc)
	creds.Set("_csrf", before)
	if resp := anon.postWith("/login", creds, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log-in with its own token = %d", resp.StatusCode)
	}
	_, doc := anon.get("/account")
	if csrfFrom(t, doc) == before {
		t.Error("the token did not change with the session at log-in")
	}
}
