package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/berth/berth/store/bitset"
)

// textMatch is what the listing index needs from a search: the rows that
// match every word and, when there are few enough to rank (broadMatch),
// each one's FTS5 rank for the whole search, lower meaning more relevant.
// For one word, rows is the cached set itself: it must not be changed.
type textMatch struct {
	rows  *bitset.Set
	ranks map[int32]float64 // nil when more than broadMatch rows match
}

// maxTextBytes bounds the memory the rows and ranks of recent searches
// take: at a million images one word's rows take 125 KB, so this keeps
// sixty or so words.
const maxTextBytes = 8 << 20

// textCache keeps the rows matching recent search words, and the ranks of
// recent narrow searches, for one listing index, so a popular word costs
// one read of the full-text index rather than one per listing. They only
// change when the catalog's text does, which rebuilds the index and drops
// its cache with it. A search of several words intersects its words' rows
// at each listing, which takes microseconds, rather than keeping every
// combination.
type textCache struct {
	mu      sync.Mutex
	entries map[string]*textEntry
	bytes   int
	clock   int64
}

type textEntry struct {
	ready chan struct{} // closed once the value or err is set
	rows  *bitset.Set
	ranks map[int32]float64
	err   error
	size  int
	used  int64
}

// get returns what the listing index needs for a search of the FTS5 terms
// from ftsTerms, over rows below capacity.
func (c *textCache) get(ctx context.Context, pool *sql.DB, terms []string, capacity int) (*textMatch, error) {
	m := &textMatch{}
	for i, term := range terms {
		e, err := c.entry(ctx, "w"+term, func(ctx context.Context) (*textEntry, error) {
			return readWord(ctx, pool, term, capacity)
		})
		if err != nil {
			return nil, err
		}
		switch {
		case len(terms) == 1:
			m.rows, m.ranks = e.rows, e.ranks
		case i == 0:
			m.rows = e.rows.Clone()
		default:
			m.rows.And(e.rows)
		}
	}
	if len(terms) > 1 && m.rows.Count() <= broadMatch {
		query := strings.Join(terms, " ")
		e, err := c.entry(ctx, "q"+query, func(ctx context.Context) (*textEntry, error) {
			ranks, err := readRanks(ctx, pool, query, capacity)
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

// entry returns the cached entry under key, or computes it once however
// many listings ask at the same time.
func (c *textCache) entry(ctx context.Context, key string, compute func(context.Context) (*textEntry, error)) (*textEntry, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*textEntry{}
	}
	c.clock++
	e, ok := c.entries[key]
	if ok {
		e.used = c.clock
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e = &textEntry{ready: make(chan struct{}), used: c.clock}
	c.entries[key] = e
	c.mu.Unlock()

	// The read finishes even if this caller goes away: others may wait on it.
	got, err := compute(context.WithoutCancel(ctx))
	c.mu.Lock()
	if err != nil {
		e.err = err
		if c.entries[key] == e {
			delete(c.entries, key)
		}
	} else {
		e.rows, e.ranks, e.size = got.rows, got.ranks, got.size
		if c.entries[key] == e {
			c.bytes += e.size
			c.evict()
		}
	}
	c.mu.Unlock()
	close(e.ready)
	return e, e.err
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

// readWord reads the rows matching one FTS5 term from the full-text index
// in one aggregate (berth_rowset), not one Go round trip per row, and their
// ranks when there are few enough to rank.
func readWord(ctx context.Context, pool *sql.DB, term string, capacity int) (*textEntry, error) {
	var blob []byte
	if err := pool.QueryRowContext(ctx, `SELECT berth_rowset(rowid) FROM images_fts WHERE images_fts MATCH ?`,
		term).Scan(&blob); err != nil {
		return nil, fmt.Errorf("search %q: %w", term, err)
	}
	e := &textEntry{rows: setFromBlob(blob, capacity)}
	if e.rows.Count() <= broadMatch {
		var err error
		if e.ranks, err = readRanks(ctx, pool, term, capacity); err != nil {
			return nil, err
		}
	}
	e.size = entrySize(term, e)
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

// readRanks reads the FTS5 rank of every row matching query.
func readRanks(ctx context.Context, pool *sql.DB, query string, capacity int) (map[int32]float64, error) {
	rows, err := pool.QueryContext(ctx, `SELECT rowid, rank FROM images_fts WHERE images_fts MATCH ?`, query)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	defer rows.Close()
	ranks := map[int32]float64{}
	for rows.Next() {
		var seq int64
		var rank float64
		if err := rows.Scan(&seq, &rank); err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		if seq >= 0 && seq < int64(capacity) {
			ranks[int32(seq)] = rank
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", query, err)
	}
	return ranks, nil
}
