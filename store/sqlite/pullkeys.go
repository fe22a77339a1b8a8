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

// maxPullKeys bounds the live pull keys of one account.
const maxPullKeys = 20

// CreatePullKey makes a personal simplestreams key for a user and returns
// its secret, which is shown once and never stored.
func (db *DB) CreatePullKey(ctx context.Context, userID int64) (string, *store.PullKey, error) {
	secret := store.PullKeyPrefix + store.NewSecret(32)
	tx, err := db.begin(ctx)
	if err != nil {
		return "", nil, err
	}
	defer tx.Rollback()
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pull_keys WHERE user_id = ? AND revoked_at IS NULL`, userID).Scan(&live); err != nil {
		return "", nil, fmt.Errorf("create pull key: %w", err)
	}
	if live >= maxPullKeys {
		return "", nil, store.Errorf(store.ECONFLICT, "You have %d live pull keys: revoke one before making another.", live)
	}
	k := &store.PullKey{Hint: secret[len(secret)-4:], CreatedAt: tx.now}
	res, err := tx.ExecContext(ctx, `INSERT INTO pull_keys (user_id, hash, hint, created_at) VALUES (?, ?, ?, ?)`,
		userID, store.HashSecret(secret), k.Hint, tx.now.Format(time.RFC3339))
	if err != nil {
		return "", nil, fmt.Errorf("create pull key: %w", err)
	}
	if k.ID, err = res.LastInsertId(); err != nil {
		return "", nil, err
	}
	return secret, k, tx.Commit()
}

// PullKeys lists a user's pull keys, newest first.
func (db *DB) PullKeys(ctx context.Context, userID int64) ([]*store.PullKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, hint, created_at, revoked_at FROM pull_keys
		WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list pull keys: %w", err)
	}
	defer rows.Close()
	var out []*store.PullKey
	for rows.Next() {
		var k store.PullKey
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&k.ID, &k.Hint, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt, _ = time.Parse(time.RFC3339, created)
		if revoked.Valid {
			r, _ := time.Parse(time.RFC3339, revoked.String)
			k.RevokedAt = &r
		}
		out = append(out, &k)
	}
	return out, rows.Err()
}

// RevokePullKey ends one of the user's pull keys.
func (db *DB) RevokePullKey(ctx context.Context, userID, keyID int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE pull_keys SET revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ? AND user_id = ?`, tx.now.Format(time.RFC3339), keyID, userID)
	if err != nil {
		return fmt.Errorf("revoke pull key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ENOTFOUND, "You have no such pull key.")
	}
	return tx.Commit()
}

// UserByPullKey returns the owner of a live pull key.
func (db *DB) UserByPullKey(ctx context.Context, secret string) (*store.User, error) {
	bad := store.Errorf(store.EUNAUTHORIZED, "This pull key is not valid: make a new one on your account page.")
	if !strings.HasPrefix(secret, store.PullKeyPrefix) || len(secret) > 128 {
		return nil, bad
	}
	var u store.User
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.created_at FROM pull_keys k
		JOIN users u ON u.id = k.user_id WHERE k.hash = ? AND k.revoked_at IS NULL`, store.HashSecret(secret)).
		Scan(&u.ID, &u.Email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	} else if err != nil {
		return nil, fmt.Errorf("find pull key: %w", err)
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}
