package sqlite

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
)

func TestAggregates(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	var seqs, runs, set []byte
	if err := db.read.QueryRowContext(ctx, `SELECT berth_seqlist(s), berth_runs(k, j), berth_rowset(s) FROM (
		SELECT 5 AS s, 1 AS k, 'a' AS j UNION ALL SELECT 3, 1, 'a' UNION ALL SELECT 70, 1, 'b'
		UNION ALL SELECT 2, 2.5, 'b' UNION ALL SELECT 9, 2.5, 'b')`).Scan(&seqs, &runs, &set); err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for i := 0; i+4 <= len(seqs); i += 4 {
		got = append(got, binary.LittleEndian.Uint32(seqs[i:]))
	}
	if !slices.Equal(got, []uint32{5, 3, 70, 2, 9}) {
		t.Errorf("berth_seqlist = %v", got)
	}
	var starts []int
	setFromBlob(runs, 5).Each(func(i int) bool { starts = append(starts, i); return true })
	if !slices.Equal(starts, []int{0, 2, 3}) {
		t.Errorf("berth_runs starts runs at %v, want [0 2 3]", starts)
	}
	var members []int
	setFromBlob(set, 64).Each(func(i int) bool { members = append(members, i); return true })
	if !slices.Equal(members, []int{2, 3, 5, 9}) {
		t.Errorf("berth_rowset below 64 = %v (70 is past the capacity)", members)
	}
	for _, q := range []string{`SELECT berth_rowset('x')`, `SELECT berth_seqlist(-1)`} {
		var b []byte
		if err := db.read.QueryRowContext(ctx, q).Scan(&b); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
	var empty []byte
	if err := db.read.QueryRowContext(ctx, `SELECT berth_rowset(seq) FROM images WHERE 0`).Scan(&empty); err != nil || setFromBlob(empty, 10).Count() != 0 {
		t.Errorf("over no rows: %v, %v", empty, err)
	}
}
