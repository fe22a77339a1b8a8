package bitset

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAgainstMap checks every operation against a map-backed set on random
// members, including the edges of words and of the capacity.
func TestAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 63, 64, 65, 1000} {
		a, b := New(n), New(n+70)
		ma, mb := map[int]bool{}, map[int]bool{}
		for range n / 2 {
			i, j := rng.IntN(n), rng.IntN(n+70)
			a.Add(i)
			ma[i] = true
			b.Add(j)
			mb[j] = true
		}
		a.Remove(0)
		delete(ma, 0)
		a.Remove(10 * n) // past the capacity: nothing happens
		if got := a.Count(); got != len(ma) {
			t.Fatalf("n=%d: Count = %d, want %d", n, got, len(ma))
		}
		and, or := New(1), New(5000)
		and.CopyFrom(a)
		or.CopyFrom(a)
		and.And(b)
		or.Or(b)
		andNot := a.Clone()
		andNot.AndNot(b)
		var gotAndNot, wantAndNot []int
		andNot.Each(func(i int) bool { gotAndNot = append(gotAndNot, i); return true })
		var gotAnd, wantAnd, gotOr, wantOr []int
		and.Each(func(i int) bool { gotAnd = append(gotAnd, i); return true })
		or.Each(func(i int) bool { gotOr = append(gotOr, i); return true })
		for i := range or.Len() {
			if ma[i] && mb[i] {
				wantAnd = append(wantAnd, i)
			}
			if ma[i] && !mb[i] {
				wantAndNot = append(wantAndNot, i)
			}
			if ma[i] || (mb[i] && i < or.Len()) {
				wantOr = append(wantOr, i)
			}
			if a.Has(i) != ma[i] {
				t.Fatalf("n=%d: Has(%d) = %v", n, i, a.Has(i))
			}
		}
		inter := New(n + 70)
		inter.Add(n + 69) // dropped: past a's capacity
		inter.Intersect(a, b)
		var gotInter []int
		inter.Each(func(i int) bool { gotInter = append(gotInter, i); return true })
		if !slices.Equal(gotInter, wantAnd) {
			t.Fatalf("n=%d: Intersect %v want %v", n, gotInter, wantAnd)
		}
		key := make([]uint8, a.Len())
		for i := range key {
			key[i] = uint8(i * 7 % 256)
		}
		var hist, want [256]int32
		a.CountBy(key, &hist)
		for i := range a.Len() {
			if ma[i] {
				want[key[i]]++
			}
		}
		if hist != want {
			t.Fatalf("n=%d: CountBy differs from counting each member", n)
		}
		if got := CountAnd(a, b); got != len(wantAnd) {
			t.Fatalf("n=%d: CountAnd = %d, want %d", n, got, len(wantAnd))
		}
		if got := CountAnd(a, b, a); got != len(wantAnd) {
			t.Fatalf("n=%d: CountAnd of three = %d, want %d", n, got, len(wantAnd))
		}
		if got := CountAnd(b); got != b.Count() {
			t.Fatalf("n=%d: CountAnd of one = %d, want %d", n, got, b.Count())
		}
		if !slices.Equal(gotAndNot, wantAndNot) {
			t.Fatalf("n=%d: and-not %v want %v", n, gotAndNot, wantAndNot)
		}
		if !slices.Equal(gotAnd, wantAnd) || !slices.Equal(gotOr, wantOr) {
			t.Fatalf("n=%d: and %v want %v; or %v want %v", n, gotAnd, wantAnd, gotOr, wantOr)
		}
		if a.Has(-1) || a.Has(a.Len()+5) {
			t.Fatalf("n=%d: Has outside the members", n)
		}
	}
}

func TestClear(t *testing.T) {
	s := New(130)
	s.Add(129)
	s.Clear()
	if s.Count() != 0 || s.Has(129) || s.Len() != 192 {
		t.Fatalf("after Clear: count %d, len %d", s.Count(), s.Len())
	}
}

