package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

var voucherCases = []Case{
	{"Vouchers", func(t *testing.T, open Opener) {
		clock := NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		s := open(t, clock.Now)
		u := MustUser(t, s, "ada@example.com", 100)
		if _, err := s.CreateVouchers(ctx, 0, 1, time.Time{}); store.ErrorParam(err) != "amount" {
			t.Errorf("zero amount = %v", err)
		}
		if _, err := s.CreateVouchers(ctx, 500, 0, time.Time{}); store.ErrorParam(err) != "count" {
			t.Errorf("zero count = %v", err)
		}
		if _, err := s.CreateVouchers(ctx, 500, 1, clock.Now().Add(-time.Hour)); store.ErrorParam(err) != "expires" {
			t.Errorf("expiry in the past = %v", err)
		}
		codes, err := s.CreateVouchers(ctx, 2500, 2, time.Time{})
		if err != nil || len(codes) != 2 || codes[0] == codes[1] {
			t.Fatalf("codes %v, %v", codes, err)
		}
		r, err := s.RedeemVoucher(ctx, u.ID, codes[0])
		if err != nil || r.CreditedCents != 2500 || r.BalanceCents != 2600 {
			t.Errorf("redeem = %+v, %v", r, err)
		}
		if _, err := s.RedeemVoucher(ctx, u.ID, codes[0]); !errors.Is(err, store.ErrVoucherUsed) {
			t.Errorf("second redeem = %v", err)
		}
		if _, err := s.RedeemVoucher(ctx, u.ID, "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"); !errors.Is(err, store.ErrVoucherUnknown) {
			t.Errorf("unknown code = %v", err)
		}
		soon, err := s.CreateVouchers(ctx, 700, 1, clock.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Hour)
		if _, err := s.RedeemVoucher(ctx, u.ID, soon[0]); !errors.Is(err, store.ErrVoucherExpired) {
			t.Errorf("expired code = %v", err)
		}
		if bal, _ := s.Balance(ctx, u.ID); bal != 2600 {
			t.Errorf("balance %d", bal)
		}
		ledger, _ := s.Ledger(ctx, u.ID)
		if len(ledger) != 2 || ledger[0].AmountCents != 2500 || ledger[0].Kind != "credit" {
			t.Errorf("ledger %+v", ledger)
		}
		MustCheck(t, s)
	}},
	{"ConcurrentVoucherRedemption", func(t *testing.T, open Opener) {
		s := open(t, nil)
		var users []*store.User
		for _, e := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			users = append(users, MustUser(t, s, e, 0))
		}
		codes, err := s.CreateVouchers(ctx, 1000, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.RedeemVoucher(ctx, users[i%len(users)].ID, codes[0])
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrVoucherUsed):
					t.Errorf("redeem: %v", err)
				}
			}()
		}
		wg.Wait()
		var total int64
		for _, u := range users {
			b, _ := s.Balance(ctx, u.ID)
			total += b
		}
		if ok != 1 || total != 1000 {
			t.Errorf("%d redemptions went through, %d cents credited in all", ok, total)
		}
		MustCheck(t, s)
	}},
}
