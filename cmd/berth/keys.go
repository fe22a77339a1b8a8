package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/berth/berth/store/postgres"
)

// sessionKeys returns the keys that sign session cookies, newest first.
// BERTH_SESSION_KEY (hex, comma-separated for rotation) wins; otherwise the
// keys live in a file beside the database, created on first run, so that a
// restart does not sign everyone out.
func sessionKeys(getenv func(string) string, dbPath string) ([][]byte, error) {
	if v := getenv("BERTH_SESSION_KEY"); v != "" {
		return parseKeys(v, "BERTH_SESSION_KEY")
	}
	if postgres.IsURL(dbPath) {
		// A key file beside the database cannot exist on PostgreSQL, and
		// a key made up by each instance would sign each one's cookies
		// differently: a person would be logged out whenever the load
		// balancer sent them elsewhere.
		return nil, fmt.Errorf("serve on PostgreSQL needs BERTH_SESSION_KEY: every instance must sign session cookies with the same key. " +
			"Make one with `openssl rand -hex 32` and give the same value to every instance (comma-separated, newest first, to rotate)")
	}
	path := dbPath + ".session-key"
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write session key: %w", err)
		}
		return [][]byte{key}, nil
	} else if err != nil {
		return nil, fmt.Errorf("read session key: %w", err)
	}
	return parseKeys(strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ","), path)
}

func parseKeys(s, from string) ([][]byte, error) {
	var keys [][]byte
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := hex.DecodeString(part)
		if err != nil || (len(k) != 32 && len(k) != 64) {
			return nil, fmt.Errorf("%s: each session key must be 32 or 64 bytes written in hex", from)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no session key", from)
	}
	return keys, nil
}
