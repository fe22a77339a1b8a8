package sqlite

import (
	"context"
	"testing"

	"github.com/berth/berth/store"
)

// TestEmailsAreNFCNormalised: é as one code point and as e plus a
// combining accent is one address, at sign-up and at log-in.
func TestEmailsAreNFCNormalised(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	composed, decomposed := "jos\u00e9@example.com", "jose\u0301@example.com"
	u, err := db.CreateUser(ctx, decomposed, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != composed {
		t.Errorf("stored %q, want the NFC form %q", u.Email, composed)
	}
	if _, err := db.CreateUser(ctx, composed, "correct horse battery"); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("a second account for the same-looking address: %v", err)
	}
	for _, e := range []string{composed, decomposed, "JOSE\u0301@example.com"} {
		if _, err := db.Authenticate(ctx, e, "correct horse battery"); err != nil {
			t.Errorf("log-in as %q: %v", e, err)
		}
		if _, err := db.FindUserByEmail(ctx, e); err != nil {
			t.Errorf("find %q: %v", e, err)
		}
	}
}

// TestCommonPasswordsAreRefused, whatever their case.
func TestCommonPasswordsAreRefused(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	for i, p := range []string{"12345678", "password", "PassWord1", "qwertyuiop", " iloveyou ", "1q2w3e4r"} {
		_, err := db.CreateUser(ctx, "u"+string(rune('a'+i))+"@example.com", p)
		if store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != "password" {
			t.Errorf("password %q: %v, want refused", p, err)
		}
	}
	if _, err := db.CreateUser(ctx, "ok@example.com", "correct horse battery"); err != nil {
		t.Errorf("an uncommon password refused: %v", err)
	}
}
