package storetest

import (
	"testing"
	"time"

	"github.com/berth/berth/store"
)

var accountCases = []Case{
	{"Users", func(t *testing.T, open Opener) {
		s := open(t, nil)
		u := MustUser(t, s, "  Ada@Example.COM ", 0)
		if u.Email != "ada@example.com" || u.ID == 0 {
			t.Errorf("user %+v", u)
		}
		if _, err := s.CreateUser(ctx, "ADA@example.com", "another password"); store.ErrorCode(err) != store.ECONFLICT || store.ErrorParam(err) != "email" {
			t.Errorf("duplicate email = %v", err)
		}
		for _, tt := range []struct{ email, password, param string }{
			{"", "long enough", "email"},
			{"not-an-email", "long enough", "email"},
			{"bob@example.com", "short", "password"},
			{"bob@example.com", string(make([]byte, 73)), "password"},
		} {
			if _, err := s.CreateUser(ctx, tt.email, tt.password); store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != tt.param {
				t.Errorf("CreateUser(%q, %q) = %v, want invalid %s", tt.email, tt.password, err, tt.param)
			}
		}
		if got, err := s.Authenticate(ctx, "ADA@example.com ", "correct horse battery"); err != nil || got.ID != u.ID || got.Email != u.Email {
			t.Errorf("Authenticate = %v, %v", got, err)
		}
		for _, tt := range [][2]string{{"ada@example.com", "wrong password"}, {"nobody@example.com", "correct horse battery"}} {
			if _, err := s.Authenticate(ctx, tt[0], tt[1]); store.ErrorCode(err) != store.EUNAUTHORIZED {
				t.Errorf("Authenticate(%q, %q) = %v", tt[0], tt[1], err)
			}
		}
		if got, err := s.FindUser(ctx, u.ID); err != nil || got.Email != u.Email || got.CreatedAt.Sub(u.CreatedAt).Abs() >= time.Second {
			t.Errorf("FindUser = %+v, %v (created %v)", got, err, u.CreatedAt)
		}
		if got, err := s.FindUserByEmail(ctx, "ADA@example.com"); err != nil || got.ID != u.ID {
			t.Errorf("FindUserByEmail = %v, %v", got, err)
		}
		if _, err := s.FindUser(ctx, u.ID+1000); !store.IsNotFound(err) {
			t.Errorf("FindUser of nobody = %v", err)
		}
		if bal, err := s.Balance(ctx, u.ID); err != nil || bal != 0 {
			t.Errorf("new wallet balance = %d, %v", bal, err)
		}
	}},
	{"Tokens", func(t *testing.T, open Opener) {
		s := open(t, nil)
		ada, bob := MustUser(t, s, "ada@example.com", 0), MustUser(t, s, "bob@example.com", 0)
		secret, tok, err := s.CreateToken(ctx, ada.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if tok.Hint != secret[len(secret)-4:] || tok.Name != "laptop" {
			t.Errorf("token %+v", tok)
		}
		if u, err := s.UserByToken(ctx, secret); err != nil || u.ID != ada.ID {
			t.Fatalf("UserByToken = %v, %v", u, err)
		}
		if err := s.RevokeToken(ctx, bob.ID, tok.ID); !store.IsNotFound(err) {
			t.Errorf("bob revoking ada's token = %v", err)
		}
		if _, err := s.UserByToken(ctx, secret); err != nil {
			t.Error("token died after a refused revoke")
		}
		if err := s.RevokeToken(ctx, ada.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{secret, "", "berth_nope", "Bearer " + secret} {
			if _, err := s.UserByToken(ctx, bad); store.ErrorCode(err) != store.EUNAUTHORIZED {
				t.Errorf("UserByToken(%q) = %v", bad, err)
			}
		}
		if _, _, err := s.CreateToken(ctx, ada.ID, string(make([]byte, 81))); store.ErrorParam(err) != "name" {
			t.Errorf("long name = %v", err)
		}
		s1, _, _ := s.CreateToken(ctx, ada.ID, "")
		s2, _, _ := s.CreateToken(ctx, ada.ID, "ci")
		sb, _, _ := s.CreateToken(ctx, bob.ID, "bob's")
		list, err := s.Tokens(ctx, ada.ID)
		if err != nil || len(list) != 3 || list[0].Name != "ci" || list[1].Name != "API token" || list[2].RevokedAt == nil || list[0].RevokedAt != nil {
			t.Errorf("tokens (newest first) = %+v, %v", list, err)
		}
		if n, err := s.RevokeAllTokens(ctx, ada.ID); n != 2 || err != nil {
			t.Errorf("RevokeAllTokens = %d, %v", n, err)
		}
		for _, sec := range []string{s1, s2} {
			if _, err := s.UserByToken(ctx, sec); store.ErrorCode(err) != store.EUNAUTHORIZED {
				t.Errorf("a revoked token still works: %v", err)
			}
		}
		if u, err := s.UserByToken(ctx, sb); err != nil || u.ID != bob.ID {
			t.Errorf("bob's token after ada revoked hers: %v %v", u, err)
		}
		if n, _ := s.RevokeAllTokens(ctx, ada.ID); n != 0 {
			t.Errorf("second RevokeAllTokens = %d", n)
		}
	}},
	{"SetPassword", func(t *testing.T, open Opener) {
		s := open(t, nil)
		u := MustUser(t, s, "ada@example.com", 0)
		exp := time.Now().Add(time.Hour)
		s.SaveSession(ctx, "session-one", store.SessionRecord{UserID: u.ID, Data: "{}", ExpiresAt: exp})
		if err := s.SetPassword(ctx, u.ID, "short"); store.ErrorParam(err) != "password" {
			t.Errorf("short password = %v", err)
		}
		if err := s.SetPassword(ctx, u.ID+1000, "a brand new password"); !store.IsNotFound(err) {
			t.Errorf("nobody's password = %v", err)
		}
		if err := s.SetPassword(ctx, u.ID, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, u.Email, "correct horse battery"); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("old password = %v", err)
		}
		if _, err := s.Authenticate(ctx, u.Email, "a brand new password"); err != nil {
			t.Errorf("new password = %v", err)
		}
		if _, err := s.LoadSession(ctx, "session-one"); !store.IsNotFound(err) {
			t.Errorf("a session outlived the password change: %v", err)
		}
	}},
	{"Sessions", func(t *testing.T, open Opener) {
		clock := NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		s := open(t, clock.Now)
		u := MustUser(t, s, "ada@example.com", 0)
		exp := clock.Now().Add(time.Hour)
		if err := s.SaveSession(ctx, "anon", store.SessionRecord{Data: `{"a":1}`, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		rec, err := s.LoadSession(ctx, "anon")
		if err != nil || rec.UserID != 0 || rec.Data != `{"a":1}` || !rec.ExpiresAt.Equal(exp) {
			t.Fatalf("anonymous session = %+v, %v", rec, err)
		}
		for _, id := range []string{"one", "two", "three"} {
			if err := s.SaveSession(ctx, id, store.SessionRecord{UserID: u.ID, Data: id, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SaveSession(ctx, "one", store.SessionRecord{UserID: u.ID, Data: "one again", ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if rec, _ := s.LoadSession(ctx, "one"); rec == nil || rec.Data != "one again" || rec.UserID != u.ID {
			t.Errorf("saved again = %+v", rec)
		}
		if n, _ := s.CountSessions(ctx, u.ID); n != 3 {
			t.Errorf("%d sessions", n)
		}
		if n, err := s.DeleteOtherSessions(ctx, u.ID, "two"); n != 2 || err != nil {
			t.Errorf("DeleteOtherSessions = %d, %v", n, err)
		}
		if _, err := s.LoadSession(ctx, "two"); err != nil {
			t.Errorf("the kept session: %v", err)
		}
		if err := s.DeleteSession(ctx, "two"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadSession(ctx, "two"); !store.IsNotFound(err) {
			t.Errorf("deleted session = %v", err)
		}
		clock.Advance(2 * time.Hour)
		if _, err := s.LoadSession(ctx, "anon"); !store.IsNotFound(err) {
			t.Errorf("expired session = %v", err)
		}
		if _, err := s.LoadSession(ctx, "never"); !store.IsNotFound(err) {
			t.Errorf("unknown session = %v", err)
		}
	}},
}
