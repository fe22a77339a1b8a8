package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// An internal error is printed with its cause, not only as "Internal
// error."; a person's mistake stays the message meant for them.
func TestInternalErrorsPrintTheirCause(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ada@example.com", "--password", "correct horse"); err != nil {
		t.Fatal(err)
	}
	// A fault the store cannot foresee: every new account is refused.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(context.Background(), `CREATE TRIGGER users_fail BEFORE INSERT ON users
		BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = berth(t, "user", "create", "--db", db, "--email", "bob@example.com", "--password", "correct horse")
	if err == nil {
		t.Fatal("user create succeeded against a failing table")
	}
	if msg := err.Error(); !strings.Contains(msg, "user create: Internal error.") || !strings.Contains(msg, "disk on fire") {
		t.Errorf("berth printed %q, want the message and its cause", msg)
	}
	_, err = berth(t, "wallet", "credit", "--db", db, "--email", "nobody@example.com", "--amount", "5")
	if err == nil || strings.Contains(err.Error(), "cause") || !strings.Contains(err.Error(), "wallet credit: ") {
		t.Errorf("an unknown account printed %q, want only the message for the person", err)
	}
}
