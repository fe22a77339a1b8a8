// Package pgtest gives each test a PostgreSQL schema of its own on the
// development and CI server, and drops it when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server the development and CI machines run (trust
// authentication). BERTH_TEST_PG overrides it.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN returns the server tests use.
func BaseDSN() string {
	if s := os.Getenv("BERTH_TEST_PG"); s != "" {
		return s
	}
	return DefaultDSN
}

// DSN creates a fresh, empty schema for t and returns a DSN whose
// search_path is that schema, so the store creates its tables there. The
// schema is dropped when t ends. When the server cannot be reached, t is
// skipped, except in CI (CI=true), where that is a failure: the PostgreSQL
// half of the suite must not silently vanish.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is unreachable (CI=true, so this fails rather than skips): %v", base, err)
		}
		t.Skipf("PostgreSQL at %s is unreachable (set BERTH_TEST_PG, or start it): %v", base, err)
	}
	defer conn.Close(context.Background())
	sweep(ctx, conn)
	b := make([]byte, 6)
	rand.Read(b)
	schema := fmt.Sprintf("berth_test_%d_%s", time.Now().Unix(), hex.EncodeToString(b))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BERTH_TEST_PG: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A few connections per test: the server's 100 are shared by every
	// package testing at the same time.
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", "6")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// staleAfter is how old a test schema must be for sweep to drop it: far
// longer than any test runs.
const staleAfter = 6 * time.Hour

// sweep drops the schemas of test runs that were killed before their
// cleanup, so they do not pile up on a shared server.
func sweep(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'berth\_test\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		var unix int64
		var suffix string
		if n, _ := fmt.Sscanf(name, "berth_test_%d_%s", &unix, &suffix); n == 2 && time.Since(time.Unix(unix, 0)) < staleAfter {
			continue
		}
		conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
	}
}
