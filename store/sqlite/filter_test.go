package sqlite

import (
	"net/url"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// FuzzFilterConditions: any filter the domain accepts turns into SQL
// conditions with one argument per placeholder.
func FuzzFilterConditions(f *testing.F) {
	for _, s := range []string{"", "os=ubuntu&architecture=amd64", "min_price=0&max_price=10",
		"min_rating=4.5&sort_by=rating", "search=docker%20redis", "variant=standard&prespawn=true",
		"alias=ubuntu/24.04-minimal", "search=%22%2A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got, err := store.ParseFilter(q)
		if err != nil {
			return
		}
		for _, walk := range []bool{false, true} {
			where, args := filterConditions(got, walk)
			if n := strings.Count(where, "?"); n != len(args) {
				t.Fatalf("%d placeholders for %d args in %q", n, len(args), where)
			}
		}
	})
}
