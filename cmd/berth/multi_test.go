package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres/pgtest"
)

// TestSeveralInstances runs three berth serve processes on one PostgreSQL
// database and spreads a mixed load over them: browsing, signing in on one
// instance and using the session on the others, imports, purchases and
// ratings. Midway one instance is killed with SIGKILL and restarted; a
// catalog import is made while the load runs and must show on every
// instance within a second. Afterwards nothing acknowledged is missing, no
// wallet is overdrawn or charged twice, and berth check passes.
func TestSeveralInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "BERTH_DB="+dsn, "BERTH_SESSION_KEY="+strings.Repeat("5e", 32))
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("berth %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}

	var cat store.CatalogFile
	if err := json.Unmarshal(store.DefaultCatalog, &cat); err != nil {
		t.Fatal(err)
	}
	var free, paid []string
	for _, img := range cat.Images {
		id := store.ImageID(img.Alias, img.Architecture)
		if img.Price == 0 {
			free = append(free, id)
		} else {
			paid = append(paid, id)
		}
	}
	const workers = 9
	tokens := make([]string, workers)
	for i := range tokens {
		email := fmt.Sprintf("load%d@example.com", i)
		cli("user", "create", "--email", email, "--password", "correct horse battery")
		cli("wallet", "credit", "--email", email, "--amount", "60")
		tokens[i] = cli("token", "create", "--email", email)
	}

	// Three instances, each on its own address.
	addrs := make([]string, 3)
	procs := make([]*exec.Cmd, 3)
	start := func(i int) {
		t.Helper()
		cmd := exec.Command(bin, "serve", "--addr", addrs[i])
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = io.Discard, &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = cmd
		waitReady(t, "http://"+addrs[i])
	}
	for i := range addrs {
		addrs[i] = freeAddr(t)
		start(i)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	})
	base := func(r *rand.Rand) string { return "http://" + addrs[r.IntN(len(addrs))] }

	type acks struct {
		owned, bought map[string]bool
		ratings       map[string]int
		tried         map[string]bool
		signedIn      int // pages answered as signed in by an instance other than the one signed in on
	}
	acked := make([]*acks, workers)
	for i := range acked {
		acked[i] = &acks{owned: map[string]bool{}, bought: map[string]bool{}, ratings: map[string]int{}, tried: map[string]bool{}}
	}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 17))
			a := acked[w]
			// Sign in on one instance through the form; the cookie jar
			// sends the session to every instance (cookies ignore ports).
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			home := r.IntN(len(addrs))
			signIn := func() error {
				resp, err := browser.Get("http://" + addrs[home] + "/login")
				if err != nil {
					return err
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := csrf.FindSubmatch(page)
				if m == nil {
					return fmt.Errorf("no CSRF token on the log-in form")
				}
				form := url.Values{"email": {fmt.Sprintf("load%d@example.com", w)}, "password": {"correct horse battery"}, "_csrf": {string(m[1])}}
				req, _ := http.NewRequest(http.MethodPost, "http://"+addrs[home]+"/login", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", "http://"+addrs[home])
				if resp, err = browser.Do(req); err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					return fmt.Errorf("log-in answered %d", resp.StatusCode)
				}
				return nil
			}
			// An instance killed mid-log-in gives no answer: sign in on
			// another, as a person would after a retry.
			for tries := 0; ; tries++ {
				err := signIn()
				if err == nil {
					break
				}
				if tries == 3 {
					t.Errorf("worker %d: log-in: %v", w, err)
					return
				}
				home = (home + 1) % len(addrs)
			}
			for ctx.Err() == nil {
				switch n := r.IntN(12); {
				case n < 2:
					call(ctx, "GET", base(r)+"/api/v1/images/public?sort_by=rating&limit=5", "", "")
				case n < 3:
					other := (home + 1 + r.IntN(len(addrs)-1)) % len(addrs)
					req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addrs[other]+"/wallet", nil)
					if resp, err := browser.Do(req); err == nil {
						resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
							a.signedIn++
						case http.StatusSeeOther:
							t.Errorf("worker %d: instance %d does not know the session made on %d", w, other, home)
						}
					}
				case n < 6:
					id := free[r.IntN(len(free))]
					if call(ctx, "POST", base(r)+"/api/v1/images/import/"+id, tokens[w], "") == 200 {
						a.owned[id] = true
					}
				case n < 9:
					id := paid[r.IntN(len(paid))]
					if call(ctx, "POST", base(r)+"/api/v1/images/purchase/"+id, tokens[w], "") == 200 {
						a.owned[id], a.bought[id] = true, true
					}
				default:
					for id := range a.owned {
						if a.tried[id] {
							continue
						}
						a.tried[id] = true
						stars := r.IntN(6)
						if call(ctx, "POST", base(r)+"/api/v1/images/rate/"+id, tokens[w], fmt.Sprintf(`{"rating":%d}`, stars)) == 200 {
							a.ratings[id] = stars
						}
						break
					}
				}
			}
		}()
	}

	time.Sleep(700 * time.Millisecond)
	// Kill one instance mid-load and bring it back on the same address.
	if err := procs[1].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[1].Wait()
	start(1)
	time.Sleep(300 * time.Millisecond)

	// A catalog import while the load runs shows on every instance
	// within a second.
	newImg := cat.Images[0]
	newImg.ID, newImg.Alias, newImg.ImageName = "", "ubuntu/99.04", "ubuntu-99.04-amd64"
	newImg.Release, newImg.Architecture = "99.04", "amd64"
	b, _ := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{newImg}})
	file := filepath.Join(dir, "new.json")
	os.WriteFile(file, b, 0o600)
	// Warm each instance's cache of the query first, so a stale cached
	// answer would show.
	query := "/api/v1/images/public?alias=ubuntu/99.04"
	for _, a := range addrs {
		call(context.Background(), "GET", "http://"+a+query, "", "")
	}
	cli("catalog", "import", file)
	imported := time.Now()
	var seen sync.WaitGroup
	for i, a := range addrs {
		seen.Add(1)
		go func() {
			defer seen.Done()
			for {
				var body struct {
					Data struct{ Pagination struct{ Total int } }
				}
				resp, err := http.Get("http://" + a + query)
				if err == nil {
					json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
				}
				if body.Data.Pagination.Total == 1 {
					t.Logf("instance %d shows the import after %v", i, time.Since(imported).Round(time.Millisecond))
					return
				}
				if time.Since(imported) > time.Second {
					t.Errorf("instance %d does not show the import after 1s", i)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	seen.Wait()
	time.Sleep(500 * time.Millisecond)
	stop()
	wg.Wait()

	if out := cli("check"); !strings.Contains(out, "all checks passed") {
		t.Errorf("check: %s", out)
	}
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prices := map[string]int64{}
	for _, img := range cat.Images {
		c, _ := store.USDToCents(img.Price)
		prices[store.ImageID(img.Alias, img.Architecture)] = c
	}
	var owned, bought, rated, sessions int
	for w, a := range acked {
		u, err := st.FindUserByEmail(context.Background(), fmt.Sprintf("load%d@example.com", w))
		if err != nil {
			t.Fatal(err)
		}
		lib, _ := st.Library(context.Background(), u.ID)
		have := map[string]string{}
		var spent int64
		for _, it := range lib {
			have[it.Image.ID] = it.How
			spent += it.PriceCents
		}
		for id := range a.owned {
			if have[id] == "" {
				t.Errorf("worker %d: acknowledged %s is missing from the library", w, id)
			}
			owned++
		}
		for id := range a.bought {
			if have[id] != store.AcquiredPurchase {
				t.Errorf("worker %d: acknowledged purchase of %s is missing", w, id)
			}
			bought++
		}
		for id, stars := range a.ratings {
			if got, ok, _ := st.UserRating(context.Background(), u.ID, id); !ok || got != stars {
				t.Errorf("worker %d: acknowledged rating %d of %s is stored as %d", w, stars, id, got)
			}
			rated++
		}
		// Charged once per image bought, never below zero.
		bal, _ := st.Balance(context.Background(), u.ID)
		ledger, _ := st.Ledger(context.Background(), u.ID)
		var debits int64
		for _, e := range ledger {
			if e.Kind == "purchase" {
				debits -= e.AmountCents
				if e.AmountCents != -prices[e.ImageID] {
					t.Errorf("worker %d: charged %d for %s, which costs %d", w, -e.AmountCents, e.ImageID, prices[e.ImageID])
				}
			}
		}
		if bal < 0 || bal != 6000-debits || debits != spent {
			t.Errorf("worker %d: balance %d, debits %d, library purchases %d", w, bal, debits, spent)
		}
		sessions += a.signedIn
	}
	t.Logf("3 instances, one killed and restarted: %d library entries (%d purchases), %d ratings, %d signed-in pages on other instances, none lost",
		owned, bought, rated, sessions)
	if owned == 0 || bought == 0 || rated == 0 || sessions == 0 {
		t.Errorf("the load acknowledged too little to prove anything: %d owned, %d bought, %d rated, %d sessions", owned, bought, rated, sessions)
	}
}
