package listing

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// textMatch is what the listing index needs from a search: the rows that
// match each word, which a listing intersects, and, when few enough rows
// match them all to rank (store.BroadMatch), each one's rank for the whole
// search from the source, lower meaning more relevant. The sets are the cached ones: they
// must not be changed.
type textMatch struct {
	words []*bitset.Set
	ranks map[int32]float64 // nil when more than store.BroadMatch rows match
}

// maxTextBytes bounds the memory the rows and ranks of recent searches
// take: at a million images one word's rows take 125 KB, so this keeps
// some fifty words.
const maxTextBytes = 6 << 20

// textCache keeps the rows matching recent search words, and the ranks of
// recent narrow searches, for one listing index, so a popular word costs
// one read of the full-text index rather than one per listing. They only
// change when the catalog's text does, which rebuilds the index and drops
// its cache with it. A search of several words intersects its words' rows
// at each listing, which takes microseconds, rather than keeping every
// combination.
type textCache struct {
	mu      sync.Mutex
	entries map[string]*textEntry // finished reads only
	bytes   int
	clock   int64
	// flight reads a missing entry once for every listing that wants it
	// at the same time.
	flight singleflight.Group
}

type textEntry struct {
	rows  *bitset.Set
	ranks map[int32]float64
	size  int
	used  int64
}

// get returns what the listing index needs for a search of words (as
// store.SearchWords gives them), over rows below capacity.
func (c *textCache) get(ctx context.Context, src Source, words []string, capacity int) (*textMatch, error) {
	m := &textMatch{}
	for _, word := range words {
		e, err := c.word(ctx, src, word, capacity)
		if err != nil {
			return nil, err
		}
		m.words = append(m.words, e.rows)
		m.ranks = e.ranks
	}
	if len(words) > 1 {
		m.ranks = nil
		// Counted, not intersected: a set at a million images is 125 KB,
		// which a listing would otherwise allocate for each search.
		switch n := bitset.CountAnd(m.words...); {
		case n > store.BroadMatch:
			return m, nil
		case n == 0:
			// Nothing to rank: a full-text index would still walk every
			// word's rows to find that out, milliseconds for common words
			// at 1M images.
			m.ranks = map[int32]float64{}
			return m, nil
		}
		query := strings.Join(words, " ")
		e, err := c.entry(ctx, "q"+query, func(ctx context.Context) (*textEntry, error) {
			ranks, err := src.Ranks(ctx, words, capacity)
			e := &textEntry{ranks: ranks}
			e.size = entrySize(query, e)
			return e, err
		})
		if err != nil {
			return nil, err
		}
		m.ranks = e.ranks
	}
	return m, nil
}

// word returns the cached rows (and ranks) of one search word, reading
// them on a miss.
func (c *textCache) word(ctx context.Context, src Source, word string, capacity int) (*textEntry, error) {
	return c.entry(ctx, "w"+word, func(ctx context.Context) (*textEntry, error) {
		return readWord(ctx, src, word, capacity)
	})
}

// entry returns the cached entry under key, or computes it once however
// many listings ask at the same time. Each waits only until its own ctx
// ends; the read goes on for the others and for the cache. A panic in
// compute fails the listings waiting for it, not the key.
func (c *textCache) entry(ctx context.Context, key string, compute func(context.Context) (*textEntry, error)) (*textEntry, error) {
	if e := c.cached(key); e != nil {
		return e, nil
	}
	// The read finishes even if this caller goes away: others may wait on it.
	readCtx := context.WithoutCancel(ctx)
	ch := c.flight.DoChan(key, func() (v any, err error) {
		// singleflight turns a panic in DoChan's function into one that
		// ends the process; as an error it reaches the listings instead.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("search %s: panic: %v\n%s", key, r, debug.Stack())
			}
		}()
		if e := c.cached(key); e != nil { // a flight just before this one read it
			return e, nil
		}
		e, err := compute(readCtx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if old, ok := c.entries[key]; ok {
			c.bytes -= old.size
		}
		c.clock++
		e.used = c.clock
		c.entries[key] = e
		c.bytes += e.size
		c.evict()
		return e, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*textEntry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cached returns the entry under key, marked as just used, or nil.
func (c *textCache) cached(key string) *textEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*textEntry{}
	}
	c.clock++
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	e.used = c.clock
	return e
}

// evict drops the least recently used finished entries while the cache
// holds more than maxTextBytes, keeping at least one. Callers hold mu.
func (c *textCache) evict() {
	for c.bytes > maxTextBytes && len(c.entries) > 1 {
		var oldest string
		var used int64 = -1
		for k, e := range c.entries {
			if e.size > 0 && (used < 0 || e.used < used) {
				oldest, used = k, e.used
			}
		}
		if used < 0 {
			return
		}
		c.bytes -= c.entries[oldest].size
		delete(c.entries, oldest)
	}
}

// readWord reads the rows matching one search word, and their ranks when
// there are few enough to rank.
func readWord(ctx context.Context, src Source, word string, capacity int) (*textEntry, error) {
	rows, err := src.Matches(ctx, word, capacity)
	if err != nil {
		return nil, err
	}
	e := &textEntry{rows: rows}
	if e.rows.Count() <= store.BroadMatch {
		if e.ranks, err = src.Ranks(ctx, []string{word}, capacity); err != nil {
			return nil, err
		}
	}
	e.size = entrySize(word, e)
	return e, nil
}

// entrySize estimates the bytes an entry holds, never zero.
func entrySize(key string, e *textEntry) int {
	n := 64 + len(key) + 32*len(e.ranks)
	if e.rows != nil {
		n += e.rows.Len() / 8
	}
	return n
}
