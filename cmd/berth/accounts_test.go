package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccountCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	if out, err := berth(t, "user", "create", "--db", db, "--email", "Ops@Example.com", "--password", "correct horse battery"); err != nil || out != "created ops@example.com\n" {
		t.Fatalf("user create = %q, %v", out, err)
	}
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ops@example.com", "--password", "another password"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user create = %v", err)
	}
	if _, err := berth(t, "user", "create", "--db", db, "--email", "x@example.com", "--password", "short"); err == nil {
		t.Error("short password accepted")
	}
	out, err := berth(t, "token", "create", "--db", db, "--email", "ops@example.com")
	if err != nil || !strings.HasPrefix(out, "berth_") || strings.Count(out, "\n") != 1 || strings.ContainsAny(strings.TrimSpace(out), " \t") {
		t.Fatalf("token create printed %q, %v; want the token alone", out, err)
	}
	if _, err := berth(t, "token", "create", "--db", db, "--email", "nobody@example.com"); err == nil {
		t.Error("token for an unknown account")
	}
	if out, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", "12.5"); err != nil ||
		out != "credited $12.50 to ops@example.com; balance $12.50\n" {
		t.Errorf("wallet credit = %q, %v", out, err)
	}
	for _, bad := range []string{"-5", "0", "1.234", "ten", "", "1e3", "99999999"} {
		if _, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", bad); err == nil {
			t.Errorf("credit of %q accepted", bad)
		}
	}
	if out, err := berth(t, "check", "--db", db); err != nil || !strings.Contains(out, "all checks passed") {
		t.Errorf("check = %q, %v", out, err)
	}
	out, err = berth(t, "demo", "--db", db)
	if err != nil || !strings.Contains(out, "Log in as demo@berth.example with password ") {
		t.Errorf("demo = %q, %v", out, err)
	}
	if out, err := berth(t, "check", "--db", db); err != nil {
		t.Errorf("check after demo = %q, %v", out, err)
	}
}

func TestCheckRefusesAMissingDatabase(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo.db")
	if _, err := berth(t, "check", "--db", missing); err == nil {
		t.Error("check of a missing file passed")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("check created the database it was asked to check")
	}
}
