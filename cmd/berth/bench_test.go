package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres/pgtest"
)

// kneeP99 is the latency bound of the knee: the highest rate whose p99
// stays within it.
const kneeP99 = 25 * time.Millisecond

// TestBenchTable is `make bench`: it builds berth, fills catalogs of 10k,
// 100k and 1M synthetic images (BERTH_BENCH_SIZES picks others, comma
// separated), serves each from a real process on 127.0.0.1 and loads it
// open-loop with vegeta: requests arrive at a fixed rate whether or not the
// earlier ones were answered, as people's requests do, each one different
// from the others. Each row runs at the rate and reports p50, p99,
// max and errors, then searches for the knee. It runs only when
// BERTH_BENCH=1, and writes docs/benchmarks.md when it ran the three
// default sizes (other runs go to BERTH_BENCH_DIR).
func TestBenchTable(t *testing.T) {
	if os.Getenv("BERTH_BENCH") != "1" {
		t.Skip("set BERTH_BENCH=1 (make bench) to run the load benchmarks")
	}
	sizes := []int{10_000, 100_000, 1_000_000}
	full := true
	if s := os.Getenv("BERTH_BENCH_SIZES"); s != "" {
		sizes, full = nil, false
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("BERTH_BENCH_SIZES: %q is not a number of images", f)
			}
			sizes = append(sizes, n)
		}
	}
	// BERTH_BENCH_PG: the sizes that also run on PostgreSQL (the server
	// pgtest uses), comma separated, or "none".
	pgSizes := []int{100_000}
	if s := os.Getenv("BERTH_BENCH_PG"); s == "none" {
		pgSizes = nil
	} else if s != "" {
		pgSizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				t.Fatalf("BERTH_BENCH_PG: %q is not a number of images", f)
			}
			pgSizes = append(pgSizes, n)
		}
	}
	// BERTH_BENCH_ROWS: a regular expression of the rows to run.
	rowsRE, err := regexp.Compile(os.Getenv("BERTH_BENCH_ROWS"))
	if err != nil {
		t.Fatalf("BERTH_BENCH_ROWS: %v", err)
	}
	phase := 3 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BERTH_BENCH_PHASE")); err == nil && d > 0 {
		phase = d
	}
	dir := os.Getenv("BERTH_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "berth-bench")
	}
	os.MkdirAll(dir, 0o755)
	bin := filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	binInfo, _ := os.Stat(bin)

	var report strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&report, format, args...) }
	w("| catalog | row | rate | p50 | p99 | max | errors | server CPU a request | target | knee (p99 ≤ %s) |\n", ms(kneeP99))
	w("|---|---|---|---|---|---|---|---|---|---|\n")
	var extras []string
	p99s := map[string]map[int]time.Duration{} // row → size → p99 at the row's rate
	prepared := map[int]preparedCatalog{}

	for _, n := range sizes {
		db := filepath.Join(dir, fmt.Sprintf("catalog-%d.db", n))
		genTook := ensureCatalog(t, bin, db, n)
		if genTook > 0 {
			extras = append(extras, fmt.Sprintf("`berth catalog generate --count %d`: %s", n, genTook.Round(100*time.Millisecond)))
		}
		sample := sampleCatalog(t, db, n)
		people := preparePeople(t, db, sample)
		// The file is read once first, so the OS keeps it in its page cache
		// as it would for a server that has been running; the machines here
		// reclaim memory left unused, and a cold file would measure the
		// disk.
		// The PostgreSQL copy is made before the SQLite rows run, so that
		// both servers start from the same catalog, accounts and library.
		var pgDSN string
		if slices.Contains(pgSizes, n) {
			var took time.Duration
			pgDSN, took = copyToPostgres(t, bin, db)
			extras = append(extras, fmt.Sprintf("%s: `berth migrate-to` into PostgreSQL (every row compared, berth check on both): %s", short(n), took.Round(100*time.Millisecond)))
		}
		// The file is read once first, so the OS keeps it in its page cache
		// as it would for a server that has been running; the machines here
		// reclaim memory left unused, and a cold file would measure the
		// disk.
		readFile(t, db)
		run := func(label, dbArg string, env []string, cpu func() float64) {
			srv := startServer(t, bin, dbArg, env, cpu)
			defer srv.stop()
			pid, serverCPU, base := srv.pid, srv.cpu, srv.base
			extras = append(extras, fmt.Sprintf("%s: start-up to first answer %s; listing index ready %s after that (listings use SQL until then); "+
				"its common search words read and the server quiet %s after that",
				label, srv.startup.Round(time.Millisecond), srv.indexTook.Round(100*time.Millisecond), srv.quietTook.Round(100*time.Millisecond)))
			people.signIn(t, base)
			cold := warmUp(srv, benchRows(n, base, sample, people))
			extras = append(extras, fmt.Sprintf("%s: cold start, catalog pages at %d/s from 1 s to %s after the load began on the fresh server (the warm-up's first attack, not a row): p50 %s, p99 %s, max %s",
				label, cold.rate, warmFor+time.Second, ms(cold.p50), ms(cold.p99), ms(cold.max)))

			for _, r := range benchRows(n, base, sample, people) {
				if !rowsRE.MatchString(r.name) {
					continue
				}
				res := measure(serverCPU, r, r.rate, phase)
				k := knee(serverCPU, r, res, phase)
				r.client.CloseIdleConnections()
				met := "met"
				if res.p99 > r.p99 || res.errors > 0 {
					met = "**not met**"
				}
				w("| %s | %s | %d/s | %s | %s | %s | %s | %s | p99 ≤ %s: %s | %s |\n", label, r.name, r.rate,
					ms(res.p50), ms(res.p99), ms(res.max), res.errorText(), ms(res.cpu), ms(r.p99), met, k)
				t.Logf("%s %s at %d/s: p50 %s p99 %s max %s, errors %s; knee %s", label, r.name, r.rate,
					ms(res.p50), ms(res.p99), ms(res.max), res.errorText(), k)
				if dbArg == db {
					if p99s[r.name] == nil {
						p99s[r.name] = map[int]time.Duration{}
					}
					p99s[r.name][n] = res.p99
				}
			}
			if n == sizes[len(sizes)-1] && dbArg == db {
				extras = append(extras, firstLoad(t, base, base+"/?os=ubuntu&architecture=amd64"))
			}
			extras = append(extras, fmt.Sprintf("%s: peak RSS of the server %s", label, peakRSS(pid)))
		}
		run(short(n), db, nil, func() float64 { return 0 })
		prepared[n] = preparedCatalog{db, sample, people}
		if pgDSN != "" {
			// Instances on PostgreSQL share a session key; the server CPU
			// of these rows includes PostgreSQL's own processes.
			run(short(n)+" PostgreSQL", pgDSN, []string{"BERTH_SESSION_KEY=" + strings.Repeat("5e", 32)}, postgresCPUSeconds)
		}
	}
	if len(sizes) > 1 {
		first, last := sizes[0], sizes[len(sizes)-1]
		var growth []string
		for _, r := range benchRows(0, "", catalogSample{}, &benchPeople{}) {
			a, b := p99s[r.name][first], p99s[r.name][last]
			if a > 0 {
				growth = append(growth, fmt.Sprintf("%s %.2f×", r.name, float64(b)/float64(a)))
			}
		}
		extras = append(extras, fmt.Sprintf("growth in the table, p99 at %s over p99 at %s at the same rate: %s",
			short(last), short(first), strings.Join(growth, "; ")))
		extras = append(extras, inTurns(t, bin, prepared[first], prepared[last], first, last, rowsRE, phase))
	}
	extras = append(extras, fmt.Sprintf("binary size: %.1f MB", float64(binInfo.Size())/1e6))

	table := report.String()
	for _, e := range extras {
		table += "\n- " + e
	}
	fmt.Println(table)
	page := fmt.Sprintf(`---
title: Benchmarks
description: How fast Berth answers at 10k, 100k and 1M images, measured by make bench.
order: 90
---

The figures below come from `+"`make bench`"+` (cmd/berth/bench_test.go). It builds berth,
fills synthetic catalogs with `+"`berth catalog generate`"+` (plus the default catalog's
images, for the families and the long docs), serves each from a real process
on 127.0.0.1 and loads it open-loop with [vegeta](https://github.com/tsenart/vegeta):
requests arrive at a fixed rate whether or not earlier ones have been answered, as
people's do, so a slow answer shows in the latency of those behind it instead of
slowing the load down. Every request of a row differs from the others (other
queries, images, aliases, accounts), so the answer caches help only as much as the
catalog's size lets repeats happen. Each row runs for %s at the rate the
performance issue sets, after a second of warm-up at that rate with other requests,
three times; the table gives the run whose p99 is the median of the three (the host of
these virtual machines takes 10–15%% of the CPU under load, in bursts, and one burst
otherwise decides a run's p99 alone). p50, p99 and max are of every request of that run, and
errors count, over all three runs, answers other than the row expects (a 404 is
expected for a misspelt alias) and failed requests.
"Server CPU a request" is the CPU time the berth process spent, from the kernel's
account, divided by the requests: on a shared machine it is the steadier figure.
The knee is the highest rate whose p99 stays within %s with no errors, found by
doubling the rate from the row's and then halving the interval three times (each
step with new requests); "≥" means the load generator, which shares the cores, could
not go higher. Each catalog file is read once before its server starts, so that it is
in the OS page cache as on a server that has been running. The rows start once the
listing index is built and the server has read its common search words ahead and gone
quiet, and after a warm-up: the catalog page, list API and signed-in rows served for %s
each at their rates with requests of their own, as on a server that has been serving
(a fresh one spends its first seconds of load growing its heap and filling its caches;
the first of these attacks is reported below as the cold start). The rows marked PostgreSQL serve a copy of the same catalog,
made with `+"`berth migrate-to`"+` into the local PostgreSQL server, from one instance; their
server CPU includes PostgreSQL's processes. The load generator shares the two cores
with the server (and with PostgreSQL), so every latency here includes its share.
Growth, the p99 at the largest catalog over the p99 at the smallest, is measured
once more at the end with both servers running side by side, each row attacking one
then the other three times: the sizes of the table run minutes apart, and the host's
share of the cores moves from minute to minute.

Rows: catalog pages and list API answers of distinct queries (searches, filters,
sorts, pages); image pages of distinct images, one in five from the default catalog
(families with their lineage, long docs); alias links, half of them misses
(misspellings, wrong formats, image names); docs pages and docs searches; the catalog
signed in, by %d people in turn (the header is personal); purchases of paid images
and ratings of owned ones, through the API by %d accounts.

Machine: %s, %d cores, %s, %s.

%s
`, phase, ms(kneeP99), warmFor, signedInPeople, apiPeople, cpuModel(), runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2 January 2006"), table)
	out := filepath.Join("..", "..", "docs", "benchmarks.md")
	if !full {
		out = filepath.Join(dir, "benchmarks.md")
	}
	if err := os.WriteFile(out, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("written to %s", out)
}

// benchRow is one row of the table: a kind of request, the rate the issue
// sets for it and the p99 it must stay within there.
type benchRow struct {
	name string
	rate int
	p99  time.Duration
	next *atomic.Int64 // the next request's number: every attack asks new ones
	// client's connections are kept from one attack of the row to the
	// next: a new pool each time closed thousands of connections a step,
	// whose TIME_WAIT ports ran out at the higher rates of the knee search
	// and failed the next row's requests.
	client *http.Client
	target func(i int, tgt *vegeta.Target)
	ok     func(code int) bool
}

func okCodes(codes ...int) func(int) bool {
	return func(c int) bool { return slices.Contains(codes, c) }
}

// benchRows are the rows of the issue, for a catalog of n images served at
// base.
func benchRows(n int, base string, s catalogSample, p *benchPeople) []benchRow {
	row := func(name string, rate int, p99 time.Duration, ok func(int) bool, target func(int, *vegeta.Target)) benchRow {
		return benchRow{name: name, rate: rate, p99: p99, next: new(atomic.Int64), client: benchClient(), target: target, ok: ok}
	}
	get := func(tgt *vegeta.Target, path string) {
		tgt.Method, tgt.URL = http.MethodGet, base+path
		tgt.Header = http.Header{"Accept-Encoding": {"gzip"}}
	}
	words := []string{"image", "wallet", "rating", "variant", "alias", "docker", "systemd", "arm64", "purchase", "voucher",
		"token", "signed", "sbom", "scan", "minimal", "cloud", "desktop", "family", "lineage", "balance", "search", "filter"}
	return []benchRow{
		row("catalog page", 1000, 15*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			get(tgt, "/?"+distinctQuery(n, i))
		}),
		row("list API", 1000, 15*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			get(tgt, "/api/v1/images/public?"+distinctQuery(n, 1<<40+i))
		}),
		row("image page", 500, 15*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			if i%5 == 0 && len(s.defaults) > 0 {
				get(tgt, "/images/"+s.defaults[(i/5)%len(s.defaults)].id)
				return
			}
			get(tgt, "/images/"+s.images[i%len(s.images)].id)
		}),
		row("alias resolution", 200, 15*time.Millisecond, okCodes(303, 404), func(i int, tgt *vegeta.Target) {
			img := s.images[(i/4)%len(s.images)]
			alias := img.alias
			switch i % 4 {
			case 2: // a typo: two letters swapped
				b := []byte(alias)
				b[1], b[2] = b[2], b[1]
				alias = string(b)
			case 3: // a wrong format: the image name, or os:release
				if i%8 == 3 {
					alias = img.name
				} else {
					alias = strings.Replace(alias, "/", ":", 1)
				}
			}
			get(tgt, "/images/by-alias/"+alias+"?architecture="+img.arch)
		}),
		row("docs page and search", 500, 15*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			if i%2 == 0 && len(p.docs) > 0 {
				get(tgt, "/docs/"+p.docs[(i/2)%len(p.docs)])
				return
			}
			q := words[(i/2)%len(words)] + "+" + words[(i/2/len(words))%len(words)]
			get(tgt, "/docs/search?q="+q)
		}),
		row("catalog signed in", 300, 15*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			get(tgt, "/?"+distinctQuery(n, 2<<40+i))
			if len(p.cookies) > 0 {
				tgt.Header.Set("Cookie", p.cookies[i%len(p.cookies)])
			}
		}),
		row("purchases and ratings", 200, 50*time.Millisecond, okCodes(200), func(i int, tgt *vegeta.Target) {
			a := i % len(p.tokens)
			tgt.Header = http.Header{"Authorization": {"Bearer " + p.tokens[a]}}
			tgt.Method = http.MethodPost
			if i%2 == 0 {
				// A new purchase each time: account a buys the next paid
				// image it has not bought.
				tgt.URL = base + "/api/v1/images/purchase/" + s.paid[(i/2/len(p.tokens))%len(s.paid)]
				return
			}
			owned := p.owned[a]
			tgt.URL = base + "/api/v1/images/rate/" + owned[(i/2)%len(owned)]
			tgt.Body = []byte(`{"rating": ` + strconv.Itoa(i%6) + `}`)
			tgt.Header.Set("Content-Type", "application/json")
		}),
	}
}

