package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite/bitset"
)

// The listing index's part for the lifecycle and supply-chain filters
// (support, signed, max_severity): kept apart from listindex.go so the
// engine itself stays as it was.
type lifecycleSets struct {
	signed   *bitset.Set           // rows with a signature on record
	severity map[int64]*bitset.Set // rows by worst_severity
	eolDay   []int32               // days since 1970-01-01, plus one, by seq; 0: no eol_date; nil: none has one
}

// readLifecycle reads the signed rows, the rows by worst severity and each
// row's eol_date, from their indexes.
func (x *listIndex) readLifecycle(ctx context.Context, tx *sql.Tx, n int) error {
	x.life.signed = bitset.New(n)
	x.life.severity = map[int64]*bitset.Set{}
	if err := readSets(ctx, tx, "signed", n, func(value string, s *bitset.Set) {
		if value == "1" {
			x.life.signed = s
		}
	}); err != nil {
		return err
	}
	if err := readSets(ctx, tx, "worst_severity", n, func(value string, s *bitset.Set) {
		r, _ := strconv.ParseInt(value, 10, 64)
		x.life.severity[r] = s
	}); err != nil {
		return err
	}
	return scanInts(ctx, tx, `SELECT seq, CAST(julianday(eol_date) - 2440587.5 AS INTEGER) + 1 FROM images
		WHERE eol_date > ''`, func(v []int64) {
		if x.life.eolDay == nil {
			x.life.eolDay = make([]int32, n)
		}
		x.life.eolDay[v[0]] = int32(v[1])
	})
}

// dayNumber is a DateLayout date as eolDay counts it.
func dayNumber(date string) int32 {
	d, err := time.Parse(store.DateLayout, date)
	if err != nil {
		return 0
	}
	return int32(d.Unix()/86400) + 1
}

// keepLifecycle removes from set the rows f's support, signed and
// max_severity filters leave out, as filterConditions does in SQL.
func (x *listIndex) keepLifecycle(set *bitset.Set, f store.Filter) {
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
		lo, hi := dayNumber(after), dayNumber(through) // 0 for ""
		set.Each(func(i int) bool {
			d := int32(0)
			if x.life.eolDay != nil {
				d = x.life.eolDay[i]
			}
			keep := false
			switch {
			case d == 0:
				keep = none
			default:
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
func (x *listIndex) lifecycleBytes() int {
	return (1+len(x.life.severity))*x.capacity/8 + 4*len(x.life.eolDay)
}
