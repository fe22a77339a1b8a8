package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/berth/berth/store"
)

var _ store.SharedLimiter = (*DB)(nil)

// AllowEvent is a token bucket kept in the database, as the generic cell
// rate algorithm: each event moves the key's tat (theoretical arrival
// time) on by one event's share of the period, from now at the earliest,
// and is allowed while tat stays within one period of now. One upsert
// decides and records it, under the row's lock, so instances never both
// take the last token. Times are the database's, which every instance
// shares.
func (db *DB) AllowEvent(ctx context.Context, bucket, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || per <= 0 {
		return false, per, nil
	}
	every := per / time.Duration(limit)
	hashed := store.HashSecret(key)
	var ok bool
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_limits AS r (bucket, key, tat)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (bucket, key) DO UPDATE SET tat = GREATEST(r.tat, now()) + $3 * interval '1 microsecond'
		WHERE GREATEST(r.tat, now()) + $3 * interval '1 microsecond' <= now() + $4 * interval '1 microsecond'
		RETURNING true`, bucket, hashed, every.Microseconds(), per.Microseconds()).Scan(&ok)
	if noRows(err) {
		var waitUS float64
		err := db.pool.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM tat - now()) * 1e6 FROM rate_limits WHERE bucket = $1 AND key = $2`,
			bucket, hashed).Scan(&waitUS)
		if err != nil {
			return false, every, fmt.Errorf("rate limit %s: %w", bucket, err)
		}
		wait := time.Duration(waitUS)*time.Microsecond - per + every
		return false, max(wait, time.Millisecond), nil
	} else if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", bucket, err)
	}
	// Now and then, forget buckets that have refilled.
	if rand.IntN(200) == 0 {
		if _, err := db.pool.Exec(ctx, `DELETE FROM rate_limits WHERE tat < now()`); err != nil {
			db.log().Warn("sweeping rate limits failed", "err", err)
		}
	}
	return true, 0, nil
}