// attackResult is what one attack measured.
type attackResult struct {
	rate          int
	requests      int
	errors        int
	p50, p99, max time.Duration
	cpu           time.Duration  // the server's CPU time a request
	kinds         map[string]int // the errors by status or failure
}

// errorText is the errors of an attack, with what they were.
func (r attackResult) errorText() string {
	out := fmt.Sprintf("%d of %d", r.errors, r.requests)
	var kinds []string
	for k, n := range r.kinds {
		kinds = append(kinds, fmt.Sprintf("%d× %s", n, k))
	}
	slices.Sort(kinds)
	if len(kinds) > 0 {
		out += " (" + strings.Join(kinds, ", ") + ")"
	}
	return out
}

func (r attackResult) fine() bool { return r.errors == 0 && r.p99 <= kneeP99 }

// attack sends row's requests at rate a second for d, open-loop, after a
// second of warm-up at the same rate with other requests, and measures the
// answers; serverCPU reads the CPU seconds the server has used.
func attack(serverCPU func() float64, row benchRow, rate int, d time.Duration) attackResult {
	// An attacker stops for good at the end of its first attack: one each.
	client := row.client
	if client == nil {
		client = benchClient()
	}
	attacker := func() *vegeta.Attacker {
		return vegeta.NewAttacker(vegeta.Client(client), vegeta.Timeout(10*time.Second), vegeta.Redirects(vegeta.NoFollow))
	}
	targeter := func(tgt *vegeta.Target) error {
		*tgt = vegeta.Target{}
		row.target(int(row.next.Add(1)), tgt)
		return nil
	}
	pace := vegeta.Rate{Freq: rate, Per: time.Second}
	for range attacker().Attack(targeter, pace, time.Second, row.name+" warm-up") {
	}
	before := serverCPU()
	var res attackResult
	res.rate = rate
	var lat []time.Duration
	for r := range attacker().Attack(targeter, pace, d, row.name) {
		lat = append(lat, r.Latency)
		if r.Code == 0 || !row.ok(int(r.Code)) {
			res.errors++
			kind := strconv.Itoa(int(r.Code))
			if r.Code == 0 {
				kind = r.Error
				if i := strings.LastIndex(kind, "\": "); i >= 0 { // Get "URL": cause
					kind = kind[i+3:]
				}
				if strings.Contains(kind, "Client.Timeout") || strings.Contains(kind, "deadline exceeded") {
					kind = "timeout"
				} else if len(kind) > 40 {
					kind = kind[:40] + "…"
				}
			}
			if res.kinds == nil {
				res.kinds = map[string]int{}
			}
			res.kinds[kind]++
		}
	}
	res.requests = len(lat)
	if len(lat) > 0 {
		res.cpu = time.Duration((serverCPU() - before) / float64(len(lat)) * float64(time.Second))
		slices.Sort(lat)
		res.p50, res.p99, res.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return res
}

// preparedCatalog is a catalog file the table ran on, with what its rows
// ask for.
type preparedCatalog struct {
	db     string
	sample catalogSample
	people *benchPeople
}

// benchServer is a berth serve process on a catalog, its listing index
// built and its background work done.
type benchServer struct {
	base                          string
	pid                           int
	cpu                           func() float64 // CPU seconds used, cpu() of startServer's included
	startup, indexTook, quietTook time.Duration
	stop                          func()
}

// startServer starts berth serve on dbArg and waits until it answers, its
// listing index is built and it has gone quiet. cpu adds the CPU seconds
// of processes that work for it (PostgreSQL's).
func startServer(t *testing.T, bin, dbArg string, env []string, cpu func() float64) *benchServer {
	t.Helper()
	addr := freeAddr(t)
	start := time.Now()
	// No per-account limits: the load would measure them, not Berth.
	cmd := exec.Command(bin, "serve", "--db", dbArg, "--addr", addr, "--api-rate", "-1", "--purchase-rate", "-1", "--metrics")
	cmd.Stdout, cmd.Stderr, cmd.Env = nil, nil, append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	srv := &benchServer{base: "http://" + addr, pid: pid, cpu: func() float64 { return cpuSeconds(pid) + cpu() }, stop: func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}}
	waitReady(t, srv.base)
	srv.startup = time.Since(start)
	srv.indexTook = waitListingIndex(t, srv.base)
	srv.quietTook = waitQuiet(t, srv.cpu)
	return srv
}

