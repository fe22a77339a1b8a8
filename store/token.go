package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so a leaked one is easy to recognise
// in logs and by secret scanners.
const TokenPrefix = "berth_"

// Token is a personal API token as its owner sees it: never the secret.
type Token struct {
	ID        int64
	Name      string
	Hint      string // the secret's last characters, to tell tokens apart
	CreatedAt time.Time
	RevokedAt *time.Time
}

// NewSecret returns n random bytes as unpadded lowercase base32.
func NewSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no randomness left; nothing is safe
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashSecret is the SHA-256 of a secret: a token or session id has 256 bits
// of entropy, so a fast hash suffices and lookups stay indexed.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
