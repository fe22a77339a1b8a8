package store

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseFilterErrors(t *testing.T) {
	tests := []struct{ query, param string }{
		{"min_price=-1", "min_price"},
		{"max_price=-0.01", "max_price"},
		{"min_price=abc", "min_price"},
		{"min_price=NaN", "min_price"},
		{"max_price=1e400", "max_price"},
		{"min_price=10&max_price=5", "min_price"},
		{"min_rating=6", "min_rating"},
		{"min_rating=-1", "min_rating"},
		{"min_rating=NaN", "min_rating"},
		{"sort_by=stars", "sort_by"},
		{"sort_order=up", "sort_order"},
		{"page=0", "page"},
		{"page=-2", "page"},
		{"page=1.5", "page"},
		{"page=99999999", "page"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=ten", "limit"},
		{"architecture=sparc", "architecture"},
		{"prespawn=maybe", "prespawn"},
		{"alias=ubuntu:24.04", "alias"},
		{"os=Ubuntu%20Linux", "os"},
		{"unknown=1", "unknown"},
		{"os=debian&Architecture=arm64", "Architecture"},
		{"search=a%00b", "search"},
		{"=x", "(no name)"},
		{"os=debian&=", "(no name)"},
		{"support=eol", "support"},
		{"signed=yes", "signed"},
		{"max_severity=severe", "max_severity"},
		{"max_severity=4", "max_severity"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			_, err := ParseFilter(q)
			if ErrorCode(err) != EINVALID || ErrorParam(err) != tt.param {
				t.Errorf("got %v, want an invalid %s", err, tt.param)
			}
		})
	}
}

func TestParseFilterValues(t *testing.T) {
	q, _ := url.ParseQuery("os=Debian&architecture=ARM64&variant=standard&prespawn=true&min_price=0&max_price=4.99" +
		"&min_rating=3.5&search=+web+server+&sort_by=price&sort_order=desc&page=2&limit=50&alias=")
	f, err := ParseFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	yes, zero, max, rating := true, int64(0), int64(499), 3.5
	want := Filter{OS: "debian", Architecture: "arm64", Variant: "default", Prespawn: &yes,
		MinPrice: &zero, MaxPrice: &max, MinRating: &rating, Search: "web server",
		SortBy: "price", SortOrder: "desc", Page: 2, Limit: 50}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
	if got := f.Query().Encode(); got != "architecture=arm64&limit=50&max_price=4.99&min_price=0&min_rating=3.5&os=debian&page=2&prespawn=true&search=web+server&sort_by=price&sort_order=desc&variant=standard" {
		t.Errorf("canonical query = %s", got)
	}
	// Empty form fields mean "any"; defaults are left out of the canonical query.
	q, _ = url.ParseQuery("os=&architecture=&min_price=&sort_by=popularity&sort_order=desc&page=1&limit=20")
	f, err = ParseFilter(q)
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsZero() || f.Query().Encode() != "" {
		t.Errorf("got %+v with query %q, want the zero filter", f, f.Query().Encode())
	}
}

// effective is a filter with its defaults spelled out, for comparing filters
// that mean the same thing.
func effective(f Filter) Filter {
	f.SortBy, f.SortOrder, f.Page, f.Limit = f.Sort(), f.Order(), f.PageNumber(), f.PageLimit()
	return f
}

// FuzzParseFilter checks that the parser never panics, that whatever it
// accepts is within the documented bounds, and that the canonical query of
// an accepted filter parses back to the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "os=ubuntu&architecture=amd64", "min_price=0&max_price=10", "min_price=25",
		"min_rating=4.5&sort_by=rating&sort_order=desc&limit=10", "search=docker", "page=3&limit=100",
		"variant=standard&prespawn=true", "alias=ubuntu/24.04-minimal", "min_price=-1", "limit=101",
		"sort_by=popularity", "search=%00%ff", "min_price=1e308", "page=999999999999999999999",
		"min_rating=0x1p-2", "max_price=4.999", "search=a%20b%20c&os=DEBIAN",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := ParseFilter(q)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorParam(err) == "" {
				t.Fatalf("error %v is not an invalid-parameter error", err)
			}
			return
		}
		if l := got.PageLimit(); l < 1 || l > MaxLimit {
			t.Fatalf("limit %d out of range", l)
		}
		if got.PageNumber() < 1 || got.Offset() > maxOffset {
			t.Fatalf("page %d offset %d out of range", got.PageNumber(), got.Offset())
		}
		if got.MinPrice != nil && *got.MinPrice < 0 || got.MaxPrice != nil && *got.MaxPrice < 0 {
			t.Fatal("negative price accepted")
		}
		if got.MinRating != nil && (*got.MinRating < 0 || *got.MinRating > 5) {
			t.Fatal("rating out of range accepted")
		}
		again, err := ParseFilter(got.Query())
		if err != nil {
			t.Fatalf("canonical query %q of an accepted filter fails: %v", got.Query().Encode(), err)
		}
		if !reflect.DeepEqual(effective(got), effective(again)) {
			t.Fatalf("round trip changed the filter:\n%+v\n%+v", effective(got), effective(again))
		}
	})
}
