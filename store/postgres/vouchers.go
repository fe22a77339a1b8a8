package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/berth/berth/store"
)

// CreateVouchers stores count new vouchers worth cents each, in one
// transaction, and returns their codes.
func (db *DB) CreateVouchers(ctx context.Context, cents int64, count int, expires time.Time) ([]string, error) {
	if cents <= 0 || cents > store.MaxCreditCents {
		return nil, store.Invalid("amount", "The amount must be more than $0 and at most $%s.", store.FormatUSD(store.MaxCreditCents))
	}
	if count < 1 || count > store.MaxVouchers {
		return nil, store.Invalid("count", "The count must be from 1 to %d.", store.MaxVouchers)
	}
	var codes []string
	err := db.inTx(ctx, func(tx *Tx) error {
		if !expires.IsZero() && !expires.After(tx.now) {
			return store.Invalid("expires", "The expiry must be in the future.")
		}
		var exp *time.Time
		if !expires.IsZero() {
			e := expires.UTC().Truncate(time.Second)
			exp = &e
		}
		codes = make([]string, 0, count)
		for range count {
			code := store.NewVoucherCode()
			norm, err := store.NormalizeVoucherCode(code)
			if err != nil {
				return fmt.Errorf("create vouchers: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO vouchers (code_hash, hint, amount_cents, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5)`, store.HashSecret(norm), norm[len(norm)-4:], cents, tx.now, exp); err != nil {
				return fmt.Errorf("create vouchers: %w", err)
			}
			codes = append(codes, code)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RedeemVoucher marks the voucher used by userID and credits its amount in
// one transaction. The conditional UPDATE lets exactly one redemption of a
// code through: a concurrent one waits for the row, then finds it used.
func (db *DB) RedeemVoucher(ctx context.Context, userID int64, code string) (store.Redemption, error) {
	norm, err := store.NormalizeVoucherCode(code)
	if err != nil {
		return store.Redemption{}, err
	}
	hash := store.HashSecret(norm)
	var r store.Redemption
	err = db.inTx(ctx, func(tx *Tx) error {
		var cents int64
		err := tx.QueryRow(ctx, `UPDATE vouchers SET redeemed_by = $1, redeemed_at = $2
			WHERE code_hash = $3 AND redeemed_by IS NULL AND (expires_at IS NULL OR expires_at > $2)
			RETURNING amount_cents`, userID, tx.now, hash).Scan(&cents)
		if noRows(err) {
			return voucherRefusal(ctx, tx, hash)
		} else if err != nil {
			return fmt.Errorf("redeem voucher: %w", err)
		}
		bal, err := creditTx(ctx, tx, userID, cents, "Voucher …"+norm[len(norm)-4:])
		if err != nil {
			return err
		}
		r = store.Redemption{CreditedCents: cents, BalanceCents: bal}
		return nil
	})
	return r, err
}

// voucherRefusal says why a code could not be redeemed.
func voucherRefusal(ctx context.Context, tx *Tx, hash string) error {
	var redeemed *time.Time
	err := tx.QueryRow(ctx, `SELECT redeemed_at FROM vouchers WHERE code_hash = $1`, hash).Scan(&redeemed)
	switch {
	case noRows(err):
		return store.ErrVoucherUnknown
	case err != nil:
		return fmt.Errorf("redeem voucher: %w", err)
	case redeemed != nil:
		return store.ErrVoucherUsed
	default:
		return store.ErrVoucherExpired
	}
}
