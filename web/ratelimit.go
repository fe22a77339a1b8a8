package web

import (
	"fmt"
	"sync"
	"time"
)

// limiter counts events per key in fixed windows: at most max events per
// window. It is safe for concurrent use and forgets windows that ended.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	hits map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, per time.Duration) *limiter {
	return &limiter{max: max, window: per, now: time.Now, hits: map[string]*window{}}
}

// allow records an event for key and reports whether it is within the
// limit; when it is not, it also says how long until the window ends.
func (l *limiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.hits) > 10_000 {
		for k, w := range l.hits {
			if now.Sub(w.start) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.hits[key] = w
	}
	if w.n >= l.max {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.n++
	return true, 0
}

// limits are the per-address, per-account and per-token limits of a server.
type limits struct {
	loginIP      *limiter
	loginAccount *limiter
	signupIP     *limiter
	token        *limiter // API calls per token owner
	purchase     *limiter // purchases per account, pages and API together
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
		loginIP:      newLimiter(30, 15*time.Minute),
		loginAccount: newLimiter(10, 15*time.Minute),
		signupIP:     newLimiter(10, time.Hour),
		token:        newLimiter(apiRate, time.Minute),
		purchase:     newLimiter(purchaseRate, time.Minute),
	}
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
