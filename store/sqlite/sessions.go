package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth/berth/store"
)

// LoadSession returns the live session with the given id.
func (db *DB) LoadSession(ctx context.Context, id string) (*store.SessionRecord, error) {
	var rec store.SessionRecord
	var uid sql.NullInt64
	var expires string
	err := db.read.QueryRowContext(ctx, `SELECT user_id, data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?`,
		store.HashSecret(id), db.Now().UTC().Format(time.RFC3339)).Scan(&uid, &rec.Data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Errorf(store.ENOTFOUND, "No such session.")
	} else if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	rec.UserID = uid.Int64
	rec.ExpiresAt, _ = time.Parse(time.RFC3339, expires)
	return &rec, nil
}

// SaveSession writes a session, creating it when new. Expired sessions are
// swept at the same time, so the table does not grow without bound.
func (db *DB) SaveSession(ctx context.Context, id string, rec store.SessionRecord) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var uid any
	if rec.UserID != 0 {
		uid = rec.UserID
	}
	now := tx.now.Format(time.RFC3339)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id,
		data = excluded.data, expires_at = excluded.expires_at`,
		store.HashSecret(id), uid, rec.Data, now, rec.ExpiresAt.UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	return tx.Commit()
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, store.HashSecret(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteOtherSessions ends every session of a user except the one with
// keepID, and returns how many it ended.
func (db *DB) DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, store.HashSecret(keepID))
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountSessions returns how many live sessions a user has.
func (db *DB) CountSessions(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?`,
		userID, db.Now().UTC().Format(time.RFC3339)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}