func TestPrev(t *testing.T) {
	s := New(300)
	members := []int{0, 5, 63, 64, 200}
	for _, i := range members {
		s.Add(i)
	}
	for i := -3; i < 400; i++ {
		want := -1
		for _, m := range members {
			if m <= i {
				want = m
			}
		}
		if got := s.Prev(i); got != want {
			t.Fatalf("Prev(%d) = %d, want %d", i, got, want)
		}
	}
	if got := New(100).Prev(99); got != -1 {
		t.Fatalf("Prev on an empty set = %d", got)
	}
}

func TestPick(t *testing.T) {
	s := New(100)
	for _, i := range []int{2, 4, 6, 8, 99} {
		s.Add(i)
	}
	order := []int32{99, 1, 8, 2, 3, 6, 4, 50}
	got, skip := s.Pick(order, 1, 3, nil)
	if !slices.Equal(got, []int64{8, 2, 6}) || skip != 0 {
		t.Errorf("Pick = %v, skip %d", got, skip)
	}
	got, skip = s.PickBackward(order, 2, 10, []int64{7})
	if !slices.Equal(got, []int64{7, 2, 8, 99}) || skip != 0 {
		t.Errorf("PickBackward = %v, skip %d", got, skip)
	}
	if got, skip = s.Pick(order, 9, 3, nil); len(got) != 0 || skip != 4 {
		t.Errorf("Pick past the members = %v, skip %d left (want 4)", got, skip)
	}
}

func TestEachStops(t *testing.T) {
	s := New(200)
	for _, i := range []int{3, 64, 150, 199} {
		s.Add(i)
	}
	var seen []int
	s.Each(func(i int) bool { seen = append(seen, i); return len(seen) < 2 })
	if !slices.Equal(seen, []int{3, 64}) {
		t.Fatalf("Each visited %v, want [3 64]", seen)
	}
}

func BenchmarkIntersect(b *testing.B) {
	const n = 1_000_000
	sets := make([]*Set, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range sets {
		sets[i] = New(n)
		for range n / 2 {
			sets[i].Add(rng.IntN(n))
		}
	}
	dst := New(n)
	for b.Loop() {
		dst.Intersect(sets...)
	}
}

func BenchmarkPickSparse(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int32, n)
	for i, v := range rng.Perm(n) {
		order[i] = int32(v)
	}
	s := New(n)
	for range n / 1000 {
		s.Add(rng.IntN(n))
	}
	out := make([]int64, 0, 20)
	for b.Loop() {
		out, _ = s.Pick(order, 900, 20, out[:0])
	}
}

func BenchmarkOrAndShifted(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(5, 6))
	s, mask, src := New(n), New(n), New(n)
	for range n / 4 {
		mask.Add(rng.IntN(n))
		src.Add(rng.IntN(n))
	}
	for b.Loop() {
		s.OrAndShifted(mask, src, -3)
	}
}

// TestOrAndShifted checks s |= mask & (t shifted by d) against the
// definition, for distances within a word, of whole words, past either
// end and negative, on sets of other capacities.
func TestOrAndShifted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 64, 65, 200, 1000} {
		for _, d := range []int{0, 1, -1, 2, -2, 63, -63, 64, -64, 65, -65, 130, -130, n, -n, n + 1} {
			s, mask, src := New(n), New(n), New(n+rng.IntN(100))
			for range n / 3 {
				s.Add(rng.IntN(n))
				mask.Add(rng.IntN(n))
			}
			for range src.Len() / 2 {
				src.Add(rng.IntN(src.Len()))
			}
			want := map[int]bool{}
			s.Each(func(i int) bool { want[i] = true; return true })
			mask.Each(func(i int) bool {
				if src.Has(i + d) {
					want[i] = true
				}
				return true
			})
			s.OrAndShifted(mask, src, d)
			got := 0
			s.Each(func(i int) bool {
				if !want[i] {
					t.Fatalf("n=%d d=%d: %d is a member, want not", n, d, i)
				}
				got++
				return true
			})
			if got != len(want) {
				t.Fatalf("n=%d d=%d: %d members, want %d", n, d, got, len(want))
			}
		}
	}
}
