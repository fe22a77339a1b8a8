package store

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// User is a person with an account.
type User struct {
	ID        int64
	Email     string
	CreatedAt time.Time
}

// NormalizeEmail trims and lower-cases an address and checks its shape, so
// that one person cannot hold two accounts by changing case.
func NormalizeEmail(s string) (string, error) {
	s = norm.NFC.String(strings.ToLower(strings.TrimSpace(s)))
	if s == "" {
		return "", Invalid("email", "Enter your email address.")
	}
	if len(s) > 254 {
		return "", Invalid("email", "An email address has at most 254 characters.")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", Invalid("email", "%q is not an email address we can use.", s)
	}
	return s, nil
}

func CheckPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return Invalid("password", "Use a password of at least %d characters.", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return Invalid("password", "Use a password of at most %d bytes.", MaxPasswordLen)
	case isCommonPassword(p):
		return Invalid("password", "That password is one of the most common ones, which are guessed first. Choose another.")
	}
	return nil
}

// Password rules. bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)
