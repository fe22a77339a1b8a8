package listing

import (
	"context"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// Grouped listings (store.GroupAlias) list one entry per alias. Filters
// apply to builds; of an alias's builds that pass, the first by
// architecture (store.ArchRank) stands for the alias in the order.

// nArch is the number of architecture slots kept per row in sibs.
var nArch = len(store.Architectures)

// readAliases records, for every row, the rows of its alias's builds by
// architecture (sibs), and which rows have a build of their alias on an
// architecture listed before theirs (later).
func (x *Index) readAliases(ctx context.Context, snap Snapshot) error {
	n := x.capacity
	x.sibs = make([]int32, n*nArch)
	x.later = bitset.New(n)
	x.rankOf = make([]uint8, n)
	var prev string
	var group []int32 // rows of the current alias
	flush := func() {
		for _, s := range group {
			for _, t := range group {
				if r := int(x.rankOf[t]); r < nArch {
					x.sibs[int(s)*nArch+r] = t
				}
				if x.rankOf[t] < x.rankOf[s] {
					x.later.Add(int(s))
				}
			}
		}
		group = group[:0]
	}
	first := true
	err := snap.Aliases(ctx, func(seq int, alias, arch string) {
		if first || alias != prev {
			flush()
			prev, first = alias, false
		}
		x.rankOf[seq] = uint8(store.ArchRank(arch))
		group = append(group, int32(seq))
	})
	if err != nil {
		return err
	}
	flush()
	return nil
}

// keepFirstBuilds reduces set to the first build, by architecture, of each
// alias in it.
func (x *Index) keepFirstBuilds(set *bitset.Set) {
	cand := x.scratch.Get().(*bitset.Set)
	drop := x.scratch.Get().(*bitset.Set)
	defer x.scratch.Put(cand)
	defer x.scratch.Put(drop)
	cand.CopyFrom(set)
	cand.And(x.later)
	drop.Clear()
	cand.Each(func(i int) bool {
		r := int(x.rankOf[i])
		for q := 0; q < r && q < nArch; q++ {
			if s := x.sibs[i*nArch+q]; s != 0 && set.Has(int(s)) {
				drop.Add(i)
				break
			}
		}
		return true
	})
	set.AndNot(drop)
}

// buildsIn lists the builds of seq's alias that are in set, by
// architecture.
func (x *Index) buildsIn(seq int64, set *bitset.Set) []int64 {
	var out []int64
	for q := 0; q < nArch; q++ {
		if s := x.sibs[int(seq)*nArch+q]; s != 0 && set.Has(int(s)) {
			out = append(out, int64(s))
		}
	}
	if len(out) == 0 { // an architecture outside the known ones
		out = append(out, seq)
	}
	return out
}
