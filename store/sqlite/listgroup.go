package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite/bitset"
)

// Grouped listings (store.GroupAlias) list one entry per alias. Filters
// apply to builds; of an alias's builds that pass, the first by
// architecture (amd64, arm64, armhf) stands for the alias in the order.

// archRank is an architecture's place in store.Architectures.
func archRank(arch string) int {
	if i := slices.Index(store.Architectures, arch); i >= 0 {
		return i
	}
	return len(store.Architectures)
}

// archRankSQL is archRank as an SQL expression.
var archRankSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE architecture")
	for i, a := range store.Architectures {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", a, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(store.Architectures))
	return b.String()
}()

// nArch is the number of architecture slots kept per image in sibs.
var nArch = len(store.Architectures)

// readAliases records, for every image, the seqs of its alias's build on
// each architecture (sibs), and which images have a build of their alias
// on an architecture listed before theirs (later).
func (x *listIndex) readAliases(ctx context.Context, tx *sql.Tx) error {
	n := x.capacity
	x.sibs = make([]int32, n*nArch)
	x.later = bitset.New(n)
	// One pass over the alias index, which holds the architecture and, as
	// its rowid, the seq.
	rows, err := tx.QueryContext(ctx, `SELECT /* full scan: once per listing index build */ seq, architecture, alias
		FROM images ORDER BY alias, architecture`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var prev []byte
	var group []int32 // seqs of the current alias
	flush := func() {
		for _, s := range group {
			for _, t := range group {
				r := x.rankOf[t]
				if int(r) < nArch {
					x.sibs[int(s)*nArch+int(r)] = t
				}
			}
		}
		for _, s := range group {
			for _, t := range group {
				if x.rankOf[t] < x.rankOf[s] {
					x.later.Add(int(s))
				}
			}
		}
		group = group[:0]
	}
	x.rankOf = make([]uint8, n)
	for rows.Next() {
		var seq int64
		var arch, alias sql.RawBytes
		if err := rows.Scan(&seq, &arch, &alias); err != nil {
			return err
		}
		if prev == nil || !bytes.Equal(prev, alias) {
			flush()
			prev = append(prev[:0], alias...)
		}
		x.rankOf[seq] = uint8(archRank(string(arch)))
		group = append(group, int32(seq))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	return rows.Close()
}

// keepFirstBuilds reduces set to the first build, by architecture, of each
// alias in it.
func (x *listIndex) keepFirstBuilds(set *bitset.Set) {
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
func (x *listIndex) buildsIn(seq int64, set *bitset.Set) []int64 {
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

// groupPage fills a grouped page from the first builds (page.Images) and
// every build of their aliases that passes (builds, by seq or id).
func groupPage(page *store.ImagePage, builds []*store.Image) {
	byAlias := map[string][]*store.Image{}
	for _, b := range builds {
		byAlias[b.Alias] = append(byAlias[b.Alias], b)
	}
	page.Builds = make([][]*store.Image, len(page.Images))
	for i, img := range page.Images {
		bs := byAlias[img.Alias]
		slices.SortFunc(bs, func(a, b *store.Image) int { return archRank(a.Architecture) - archRank(b.Architecture) })
		if len(bs) == 0 || bs[0].ID != img.ID {
			bs = append([]*store.Image{img}, slices.DeleteFunc(bs, func(b *store.Image) bool { return b.ID == img.ID })...)
		}
		page.Builds[i] = bs
	}
}