// inTurns measures growth with the servers of the smallest and the largest
// catalog running side by side, each row attacking one then the other,
// rowRuns times each (each going first every other run), so that both see
// the same moments of the machine: the host's share of the cores moves
// from minute to minute, and the table's sizes run minutes apart. It
// returns the report's line: for each row, the median p99 at the largest
// over the median p99 at the smallest.
func inTurns(t *testing.T, bin string, small, large preparedCatalog, nSmall, nLarge int, rowsRE *regexp.Regexp, phase time.Duration) string {
	t.Helper()
	a := startServer(t, bin, small.db, nil, func() float64 { return 0 })
	defer a.stop()
	b := startServer(t, bin, large.db, nil, func() float64 { return 0 })
	defer b.stop()
	small.people.signIn(t, a.base)
	large.people.signIn(t, b.base)
	warmUp(a, benchRows(nSmall, a.base, small.sample, small.people))
	warmUp(b, benchRows(nLarge, b.base, large.sample, large.people))
	rowsA := benchRows(nSmall, a.base, small.sample, small.people)
	rowsB := benchRows(nLarge, b.base, large.sample, large.people)
	var growth []string
	for i, ra := range rowsA {
		if !rowsRE.MatchString(ra.name) {
			continue
		}
		rb := rowsB[i]
		// New requests, not the table's: its purchases are made.
		ra.next.Store(1 << 30)
		rb.next.Store(1 << 30)
		var runsA, runsB []attackResult
		for run := range rowRuns { // in turns, each going first every other run
			if run%2 == 1 {
				runsB = append(runsB, attack(b.cpu, rb, rb.rate, phase))
			}
			runsA = append(runsA, attack(a.cpu, ra, ra.rate, phase))
			if run%2 == 0 {
				runsB = append(runsB, attack(b.cpu, rb, rb.rate, phase))
			}
		}
		ra.client.CloseIdleConnections()
		rb.client.CloseIdleConnections()
		ma, mb := medianRun(runsA), medianRun(runsB)
		met := ""
		if mb.p99 > 2*ma.p99 || ma.errors+mb.errors > 0 {
			met = " **not met**"
		}
		growth = append(growth, fmt.Sprintf("%s %.2f× (%s, %s)%s", ra.name, float64(mb.p99)/float64(ma.p99), ms(ma.p99), ms(mb.p99), met))
		t.Logf("growth in turns: %s", growth[len(growth)-1])
	}
	return fmt.Sprintf("growth, measured in turns (the %s and %s servers side by side, each row attacking one then the other, %d times each; "+
		"median p99 at %s over median p99 at %s, at the row's rate; target ≤ 2×): %s",
		short(nSmall), short(nLarge), rowRuns, short(nLarge), short(nSmall), strings.Join(growth, "; "))
}

