package store

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is a few hundred of the passwords that lists of
// leaked passwords put first and guessers therefore try first, one a line,
// lower case. Only those of MinPasswordLen or more matter; shorter ones
// are refused anyway.
//
//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords is the list as a set, built once on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, p := range strings.Split(commonPasswordList, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			set[p] = true
		}
	}
	return set
})

// isCommonPassword reports whether p is on the list, ignoring case and
// surrounding space.
func isCommonPassword(p string) bool {
	return commonPasswords()[strings.ToLower(strings.TrimSpace(p))]
}
