package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth/berth/store/sqlite"
)

func TestVoucherCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	out, err := berth(t, "voucher", "create", "--db", db, "--amount", "50", "--count", "3", "--expires", "30d")
	if err != nil {
		t.Fatal(err)
	}
	codes := strings.Fields(out)
	if len(codes) != 3 || strings.Count(out, "\n") != 3 {
		t.Fatalf("printed %q; want three codes, one a line, and nothing else", out)
	}
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ada@example.com", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, _ := st.FindUserByEmail(context.Background(), "ada@example.com")
	r, err := st.RedeemVoucher(context.Background(), u.ID, codes[2])
	if err != nil || r.CreditedCents != 5000 {
		t.Fatalf("redeem a printed code: %+v, %v", r, err)
	}
	for _, bad := range [][]string{{"--amount", "-5"}, {"--amount", "0"}, {"--amount", "5", "--count", "0"},
		{"--amount", "5", "--count", "1001"}, {"--amount", "5", "--expires", "soon"}, {"--amount", "5", "--expires", "-3d"}, {}} {
		if out, err := berth(t, append([]string{"voucher", "create", "--db", db}, bad...)...); err == nil {
			t.Errorf("voucher create %q accepted: %q", bad, out)
		}
	}
	if _, err := berth(t, "voucher", "--db", db); err == nil {
		t.Error("voucher without create accepted")
	}
}