// warmFor is how long warmUp serves each row.
const warmFor = 3 * time.Second

// warmUp serves the listing rows (catalog page, list API, catalog signed
// in), each at its rate for warmFor, before any row is measured, as a
// server that has been running would have been. A fresh one spends its
// first seconds of load growing its heap (on memory the kernel has to fault
// in) and filling its caches: at a million images the first catalog pages
// after start-up had a p99 over 100 ms, and the rows after them, a few
// seconds later, up to three times the p99 they have once warm. Those rows
// ask distinct queries by construction, and the warm-up's are numbered
// apart from the measured ones (1<<34 on), so every measured request is
// still a new one; the rows that pick from the catalog's sample (image
// pages, aliases, docs) are not served, so nothing they ask is cached
// ahead. It returns the first attack, catalog pages straight after
// start-up, which the report gives as the cold start.
func warmUp(srv *benchServer, rows []benchRow) attackResult {
	var first attackResult
	for _, r := range rows {
		if !warmedRows[r.name] {
			continue
		}
		r.next.Store(1 << 34)
		res := attack(srv.cpu, r, r.rate, warmFor)
		r.client.CloseIdleConnections()
		if r.name == "catalog page" {
			first = res
		}
	}
	return first
}

// warmedRows are the rows warmUp serves.
var warmedRows = map[string]bool{"catalog page": true, "list API": true, "catalog signed in": true}

