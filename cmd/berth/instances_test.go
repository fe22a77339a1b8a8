package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
)

// serveOn starts berth serve on the database dsn names and returns its
// address and a function that stops it and returns what serve returned.
func serveOn(t *testing.T, dsn string) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"BERTH_DB": dsn, "BERTH_ADDR": addr, "BERTH_SESSION_KEY": strings.Repeat("cd", 32)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	}()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tcpProxy forwards connections to a server and can cut them all, to
// stand for a database that becomes unreachable.
type tcpProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// down stops accepting and cuts every connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up accepts again on the same address.
func (p *tcpProxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func status(t *testing.T, u string) int {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReadyzFollowsTheDatabase: /readyz answers 503 while the instance
// cannot reach PostgreSQL, so a load balancer sends it nothing, and 200
// again once it can; /healthz stays 200 throughout.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, _ := url.Parse(dsn)
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	addr, _ := serveOn(t, u.String())
	base := "http://" + addr
	if got := status(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz with the database up = %d", got)
	}
	proxy.down()
	if got := status(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database unreachable = %d", got)
	}
	if got := status(t, base+"/api/v1/images/public/0123456789abcdef01234567"); got != http.StatusServiceUnavailable {
		t.Errorf("an API read with the database unreachable = %d, want 503", got)
	}
	if got := status(t, base+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz = %d", got)
	}
	proxy.up(t)
	ok := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status(t, base+"/readyz") == http.StatusOK {
			ok = true
			break
		}
	}
	if !ok {
		t.Error("/readyz did not recover with the database")
	}
}

// TestShutdownDrainsInFlightRequests: a purchase in flight when serve is
// told to stop (SIGTERM in production) completes and is answered; the
// instance exits after it. Here the purchase waits on a row lock the test
// holds, so it is certainly in flight when shutdown begins.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, "ada@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	db.Credit(ctx, u.ID, 5000, "test")
	token, _, err := db.CreateToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	paid := store.ImageID("ubuntu/24.04-lamp", "amd64")
	addr, stop := serveOn(t, dsn)

	lu, _ := url.Parse(dsn)
	q := lu.Query()
	q.Del("pool_max_conns") // a pool setting, not a server one
	lu.RawQuery = q.Encode()
	lock, err := pgx.Connect(ctx, lu.String())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close(ctx)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	answer := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/images/purchase/"+paid, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("purchase: %v", err)
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	// Wait until the purchase waits on the lock.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		lock.QueryRow(ctx, `SELECT COUNT(*) FROM pg_locks WHERE NOT granted`).Scan(&waiting)
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the purchase never reached the lock")
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(300 * time.Millisecond) // shutdown is under way
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if code := <-answer; code != http.StatusOK {
		t.Errorf("the purchase in flight at shutdown answered %d", code)
	}
	if err := <-stopped; err != nil {
		t.Errorf("serve returned %v", err)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 4500 {
		t.Errorf("balance %d after the drained purchase", bal)
	}
	if problems, _ := db.Check(ctx); len(problems) > 0 {
		t.Error(problems)
	}
}
