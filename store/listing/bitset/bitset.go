// Package bitset is a fixed-size set of small non-negative integers, one bit
// each. Catalog listings combine their filters as sets of image rows: a
// million rows fit in 125 KB, and intersecting or counting two such sets
// takes microseconds.
package bitset

import "math/bits"

// Set holds the integers 0 to Len()-1 that are members. The zero Set is
// empty and holds nothing.
type Set struct {
	words []uint64
}

// New returns an empty set that can hold 0 to n-1.
func New(n int) *Set { return &Set{words: make([]uint64, (n+63)/64)} }

// FromWords returns a set over words, which it keeps (not a copy).
func FromWords(words []uint64) *Set { return &Set{words: words} }

// Len is the capacity of the set: one more than the largest possible member.
func (s *Set) Len() int { return len(s.words) * 64 }

// Add makes i a member; i must be below Len().
func (s *Set) Add(i int) { s.words[i>>6] |= 1 << (uint(i) & 63) }

// Remove makes i no longer a member.
func (s *Set) Remove(i int) {
	if i>>6 < len(s.words) {
		s.words[i>>6] &^= 1 << (uint(i) & 63)
	}
}

// Has reports whether i is a member; negative numbers and numbers past the
// capacity are not.
func (s *Set) Has(i int) bool {
	w := uint(i) >> 6
	return w < uint(len(s.words)) && s.words[w]&(1<<(uint(i)&63)) != 0
}

