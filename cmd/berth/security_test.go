package main

import (
	"path/filepath"
	"testing"
)

// TestWalletCreditRefusesMalformedAmounts: a sign or any other non-digit
// inside the number is refused, not read as cents to subtract.
func TestWalletCreditRefusesMalformedAmounts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ops@example.com", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"1.-5", "1.+5", "-1.50", "+1", "1. 5", "1.5x", " 1 .5", "1.", ".5", "1,50", "1_000", "0x10", "1.5.0", "١٢"} {
		if out, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", bad); err == nil {
			t.Errorf("credit of %q accepted: %q", bad, out)
		}
	}
	for amount, want := range map[string]string{"$3": "$3 ", "0.05": "$0.05", "2.5": "$2.50"} {
		if out, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", amount); err != nil || out[:len("credited "+want)] != "credited "+want {
			t.Errorf("credit of %q = %q, %v", amount, out, err)
		}
	}
}