// rowRuns is how many times a row runs at its rate. On the two shared cores
// of these virtual machines the host takes 10-15% of the CPU under load
// (vmstat's steal), in bursts; one burst holds up the requests of a few
// tens of milliseconds together and alone decides a run's p99. The median
// of three runs is the row's own figure.
const rowRuns = 3

// measure attacks row at rate rowRuns times for d each and returns the run
// with the median p99, with the errors of every run.
func measure(serverCPU func() float64, row benchRow, rate int, d time.Duration) attackResult {
	runs := make([]attackResult, rowRuns)
	for i := range runs {
		runs[i] = attack(serverCPU, row, rate, d)
	}
	return medianRun(runs)
}

// medianRun returns the run whose p99 is the median of runs', carrying the
// errors of all of them (so a row is met only if no run had any).
func medianRun(runs []attackResult) attackResult {
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b attackResult) int { return cmp.Compare(a.p99, b.p99) })
	med := sorted[len(sorted)/2]
	med.errors, med.kinds = 0, nil
	for _, r := range runs {
		med.errors += r.errors
		for k, n := range r.kinds {
			if med.kinds == nil {
				med.kinds = map[string]int{}
			}
			med.kinds[k] += n
		}
	}
	return med
}

// benchClient is an HTTP client for one row's attacks: keep-alive, and
// every idle connection kept for the next request. Connections are bounded
// by maxConns: far more than any rate within the knee's p99 needs (at
// 12,800/s and 25 ms, 320 are busy), but an overloaded step's answers of
// seconds opened over ten thousand, which the server then held. Requests
// that wait for a connection count that wait in their latency.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxConnsPerHost:     maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true, // the targets ask for gzip themselves and the body is not read
	}}
}

