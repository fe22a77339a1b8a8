package sqlite

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"slices"

	"modernc.org/sqlite"

	"github.com/berth/berth/store/listing/bitset"
)

// The listing engine's source (listing.go) reads whole columns and orders
// from SQLite through these aggregate functions, each returning one blob,
// since a Go round trip per row would cost more than SQLite's own work.

// setFromBlob decodes a berth_rowset blob into a set of the given capacity,
// leaving out rows past it.
func setFromBlob(blob []byte, capacity int) *bitset.Set {
	words := make([]uint64, (capacity+63)/64)
	for i := range words {
		if 8*i+8 > len(blob) {
			break
		}
		words[i] = binary.LittleEndian.Uint64(blob[8*i:])
	}
	if len(words) > 0 && capacity%64 != 0 {
		words[len(words)-1] &= 1<<(capacity%64) - 1
	}
	return bitset.FromWords(words)
}

// rowSet is the berth_rowset(rowid) aggregate: it collects row numbers
// into a bit set and returns its words as a little-endian blob.
type rowSet struct{ words []uint64 }

// seqList is the berth_seqlist(seq) aggregate: it returns the row numbers
// in the order it receives them, as little-endian 32-bit integers.
type seqList struct{ b []byte }

func init() {
	sqlite.MustRegisterFunction("berth_rowset", &sqlite.FunctionImpl{
		NArgs:         1,
		Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &rowSet{}, nil },
	})
	sqlite.MustRegisterFunction("berth_runs", &sqlite.FunctionImpl{
		NArgs:         -1,
		Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &runs{}, nil },
	})
	sqlite.MustRegisterFunction("berth_seqlist", &sqlite.FunctionImpl{
		NArgs:         1,
		Deterministic: true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &seqList{}, nil },
	})
}

// runs is the berth_runs(key...) aggregate: over rows in order, it returns
// as a berth_rowset blob the positions (from 0) where the key differs from
// the row before, that is where each run of equal keys starts.
type runs struct {
	set  rowSet
	n    int64
	last []driver.Value
}

func (r *runs) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if r.n == 0 || !slices.EqualFunc(r.last, args, func(a, b driver.Value) bool {
		if ab, ok := a.([]byte); ok {
			bb, ok := b.([]byte)
			return ok && bytes.Equal(ab, bb)
		}
		return a == b
	}) {
		if err := r.set.Step(nil, []driver.Value{r.n}); err != nil {
			return err
		}
		r.last = append(r.last[:0], args...)
	}
	r.n++
	return nil
}

func (r *runs) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("berth_runs cannot be used as a window function")
}

func (r *runs) WindowValue(ctx *sqlite.FunctionContext) (driver.Value, error) {
	return r.set.WindowValue(ctx)
}

func (r *runs) Final(*sqlite.FunctionContext) {}

func (l *seqList) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	v, ok := args[0].(int64)
	if !ok || v < 0 || v >= 1<<31 {
		return fmt.Errorf("berth_seqlist: %v is not a row number", args[0])
	}
	l.b = binary.LittleEndian.AppendUint32(l.b, uint32(v))
	return nil
}

func (l *seqList) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("berth_seqlist cannot be used as a window function")
}

func (l *seqList) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return l.b, nil }

func (l *seqList) Final(*sqlite.FunctionContext) {}

func (r *rowSet) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	v, ok := args[0].(int64)
	if !ok || v < 0 || v >= 1<<31 {
		return fmt.Errorf("berth_rowset: %v is not a row number", args[0])
	}
	w := int(v >> 6)
	if w >= len(r.words) {
		r.words = append(r.words, make([]uint64, w+1-len(r.words))...)
	}
	r.words[w] |= 1 << (v & 63)
	return nil
}

func (r *rowSet) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("berth_rowset cannot be used as a window function")
}

func (r *rowSet) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	blob := make([]byte, 8*len(r.words))
	for i, w := range r.words {
		binary.LittleEndian.PutUint64(blob[8*i:], w)
	}
	return blob, nil
}

func (r *rowSet) Final(*sqlite.FunctionContext) {}
