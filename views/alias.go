package views

import (
	"net/url"
	"strings"
)

// AliasMissing is the model of the page an alias link leads to when no
// image answers it: what is wrong, the closest aliases, and the format.
type AliasMissing struct {
	Shell
	Alias         string
	Architecture  string // as requested, "" for any
	Reason        string
	WrongFormat   bool
	Suggestions   []string
	Architectures []string // where the alias exists, when only the requested one is missing
}

// AliasURL links an alias on an architecture ("" for the usual one).
func AliasURL(alias, arch string) string {
	u := "/images/by-alias/" + alias
	if arch != "" {
		u += "?architecture=" + url.QueryEscape(arch)
	}
	return u
}

// Sentence is the reason as a sentence: API messages may start with a
// parameter's name in lowercase.
func (m AliasMissing) Sentence() string {
	if m.Reason == "" {
		return ""
	}
	return strings.ToUpper(m.Reason[:1]) + m.Reason[1:]
}

// SearchURL searches the catalog for the OS the alias starts with.
func (m AliasMissing) SearchURL() string {
	word := m.Alias
	if i := strings.IndexAny(word, "/:-"); i >= 0 {
		word = word[:i]
	}
	if word == "" {
		return "/"
	}
	return "/?search=" + url.QueryEscape(word)
}
