package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// Vouchers (moved here from store/sqlite's tests).
var voucherCases = []Case{
	{"Vouchers", func(t *testing.T, open Opener) {
		clock := NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
		s := open(t, clock.Now)
		ada := MustUser(t, s, "ada@example.com", 0)
		bob := MustUser(t, s, "bob@example.com", 0)
		codes, err := s.CreateVouchers(ctx, 5000, 2, time.Time{})
		if err != nil || len(codes) != 2 || codes[0] == codes[1] {
			t.Fatalf("codes %v, %v", codes, err)
		}
		// Typed in lower case, with spaces instead of dashes: still the code.
		typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
		r, err := s.RedeemVoucher(ctx, ada.ID, typed)
		if err != nil || r.CreditedCents != 5000 || r.BalanceCents != 5000 {
			t.Fatalf("redeem: %+v, %v", r, err)
		}
		if _, err := s.RedeemVoucher(ctx, bob.ID, codes[0]); err != store.ErrVoucherUsed {
			t.Fatalf("second redemption: %v, want used", err)
		}
		ledger, _ := s.Ledger(ctx, ada.ID)
		if len(ledger) != 1 || ledger[0].AmountCents != 5000 || ledger[0].Kind != "credit" ||
			!strings.HasSuffix(ledger[0].Memo, codes[0][len(codes[0])-4:]) {
			t.Fatalf("ledger %+v", ledger)
		}
		if _, err := s.RedeemVoucher(ctx, ada.ID, store.NewVoucherCode()); err != store.ErrVoucherUnknown {
			t.Errorf("unknown code: %v", err)
		}
		if _, err := s.RedeemVoucher(ctx, ada.ID, "hello"); store.ErrorParam(err) != "code" {
			t.Errorf("malformed code: %v", err)
		}
		soon, err := s.CreateVouchers(ctx, 100, 1, clock.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Hour)
		if _, err := s.RedeemVoucher(ctx, ada.ID, soon[0]); err != store.ErrVoucherExpired {
			t.Errorf("expired code: %v", err)
		}
		for _, c := range []struct {
			cents   int64
			count   int
			expires time.Time
			param   string
		}{{0, 1, time.Time{}, "amount"}, {store.MaxCreditCents + 1, 1, time.Time{}, "amount"},
			{100, 0, time.Time{}, "count"}, {100, store.MaxVouchers + 1, time.Time{}, "count"},
			{100, 1, clock.Now().Add(-time.Hour), "expires"}} {
			if _, err := s.CreateVouchers(ctx, c.cents, c.count, c.expires); store.ErrorParam(err) != c.param {
				t.Errorf("%+v: %v", c, err)
			}
		}
		if bal, _ := s.Balance(ctx, ada.ID); bal != 5000 {
			t.Errorf("balance %d", bal)
		}
		MustCheck(t, s)
	}},
	// Many people racing for one code: exactly one is credited, once, and
	// every ledger still sums to its balance.
	{"ConcurrentVoucherRedemption", func(t *testing.T, open Opener) {
		s := open(t, nil)
		codes, err := s.CreateVouchers(ctx, 2500, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var users []*store.User
		for i := range 16 {
			users = append(users, MustUser(t, s, "p"+string(rune('a'+i))+"@example.com", 0))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, used := 0, 0
		for _, u := range users {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.RedeemVoucher(ctx, u.ID, codes[0])
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
			b, _ := s.Balance(ctx, u.ID)
			total += b
		}
		if total != 2500 {
			t.Fatalf("credited %d cents in all, want 2500", total)
		}
		MustCheck(t, s)
	}},
}
