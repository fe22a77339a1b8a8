package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !expires.IsZero() && !expires.After(tx.now) {
		return nil, store.Invalid("expires", "The expiry must be in the future.")
	}
	var exp any
	if !expires.IsZero() {
		exp = expires.UTC().Format(time.RFC3339)
	}
	codes := make([]string, 0, count)
	for range count {
		code := store.NewVoucherCode()
		norm, err := store.NormalizeVoucherCode(code)
		if err != nil {
			return nil, fmt.Errorf("create vouchers: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vouchers (code_hash, hint, amount_cents, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, store.HashSecret(norm), norm[len(norm)-4:], cents, tx.now.Format(time.RFC3339), exp); err != nil {
			return nil, fmt.Errorf("create vouchers: %w", err)
		}
		codes = append(codes, code)
	}
	return codes, tx.Commit()
}

// RedeemVoucher marks the voucher used by userID and credits its amount,
// in one immediate transaction: the conditional UPDATE lets exactly one
// redemption of a code through.
func (db *DB) RedeemVoucher(ctx context.Context, userID int64, code string) (store.Redemption, error) {
	norm, err := store.NormalizeVoucherCode(code)
	if err != nil {
		return store.Redemption{}, err
	}
	hash := store.HashSecret(norm)
	tx, err := db.begin(ctx)
	if err != nil {
		return store.Redemption{}, err
	}
	defer tx.Rollback()
	now := tx.now.Format(time.RFC3339)
	var cents int64
	err = tx.QueryRowContext(ctx, `UPDATE vouchers SET redeemed_by = ?, redeemed_at = ?
		WHERE code_hash = ? AND redeemed_by IS NULL AND (expires_at IS NULL OR expires_at > ?)
		RETURNING amount_cents`, userID, now, hash, now).Scan(&cents)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Redemption{}, voucherRefusal(ctx, tx, hash)
	} else if err != nil {
		return store.Redemption{}, fmt.Errorf("redeem voucher: %w", err)
	}
	bal, err := creditTx(ctx, tx, userID, cents, "Voucher …"+norm[len(norm)-4:])
	if err != nil {
		return store.Redemption{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.Redemption{}, fmt.Errorf("redeem voucher: %w", err)
	}
	return store.Redemption{CreditedCents: cents, BalanceCents: bal}, nil
}

// voucherRefusal says why a code could not be redeemed.
func voucherRefusal(ctx context.Context, tx *Tx, hash string) error {
	var redeemed sql.NullString
	var expires sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT redeemed_at, expires_at FROM vouchers WHERE code_hash = ?`, hash).Scan(&redeemed, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrVoucherUnknown
	case err != nil:
		return fmt.Errorf("redeem voucher: %w", err)
	case redeemed.Valid:
		return store.ErrVoucherUsed
	default:
		return store.ErrVoucherExpired
	}
}