const maxConns = 1000

// maxRate bounds the knee search: beyond it the load generator, on the same
// cores, measures itself.
const maxRate = 12_800

// knee finds the highest rate whose p99 stays within kneeP99 with no
// errors: from the row's own measurement at its rate, it doubles the rate
// until one fails (or halves it until one passes), then halves the
// interval between the last that passed and the first that failed three
// times.
func knee(serverCPU func() float64, row benchRow, atRate attackResult, d time.Duration) string {
	good, bad := 0, 0
	var goodRes attackResult
	if atRate.fine() {
		good, goodRes = row.rate, atRate
		for r := 2 * row.rate; ; r *= 2 {
			if r > maxRate {
				return fmt.Sprintf("≥ %d/s (p99 %s)", good, ms(goodRes.p99))
			}
			if res := attack(serverCPU, row, r, d); res.fine() {
				good, goodRes = r, res
			} else {
				bad = r
				break
			}
		}
	} else {
		bad = row.rate
		for r := row.rate / 2; ; r /= 2 {
			if r < 10 {
				return "below 10/s"
			}
			if res := attack(serverCPU, row, r, d); res.fine() {
				good, goodRes = r, res
				break
			}
			bad = r
		}
	}
	for range 3 {
		mid := (good + bad) / 2
		if mid == good {
			break
		}
		if res := attack(serverCPU, row, mid, d); res.fine() {
			good, goodRes = mid, res
		} else {
			bad = mid
		}
	}
	return fmt.Sprintf("%d/s (p99 %s)", good, ms(goodRes.p99))
}

// catalogSample is what the rows ask for, read from the catalog file
// before the server starts: generated images spread over the catalog, the
// default catalog's (families and long docs), and paid images to buy.
type catalogSample struct {
	images   []sampleImage
	defaults []sampleImage
	paid     []string
	free     []string
}

type sampleImage struct{ id, alias, arch, name string }

// sampleCatalog reads up to 60,000 images spread evenly over the catalog
// of n images in db, in a shuffled order, and all of the default catalog's.
func sampleCatalog(t *testing.T, db string, n int) catalogSample {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var s catalogSample
	read := func(q string, args ...any) []sampleImage {
		rows, err := conn.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []sampleImage
		for rows.Next() {
			var img sampleImage
			var price int64
			if err := rows.Scan(&img.id, &img.alias, &img.arch, &img.name, &price); err != nil {
				t.Fatal(err)
			}
			out = append(out, img)
			if price > 0 {
				s.paid = append(s.paid, img.id)
			} else {
				s.free = append(s.free, img.id)
			}
		}
		return out
	}
	cols := `SELECT id, alias, architecture, image_name, price_cents FROM images`
	s.images = read(cols+` WHERE seq % ? = 0 AND release LIKE '%.b%'`, max(1, n/60_000))
	s.defaults = read(cols + ` WHERE release NOT LIKE '%.b%'`)
	if len(s.images) == 0 || len(s.paid) == 0 || len(s.free) == 0 {
		t.Fatalf("the catalog sample is empty: %d images, %d paid, %d free", len(s.images), len(s.paid), len(s.free))
	}
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	rng.Shuffle(len(s.images), func(i, j int) { s.images[i], s.images[j] = s.images[j], s.images[i] })
	rng.Shuffle(len(s.paid), func(i, j int) { s.paid[i], s.paid[j] = s.paid[j], s.paid[i] })
	return s
}

const (
	apiPeople      = 64 // accounts that buy and rate through the API
	signedInPeople = 24 // of them, those who browse signed in (log-ins per address are limited)
)

// benchPeople are the accounts of the rows that need someone: their API
// tokens, the images each owns to rate, and, once signed in, their
// session cookies.
type benchPeople struct {
	emails  []string
	tokens  []string
	owned   [][]string
	cookies []string
	docs    []string // the docs pages' slugs
}

const benchPassword = "correct horse battery staple"

