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
)

func noEnv(string) string { return "" }

// berth runs the command line in-process and returns its output.
func berth(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

func TestCatalogExportImportIsNoOp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	// A fresh database has an empty catalog until something loads one.
	if out, err := berth(t, "catalog", "export", "--db", db); err != nil || !strings.Contains(out, `"images": []`) {
		t.Fatalf("export of a new database = %q, %v", out, err)
	}
	cat := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(cat, []byte(`{"version":1,"images":[{"alias":"debian/13","description":"Debian 13.",
		"image_name":"debian-13-amd64","architecture":"amd64","os":"debian","release":"13","serial":"20250809",
		"variant":"default","size":524288000,"price":0,"added_date":"2025-08-09T00:00:00Z","prespawn":true,
		"tags":["stable"],"based_on":"","features":[],"pull_ref":"","security":null,"docs":"# Debian"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := berth(t, "catalog", "import", cat, "--db", db); err != nil || out != "1 added, 0 updated, 0 unchanged\n" {
		t.Fatalf("import = %q, %v", out, err)
	}
	first, err := berth(t, "catalog", "export", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	exported := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(exported, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := berth(t, "--db", db, "catalog", "import", exported); err != nil || out != "0 added, 0 updated, 1 unchanged\n" {
		t.Fatalf("re-import of the export = %q, %v", out, err)
	}
	if again, _ := berth(t, "catalog", "export", "--db", db); again != first {
		t.Error("export changed after importing the export")
	}
	if _, err := berth(t, "catalog", "import", "--db", db, filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("import of a missing file succeeded")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"catalog"}, {"catalog", "eat"}, {"backup"}, {"serve", "--nope"}} {
		_, err := berth(t, args...)
		var ue usageError
		if err == nil || !asUsage(err, &ue) {
			t.Errorf("berth %v = %v, want a usage error", args, err)
		}
	}
}

// TestStaleScanFlag: --stale-scan takes a span or off, and names itself
// when it cannot read the value.
func TestStaleScanFlag(t *testing.T) {
	for _, v := range []string{"soon", "-3d", "0d"} {
		_, err := berth(t, "serve", "--db", filepath.Join(t.TempDir(), "b.db"), "--addr", "127.0.0.1:0", "--stale-scan", v)
		var ue usageError
		if err == nil || !asUsage(err, &ue) || !strings.Contains(ue.Error(), "--stale-scan") {
			t.Errorf("--stale-scan %s = %v, want a usage error naming the flag", v, err)
		}
	}
	if d, err := parseSpan("--stale-scan", "45d"); err != nil || d != 45*24*time.Hour {
		t.Errorf("45d = %v, %v", d, err)
	}
}

func asUsage(err error, target *usageError) bool {
	u, ok := err.(usageError)
	if ok {
		*target = u
	}
	return ok
}

// TestServe starts the real server on a loopback port, with the database
// and address taken from the environment, reads the catalog through the API,
// makes a backup while it runs, and shuts it down with the context.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"BERTH_DB": filepath.Join(dir, "berth.db"), "BERTH_ADDR": addr, "BERTH_METRICS": "true"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, nil, func(k string) string { return env[k] }, nil, &out, &bytes.Buffer{})
	}()

	var resp *http.Response
	// A minute: under -race on a busy two-core machine, start-up (migrations
	// and the default catalog) took more than 10 s.
	for deadline := time.Now().Add(time.Minute); ; {
		resp, err = http.Get("http://" + addr + "/api/v1/images/public?limit=1")
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
	if err != nil || body.Data.Pagination.Total < 60 {
		t.Errorf("default catalog total = %d, %v", body.Data.Pagination.Total, err)
	}

	// The listing index builds in the background from the start.
	for deadline := time.Now().Add(10 * time.Second); ; {
		m, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(m.Body)
		m.Body.Close()
		if strings.Contains(string(b), "\nberth_listing_index_ready 1\n") {
			if !strings.Contains(string(b), "\nberth_listing_index_build_failures_total 0\n") {
				t.Error("metrics lack the count of failed listing index builds")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the listing index was not ready within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	backup := filepath.Join(dir, "copy.db")
	if out, err := berth(t, "backup", "--db", env["BERTH_DB"], backup); err != nil {
		t.Fatalf("backup while serving: %q %v", out, err)
	}
	if out, err := berth(t, "catalog", "export", "--db", backup); err != nil || strings.Count(out, `"alias"`) != body.Data.Pagination.Total {
		t.Errorf("backup holds %d images, want %d (%v)", strings.Count(out, `"alias"`), body.Data.Pagination.Total, err)
	}
	if _, err := berth(t, "backup", "--db", env["BERTH_DB"], backup); err == nil {
		t.Error("backup overwrote an existing file")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(out.String(), "http://"+addr) {
		t.Errorf("serve printed %q", out.String())
	}
}
