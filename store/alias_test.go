package store

import (
	"strings"
	"testing"
)

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

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ubuntu/24.04", "ubuntu/22.04", 1}, {"straße", "strasse", 2}} {
		if got := EditDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
