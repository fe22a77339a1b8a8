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

// CreateToken makes a new API token for a user and returns its secret, which
// is shown once and never stored.
func (db *DB) CreateToken(ctx context.Context, userID int64, name string) (string, *store.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if len(name) > 80 {
		return "", nil, store.Invalid("name", "Use a token name of at most 80 characters.")
	}
	secret := store.TokenPrefix + store.NewSecret(32)
	tx, err := db.begin(ctx)
	if err != nil {
		return "", nil, err
	}
	defer tx.Rollback()
	t := &store.Token{Name: name, Hint: secret[len(secret)-4:], CreatedAt: tx.now}
	res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, hint, created_at) VALUES (?, ?, ?, ?, ?)`,
		userID, name, store.HashSecret(secret), t.Hint, tx.now.Format(time.RFC3339))
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return "", nil, err
	}
	return secret, t, tx.Commit()
}

// UserByToken returns the owner of a live API token.
func (db *DB) UserByToken(ctx context.Context, secret string) (*store.User, error) {
	bad := store.Errorf(store.EUNAUTHORIZED, "This API token is not valid. Create a token on your account page or with `berth token create`.")
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) > 128 {
		return nil, bad
	}
	var u store.User
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.created_at FROM api_tokens t
		JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.revoked_at IS NULL`, store.HashSecret(secret)).
		Scan(&u.ID, &u.Email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bad
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}

// Tokens lists a user's tokens, newest first.
func (db *DB) Tokens(ctx context.Context, userID int64) ([]*store.Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, hint, created_at, revoked_at FROM api_tokens
		WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.Token
	for rows.Next() {
		var t store.Token
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Hint, &created, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt, _ = time.Parse(time.RFC3339, created)
		if revoked.Valid {
			r, _ := time.Parse(time.RFC3339, revoked.String)
			t.RevokedAt = &r
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken ends one of the user's tokens. Another user's token id is
// reported as not found, so ids reveal nothing.
func (db *DB) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ? AND user_id = ?`, tx.now.Format(time.RFC3339), tokenID, userID)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ENOTFOUND, "You have no such token.")
	}
	return tx.Commit()
}
