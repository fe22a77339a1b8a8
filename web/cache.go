package web

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/berth/berth/store"
)

// resultCache keeps rendered catalog results (HTML fragments and API
// bodies) keyed by the canonical query. Each entry remembers the catalog
// generation it was made from and is ignored once the catalog moved on, so
// nothing needs to be invalidated by hand. Only parts of pages that are the
// same for everyone go in: never the header, balances or forms with tokens.
type resultCache = lru[*answer]

// cacheEntry is an entry of the result cache.
type cacheEntry = lruEntry[*answer]

// newResultCache makes a cache that holds up to maxBytes of bodies: bounded
// by size rather than by count, as a catalog page weighs fifty times a
// small API answer, and a stream of distinct queries must not grow memory.
// The gzip forms (a few times smaller) are not counted.
func newResultCache(maxBytes int) *resultCache {
	return newLRU(maxBytes, func(a *answer) int { return len(a.body) })
}

// lru is Berth's one cache type: values keyed by a string and the catalog
// generation they were made from, bounded by their total size in bytes (as
// size reports it) and evicted least recently used first. An entry of an
// older generation is ignored and dropped when next asked for, so nothing
// needs to be invalidated by hand. Values are shared by every reader and
// must not be changed once stored.
type lru[V any] struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	size     func(V) int
	entries  map[string]*list.Element
	lru      *list.List // front: most recently used
	// flight computes a missing entry once for the requests that want it
	// at the same time, instead of all running the same query at once.
	flight singleflight.Group
}

type lruEntry[V any] struct {
	key  string
	gen  int64
	size int
	body V
}

// newLRU makes a cache that holds up to maxBytes of values.
func newLRU[V any](maxBytes int, size func(V) int) *lru[V] {
	return &lru[V]{maxBytes: maxBytes, size: size, entries: map[string]*list.Element{}, lru: list.New()}
}

// get returns the value cached for key at generation gen.
func (c *lru[V]) get(key string, gen int64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.entries[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if e.gen != gen {
		c.remove(el)
		return zero, false
	}
	c.lru.MoveToFront(el)
	return e.body, true
}

// put stores a value, evicting the least recently used entries when full.
// A value larger than the whole bound is kept alone.
func (c *lru[V]) put(key string, gen int64, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	n := c.size(v)
	c.entries[key] = c.lru.PushFront(&lruEntry[V]{key: key, gen: gen, size: n, body: v})
	c.bytes += n
	for c.bytes > c.maxBytes && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
}

// remove drops an entry. Callers hold mu.
func (c *lru[V]) remove(el *list.Element) {
	e := el.Value.(*lruEntry[V])
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// cached returns the answer for key at the current generation, computing
// and storing it on a miss. A miss is worked out in a turn of s.work, and
// compressed in the same turn in the asker's coding (see encodingFor; ""
// for none), so that the whole cost of an uncached answer is paid in
// arrival order.
//
// Answers show facts judged by date (an image's support, a stale scan), so
// the key holds the server's date as well: a cached answer lasts a day at
// most, even when the catalog stays the same.
func (s *Server) cached(ctx context.Context, key string, gen int64, coding string, compute func() ([]byte, error)) (*answer, error) {
	key = s.cacheKey(key)
	return s.cachedIn(s.cache, ctx, key, gen, coding, compute)
}

// cachedIn is cached with another cache than the results'.
func (s *Server) cachedIn(cache *resultCache, ctx context.Context, key string, gen int64, coding string, compute func() ([]byte, error)) (*answer, error) {
	if b, ok := cache.get(key, gen); ok {
		s.count(func(m *Metrics) { m.cache.WithLabelValues("hit").Inc() })
		return b, nil
	}
	s.count(func(m *Metrics) { m.cache.WithLabelValues("miss").Inc() })
	build := func() (*answer, error) {
		if err := s.work.enter(ctx); err != nil {
			return nil, err
		}
		defer s.work.leave()
		body, err := compute()
		if err != nil {
			return nil, err
		}
		a := newAnswer(body)
		if coding != "" && len(body) >= minCompress {
			a.encoded(coding)
		}
		return a, nil
	}
	a, err := cache.fill(ctx, key, gen, build)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The request that was working it out went away, and this one
		// waited for it: it works the answer out itself.
		a, err = cache.fill(ctx, key, gen, build)
	}
	return a, err
}

// cacheKey is the key an answer is cached under: key and the date.
func (s *Server) cacheKey(key string) string {
	return key + "|" + s.now().Format(store.DateLayout)
}

// fill makes the value for a missing key once, however many requests
// want it, and keeps it. build must return a value of its own: the cache
// holds it as it is. It runs with the context of the request that started
// it; each request waits for it only until its own context ends. A panic
// in build fails the requests waiting for it, not the key: the next
// request builds afresh.
func (c *lru[V]) fill(ctx context.Context, key string, gen int64, build func() (V, error)) (V, error) {
	var zero V
	flightKey := key + "\x00" + strconv.FormatInt(gen, 10)
	ch := c.flight.DoChan(flightKey, func() (v any, err error) {
		// singleflight turns a panic in DoChan's function into one that
		// ends the process; as an error it reaches the requests instead.
		defer func() {
			if r := recover(); r != nil {
				err = &fillPanic{value: r, stack: debug.Stack()}
			}
		}()
		a, err := build()
		if err != nil {
			return nil, err
		}
		c.put(key, gen, a)
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(V), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// fillPanic is a panic while building a cached answer, with its stack for
// the log.
type fillPanic struct {
	value any
	stack []byte
}

func (p *fillPanic) Error() string {
	return fmt.Sprintf("building a cached answer: panic: %v\n%s", p.value, p.stack)
}
