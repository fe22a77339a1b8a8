package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/berth/berth/store"
)

// limiter is a token bucket per key, from golang.org/x/time/rate: a burst
// of up to max events, refilled at max per period. Unlike a fixed window,
// someone over the limit waits for one event's worth of refill, not for a
// whole window to end, so a limit slows down rather than locks out. It is
// safe for concurrent use and forgets buckets that have refilled.
type limiter struct {
	max   int
	every time.Duration // one event's worth of refill
	now   func() time.Time

	mu   sync.Mutex
	hits map[string]*rate.Limiter

	// shared, when set, keeps the buckets in the database that several
	// instances share, under bucket; the buckets in hits then serve only
	// while the database cannot answer.
	shared store.SharedLimiter
	bucket string
}

// share keeps the limiter's buckets in s under the name bucket.
func (l *limiter) share(s store.SharedLimiter, bucket string) {
	l.shared, l.bucket = s, bucket
}

// sharedTimeout bounds a shared limit's look-up; past it, the instance
// counts on its own.
const sharedTimeout = 2 * time.Second

func newLimiter(max int, per time.Duration) *limiter {
	every := per
	if max > 0 {
		every = per / time.Duration(max)
	}
	return &limiter{max: max, every: every, now: time.Now, hits: map[string]*rate.Limiter{}}
}

// allow records an event for key and reports whether it is within the
// limit; when it is not, it also says how long until the next is allowed.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.shared != nil && l.max > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		ok, wait, err := l.shared.AllowEvent(ctx, l.bucket, key, l.max, l.every*time.Duration(l.max))
		cancel()
		if err == nil {
			return ok, wait
		}
		// The database cannot answer: count here rather than refuse
		// everyone or let everyone through.
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.hits) > 10_000 {
		for k, b := range l.hits {
			if b.TokensAt(now) >= float64(l.max) {
				delete(l.hits, k) // full again: the same as a new bucket
			}
		}
	}
	b := l.hits[key]
	if b == nil {
		b = rate.NewLimiter(rate.Every(l.every), l.max)
		l.hits[key] = b
	}
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, l.every
	}
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// limits are the per-address, per-account and per-token limits of a server.
type limits struct {
	loginIP        *limiter // log-in attempts per client address
	loginAccountIP *limiter // per account and client address together
	loginAccount   *limiter // per account from everywhere: a far higher cap
	signupIP       *limiter
	token          *limiter // API calls per token owner
	purchase       *limiter // purchases per account, pages and API together
}

// Default per-minute limits of API calls per account's tokens and of
// purchases per account.
const (
	DefaultAPIRate      = 1200
	DefaultPurchaseRate = 60
)

func newLimits(apiRate, purchaseRate int) limits {
	if apiRate == 0 {
		apiRate = DefaultAPIRate
	}
	if purchaseRate == 0 {
		purchaseRate = DefaultPurchaseRate
	}
	return limits{
		loginIP: newLimiter(30, 15*time.Minute),
		// Guessing one account's password from one address slows to one
		// try every 90 seconds after ten. Other addresses have their own
		// allowance, so a stranger's guessing does not lock the owner out;
		// the per-account cap only stops guessing spread over hundreds of
		// addresses.
		loginAccountIP: newLimiter(10, 15*time.Minute),
		loginAccount:   newLimiter(300, 15*time.Minute),
		signupIP:       newLimiter(10, time.Hour),
		token:          newLimiter(apiRate, time.Minute),
		purchase:       newLimiter(purchaseRate, time.Minute),
	}
}

// share keeps every limit of a server in s, shared with the other
// instances on the same database.
func (ls limits) share(s store.SharedLimiter) {
	ls.loginIP.share(s, "login-ip")
	ls.loginAccountIP.share(s, "login-account-ip")
	ls.loginAccount.share(s, "login-account")
	ls.signupIP.share(s, "signup-ip")
	ls.token.share(s, "api-token")
	ls.purchase.share(s, "purchase")
}

// check applies a limiter and returns a 429 error when over it. A limit
// below zero means none.
func (l *limiter) check(key, what string) error {
	if l.max < 0 {
		return nil
	}
	if ok, wait := l.allow(key); !ok {
		return &tooManyError{wait: wait, message: fmt.Sprintf(
			"Too many %s. Wait %d seconds and try again.", what, int(wait.Seconds())+1)}
	}
	return nil
}
