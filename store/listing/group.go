package listing

import (
	"cmp"
	"context"
	"maps"
	"slices"

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
	x.readNearBuilds()
	return nil
}

// maxNearOffsets bounds the distances between builds that keepFirstBuilds
// matches a word at a time; builds further apart are checked one by one.
const maxNearOffsets = 8

// readNearBuilds records, for the commonest distances d between a row and
// a build of its alias listed before it, the rows that have such a build
// at seq+d (nearBuilds), and the rows with one at any other distance
// (farBuilds). A catalog imports an alias's builds together, so they lie
// next to each other: two or three distances cover every row.
func (x *Index) readNearBuilds() {
	count := map[int]int{}
	x.eachLowerBuild(func(seq, sib int) { count[sib-seq]++ })
	offsets := slices.Collect(maps.Keys(count))
	slices.SortFunc(offsets, func(a, b int) int { return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b)) })
	// A distance is matched a word at a time when that costs no more than
	// checking its rows one by one.
	offsets = slices.DeleteFunc(offsets, func(d int) bool { return count[d]*64 < x.capacity })
	offsets = offsets[:min(len(offsets), maxNearOffsets)]
	x.nearBuilds = map[int]*bitset.Set{}
	for _, d := range offsets {
		x.nearBuilds[d] = bitset.New(x.capacity)
	}
	x.farBuilds = nil
	x.eachLowerBuild(func(seq, sib int) {
		if near, ok := x.nearBuilds[sib-seq]; ok {
			near.Add(seq)
		} else if n := len(x.farBuilds); n == 0 || x.farBuilds[n-1] != int32(seq) {
			x.farBuilds = append(x.farBuilds, int32(seq))
		}
	})
}

// eachLowerBuild calls fn for every row of later and each build of its
// alias on an architecture listed before its own, in the order of rows.
func (x *Index) eachLowerBuild(fn func(seq, sib int)) {
	x.later.Each(func(i int) bool {
		for q := 0; q < int(x.rankOf[i]) && q < nArch; q++ {
			if s := x.sibs[i*nArch+q]; s != 0 {
				fn(i, int(s))
			}
		}
		return true
	})
}

// keepFirstBuilds reduces set to the first build, by architecture, of each
// alias in it: it drops every row that has a build of its alias listed
// before it in set. At a million images a listing may hold half of them,
// so the builds at the usual distances are matched a word of rows at a
// time (see readNearBuilds); only the others row by row.
func (x *Index) keepFirstBuilds(set *bitset.Set) {
	drop := x.scratch.Get().(*bitset.Set)
	defer x.scratch.Put(drop)
	drop.Clear()
	for d, near := range x.nearBuilds {
		drop.OrAndShifted(near, set, d)
	}
	for _, seq := range x.farBuilds {
		i := int(seq)
		if !set.Has(i) || drop.Has(i) {
			continue
		}
		for q := 0; q < int(x.rankOf[i]) && q < nArch; q++ {
			if s := x.sibs[i*nArch+q]; s != 0 && set.Has(int(s)) {
				drop.Add(i)
				break
			}
		}
	}
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