// preparePeople creates the accounts in db before the server starts, each
// with money, a token and a few free images to rate.
func preparePeople(t *testing.T, db string, s catalogSample) *benchPeople {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := &benchPeople{}
	run := time.Now().UnixNano()
	for a := range apiPeople {
		email := fmt.Sprintf("bench%d-%d@example.com", a, run)
		u, err := st.CreateUser(ctx, email, benchPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Credit(ctx, u.ID, 100_000_000, "bench"); err != nil {
			t.Fatal(err)
		}
		token, _, err := st.CreateToken(ctx, u.ID, "bench")
		if err != nil {
			t.Fatal(err)
		}
		var owned []string
		for k := range 8 {
			id := s.free[(a*8+k)%len(s.free)]
			if err := st.Import(ctx, u.ID, id); err != nil {
				t.Fatal(err)
			}
			owned = append(owned, id)
		}
		p.emails, p.tokens, p.owned = append(p.emails, email), append(p.tokens, token), append(p.owned, owned)
	}
	return p
}

// signIn logs the first signedInPeople accounts in through the log-in form
// and keeps their cookies; it also lists the docs pages.
func (p *benchPeople) signIn(t *testing.T, base string) {
	t.Helper()
	p.cookies = nil
	for _, email := range p.emails[:signedInPeople] {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		form, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(form)
		if m == nil {
			t.Fatal("the log-in form has no CSRF token")
		}
		resp, err = c.PostForm(base+"/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {benchPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("log-in of %s answered %d", email, resp.StatusCode)
		}
		u, _ := url.Parse(base)
		var parts []string
		for _, ck := range jar.Cookies(u) {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
		p.cookies = append(p.cookies, strings.Join(parts, "; "))
	}
	p.docs = nil
	for _, m := range regexp.MustCompile(`href="/docs/([a-z0-9-]+)"`).FindAllSubmatch(fetch(t, base+"/docs"), -1) {
		if slug := string(m[1]); !slices.Contains(p.docs, slug) && slug != "search" {
			p.docs = append(p.docs, slug)
		}
	}
	if len(p.docs) == 0 {
		t.Fatal("the docs index links to no page")
	}
}

// ensureCatalog generates a catalog of n images, and adds the default
// catalog's (the families, the long docs), unless the file has them.
func ensureCatalog(t *testing.T, bin, db string, n int) time.Duration {
	t.Helper()
	ctx := context.Background()
	defaults, err := store.ParseCatalog(bytes.NewReader(store.DefaultCatalog))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := openStore(ctx, db); err == nil {
		c, _ := st.CountImages(ctx)
		st.Close()
		if c == n+len(defaults) {
			return 0
		}
	}
	os.Remove(db)
	start := time.Now()
	if out, err := exec.Command(bin, "catalog", "generate", "--db", db, "--count", strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("generate %d: %v\n%s", n, err, out)
	}
	took := time.Since(start)
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ImportCatalog(ctx, bytes.NewReader(store.DefaultCatalog)); err != nil {
		t.Fatal(err)
	}
	return took
}

// copyToPostgres copies the SQLite Berth in db into a fresh PostgreSQL
// schema with berth migrate-to (dropped when the test ends) and returns its
// DSN, with the store's own pool size, and how long the copy took.
func copyToPostgres(t *testing.T, bin, db string) (string, time.Duration) {
	t.Helper()
	u, err := url.Parse(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	dsn := u.String()
	start := time.Now()
	if out, err := exec.Command(bin, "migrate-to", dsn, "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("migrate-to: %v\n%s", err, out)
	}
	return dsn, time.Since(start)
}

// postgresCPUSeconds is the CPU time every PostgreSQL process on this
// machine has used (its backends serve the bench's server alone while the
// rows run), in seconds.
func postgresCPUSeconds() float64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/comm")
	total := 0.0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil || strings.TrimSpace(string(b)) != "postgres" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		total += cpuSeconds(pid)
	}
	return total
}

// readFile reads a file to its end.
func readFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		t.Fatal(err)
	}
}

// distinctQuery is the i-th of a stream of different catalog queries:
// search words from the catalog's vocabulary, filters, sorts and pages,
// drawn from over ten million combinations, so a run of a few thousand
// requests repeats almost none and the server's caches of answers rarely
// help.
func distinctQuery(n, i int) string {
	words := []string{"ubuntu", "debian", "alpine", "docker", "postgres", "nodejs", "python", "minimal", "cloud",
		"desktop", "kubernetes", "nginx", "redis", "lts", "musl", "systemd", "agents", "gpu", "web", "database"}
	oses := []string{"", "ubuntu", "debian", "alpine", "fedora", "centos", "rockylinux", "headjack"}
	arches := []string{"", "amd64", "arm64", "armhf"}
	variants := []string{"minimal", "cloud", "standard", "desktop"}
	sorts := []string{"", "name", "price", "rating", "size", "added_date", "popularity"}
	rng := rand.New(rand.NewPCG(uint64(n), uint64(i)))
	q := []string{}
	if rng.IntN(2) == 0 {
		search := words[rng.IntN(len(words))]
		if rng.IntN(4) == 0 {
			search += "+" + words[rng.IntN(len(words))]
		}
		q = append(q, "search="+search)
	}
	if o := oses[rng.IntN(len(oses))]; o != "" {
		q = append(q, "os="+o)
	}
	if a := arches[rng.IntN(len(arches))]; a != "" {
		q = append(q, "architecture="+a)
	}
	if rng.IntN(6) == 0 {
		q = append(q, "variant="+variants[rng.IntN(len(variants))])
	}
	if rng.IntN(4) == 0 {
		q = append(q, "max_price="+strconv.Itoa(rng.IntN(3)*10))
	}
	if rng.IntN(5) == 0 {
		q = append(q, "min_rating="+strconv.Itoa(1+rng.IntN(4)))
	}
	if s := sorts[rng.IntN(len(sorts))]; s != "" {
		q = append(q, "sort_by="+s)
		if rng.IntN(3) == 0 {
			q = append(q, "sort_order="+[]string{"asc", "desc"}[rng.IntN(2)])
		}
	}
	q = append(q, "page="+strconv.Itoa(1+rng.IntN(10)))
	return strings.Join(q, "&")
}

