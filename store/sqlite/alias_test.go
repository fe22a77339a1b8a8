package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

func mustDefault(t testing.TB) *DB {
	t.Helper()
	db := mustOpen(t)
	if _, err := db.LoadDefaultCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSuggestAliases(t *testing.T) {
	db := mustDefault(t)
	tests := []struct {
		in    string
		first []string // the suggestions must start with these
		none  bool
	}{
		{"ubuntu:24.04", []string{"ubuntu/24.04"}, false},
		{"ubuntu-24.04", []string{"ubuntu/24.04"}, false},
		{"ubuntu-24.04-minimal", []string{"ubuntu/24.04-minimal"}, false},
		{"ubuntu:24.04-minimal", []string{"ubuntu/24.04-minimal"}, false},
		{"ubuntu", []string{"ubuntu/24.04", "ubuntu/22.04"}, false},
		{"debian", []string{"debian/13", "debian/12"}, false},
		{"ubuntu-24.04-amd64", []string{"ubuntu/24.04"}, false},               // an image_name
		{"ghcr.io/gilmanlab/headjack:dind", []string{"headjack/dind"}, false}, // a pull_ref
		{"ubunt/24.04", []string{"ubuntu/24.04"}, false},                      // a typo
		{"fedora/43", []string{"fedora/42", "fedora/41"}, false},
		{"debian/13-desk", []string{"debian/13-desktop"}, false},
		{"ubuntu/25.04-minimal", []string{"ubuntu/24.04-minimal", "ubuntu/22.04-minimal"}, false},
		{"ubuntu:24.04", []string{"ubuntu/24.04", "ubuntu/24.04-minimal", "ubuntu/24.04-cloud", "ubuntu/24.04-desktop"}, false},
		{"zzzzzz/qqqq", nil, true},
	}
	if got, _ := db.SuggestAliases(context.Background(), "ubuntu/24.04-desk", "arm64", store.MaxSuggestions); len(got) == 0 || got[0] == "ubuntu/24.04-desktop" {
		t.Errorf("suggested %v on arm64, where there is no desktop", got)
	}
	for _, tt := range tests {
		got, err := db.SuggestAliases(context.Background(), tt.in, "", store.MaxSuggestions)
		if err != nil {
			t.Fatal(err)
		}
		if tt.none {
			if len(got) != 0 {
				t.Errorf("SuggestAliases(%q) = %v, want none", tt.in, got)
			}
			continue
		}
		if len(got) > store.MaxSuggestions || len(got) < len(tt.first) {
			t.Errorf("SuggestAliases(%q) = %v", tt.in, got)
			continue
		}
		for i, w := range tt.first {
			if got[i] != w {
				t.Errorf("SuggestAliases(%q) = %v, want it to start with %v", tt.in, got, tt.first)
				break
			}
		}
	}
}

func TestResolveAlias(t *testing.T) {
	db := mustDefault(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		img, err := db.ResolveAlias(ctx, "ubuntu/24.04-minimal", "arm64")
		if err != nil || img.Alias != "ubuntu/24.04-minimal" || img.Architecture != "arm64" {
			t.Fatalf("%v %v", img, err)
		}
		img, err = db.ResolveAlias(ctx, " Headjack/Base ", "")
		if err != nil || img.Alias != "headjack/base" || img.Architecture != "amd64" {
			t.Fatalf("%v %v", img, err)
		}
	})
	t.Run("WrongFormat", func(t *testing.T) {
		for _, in := range []string{"ubuntu:24.04", "ubuntu-24.04", "ubuntu"} {
			_, err := db.ResolveAlias(ctx, in, "")
			var ae *store.AliasError
			if !errors.As(err, &ae) || store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != "alias" {
				t.Fatalf("%s: %v", in, err)
			}
			if len(ae.Suggestions) == 0 || ae.Suggestions[0] != "ubuntu/24.04" {
				t.Errorf("%s: suggestions %v", in, ae.Suggestions)
			}
			msg := store.ErrorMessage(err)
			if !strings.Contains(msg, "os/release") || !strings.Contains(msg, "Closest aliases: ubuntu/24.04") {
				t.Errorf("%s: message %q", in, msg)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		_, err := db.ResolveAlias(ctx, "ubuntu/25.04", "")
		var ae *store.AliasError
		if !errors.As(err, &ae) || !store.IsNotFound(err) || len(ae.Suggestions) == 0 || !strings.HasPrefix(ae.Suggestions[0], "ubuntu/2") {
			t.Fatalf("%v %+v", err, ae)
		}
	})
	t.Run("OtherArchitecture", func(t *testing.T) {
		_, err := db.ResolveAlias(ctx, "ubuntu/24.04-desktop", "arm64")
		var ae *store.AliasError
		if !errors.As(err, &ae) || !store.IsNotFound(err) || len(ae.Architectures) != 1 || ae.Architectures[0] != "amd64" {
			t.Fatalf("%v %+v", err, ae)
		}
		if !strings.Contains(store.ErrorMessage(err), "not built for arm64") {
			t.Errorf("message %q", store.ErrorMessage(err))
		}
	})
	t.Run("ExplainNothingWrong", func(t *testing.T) {
		if err := db.ExplainAlias(ctx, "debian/13", "armhf"); err != nil {
			t.Errorf("ExplainAlias of a good alias = %v", err)
		}
	})
}

// BenchmarkAliasMiss is a misspelt alias on a generated catalog: the
// explanation and its suggestions, as the image-by-alias page asks them.
func BenchmarkAliasMiss(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 10_000, 3); err != nil {
		b.Fatal(err)
	}
	misses := []string{"ubnutu/24.04", "ubuntu:24.04", "debian-13-amd64", "alpine/3.99", "fedroa/42-minimal"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := db.ResolveAlias(ctx, misses[i%len(misses)], "amd64"); err == nil {
			b.Fatal("a miss resolved")
		}
	}
}
