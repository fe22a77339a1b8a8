package listing

import (
	"context"
	"strconv"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// The index's part for the lifecycle and supply-chain filters (support,
// signed, max_severity).
type lifecycleSets struct {
	signed   *bitset.Set           // rows with a signature on record
	severity map[int64]*bitset.Set // rows by worst severity rank
	eolDay   []int32               // by row: days since 1970-01-01 plus one; 0: no eol_date; nil: no row has one
}

// readLifecycle reads the signed rows, the rows by worst severity and each
// row's end-of-life day from the snapshot.
func (x *Index) readLifecycle(ctx context.Context, snap Snapshot, n int) error {
	x.life.signed = bitset.New(n)
	x.life.severity = map[int64]*bitset.Set{}
	if err := snap.Groups(ctx, FieldSigned, n, func(value string, s *bitset.Set) {
		if value == "1" {
			x.life.signed = s
		}
	}); err != nil {
		return err
	}
	if err := snap.Groups(ctx, FieldWorstSeverity, n, func(value string, s *bitset.Set) {
		r, _ := strconv.ParseInt(value, 10, 64)
		x.life.severity[r] = s
	}); err != nil {
		return err
	}
	return snap.Values(ctx, FieldEOLDay, func(seq int, day int64) {
		if day == 0 || seq < 0 || seq >= n {
			return
		}
		if x.life.eolDay == nil {
			x.life.eolDay = make([]int32, n)
		}
		x.life.eolDay[seq] = int32(day)
	})
}

// EOLDay is a DateLayout date as FieldEOLDay counts it: days since
// 1970-01-01 plus one, 0 for no (or no valid) date.
func EOLDay(date string) int64 {
	d, err := time.Parse(store.DateLayout, date)
	if err != nil {
		return 0
	}
	return d.Unix()/86400 + 1
}

// keepLifecycle removes from set the rows f's support, signed and
// max_severity filters leave out, as the backends' SQL does.
func (x *Index) keepLifecycle(set *bitset.Set, f store.Filter) {
	if f.Signed != nil {
		if *f.Signed {
			set.And(x.life.signed)
		} else {
			set.AndNot(x.life.signed)
		}
	}
	if r := f.MaxSeverityRank(); r >= 0 {
		union := x.scratch.Get().(*bitset.Set)
		defer x.scratch.Put(union)
		union.Clear()
		for rank, s := range x.life.severity {
			if rank <= int64(r) {
				union.Or(s)
			}
		}
		set.And(union)
	}
	if f.Support != "" {
		after, through, none := store.SupportBounds(f.Support, f.At())
		lo, hi := int32(EOLDay(after)), int32(EOLDay(through)) // 0 for ""
		set.Each(func(i int) bool {
			d := int32(0)
			if x.life.eolDay != nil {
				d = x.life.eolDay[i]
			}
			keep := none
			if d != 0 {
				keep = d > lo && (hi == 0 || d <= hi)
			}
			if !keep {
				set.Remove(i)
			}
			return true
		})
	}
}

// lifecycleBytes estimates the memory keepLifecycle's data holds.
func (x *Index) lifecycleBytes() int {
	return (1+len(x.life.severity))*x.capacity/8 + 4*len(x.life.eolDay)
}
