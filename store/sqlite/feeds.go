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

// recordEvents writes the events of an image's change in tx (see
// store.ImageChanges), at the transaction's time; a new image joins at its
// added_date, as the catalog file gives it, unless that is still to come.
func recordEvents(ctx context.Context, tx *Tx, old, img *store.Image) error {
	for _, e := range store.ImageChanges(old, img) {
		at := tx.now
		if e.Kind == store.EventAdded && img.AddedDate.Before(at) {
			at = img.AddedDate
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_events (image_id, kind, build, at, summary) VALUES (?, ?, ?, ?, ?)`,
			img.ID, e.Kind, e.Serial, at.UTC().Format(time.RFC3339), e.Summary); err != nil {
			return fmt.Errorf("record %s event: %w", e.Kind, err)
		}
	}
	return nil
}

// feedWindow bounds the events a feed looks through: the latest ones, so a
// query that matches few images reads a bounded number of events rather
// than the whole history (the migration alone gives every image one).
const feedWindow = 10000

// recentEvents keeps the latest feedWindow events.
var recentEvents = fmt.Sprintf("e.event_seq > (SELECT COALESCE(MAX(event_seq), 0) - %d FROM image_events)", feedWindow)

// eventColumns are read before imageColumns by queryEvents.
const eventColumns = `e.event_seq, e.kind, e.build, e.at, e.summary`

// FeedEvents returns the latest added and serial events of images that
// pass f, newest first; f's sort and page are ignored. Events are read
// backwards by seq and joined with their image, whose conditions are
// those of a listing walk (filterWalkWhere), so no filter column's index
// turns the walk into a sort of every event.
func (db *DB) FeedEvents(ctx context.Context, f store.Filter, limit int) ([]store.ImageEvent, error) {
	if f.Now.IsZero() {
		f.Now = db.Now()
	}
	where, args := filterWalkWhere(f)
	cond := "e.kind IN ('added', 'serial') AND " + recentEvents
	if where != "" {
		cond += " AND " + strings.TrimPrefix(where, " WHERE ")
	}
	return queryEvents(ctx, db.read, `SELECT `+eventColumns+`, `+imageColumns+`
		FROM image_events e JOIN images ON images.id = e.image_id
		WHERE `+cond+` ORDER BY e.event_seq DESC LIMIT ?`, append(args, limit)...)
}

// LibraryEvents returns the latest serial and security events of the
// images in a user's library, newest first.
func (db *DB) LibraryEvents(ctx context.Context, userID int64, limit int) ([]store.ImageEvent, error) {
	return queryEvents(ctx, db.read, `SELECT `+eventColumns+`, `+imageColumns+`
		FROM image_events e JOIN images ON images.id = e.image_id
		WHERE e.kind IN ('serial', 'security') AND `+recentEvents+`
			AND e.image_id IN (SELECT image_id FROM library WHERE user_id = ?)
		ORDER BY e.event_seq DESC LIMIT ?`, userID, limit)
}

func queryEvents(ctx context.Context, q querier, query string, args ...any) ([]store.ImageEvent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("feed events: %w", err)
	}
	defer rows.Close()
	out := []store.ImageEvent{}
	for rows.Next() {
		var e store.ImageEvent
		var at string
		// scanImage reads imageColumns first; the event's columns come
		// first in the row, so read them through a row of their own.
		img, err := scanImageAfter(rows, []any{&e.Seq, &e.Kind, &e.Serial, &at, &e.Summary})
		if err != nil {
			return nil, fmt.Errorf("feed events: %w", err)
		}
		if e.At, err = time.Parse(time.RFC3339, at); err != nil {
			return nil, fmt.Errorf("feed event %d: at: %w", e.Seq, err)
		}
		e.Image = img
		out = append(out, e)
	}
	return out, rows.Err()
}

// CreateFeedKey makes a new personal feed key for a user, replacing any
// earlier one, and returns it: shown once, stored as a hash.
func (db *DB) CreateFeedKey(ctx context.Context, userID int64) (string, error) {
	key := store.FeedKeyPrefix + store.NewSecret(32)
	tx, err := db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed_keys (user_id, key_hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at`,
		userID, store.HashSecret(key), tx.now.Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("create feed key: %w", err)
	}
	return key, tx.Commit()
}

// RevokeFeedKey removes the user's feed key: its feed URL stops working.
func (db *DB) RevokeFeedKey(ctx context.Context, userID int64) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM feed_keys WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("revoke feed key: %w", err)
	}
	return nil
}

// FeedKeyCreated tells when the user's feed key was made, nil when there
// is none.
func (db *DB) FeedKeyCreated(ctx context.Context, userID int64) (*time.Time, error) {
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT created_at FROM feed_keys WHERE user_id = ?`, userID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("feed key: %w", err)
	}
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return nil, fmt.Errorf("feed key: %w", err)
	}
	return &t, nil
}

// UserByFeedKey returns the owner of a feed key.
func (db *DB) UserByFeedKey(ctx context.Context, key string) (*store.User, error) {
	missing := store.Errorf(store.ENOTFOUND, "This feed address is not valid: it was revoked or replaced.")
	if !strings.HasPrefix(key, store.FeedKeyPrefix) || len(key) > 128 {
		return nil, missing
	}
	var u store.User
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT u.id, u.email, u.created_at FROM feed_keys k
		JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?`, store.HashSecret(key)).Scan(&u.ID, &u.Email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing
	} else if err != nil {
		return nil, fmt.Errorf("find feed key: %w", err)
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}
