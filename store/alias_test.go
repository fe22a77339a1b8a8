package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func mustDefault(t testing.TB) *DB {
	t.Helper()
	db := mustOpen(t)
	if _, err := db.LoadDefaultCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestCheckAlias(t *testing.T) {
	for _, ok := range []string{"ubuntu/24.04", "ubuntu/24.04-minimal", "headjack/base"} {
		if err := CheckAlias(ok); err != nil {
			t.Errorf("CheckAlias(%q) = %v", ok, err)
		}
	}
	tests := []struct{ in, want string }{
		{"ubuntu:24.04", "registry tag"},
		{"ubuntu-24.04", "hyphen"},
		{"ubuntu", "no release"},
		{"Ubuntu/24.04", "lowercase"},
		{"ubuntu/24.04/x", "not an alias"},
		{"", "empty"},
	}
	for _, tt := range tests {
		err := CheckAlias(tt.in)
		if err == nil || err.Code != EINVALID || err.Param != "alias" {
			t.Errorf("CheckAlias(%q) = %v", tt.in, err)
			continue
		}
		if !strings.Contains(err.Message, tt.want) || !strings.Contains(err.Message, "os/release or os/release-variant") {
			t.Errorf("CheckAlias(%q) message %q lacks %q or the format", tt.in, err.Message, tt.want)
		}
	}
	if err := CheckAlias(strings.Repeat("x", 5000)); len(err.Message) > 400 {
		t.Errorf("a long input makes a %d-byte message", len(err.Message))
	}
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
	if got, _ := db.SuggestAliases(context.Background(), "ubuntu/24.04-desk", "arm64", MaxSuggestions); len(got) == 0 || got[0] == "ubuntu/24.04-desktop" {
		t.Errorf("suggested %v on arm64, where there is no desktop", got)
	}
	for _, tt := range tests {
		got, err := db.SuggestAliases(context.Background(), tt.in, "", MaxSuggestions)
		if err != nil {
			t.Fatal(err)
		}
		if tt.none {
			if len(got) != 0 {
				t.Errorf("SuggestAliases(%q) = %v, want none", tt.in, got)
			}
			continue
		}
		if len(got) > MaxSuggestions || len(got) < len(tt.first) {
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
			var ae *AliasError
			if !errors.As(err, &ae) || ErrorCode(err) != EINVALID || ErrorParam(err) != "alias" {
				t.Fatalf("%s: %v", in, err)
			}
			if len(ae.Suggestions) == 0 || ae.Suggestions[0] != "ubuntu/24.04" {
				t.Errorf("%s: suggestions %v", in, ae.Suggestions)
			}
			msg := ErrorMessage(err)
			if !strings.Contains(msg, "os/release") || !strings.Contains(msg, "Closest aliases: ubuntu/24.04") {
				t.Errorf("%s: message %q", in, msg)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		_, err := db.ResolveAlias(ctx, "ubuntu/25.04", "")
		var ae *AliasError
		if !errors.As(err, &ae) || !IsNotFound(err) || len(ae.Suggestions) == 0 || !strings.HasPrefix(ae.Suggestions[0], "ubuntu/2") {
			t.Fatalf("%v %+v", err, ae)
		}
	})
	t.Run("OtherArchitecture", func(t *testing.T) {
		_, err := db.ResolveAlias(ctx, "ubuntu/24.04-desktop", "arm64")
		var ae *AliasError
		if !errors.As(err, &ae) || !IsNotFound(err) || len(ae.Architectures) != 1 || ae.Architectures[0] != "amd64" {
			t.Fatalf("%v %+v", err, ae)
		}
		if !strings.Contains(ErrorMessage(err), "not built for arm64") {
			t.Errorf("message %q", ErrorMessage(err))
		}
	})
	t.Run("ExplainNothingWrong", func(t *testing.T) {
		if err := db.ExplainAlias(ctx, "debian/13", "armhf"); err != nil {
			t.Errorf("ExplainAlias of a good alias = %v", err)
		}
	})
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ubuntu/24.04", "ubuntu/22.04", 1}, {"straße", "strasse", 2}} {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
