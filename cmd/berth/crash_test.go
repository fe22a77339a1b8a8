package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// TestCrashLosesNothing runs a mixed load (browsing, imports, purchases,
// ratings) against a real berth process, kills it with SIGKILL at random
// moments, restarts it, and checks that every acknowledged write survived
// and every invariant holds. All traffic stays on 127.0.0.1 and the test
// is bounded: a few rounds of about a second each.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "berth.db")
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--db", db)...).Output()
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

	const workers = 8
	tokens := make([]string, workers)
	for i := range tokens {
		email := fmt.Sprintf("load%d@example.com", i)
		cli("user", "create", "--email", email, "--password", "correct horse battery")
		cli("wallet", "credit", "--email", email, "--amount", "60")
		tokens[i] = cli("token", "create", "--email", email)
	}

	// What the server acknowledged, per worker.
	type acks struct {
		owned   map[string]bool // imported or bought
		bought  map[string]bool
		ratings map[string]int
		tried   map[string]bool // rated, acknowledged or not: never rate twice
	}
	acked := make([]*acks, workers)
	for i := range acked {
		acked[i] = &acks{owned: map[string]bool{}, bought: map[string]bool{}, ratings: map[string]int{}, tried: map[string]bool{}}
	}

	rounds := 4
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < rounds; round++ {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr)
		cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		waitReady(t, base)

		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int, seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(w)))
				a := acked[w]
				for ctx.Err() == nil {
					switch n := r.IntN(10); {
					case n < 2:
						call(ctx, "GET", base+"/api/v1/images/public?sort_by=rating&limit=5", "", "")
					case n < 5:
						id := free[r.IntN(len(free))]
						if call(ctx, "POST", base+"/api/v1/images/import/"+id, tokens[w], "") == 200 {
							a.owned[id] = true
						}
					case n < 7:
						id := paid[r.IntN(len(paid))]
						if call(ctx, "POST", base+"/api/v1/images/purchase/"+id, tokens[w], "") == 200 {
							a.owned[id], a.bought[id] = true, true
						}
					default:
						for id := range a.owned {
							if a.tried[id] {
								continue
							}
							a.tried[id] = true
							stars := r.IntN(6)
							if call(ctx, "POST", base+"/api/v1/images/rate/"+id, tokens[w], fmt.Sprintf(`{"rating":%d}`, stars)) == 200 {
								a.ratings[id] = stars
							}
							break
						}
					}
				}
			}(w, rng.Uint64())
		}
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		if round == 1 {
			// An online backup under load is consistent on its own.
			backup := filepath.Join(dir, "backup.db")
			if out, err := exec.Command(bin, "backup", "--db", db, backup).CombinedOutput(); err != nil {
				t.Fatalf("backup under load: %v\n%s", err, out)
			}
			if out, err := exec.Command(bin, "check", "--db", backup).CombinedOutput(); err != nil {
				t.Fatalf("check of the backup: %v\n%s", err, out)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		stop()
		wg.Wait()
	}

	// After the last crash, the database opens, passes every check and
	// holds everything that was acknowledged.
	if out, err := exec.Command(bin, "check", "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("berth check after %d crashes: %v\n%s", rounds, err, out)
	}
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var owned, bought, rated int
	for w, a := range acked {
		u, err := st.FindUserByEmail(context.Background(), fmt.Sprintf("load%d@example.com", w))
		if err != nil {
			t.Fatal(err)
		}
		lib, err := st.Library(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]string{}
		for _, it := range lib {
			have[it.Image.ID] = it.How
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
			got, ok, err := st.UserRating(context.Background(), u.ID, id)
			if err != nil || !ok || got != stars {
				t.Errorf("worker %d: acknowledged rating %d of %s is stored as %d (%v, %v)", w, stars, id, got, ok, err)
			}
			rated++
		}
	}
	t.Logf("%d crash rounds: %d acknowledged library entries (%d purchases) and %d ratings, none lost", rounds, owned, bought, rated)
	if owned == 0 || bought == 0 || rated == 0 {
		t.Errorf("the load acknowledged too little to prove anything: %d owned, %d bought, %d rated", owned, bought, rated)
	}
}

// call sends one request and returns the status, or 0 when there was no answer.
func call(ctx context.Context, method, url, token, body string) int {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s never became ready", base)
}