// Count returns the number of members.
func (s *Set) Count() int {
	n := 0
	for _, w := range s.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// CopyFrom makes s hold exactly the members of t, reusing s's memory when
// it is large enough.
func (s *Set) CopyFrom(t *Set) {
	if cap(s.words) < len(t.words) {
		s.words = make([]uint64, len(t.words))
	}
	s.words = s.words[:len(t.words)]
	copy(s.words, t.words)
}

// Clear removes every member.
func (s *Set) Clear() { clear(s.words) }

// Clone returns a copy of s.
func (s *Set) Clone() *Set { return &Set{words: append([]uint64(nil), s.words...)} }

// And keeps only the members also in t; members past t's capacity go.
func (s *Set) And(t *Set) {
	n := min(len(s.words), len(t.words))
	for i := range n {
		s.words[i] &= t.words[i]
	}
	clear(s.words[n:])
}

// Intersect makes s hold the members common to all of sets, passing over
// s once per two sets; s must not be one of them. s keeps its
// capacity; members past the shortest set are dropped.
func (s *Set) Intersect(sets ...*Set) {
	if len(sets) == 0 {
		s.Clear()
		return
	}
	n := len(s.words)
	for _, t := range sets {
		n = min(n, len(t.words))
	}
	out := s.words[:n]
	copy(out, sets[0].words[:n])
	rest := sets[1:]
	for ; len(rest) >= 2; rest = rest[2:] {
		a, b := rest[0].words[:n], rest[1].words[:n]
		for i := range out {
			out[i] &= a[i] & b[i]
		}
	}
	if len(rest) == 1 {
		a := rest[0].words[:n]
		for i := range out {
			out[i] &= a[i]
		}
	}
	clear(s.words[n:])
}

// CountAnd returns how many integers are members of every one of sets,
// without making their intersection.
func CountAnd(sets ...*Set) int {
	if len(sets) == 0 {
		return 0
	}
	n := len(sets[0].words)
	for _, s := range sets[1:] {
		n = min(n, len(s.words))
	}
	count := 0
	for i := range n {
		w := sets[0].words[i]
		for _, s := range sets[1:] {
			w &= s.words[i]
		}
		count += bits.OnesCount64(w)
	}
	return count
}

// AndNot removes every member of t.
func (s *Set) AndNot(t *Set) {
	n := min(len(s.words), len(t.words))
	for i := range n {
		s.words[i] &^= t.words[i]
	}
}

// Or adds every member of t that fits in s.
func (s *Set) Or(t *Set) {
	n := min(len(s.words), len(t.words))
	for i := range n {
		s.words[i] |= t.words[i]
	}
}

// Prev returns the largest member not above i, or -1 if there is none.
func (s *Set) Prev(i int) int {
	if i < 0 {
		return -1
	}
	if i >= s.Len() {
		i = s.Len() - 1
	}
	wi := i >> 6
	w := s.words[wi] & (^uint64(0) >> (63 - uint(i)&63))
	for {
		if w != 0 {
			return wi*64 + 63 - bits.LeadingZeros64(w)
		}
		wi--
		if wi < 0 {
			return -1
		}
		w = s.words[wi]
	}
}

// Pick walks order (numbers below Len) front to back and appends the
// members it meets to out, after passing over the first skip of them,
// until out holds limit numbers. It returns out and the skip still left.
func (s *Set) Pick(order []int32, skip, limit int, out []int64) ([]int64, int) {
	return s.pick(order, 0, len(order), 1, skip, limit, out)
}

// PickBackward is Pick walking order back to front.
func (s *Set) PickBackward(order []int32, skip, limit int, out []int64) ([]int64, int) {
	return s.pick(order, len(order)-1, -1, -1, skip, limit, out)
}

// pick walks order from i to end (excluded) by step. It is the inner loop
// of a listing, so it reads the words directly.
func (s *Set) pick(order []int32, i, end, step, skip, limit int, out []int64) ([]int64, int) {
	words := s.words
	for ; i != end; i += step {
		v := order[i]
		if words[v>>6]&(1<<(uint32(v)&63)) == 0 {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if out = append(out, int64(v)); len(out) >= limit {
			break
		}
	}
	return out, skip
}

// CountBy adds one to hist[key[i]] for each member i: a histogram of the
// members by a byte each, in one pass and no call a member. key must
// cover every member.
func (s *Set) CountBy(key []uint8, hist *[256]int32) {
	for wi, w := range s.words {
		for w != 0 {
			hist[key[wi*64+bits.TrailingZeros64(w)]]++
			w &= w - 1
		}
	}
}

// Each calls fn with the members in increasing order until fn returns
// false.
func (s *Set) Each(fn func(i int) bool) {
	for wi, w := range s.words {
		for w != 0 {
			if !fn(wi*64 + bits.TrailingZeros64(w)) {
				return
			}
			w &= w - 1
		}
	}
}

// OrAndShifted adds to s every i that is a member of mask and whose i+d
// is a member of t: s |= mask & (t shifted down by d), a word at a time.
// Rows related by a fixed distance (the builds of one alias lie next to
// each other) are matched this way without visiting them one by one.
func (s *Set) OrAndShifted(mask, t *Set, d int) {
	n := min(len(s.words), len(mask.words))
	// Word wi takes t's words wi+q and, unless r is 0, wi+q+1. Between lo
	// and hi both lie inside t, so that part runs over slices with no
	// check a word; the few words at either end go through shiftedWord.
	q, r := d>>6, uint(d&63) // floor division, also for negative d
	reach := q
	if r != 0 {
		reach++
	}
	lo := min(n, max(0, -q))
	hi := max(lo, min(n, len(t.words)-reach))
	for wi := range lo {
		s.words[wi] |= mask.words[wi] & t.shiftedWord(wi, d)
	}
	sw, mw := s.words[lo:hi], mask.words[lo:hi]
	switch {
	case hi == lo:
	case r == 0:
		tw := t.words[lo+q : hi+q]
		for i := range sw {
			sw[i] |= mw[i] & tw[i]
		}
	default:
		tw := t.words[lo+q : hi+q+1]
		prev := tw[0]
		for i, next := range tw[1:] {
			sw[i] |= mw[i] & (prev>>r | next<<(64-r))
			prev = next
		}
	}
	for wi := hi; wi < n; wi++ {
		s.words[wi] |= mask.words[wi] & t.shiftedWord(wi, d)
	}
}

// shiftedWord is word wi of the set whose member i is t's i+d: its bit b
// is t's bit 64*wi+b+d, 0 outside t.
func (t *Set) shiftedWord(wi, d int) uint64 {
	lo := wi*64 + d            // t's bit that lands on bit 0
	q, r := lo>>6, uint(lo&63) // floor division, also for negative lo
	w := t.word(q) >> r
	if r != 0 {
		w |= t.word(q+1) << (64 - r)
	}
	return w
}

// word is t's word i, or 0 past either end.
func (t *Set) word(i int) uint64 {
	if i < 0 || i >= len(t.words) {
		return 0
	}
	return t.words[i]
}
