package store

import (
	"context"
	"time"
)

// SharedLimiter is kept by backends that several Berth instances share
// (PostgreSQL): the limits on log-in attempts, sign-ups, API calls,
// purchases and voucher attempts then count every instance's requests
// together, so running three instances does not triple them. A backend
// used by one process (SQLite) does not implement it, and the web layer
// counts in memory, which costs no write per request.
type SharedLimiter interface {
	// AllowEvent records one event for key in bucket and reports whether
	// it is within max events per period: a token bucket holding a burst
	// of max, refilled evenly over the period. When it is not, the event
	// is not recorded and wait says how long until the next one is allowed.
	AllowEvent(ctx context.Context, bucket, key string, max int, per time.Duration) (ok bool, wait time.Duration, err error)
}
