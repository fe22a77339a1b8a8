package views

import (
	"slices"
	"testing"

	"github.com/berth/berth/store"
)

func TestRangeText(t *testing.T) {
	for _, tc := range []struct {
		page, limit, total, shown int
		capped                    bool
		want                      string
	}{
		{1, 20, 0, 0, false, "0 images"},
		{1, 20, 7, 7, false, "7 images"}, // all on one page: just the count
		{1, 20, 1, 1, false, "1 image"},
		{3, 20, 73, 13, false, "41–53 of 73 images"},
		{51, 20, 1234567, 20, false, "1,001–1,020 of 1,234,567 images"},
		{1, 24, 10000, 24, true, "1–24 of over 10,000 images"},
	} {
		c := Catalog{Result: store.ImagePage{Page: tc.page, Limit: tc.limit, Total: tc.total, Capped: tc.capped,
			Images: make([]*store.Image, tc.shown)}}
		if got := c.RangeText(); got != tc.want {
			t.Errorf("RangeText() = %q, want %q", got, tc.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", -1234: "-1,234"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPageNumbers(t *testing.T) {
	// The plain definition: every page that is the first, the last or within
	// two of the current one, with a 0 for each run of pages left out.
	want := func(cur, last int) []int {
		var out []int
		for p := 1; p <= last; p++ {
			if p == 1 || p == last || (p >= cur-2 && p <= cur+2) {
				out = append(out, p)
			} else if len(out) > 0 && out[len(out)-1] != 0 {
				out = append(out, 0)
			}
		}
		return out
	}
	for last := 0; last <= 12; last++ {
		for cur := 1; cur <= max(last, 1); cur++ {
			c := Catalog{Result: store.ImagePage{Page: cur, Limit: 10, Total: last * 10}}
			if got, w := c.PageNumbers(), want(cur, last); !slices.Equal(got, w) {
				t.Errorf("page %d of %d: %v, want %v", cur, last, got, w)
			}
		}
	}
	c := Catalog{Result: store.ImagePage{Page: 25_000, Limit: 20, Total: 1_000_000}}
	if got := c.PageNumbers(); !slices.Equal(got, []int{1, 0, 24998, 24999, 25000, 25001, 25002, 0, 50000}) {
		t.Errorf("deep page of a million images: %v", got)
	}
}
