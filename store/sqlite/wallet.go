package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth/berth/store"
)

// Balance returns a user's balance in cents.
func (db *DB) Balance(ctx context.Context, userID int64) (int64, error) {
	var c int64
	err := db.read.QueryRowContext(ctx, `SELECT balance_cents FROM wallets WHERE user_id = ?`, userID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.Errorf(store.ENOTFOUND, "No such wallet.")
	} else if err != nil {
		return 0, fmt.Errorf("balance: %w", err)
	}
	return c, nil
}

// Credit adds funds to a user's wallet and records it in the ledger, and
// returns the new balance.
func (db *DB) Credit(ctx context.Context, userID, cents int64, memo string) (int64, error) {
	if cents <= 0 || cents > store.MaxCreditCents {
		return 0, store.Invalid("amount", "The amount must be more than $0 and at most $%s.", store.FormatUSD(store.MaxCreditCents))
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	bal, err := creditTx(ctx, tx, userID, cents, memo)
	if err != nil {
		return 0, err
	}
	return bal, tx.Commit()
}

func creditTx(ctx context.Context, tx *Tx, userID, cents int64, memo string) (int64, error) {
	memo = strings.TrimSpace(memo)
	res, err := tx.ExecContext(ctx, `UPDATE wallets SET balance_cents = balance_cents + ? WHERE user_id = ?`, cents, userID)
	if err != nil {
		return 0, fmt.Errorf("credit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, store.Errorf(store.ENOTFOUND, "No such wallet.")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (user_id, kind, amount_cents, memo, created_at)
		VALUES (?, 'credit', ?, ?, ?)`, userID, cents, memo, tx.now.Format(time.RFC3339)); err != nil {
		return 0, fmt.Errorf("credit: %w", err)
	}
	return balanceTx(ctx, tx, userID)
}

func balanceTx(ctx context.Context, tx *Tx, userID int64) (int64, error) {
	var c int64
	if err := tx.QueryRowContext(ctx, `SELECT balance_cents FROM wallets WHERE user_id = ?`, userID).Scan(&c); err != nil {
		return 0, fmt.Errorf("balance: %w", err)
	}
	return c, nil
}

// Ledger returns a user's ledger, newest first.
func (db *DB) Ledger(ctx context.Context, userID int64) ([]store.LedgerEntry, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT l.id, l.kind, l.amount_cents, COALESCE(l.image_id, ''),
		COALESCE(i.alias, ''), COALESCE(i.architecture, ''), l.memo, l.created_at
		FROM ledger l LEFT JOIN images i ON i.id = l.image_id WHERE l.user_id = ? ORDER BY l.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var e store.LedgerEntry
		var created string
		if err := rows.Scan(&e.ID, &e.Kind, &e.AmountCents, &e.ImageID, &e.ImageAlias, &e.ImageArch, &e.Memo, &created); err != nil {
			return nil, err
		}
		e.CreatedAt, _ = time.Parse(time.RFC3339, created)
		out = append(out, e)
	}
	return out, rows.Err()
}
