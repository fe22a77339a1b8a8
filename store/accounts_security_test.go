package store

import (
	"context"
	"testing"
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
	if _, err := db.CreateUser(ctx, composed, "correct horse battery"); ErrorCode(err) != ECONFLICT {
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
