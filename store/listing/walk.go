package listing

import "github.com/berth/berth/store/listing/bitset"

// A page is found by walking a sort order until enough of the listing's
// rows have come by. When the rows lie far along the order (alpine images
// sorted by size from the largest, cheap images by rating), that walk
// passes most of a million entries for a page of twenty. So each order is
// cut into orderBlocks blocks of positions, every row knows its block in
// every order, and a walk that has gone on too long counts the listing's
// rows per block once; from then on it passes over blocks holding none of
// them, and over whole blocks holding fewer than it still has to skip.
const orderBlocks = 256

// blockOf returns, for each seq, its block in ord: a byte per image.
func blockOf(ord []int32, capacity, blockLen int) []uint8 {
	blocks := make([]uint8, capacity)
	for pos, s := range ord {
		blocks[s] = uint8(pos / blockLen)
	}
	return blocks
}

// reblock brings blocks up to date after the entries of ord from lo to hi
// moved by one place (see rerate): only entries that cross a block's edge
// change block, and they end up next to it.
func reblock(blocks []uint8, ord []int32, blockLen, lo, hi int) {
	for b := lo / blockLen; b <= hi/blockLen+1; b++ {
		for _, p := range []int{b*blockLen - 1, b * blockLen} {
			if p >= lo && p <= hi && p >= 0 && p < len(ord) {
				blocks[ord[p]] = uint8(p / blockLen)
			}
		}
	}
}

// walk gathers one page of a listing from a sort order.
type walk struct {
	set      *bitset.Set // the listing's rows
	ord      []int32
	blocks   []uint8 // each seq's block in ord
	blockLen int
	skip     int // rows still to pass before the page starts
	limit    int
	out      []int64

	visited int // entries walked so far
	budget  int // entries walked before counting rows by block
	hist    *[orderBlocks]int32
	need    int // rows the walk passes or picks in all: skip and limit at its start
}

// minProjected is how far a walk goes before it judges, from the rows it
// has found, how far it has still to go.
const minProjected = 4096

func (w *walk) full() bool { return len(w.out) >= w.limit }

// count counts the listing's rows by block, once the walk has cost about
// what counting does, or would by the end going by the rows it has found
// so far: a listing whose rows lie far along the order (alpine images by
// size from the largest) finds none for a long way, and counting at once
// saves walking the budget first.
func (w *walk) count() {
	if w.hist != nil || w.visited < min(w.budget, minProjected) {
		return
	}
	if w.visited < w.budget {
		found := w.need - w.skip - (w.limit - len(w.out))
		if found > 0 && w.visited*w.need/found <= w.budget {
			return
		}
	}
	w.hist = new([orderBlocks]int32)
	w.set.CountBy(w.blocks, w.hist)
}

// passes reports whether the walk can leave out the part of block b from
// lo to hi: the block holds none of the rows, or, taken whole, fewer than
// are still to be skipped (which it then skips).
func (w *walk) passes(b, lo, hi int) bool {
	if w.hist == nil {
		return false
	}
	n := int(w.hist[b])
	if n == 0 {
		return true
	}
	if lo == b*w.blockLen && hi == min(len(w.ord), (b+1)*w.blockLen) && w.skip >= n {
		w.skip -= n
		return true
	}
	return false
}

// forward walks ord[start:end] front to back.
func (w *walk) forward(start, end int) {
	for start < end && !w.full() {
		w.count()
		b := start / w.blockLen
		stop := min(end, (b+1)*w.blockLen)
		if !w.passes(b, start, stop) {
			w.out, w.skip = w.set.Pick(w.ord[start:stop], w.skip, w.limit, w.out)
			w.visited += stop - start
		}
		start = stop
	}
}

// backward walks ord[start:end] back to front.
func (w *walk) backward(start, end int) {
	for end > start && !w.full() {
		w.count()
		b := (end - 1) / w.blockLen
		lo := max(start, b*w.blockLen)
		if !w.passes(b, lo, end) {
			w.out, w.skip = w.set.PickBackward(w.ord[lo:end], w.skip, w.limit, w.out)
			w.visited += end - lo
		}
		end = lo
	}
}
