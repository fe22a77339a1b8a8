package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
)

// TestEveryCommandOnPostgres runs the operator's commands against a
// PostgreSQL database given as --db, as TestAccountCommands and
// TestCatalogExportImportIsNoOp do against a SQLite file.
func TestEveryCommandOnPostgres(t *testing.T) {
	db := pgtest.DSN(t)
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := berth(t, append(args, "--db", db)...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("berth %s = %q, %v; want %q", strings.Join(args, " "), out, err, want)
		}
		return out
	}
	must("created ops@example.com", "user", "create", "--email", "Ops@Example.com", "--password", "correct horse battery")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ops@example.com", "--password", "another password"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user create = %v", err)
	}
	if tok := must("berth_", "token", "create", "--email", "ops@example.com"); strings.Count(tok, "\n") != 1 {
		t.Errorf("token create printed %q", tok)
	}
	must("credited $12.50 to ops@example.com; balance $12.50", "wallet", "credit", "--email", "ops@example.com", "--amount", "12.5")
	must("password", "user", "password", "--email", "ops@example.com", "--password", "a brand new password")
	if codes := must("-", "voucher", "create", "--amount", "5", "--count", "3"); strings.Count(codes, "\n") < 3 {
		t.Errorf("voucher create printed %q", codes)
	}
	// An empty database: export, then import of a catalog and its export.
	if out := must(`"images": []`, "catalog", "export"); out == "" {
		t.Fatal("no export")
	}
	cat := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(cat, []byte(`{"version":1,"images":[{"alias":"debian/13","description":"Debian 13.",
		"image_name":"debian-13-amd64","architecture":"amd64","os":"debian","release":"13","serial":"20250809",
		"variant":"default","size":524288000,"price":0,"added_date":"2025-08-09T00:00:00Z","prespawn":true,
		"tags":["stable"],"based_on":"","features":[],"pull_ref":"","security":null,"docs":"# Debian"}]}`), 0o600)
	must("1 added, 0 updated, 0 unchanged", "catalog", "import", cat)
	first := must(`"debian/13"`, "catalog", "export")
	exported := filepath.Join(t.TempDir(), "export.json")
	os.WriteFile(exported, []byte(first), 0o600)
	must("0 added, 0 updated, 1 unchanged", "catalog", "import", exported)
	must("generated 40 images", "catalog", "generate", "--count", "40")
	must("Log in as demo@berth.example with password ", "demo")
	must("all checks passed", "check")
	out, err := berth(t, "backup", "--db", db, filepath.Join(t.TempDir(), "copy.db"))
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL = %q, %v; want an explanation naming pg_dump", out, err)
	}
}

// TestCheckRefusesAnEmptyPostgresDatabase: check of a database with no
// Berth schema fails and creates none.
func TestCheckRefusesAnEmptyPostgresDatabase(t *testing.T) {
	db := pgtest.DSN(t)
	if _, err := berth(t, "check", "--db", db); err == nil || !strings.Contains(err.Error(), "no Berth database") {
		t.Errorf("check of an empty schema = %v", err)
	}
	if ok, err := postgres.Initialized(context.Background(), db); ok || err != nil {
		t.Errorf("check created the schema it was asked to check (%v)", err)
	}
}

// TestServeOnPostgresNeedsASharedSessionKey: serve refuses to start on
// PostgreSQL without BERTH_SESSION_KEY (instances must share it), and
// serves with one.
func TestServeOnPostgresNeedsASharedSessionKey(t *testing.T) {
	db := pgtest.DSN(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"BERTH_DB": db, "BERTH_ADDR": addr}
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BERTH_SESSION_KEY") {
		t.Fatalf("serve without a session key = %v", err)
	}
	env["BERTH_SESSION_KEY"] = strings.Repeat("ab", 32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, &logs)
	}()
	var resp *http.Response
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err = http.Get("http://" + addr + "/api/v1/images/public?limit=1&search=ubuntu")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var body struct {
		Data struct{ Pagination struct{ Total int } }
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || body.Data.Pagination.Total < 5 {
		t.Errorf("search on PostgreSQL: total %d, %v", body.Data.Pagination.Total, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
}
