package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// TestWalletCreditRefusesMalformedAmounts: a sign or any other non-digit
// inside the number is refused, not read as cents to subtract.
func TestWalletCreditRefusesMalformedAmounts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ops@example.com", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"1.-5", "1.+5", "-1.50", "+1", "1. 5", "1.5x", " 1 .5", "1.", ".5", "1,50", "1_000", "0x10", "1.5.0", "١٢"} {
		if out, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", bad); err == nil {
			t.Errorf("credit of %q accepted: %q", bad, out)
		}
	}
	for amount, want := range map[string]string{"$3": "$3 ", "0.05": "$0.05", "2.5": "$2.50"} {
		if out, err := berth(t, "wallet", "credit", "--db", db, "--email", "ops@example.com", "--amount", amount); err != nil || out[:len("credited "+want)] != "credited "+want {
			t.Errorf("credit of %q = %q, %v", amount, out, err)
		}
	}
}

// startServe runs berth serve on a free loopback port with args, and
// returns its address once it answers; it stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"BERTH_DB": filepath.Join(t.TempDir(), "berth.db"), "BERTH_ADDR": addr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Loading the default catalog takes seconds under -race on a busy machine.
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusOf(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsAreOffTheMainAddressByDefault: /metrics is served on the main
// address only with --metrics, and on its own address with --metrics-addr.
func TestMetricsAreOffTheMainAddressByDefault(t *testing.T) {
	if got := statusOf(t, "http://"+startServe(t)+"/metrics"); got != http.StatusNotFound {
		t.Errorf("/metrics by default = %d, want 404", got)
	}
	if got := statusOf(t, "http://"+startServe(t, "--metrics")+"/metrics"); got != http.StatusOK {
		t.Errorf("/metrics with --metrics = %d, want 200", got)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	maddr := ln.Addr().String()
	ln.Close()
	main := startServe(t, "--metrics-addr", maddr)
	if got := statusOf(t, "http://"+main+"/metrics"); got != http.StatusNotFound {
		t.Errorf("/metrics on the main address with --metrics-addr = %d, want 404", got)
	}
	if got := statusOf(t, "http://"+maddr+"/metrics"); got != http.StatusOK {
		t.Errorf("/metrics on --metrics-addr = %d, want 200", got)
	}
}

// TestUserPassword: the operator sets a password from the command line; the
// old one stops working and the account's sessions end.
func TestUserPassword(t *testing.T) {
	db := filepath.Join(t.TempDir(), "berth.db")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ada@example.com", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.FindUserByEmail(context.Background(), "ada@example.com")
	if err := st.SaveSession(context.Background(), "a-session-id", store.SessionRecord{UserID: u.ID, Data: "{}", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, bad := range []string{"short", "12345678", "Password1"} {
		if _, err := berth(t, "user", "password", "--db", db, "--email", "ada@example.com", "--password", bad); err == nil {
			t.Errorf("password %q accepted", bad)
		}
	}
	if _, err := berth(t, "user", "password", "--db", db, "--email", "nobody@example.com", "--password", "a much better one"); err == nil {
		t.Error("password of an unknown account set")
	}
	out, err := berth(t, "user", "password", "--db", db, "--email", "ADA@example.com", "--password", "a much better one")
	if err != nil || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("user password = %q, %v", out, err)
	}
	st, err = sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Authenticate(ctx, "ada@example.com", "correct horse battery"); err == nil {
		t.Error("the old password still works")
	}
	if _, err := st.Authenticate(ctx, "ada@example.com", "a much better one"); err != nil {
		t.Errorf("the new password does not: %v", err)
	}
	if n, _ := st.CountSessions(ctx, u.ID); n != 0 {
		t.Errorf("%d sessions survived", n)
	}
}
