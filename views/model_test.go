package views

import (
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
		{1, 20, 7, 7, false, "1–7 of 7 images"},
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
