package sqlite

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

func TestVouchers(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ada := mustUser(t, db, "ada@example.com", 0)
	bob := mustUser(t, db, "bob@example.com", 0)

	t.Run("OK", func(t *testing.T) {
		codes, err := db.CreateVouchers(ctx, 5000, 2, time.Time{})
		if err != nil || len(codes) != 2 || codes[0] == codes[1] {
			t.Fatalf("codes %v, %v", codes, err)
		}
		// Typed in lower case, with spaces instead of dashes: still the code.
		typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
		r, err := db.RedeemVoucher(ctx, ada.ID, typed)
		if err != nil || r.CreditedCents != 5000 || r.BalanceCents != 5000 {
			t.Fatalf("redeem: %+v, %v", r, err)
		}
		if _, err := db.RedeemVoucher(ctx, bob.ID, codes[0]); err != store.ErrVoucherUsed {
			t.Fatalf("second redemption: %v, want used", err)
		}
		ledger, _ := db.Ledger(ctx, ada.ID)
		if len(ledger) != 1 || ledger[0].AmountCents != 5000 || !strings.HasSuffix(ledger[0].Memo, codes[0][len(codes[0])-4:]) {
			t.Fatalf("ledger %+v", ledger)
		}
		mustCheck(t, db)
	})
	t.Run("ErrVoucherUnknown", func(t *testing.T) {
		if _, err := db.RedeemVoucher(ctx, ada.ID, store.NewVoucherCode()); err != store.ErrVoucherUnknown {
			t.Fatalf("got %v", err)
		}
		if _, err := db.RedeemVoucher(ctx, ada.ID, "hello"); store.ErrorParam(err) != "code" {
			t.Fatalf("malformed code: %v", err)
		}
	})
	t.Run("ErrVoucherExpired", func(t *testing.T) {
		codes, err := db.CreateVouchers(ctx, 100, 1, now.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(25 * time.Hour)
		defer func() { now = now.Add(-25 * time.Hour) }()
		if _, err := db.RedeemVoucher(ctx, ada.ID, codes[0]); err != store.ErrVoucherExpired {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, c := range []struct {
			cents   int64
			count   int
			expires time.Time
			param   string
		}{{0, 1, time.Time{}, "amount"}, {store.MaxCreditCents + 1, 1, time.Time{}, "amount"},
			{100, 0, time.Time{}, "count"}, {100, store.MaxVouchers + 1, time.Time{}, "count"},
			{100, 1, now.Add(-time.Hour), "expires"}} {
			if _, err := db.CreateVouchers(ctx, c.cents, c.count, c.expires); store.ErrorParam(err) != c.param {
				t.Errorf("%+v: %v", c, err)
			}
		}
	})
}

// TestConcurrentVoucherRedemption: many people racing for one code; exactly
// one is credited, once, and every ledger still sums to its balance.
func TestConcurrentVoucherRedemption(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	codes, err := db.CreateVouchers(ctx, 2500, 1, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var users []*store.User
	for i := range 16 {
		users = append(users, mustUser(t, db, "p"+string(rune('a'+i))+"@example.com", 0))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, used := 0, 0
	for _, u := range users {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.RedeemVoucher(ctx, u.ID, codes[0])
				mu.Lock()
				defer mu.Unlock()
				switch err {
				case nil:
					won++
				case store.ErrVoucherUsed:
					used++
				default:
					t.Errorf("redeem: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	if won != 1 || used != 31 {
		t.Fatalf("%d redemptions succeeded and %d were refused as used, want 1 and 31", won, used)
	}
	var total int64
	for _, u := range users {
		b, _ := db.Balance(ctx, u.ID)
		total += b
	}
	if total != 2500 {
		t.Fatalf("credited %d cents in all, want 2500", total)
	}
	mustCheck(t, db)
}
