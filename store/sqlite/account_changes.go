package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/berth/berth/store"
	"golang.org/x/crypto/bcrypt"
)

// SetPassword replaces a user's password and ends every session of theirs,
// in one transaction: whoever knew the old password is signed out. The
// caller signs the person back in where they changed it.
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	if err := store.CheckPassword(password); err != nil {
		return err
	}
	// Hash before the transaction: it is slow on purpose and must not hold
	// the write lock.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.passwordCost())
	if err != nil {
		return fmt.Errorf("set password: hash: %w", err)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, string(hash), userID)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ENOTFOUND, "No such account.")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return tx.Commit()
}

// RevokeAllTokens ends every live API token of a user and returns how
// many it ended.
func (db *DB) RevokeAllTokens(ctx context.Context, userID int64) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		tx.now.Format(time.RFC3339), userID)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), tx.Commit()
}
