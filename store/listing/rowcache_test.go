package listing

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

func row(seq int64, n int) []byte {
	return bytes.Repeat([]byte{byte('a' + seq%26)}, n)
}

// TestRowCacheKeepsWithinItsBudget: rows come back as put, the arenas
// never hold more than the budget, and a row asked for again and again
// outlives generations of others.
func TestRowCacheKeepsWithinItsBudget(t *testing.T) {
	c := newRowCache(10_000)
	hot := int64(-1)
	c.put(hot, row(hot, 300))
	for seq := int64(0); seq < 1000; seq++ {
		c.put(seq, row(seq, 100+int(seq%200)))
		if c.held() > 10_000 || c.live() > c.held() {
			t.Fatalf("after %d rows: %d bytes live, %d held, budget 10000", seq+1, c.live(), c.held())
		}
		if b, ok := c.get(seq); !ok || !bytes.Equal(b, row(seq, 100+int(seq%200))) {
			t.Fatalf("row %d came back as %q, %v", seq, b, ok)
		}
		if b, ok := c.get(hot); !ok || !bytes.Equal(b, row(hot, 300)) {
			t.Fatalf("the hot row was let go after %d others", seq+1)
		}
	}
	if _, ok := c.get(0); ok {
		t.Error("the first row is still kept, 1000 rows and 200 KB later")
	}
	c.drop(hot)
	if _, ok := c.get(hot); ok {
		t.Error("a dropped row came back")
	}
	if c.rows() == 0 || c.rows() > 1000 {
		t.Errorf("%d rows kept", c.rows())
	}
	c.put(5, row(5, 200))
	c.put(5, row(5, 20_000)) // over a chunk: not kept, and the old one goes
	if _, ok := c.get(5); ok {
		t.Error("a row over the budget was kept, or an older one stayed")
	}
}

// TestRowCacheHoldsFewObjects: a hundred thousand kept rows are a few
// objects for the garbage collector, not one each (which made every
// collection at a million images mark them one by one).
func TestRowCacheHoldsFewObjects(t *testing.T) {
	objects := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapObjects
	}
	before := objects()
	c := newRowCache(64 << 20)
	for seq := int64(0); seq < 100_000; seq++ {
		c.put(seq, []byte(fmt.Sprintf("%0300d", seq))) // a fresh slice a row, as encodeRow makes
	}
	after := objects()
	if c.rows() != 100_000 {
		t.Fatalf("%d rows kept", c.rows())
	}
	if after > before && after-before > 5_000 {
		t.Errorf("100000 kept rows are %d heap objects", after-before)
	}
	runtime.KeepAlive(c)
}
