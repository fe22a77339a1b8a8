package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berth/berth/store"
)

// recordEvents writes the events of an image's change in tx (see
// store.ImageChanges), at the transaction's time; a new image joins at its
// added_date, unless that is still to come (as on SQLite).
func recordEvents(ctx context.Context, tx *Tx, old, img *store.Image) error {
	for _, e := range store.ImageChanges(old, img) {
		at := tx.now
		if e.Kind == store.EventAdded && img.AddedDate.Before(at) {
			at = img.AddedDate
		}
		if _, err := tx.Exec(ctx, `INSERT INTO image_events (image_id, kind, build, at, summary) VALUES ($1, $2, $3, $4, $5)`,
			img.ID, e.Kind, e.Serial, at.UTC().Truncate(time.Second), e.Summary); err != nil {
			return fmt.Errorf("record %s event: %w", e.Kind, err)
		}
	}
	return nil
}

// feedWindow bounds the events a feed looks through, as on SQLite.
const feedWindow = 10000

// recentEvents keeps the latest feedWindow events.
var recentEvents = fmt.Sprintf("e.event_seq > (SELECT COALESCE(MAX(event_seq), 0) - %d FROM image_events)", feedWindow)

// eventColumns are read before imageColumns by queryEvents.
const eventColumns = `e.event_seq, e.kind, e.build, e.at, e.summary`

// imageColumnsOf is imageColumns qualified by the images table, for joins.
var imageColumnsOf = func() string {
	cols := strings.Split(imageColumns, ",")
	for i, c := range cols {
		cols[i] = "images." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// FeedEvents returns the latest added and serial events of images that
// pass f, newest first; f's sort and page are ignored.
func (db *DB) FeedEvents(ctx context.Context, f store.Filter, limit int) ([]store.ImageEvent, error) {
	if f.Now.IsZero() {
		f.Now = db.Now()
	}
	var a args
	where := filterWhere(f, &a)
	cond := "e.kind IN ('added', 'serial') AND " + recentEvents
	if where != "" {
		cond += " AND " + strings.TrimPrefix(where, " WHERE ")
	}
	lim := a.add(limit)
	return queryEvents(ctx, db.pool, `SELECT `+eventColumns+`, `+imageColumnsOf+`
		FROM image_events e JOIN images ON images.id = e.image_id
		WHERE `+cond+` ORDER BY e.event_seq DESC LIMIT `+lim, a...)
}

// LibraryEvents returns the latest serial and security events of the
// images in a user's library, newest first.
func (db *DB) LibraryEvents(ctx context.Context, userID int64, limit int) ([]store.ImageEvent, error) {
	return queryEvents(ctx, db.pool, `SELECT `+eventColumns+`, `+imageColumnsOf+`
		FROM image_events e JOIN images ON images.id = e.image_id
		WHERE e.kind IN ('serial', 'security') AND `+recentEvents+`
			AND e.image_id IN (SELECT image_id FROM library WHERE user_id = $1)
		ORDER BY e.event_seq DESC LIMIT $2`, userID, limit)
}

func queryEvents(ctx context.Context, q querier, query string, args ...any) ([]store.ImageEvent, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("feed events: %w", err)
	}
	defer rows.Close()
	out := []store.ImageEvent{}
	for rows.Next() {
		var e store.ImageEvent
		var at time.Time
		img, err := scanImageAfter(rows, []any{&e.Seq, &e.Kind, &e.Serial, &at, &e.Summary})
		if err != nil {
			return nil, fmt.Errorf("feed events: %w", err)
		}
		e.At, e.Image = at.UTC(), img
		out = append(out, e)
	}
	return out, rows.Err()
}

// CreateFeedKey makes a new personal feed key for a user, replacing any
// earlier one, and returns it: shown once, stored as a hash.
func (db *DB) CreateFeedKey(ctx context.Context, userID int64) (string, error) {
	key := store.FeedKeyPrefix + store.NewSecret(32)
	err := db.inTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO feed_keys (user_id, key_hash, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET key_hash = excluded.key_hash, created_at = excluded.created_at`,
			userID, store.HashSecret(key), tx.now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create feed key: %w", err)
	}
	return key, nil
}

// RevokeFeedKey removes the user's feed key: its feed URL stops working.
func (db *DB) RevokeFeedKey(ctx context.Context, userID int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM feed_keys WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("revoke feed key: %w", err)
	}
	return nil
}

// FeedKeyCreated tells when the user's feed key was made, nil when there
// is none.
func (db *DB) FeedKeyCreated(ctx context.Context, userID int64) (*time.Time, error) {
	var created time.Time
	err := db.pool.QueryRow(ctx, `SELECT created_at FROM feed_keys WHERE user_id = $1`, userID).Scan(&created)
	if noRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("feed key: %w", err)
	}
	created = created.UTC()
	return &created, nil
}

// UserByFeedKey returns the owner of a feed key.
func (db *DB) UserByFeedKey(ctx context.Context, key string) (*store.User, error) {
	missing := store.Errorf(store.ENOTFOUND, "This feed address is not valid: it was revoked or replaced.")
	if !strings.HasPrefix(key, store.FeedKeyPrefix) || len(key) > 128 {
		return nil, missing
	}
	return userByHash(ctx, db.pool, `SELECT u.id, u.email, u.created_at FROM feed_keys k
		JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`, store.HashSecret(key), missing)
}

// userByHash reads the user a secret's hash names, or returns missing.
func userByHash(ctx context.Context, q querier, query, hash string, missing error) (*store.User, error) {
	var u store.User
	err := q.QueryRow(ctx, query, hash).Scan(&u.ID, &u.Email, &u.CreatedAt)
	if noRows(err) {
		return nil, missing
	} else if err != nil {
		return nil, fmt.Errorf("find key: %w", err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}
