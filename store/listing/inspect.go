package listing

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth/berth/store/listing/bitset"
)

// What follows lets a backend's tests, which hold the SQL listings the
// index must agree with, look inside an index and steer it. Serving uses
// none of it.

// Stats describes an index's size and what it keeps.
type Stats struct {
	Images      int  // rows in the catalog it reflects
	Capacity    int  // largest row number + 1: the size of every set
	Bytes       int  // estimated memory of the index itself
	PriceSets   bool // prices kept as a set per price rather than per row
	KeptImages  int  // images listed lately, kept encoded
	KeptBytes   int  // what they hold
	KeptCounted int  // what the index holds for them, dropped rows not yet let go of included
	KeptLimit   int  // the most it may hold
}

// Stats returns the index's sizes.
func (x *Index) Stats() Stats {
	x.mu.RLock()
	s := Stats{Images: x.all.Count(), Capacity: x.capacity, Bytes: x.bytes(), PriceSets: x.priceSets != nil}
	x.mu.RUnlock()
	x.rowsMu.Lock()
	defer x.rowsMu.Unlock()
	s.KeptImages, s.KeptBytes = x.rows.rows(), x.rows.live()
	s.KeptCounted, s.KeptLimit = x.rows.held(), 2*x.rows.genBytes
	return s
}

// SetKeptLimit bounds the bytes of listed images the index keeps.
func (x *Index) SetKeptLimit(bytes int) {
	x.rowsMu.Lock()
	defer x.rowsMu.Unlock()
	x.rows.setBudget(bytes)
}

// SetWalkBudget sets how many order entries a walk passes before it counts
// the listing's rows by block (0 counts at once), and returns the one it
// replaces. Not safe while the index serves listings.
func (x *Index) SetWalkBudget(budget func(total int) int) (old func(total int) int) {
	old, x.walkBudget = x.walkBudget, budget
	return old
}

// CheckBlocks reports the first row whose block in some order is not where
// that order puts it.
func (x *Index) CheckBlocks() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for key, ord := range x.orders {
		for pos, s := range ord {
			if got := int(x.blocks[key][s]); got != pos/x.blockLen {
				return fmt.Errorf("row %d at %d of the %s order has block %d, want %d", s, pos, key, got, pos/x.blockLen)
			}
		}
	}
	return nil
}

// Warm reads the catalog's common words ahead, as the engine does after
// each build.
func (x *Index) Warm(ctx context.Context) error { return x.warm(ctx) }

// CachedWords returns the rows of each search word held in the index's
// text cache, by word. A word read again gives a different set.
func (x *Index) CachedWords() map[string]*bitset.Set {
	x.text.mu.Lock()
	defer x.text.mu.Unlock()
	words := map[string]*bitset.Set{}
	for key, e := range x.text.entries {
		if w, ok := strings.CutPrefix(key, "w"); ok {
			words[w] = e.rows
		}
	}
	return words
}
