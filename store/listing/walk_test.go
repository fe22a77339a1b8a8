package listing

import (
	"testing"

	"github.com/berth/berth/store/listing/bitset"
)

// TestWalkCountsEarlyWhenRowsLieFar checks that a walk which finds none of
// its rows for a while counts them by block then, rather than after its
// whole budget: a listing of 200,000 rows that all lie at the end of a
// million-entry order (alpine images by size from the largest) would
// otherwise pass 800,000 entries first.
func TestWalkCountsEarlyWhenRowsLieFar(t *testing.T) {
	const n, total = 1_000_000, 200_000
	ord := make([]int32, n)
	for i := range ord {
		ord[i] = int32(i)
	}
	set := bitset.New(n)
	for i := n - total; i < n; i++ {
		set.Add(i)
	}
	blockLen := (n + orderBlocks - 1) / orderBlocks
	w := walk{set: set, ord: ord, blocks: blockOf(ord, n, blockLen), blockLen: blockLen,
		skip: 40, limit: 20, budget: 4*total + 4096, need: 60}
	w.forward(0, n)
	if len(w.out) != 20 || w.out[0] != n-total+40 || w.out[19] != n-total+59 {
		t.Fatalf("page %v, want the rows from %d to %d", w.out, n-total+40, n-total+59)
	}
	if w.visited > 2*minProjected+2*blockLen {
		t.Errorf("walked %d entries before and after counting, want no more than %d", w.visited, 2*minProjected+2*blockLen)
	}
}
