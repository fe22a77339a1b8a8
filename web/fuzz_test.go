package web

import (
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// FuzzRatingBody checks that any request body either yields a whole rating
// from 0 to 5 or an invalid-rating error, never a panic or anything else.
func FuzzRatingBody(f *testing.F) {
	for _, s := range []string{`{"rating":4}`, `{"rating":0}`, `{"rating":5.0}`, `{"rating":"4"}`, `{"rating":null}`,
		`{"rating":-0}`, `{"rating":1e1}`, `{"rating":9999999999999999999999}`, `{}`, ``, `[]`, `{"rating":4,"rating":9}`,
		`{"rating": 3 }`, `{"Rating":2}`, "{\"rating\":\u00a04}", `{"rating":true}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		n, err := parseRatingBody(strings.NewReader(body))
		if err != nil {
			if store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != "rating" {
				t.Fatalf("error %v is not an invalid rating", err)
			}
			return
		}
		if n < 0 || n > 5 {
			t.Fatalf("accepted rating %d", n)
		}
	})
}