// waitQuiet waits until the server, its listing index built, has finished
// reading its common search words in the background (see listing's warm),
// which takes a core for a second or two at a million images: it has gone
// quiet once it uses under a tenth of a core over a quarter of a second.
// The rows measure a server that has been running, not its start.
func waitQuiet(t *testing.T, serverCPU func() float64) time.Duration {
	t.Helper()
	const window = 250 * time.Millisecond
	start := time.Now()
	for deadline := start.Add(time.Minute); time.Now().Before(deadline); {
		before := serverCPU()
		time.Sleep(window)
		if serverCPU()-before < 0.1*window.Seconds() {
			return time.Since(start)
		}
	}
	t.Fatal("the server was still busy a minute after its listing index was ready")
	return 0
}

// waitListingIndex waits until the server lists from its in-memory index
// and returns how long that took.
func waitListingIndex(t *testing.T, base string) time.Duration {
	t.Helper()
	start := time.Now()
	for deadline := start.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if bytes.Contains(fetch(t, base+"/metrics"), []byte("\nberth_listing_index_ready 1\n")) {
			return time.Since(start)
		}
	}
	t.Fatal("the listing index was not ready within 2 minutes")
	return 0
}

// cpuSeconds is the user and system CPU time process pid has used, in
// seconds (Linux's /proc, in clock ticks of 1/100 s).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// firstLoad sums what a first visit to the catalog page downloads,
// compressed: the HTML, its stylesheet and scripts, and the icons of the
// first page of results.
func firstLoad(t *testing.T, base, page string) string {
	html := fetch(t, page)
	urls := []string{page}
	for _, m := range regexp.MustCompile(`(?:href|src)="(/(?:static|api/v1/images)/[^"]+)"`).FindAllSubmatch(html, -1) {
		u := base + strings.ReplaceAll(string(m[1]), "&amp;", "&")
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	total := 0
	for _, u := range urls {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			b = gzipped(b) // what it would weigh compressed by any proxy
		}
		total += len(b)
	}
	return fmt.Sprintf("catalog page first load (HTML, CSS, JS, %d files in all, icons included), compressed: %.1f KB", len(urls), float64(total)/1024)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return "unknown"
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return fmt.Sprintf("%.0f MB", float64(kb)/1024)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`model name\s*:\s*(.+)`).FindSubmatch(b); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return runtime.GOARCH
}

func short(n int) string {
	switch {
	case n >= 1_000_000:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 2, 64) + " ms" }

// The bench's attacks are open-loop: requests keep arriving at the rate
// however slowly they are answered, each one is new, and the figures count
// every one of them.
func TestBenchAttackIsOpenLoop(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.RawQuery]++
		mu.Unlock()
		time.Sleep(40 * time.Millisecond) // slower than the gap between arrivals
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	row := benchRow{name: "test", rate: 100, next: new(atomic.Int64), ok: okCodes(200),
		target: func(i int, tgt *vegeta.Target) {
			tgt.Method, tgt.URL = http.MethodGet, srv.URL+"/?i="+strconv.Itoa(i)
			if i%50 == 0 {
				tgt.URL += "&fail=1"
			}
		}}
	res := attack(func() float64 { return cpuSeconds(os.Getpid()) }, row, 100, time.Second)
	// A closed loop of a few connections would have sent a fraction.
	if res.requests < 80 || res.requests > 120 {
		t.Errorf("%d requests in a second at 100/s", res.requests)
	}
	if res.p50 < 40*time.Millisecond || res.p99 < res.p50 || res.max < res.p99 {
		t.Errorf("p50 %v, p99 %v, max %v", res.p50, res.p99, res.max)
	}
	if res.errors < 1 || res.errors > 4 {
		t.Errorf("%d errors, want the two or so 500s", res.errors)
	}
	mu.Lock()
	defer mu.Unlock()
	for q, n := range seen {
		if n > 1 {
			t.Errorf("%s asked %d times", q, n)
		}
	}
	if len(seen) < 180 { // the warm-up's and the attack's
		t.Errorf("%d distinct requests", len(seen))
	}
}

// TestMedianRun checks that a row's figure is its median run by p99, with
// the errors of every run, so a failing run cannot hide behind two good
// ones.
func TestMedianRun(t *testing.T) {
	runs := []attackResult{
		{p99: 9 * time.Millisecond, p50: 1 * time.Millisecond},
		{p99: 3 * time.Millisecond, p50: 2 * time.Millisecond, errors: 2, kinds: map[string]int{"500": 2}},
		{p99: 5 * time.Millisecond, p50: 3 * time.Millisecond, errors: 1, kinds: map[string]int{"timeout": 1}},
	}
	got := medianRun(runs)
	if got.p99 != 5*time.Millisecond || got.p50 != 3*time.Millisecond {
		t.Errorf("median run: p99 %v p50 %v, want the run of p99 5ms", got.p99, got.p50)
	}
	if got.errors != 3 || got.kinds["500"] != 2 || got.kinds["timeout"] != 1 {
		t.Errorf("errors %d %v, want every run's: 3", got.errors, got.kinds)
	}
	if runs[2].errors != 1 || len(runs[2].kinds) != 1 {
		t.Error("medianRun changed the runs it was given")
	}
}
