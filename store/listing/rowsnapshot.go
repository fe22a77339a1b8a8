package listing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// Row is what RowSnapshot reads of an image: the fields listings filter
// and sort by, under the image's row number.
type Row struct {
	Seq          int64
	ID           string
	ImageName    string
	Alias        string
	OS           string
	Architecture string
	Variant      string
	Prespawn     bool
	PriceCents   int64
	Size         int64
	AddedDate    time.Time
	RatingSum    int64
	RatingCount  int64
	// The lifecycle and supply-chain filters' fields: a signature on
	// record, store.WorstSeverity's rank, and EOLDay(eol_date).
	Signed        bool
	WorstSeverity int64
	EOLDay        int64
}

// RowSnapshot is a Snapshot of rows read in one consistent read at
// generation gen, for a backend that reads its catalog row by row rather
// than building sets and orders itself. It sorts in Go, as the Snapshot
// orders are defined: names and ids compare as bytes (a backend's SQL
// listings must too, e.g. with a "C" collation), dates as times, ratings by
// store.RatingTenths and store.Popularity. Its Close does nothing.
func RowSnapshot(gen int64, rows []Row) Snapshot {
	s := &rowSnapshot{gen: gen, rows: rows}
	for _, r := range rows {
		s.maxSeq = max(s.maxSeq, r.Seq)
	}
	return s
}

type rowSnapshot struct {
	gen, maxSeq int64
	rows        []Row
	byName      []int // indexes into rows in name order, once sorted
}

func (s *rowSnapshot) Generation() int64 { return s.gen }
func (s *rowSnapshot) MaxSeq() int64     { return s.maxSeq }
func (s *rowSnapshot) Close() error      { return nil }

// value is a row's value of a field, as Groups gives it.
func (r *Row) value(f Field) (string, error) {
	switch f {
	case FieldOS:
		return r.OS, nil
	case FieldArchitecture:
		return r.Architecture, nil
	case FieldVariant:
		return r.Variant, nil
	case FieldPrespawn:
		if r.Prespawn {
			return "1", nil
		}
		return "0", nil
	case FieldPrice:
		return strconv.FormatInt(r.PriceCents, 10), nil
	case FieldSigned:
		if r.Signed {
			return "1", nil
		}
		return "0", nil
	case FieldWorstSeverity:
		return strconv.FormatInt(r.WorstSeverity, 10), nil
	}
	return "", fmt.Errorf("no field %q", f)
}

func (s *rowSnapshot) Groups(_ context.Context, field Field, capacity int, got func(value string, rows *bitset.Set)) error {
	sets := map[string]*bitset.Set{}
	for i := range s.rows {
		v, err := s.rows[i].value(field)
		if err != nil {
			return err
		}
		set, ok := sets[v]
		if !ok {
			set = bitset.New(capacity)
			sets[v] = set
		}
		if seq := s.rows[i].Seq; seq >= 0 && seq < int64(capacity) {
			set.Add(int(seq))
		}
	}
	for v, set := range sets {
		got(v, set)
	}
	return nil
}

func (s *rowSnapshot) Distinct(_ context.Context, field Field) (int, error) {
	seen := map[string]bool{}
	for i := range s.rows {
		v, err := s.rows[i].value(field)
		if err != nil {
			return 0, err
		}
		seen[v] = true
	}
	return len(seen), nil
}

func (s *rowSnapshot) Values(_ context.Context, field Field, fn func(seq int, value int64)) error {
	for _, r := range s.rows {
		switch field {
		case FieldPrice:
			fn(int(r.Seq), r.PriceCents)
		case FieldEOLDay:
			fn(int(r.Seq), r.EOLDay)
		default:
			return fmt.Errorf("no integer field %q", field)
		}
	}
	return nil
}

func (s *rowSnapshot) Ratings(_ context.Context, fn func(seq int, sum, count int64)) error {
	for _, r := range s.rows {
		if r.RatingCount > 0 {
			fn(int(r.Seq), r.RatingSum, r.RatingCount)
		}
	}
	return nil
}

// keyCompare compares two rows by a sort key alone, before the ties broken
// by name and id.
func keyCompare(key string, a, b *Row) int {
	switch key {
	case store.SortName:
		return 0
	case store.SortPrice:
		return cmp.Compare(a.PriceCents, b.PriceCents)
	case store.SortRating:
		return cmp.Or(cmp.Compare(store.RatingTenths(a.RatingSum, a.RatingCount), store.RatingTenths(b.RatingSum, b.RatingCount)),
			cmp.Compare(a.RatingCount, b.RatingCount))
	case store.SortSize:
		return cmp.Compare(a.Size, b.Size)
	case store.SortAddedDate:
		return a.AddedDate.Compare(b.AddedDate)
	default:
		return cmp.Compare(store.Popularity(a.RatingSum, a.RatingCount), store.Popularity(b.RatingSum, b.RatingCount))
	}
}

func (s *rowSnapshot) Order(_ context.Context, key string) ([]int32, *bitset.Set, error) {
	if s.byName == nil {
		s.byName = make([]int, len(s.rows))
		for i := range s.byName {
			s.byName[i] = i
		}
		slices.SortFunc(s.byName, func(a, b int) int {
			ra, rb := &s.rows[a], &s.rows[b]
			return cmp.Or(strings.Compare(ra.ImageName, rb.ImageName), strings.Compare(ra.ID, rb.ID))
		})
	}
	// The name order is sorted already; a stable sort by the key alone
	// keeps it within each run of equal keys.
	idx := slices.Clone(s.byName)
	slices.SortStableFunc(idx, func(a, b int) int { return keyCompare(key, &s.rows[a], &s.rows[b]) })
	seqs := make([]int32, len(idx))
	runs := bitset.New(len(idx))
	for pos, i := range idx {
		seqs[pos] = int32(s.rows[i].Seq)
		if pos == 0 || key == store.SortName || keyCompare(key, &s.rows[idx[pos-1]], &s.rows[i]) != 0 {
			runs.Add(pos)
		}
	}
	return seqs, runs, nil
}

func (s *rowSnapshot) Aliases(_ context.Context, fn func(seq int, alias, architecture string)) error {
	idx := make([]int, len(s.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.rows[a].Alias, s.rows[b].Alias) })
	for _, i := range idx {
		fn(int(s.rows[i].Seq), s.rows[i].Alias, s.rows[i].Architecture)
	}
	return nil
}
