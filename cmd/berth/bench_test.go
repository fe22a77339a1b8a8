package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
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
)

// TestBenchTable is `make bench`: it builds berth, fills catalogs of 10k,
// 100k and 1M synthetic images, serves each from a real process on
// 127.0.0.1 and loads it with 32 connections, then prints a table and
// writes docs/benchmarks.md. It runs only when BERTH_BENCH=1; every load
// phase is bounded in time.
func TestBenchTable(t *testing.T) {
	if os.Getenv("BERTH_BENCH") != "1" {
		t.Skip("set BERTH_BENCH=1 (make bench) to run the load benchmarks")
	}
	sizes := []int{10_000, 100_000, 1_000_000}
	if s := os.Getenv("BERTH_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	phase := 3 * time.Second
	rounds := 3
	if r, err := strconv.Atoi(os.Getenv("BERTH_BENCH_ROUNDS")); err == nil && r > 0 {
		rounds = r
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
	w("| catalog | target | hot req/s | hot p50 | hot p99 | distinct req/s | distinct p50 | distinct p99 |\n")
	w("|---|---|---|---|---|---|---|---|\n")
	var extras []string
	medians := map[int]float64{}

	for _, n := range sizes {
		db := filepath.Join(dir, fmt.Sprintf("catalog-%d.db", n))
		genTook := ensureCatalog(t, bin, db, n)
		if genTook > 0 {
			extras = append(extras, fmt.Sprintf("`berth catalog generate --count %d`: %s", n, genTook.Round(100*time.Millisecond)))
		}
		// The file is read once first, so the OS keeps it in its page cache
		// as it would for a server that has been running; the machines here
		// reclaim memory left unused, and a cold file would measure the
		// disk.
		readFile(t, db)
		addr := freeAddr(t)
		start := time.Now()
		// No per-account limits: the load would measure them, not Berth.
		cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--api-rate", "-1", "--purchase-rate", "-1", "--metrics")
		// Output goes to /dev/null directly (nil), not through a pipe that
		// this process, which is also the load generator, would copy.
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := "http://" + addr
		waitReady(t, base)
		startup := time.Since(start)
		indexTook := waitListingIndex(t, base)
		extras = append(extras, fmt.Sprintf("%s: listing index ready %s after start-up (listings use SQL until then)",
			short(n), indexTook.Round(100*time.Millisecond)))

		hotPage := base + "/?os=ubuntu&architecture=amd64"
		hotAPI := base + "/api/v1/images/public?os=ubuntu&architecture=amd64"

		// The ceiling: a bare net/http handler serving the same page bytes,
		// in a process of its own as berth is (this test binary, run again
		// as TestBareCeiling), so both share the machine with the load
		// generator in the same way.
		body := fetch(t, hotPage)
		bodyFile := filepath.Join(dir, "bare-body.html")
		if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
			t.Fatal(err)
		}
		ceilAddr := freeAddr(t)
		bare := exec.Command(os.Args[0], "-test.run=^TestBareCeiling$")
		bare.Env = append(os.Environ(), "BERTH_BARE_ADDR="+ceilAddr, "BERTH_BARE_BODY="+bodyFile)
		if err := bare.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "http://"+ceilAddr)

		// Every phase runs once a round, and each figure is the median of
		// the rounds: this machine's speed drifts by a fifth from minute to
		// minute. Every phase follows a second of warm-up, so none measures
		// first connections and pools. A distinct phase's warm-up draws
		// other queries than the phase, and each round other queries than
		// the rounds before, so it reads the search words and no answer the
		// phase asks for is cached.
		var pageRes, pageDis, apiRes, apiDis, ceil, pageSame, apiSame []loadResult
		var ratios []float64
		ceilURL := func(cpu float64) func(int) string {
			u := "http://" + ceilAddr + "/"
			if cpu > 0 {
				u += "?cpu_us=" + strconv.Itoa(int(cpu*1e6))
			}
			return func(int) string { return u }
		}
		for r := range rounds {
			seed := r << 42
			distinct := func(path string, from int) func(int) string {
				return func(i int) string { return base + path + distinctQuery(n, seed+from+i) }
			}
			load(base, time.Second, func(int) string { return hotPage })
			pageRes = append(pageRes, load(base, phase, func(int) string { return hotPage }))
			load(base, time.Second, distinct("/?", 2<<40))
			pageDis = append(pageDis, loadCPU(cmd.Process.Pid, base, phase, distinct("/?", 0)))
			load(base, time.Second, func(int) string { return hotAPI })
			apiRes = append(apiRes, load(base, phase, func(int) string { return hotAPI }))
			load(base, time.Second, distinct("/api/v1/images/public?", 3<<40))
			apiDis = append(apiDis, loadCPU(cmd.Process.Pid, base, phase, distinct("/api/v1/images/public?", 1<<40)))
			load("http://"+ceilAddr, time.Second, ceilURL(0))
			ceil = append(ceil, loadCPU(bare.Process.Pid, "http://"+ceilAddr, phase, ceilURL(0)))
			ratios = append(ratios, pageRes[r].rps/ceil[r].rps)
			// The same bare handler, now spending as much CPU on each
			// request as berth did in this round's distinct phases (less
			// what serving the bytes costs it already).
			for _, f := range []struct {
				berth loadResult
				into  *[]loadResult
			}{{pageDis[r], &pageSame}, {apiDis[r], &apiSame}} {
				extra := ceilURL(max(0, f.berth.cpu-ceil[r].cpu))
				load("http://"+ceilAddr, time.Second, extra)
				*f.into = append(*f.into, loadCPU(bare.Process.Pid, "http://"+ceilAddr, phase, extra))
			}
		}
		bare.Process.Kill()
		bare.Wait()
		hotPageM, pageDisM, apiResM, apiDisM, ceilM := median(pageRes), median(pageDis), median(apiRes), median(apiDis), median(ceil)
		medians[n] = (pageDisM.p50 + apiDisM.p50) / 2

		w("| %s | catalog page | %.0f | %s | %s | %.0f | %s | %s |\n", short(n), hotPageM.rps, ms(hotPageM.p50), ms(hotPageM.p99), pageDisM.rps, ms(pageDisM.p50), ms(pageDisM.p99))
		w("| %s | list API | %.0f | %s | %s | %.0f | %s | %s |\n", short(n), apiResM.rps, ms(apiResM.p50), ms(apiResM.p99), apiDisM.rps, ms(apiDisM.p50), ms(apiDisM.p99))
		w("| %s | bare net/http, same bytes | %.0f | %s | %s | | | |\n", short(n), ceilM.rps, ms(ceilM.p50), ms(ceilM.p99))
		for _, f := range []struct {
			what        string
			berth, same loadResult
		}{{"page", pageDisM, median(pageSame)}, {"API", apiDisM, median(apiSame)}} {
			w("| %s | bare net/http, same CPU as the distinct %s: %s a request (it spent %s) | | | | %.0f | %s | %s |\n", short(n), f.what,
				ms(f.berth.cpu), ms(f.same.cpu), f.same.rps, ms(f.same.p50), ms(f.same.p99))
		}
		slices.Sort(ratios)
		extras = append(extras, fmt.Sprintf("%s: hot catalog page at %.0f%% of the bare-bytes ceiling (median of the rounds' ratios, which ran from %.0f%% to %.0f%%); start-up to first answer %s",
			short(n), 100*ratios[len(ratios)/2], 100*ratios[0], 100*ratios[len(ratios)-1], startup.Round(time.Millisecond)))

		if n == sizes[len(sizes)-1] {
			extras = append(extras, firstLoad(t, base, hotPage))
			extras = append(extras, purchases(t, bin, db, base, dir))
		}
		extras = append(extras, fmt.Sprintf("%s: peak RSS of the server %s", short(n), peakRSS(cmd.Process.Pid)))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	if len(sizes) > 1 {
		first, last := sizes[0], sizes[len(sizes)-1]
		extras = append(extras, fmt.Sprintf("growth: median latency of distinct queries at %s is %.2f× that at %s",
			short(last), medians[last]/medians[first], short(first)))
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
fills synthetic catalogs with `+"`berth catalog generate`"+`, serves each from a real process
on 127.0.0.1 and loads it with 32 concurrent keep-alive connections for %s per phase,
speaking HTTP/1.1 directly as wrk does, so that the load generator, which shares the
cores, takes as little of them as it can. Every phase runs once in each of %d rounds,
and each figure is the median of the rounds. "Hot" repeats
one query; "distinct" walks a stream of different searches, filters and pages, which
repeats almost no query. Latencies are medians (p50) and 99th percentiles (p99) of every
request in the phase. The ceiling is a bare net/http handler serving the hot page's bytes
from a process of its own, as berth runs in its own; both share the cores with the load
generator. The same-CPU rows ask that bare handler to first spend, taking turns as
berth's uncached work does, as much CPU a request as berth spent in the same round's
distinct phase (both read from the kernel's account of each process). On a small
machine shared with the load generator, a server's tail latency follows mostly from
its CPU cost a request; where berth's p99 is close to that row's, berth adds no tail
of its own. Each catalog file is read once before its server starts, so that it is in
the OS page cache as on a server that has been running. The distinct phases start once
the listing index is built.
Every phase follows a second of warm-up; a distinct phase's warm-up, and each round,
asks other queries than the phase before, so none of the phase's answers is cached.

Machine: %s, %d cores, %s, %s.

%s
`, phase, rounds, cpuModel(), runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2 January 2006"), table)
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "benchmarks.md"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ensureCatalog generates a catalog of n images unless the file has one.
func ensureCatalog(t *testing.T, bin, db string, n int) time.Duration {
	t.Helper()
	if st, err := openStore(context.Background(), db); err == nil {
		c, _ := st.CountImages(context.Background())
		st.Close()
		if c == n {
			return 0
		}
	}
	os.Remove(db)
	start := time.Now()
	if out, err := exec.Command(bin, "catalog", "generate", "--db", db, "--count", strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("generate %d: %v\n%s", n, err, out)
	}
	return time.Since(start)
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

// TestBareCeiling is the bare-bytes ceiling of make bench: run by
// TestBenchTable in a process of its own, it serves one file's bytes from a
// plain net/http handler until it is killed, or for ten minutes at most.
//
// Asked with ?cpu_us=N, it first spends N microseconds of CPU, taking turns
// as berth's uncached work does (as many at once as there are cores, the
// others waiting in order): what any handler that costs as much CPU a
// request gets from this machine under the same load.
func TestBareCeiling(t *testing.T) {
	addr, file := os.Getenv("BERTH_BARE_ADDR"), os.Getenv("BERTH_BARE_BODY")
	if addr == "" || file == "" {
		t.Skip("run by TestBenchTable")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	perMicro := spinRate()
	turns := make(chan struct{}, runtime.GOMAXPROCS(0))
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			us, _ := strconv.Atoi(r.URL.Query().Get("cpu_us"))
			turns <- struct{}{}
			spin(us * perMicro)
			<-turns
		}
		rw.Header().Set("Content-Type", "text/html; charset=UTF-8")
		rw.Write(body)
	})}
	time.AfterFunc(10*time.Minute, func() { srv.Close() })
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		t.Fatal(err)
	}
}

// spinSink keeps the compiler from dropping spin's loop.
var spinSink atomic.Uint64

// spin does n rounds of arithmetic that stays in registers: CPU time and
// nothing else.
func spin(n int) {
	x := uint64(n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink.Add(x)
}

// spinRate is how many rounds of spin take a microsecond of this process's
// CPU time, measured over some 100 ms of it.
func spinRate() int {
	before := processCPU()
	rounds := 0
	for processCPU()-before < 100*time.Millisecond {
		spin(100_000)
		rounds += 100_000
	}
	return max(1, int(float64(rounds)/float64((processCPU()-before).Microseconds())))
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

type loadResult struct {
	rps, p50, p99 float64 // p50 and p99 in seconds
	cpu           float64 // the server's CPU seconds a request, when measured (loadCPU)
}

// loadCPU is load, also measuring the CPU time the server process pid
// spent a request meanwhile, from the kernel's account of it.
func loadCPU(pid int, base string, d time.Duration, url func(i int) string) loadResult {
	before := cpuSeconds(pid)
	r := load(base, d, url)
	if requests := r.rps * d.Seconds(); requests > 0 {
		r.cpu = (cpuSeconds(pid) - before) / requests
	}
	return r
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

// median returns each figure's median over results.
func median(results []loadResult) loadResult {
	pick := func(get func(loadResult) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return loadResult{rps: pick(func(r loadResult) float64 { return r.rps }),
		p50: pick(func(r loadResult) float64 { return r.p50 }),
		p99: pick(func(r loadResult) float64 { return r.p99 }),
		cpu: pick(func(r loadResult) float64 { return r.cpu })}
}

// load runs 32 connections against url(i) for d and reports throughput and
// latency percentiles of the successful requests. Each connection is a
// rawConn: the load generator shares the cores with the server, so it is
// kept as lean as wrk, which the issue names, rather than Go's http.Client,
// which costs several times as much CPU per request as wrk does.
func load(base string, d time.Duration, url func(i int) string) loadResult {
	const conns = 32
	addr := strings.TrimPrefix(base, "http://")
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []float64
	var next int64
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &rawConn{addr: addr}
			defer c.close()
			var mine []float64
			for time.Now().Before(deadline) {
				mu.Lock()
				i := int(next)
				next++
				mu.Unlock()
				target := strings.TrimPrefix(url(i), base)
				start := time.Now()
				status, err := c.get(target)
				if err == nil && status == 200 {
					mine = append(mine, time.Since(start).Seconds())
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(lat) == 0 {
		return loadResult{}
	}
	slices.Sort(lat)
	return loadResult{rps: float64(len(lat)) / d.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
}

// rawConn is one keep-alive HTTP/1.1 connection that sends GET requests
// asking for gzip and reads each answer to its end, with no header maps
// and nothing kept: the work of a load generator such as wrk.
type rawConn struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	req  []byte
}

// get sends one request and reads its answer, reconnecting after an
// error or when the server closes the connection.
func (c *rawConn) get(target string) (status int, err error) {
	if c.conn == nil {
		if c.conn, err = net.DialTimeout("tcp", c.addr, 10*time.Second); err != nil {
			return 0, err
		}
		c.r = bufio.NewReaderSize(c.conn, 64<<10)
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	c.req = append(append(append(append(c.req[:0], "GET "...), target...), " HTTP/1.1\r\nHost: "...), c.addr...)
	c.req = append(c.req, "\r\nAccept-Encoding: gzip\r\n\r\n"...)
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, err
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, err
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil {
				return 0, err
			}
			if _, err := c.r.Discard(int(size) + 2); err != nil { // the chunk and its CRLF
				return 0, err
			}
			if size == 0 {
				break
			}
		}
	case length >= 0:
		if _, err := c.r.Discard(length); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("an answer with neither a length nor chunks")
	}
	if closing {
		c.close()
	}
	return status, nil
}

func (c *rawConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
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

// purchases measures purchases per second through the API with full
// durability, and bare SQLite transactions of the same shape for a ratio.
func purchases(t *testing.T, bin, db, base, dir string) string {
	const buyers = 32
	tokens := make([]string, buyers)
	for i := range tokens {
		email := fmt.Sprintf("bench%d-%d@example.com", i, time.Now().UnixNano())
		exec.Command(bin, "user", "create", "--db", db, "--email", email, "--password", "correct horse battery").Run()
		exec.Command(bin, "wallet", "credit", "--db", db, "--email", email, "--amount", "1000000").Run()
		out, _ := exec.Command(bin, "token", "create", "--db", db, "--email", email).Output()
		tokens[i] = strings.TrimSpace(string(out))
	}
	var resp struct {
		Data struct{ Images []struct{ ID string } }
	}
	json.Unmarshal(fetch(t, base+"/api/v1/images/public?min_price=1&limit=100&sort_by=name"), &resp)
	var ids []string
	for p := 1; p <= 40 && len(ids) < 4000; p++ {
		json.Unmarshal(fetch(t, base+"/api/v1/images/public?min_price=1&limit=100&sort_by=name&page="+strconv.Itoa(p)), &resp)
		for _, img := range resp.Data.Images {
			ids = append(ids, img.ID)
		}
	}
	d := 3 * time.Second
	deadline := time.Now().Add(d)
	var done int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: buyers}}
	for b := 0; b < buyers; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline) && i < len(ids); i++ {
				req, _ := http.NewRequest("POST", base+"/api/v1/images/purchase/"+ids[(i*buyers+b)%len(ids)], nil)
				req.Header.Set("Authorization", "Bearer "+tokens[b])
				r, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode == 200 {
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}(b)
	}
	wg.Wait()
	apiRate := float64(done) / d.Seconds()

	// Bare SQLite: the same writes (debit, ledger row, library row) in an
	// immediate transaction with synchronous=FULL, from 32 goroutines.
	bareDB := filepath.Join(dir, "bare.db")
	os.Remove(bareDB)
	sqldb, _ := sql.Open("sqlite", "file:"+bareDB+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	sqldb.SetMaxOpenConns(1)
	sqldb.Exec(`CREATE TABLE wallets (user_id INTEGER PRIMARY KEY, balance INTEGER CHECK (balance >= 0));
		CREATE TABLE ledger (id INTEGER PRIMARY KEY, user_id INTEGER, amount INTEGER, image_id TEXT, created_at TEXT);
		CREATE TABLE library (user_id INTEGER, image_id TEXT, price INTEGER, acquired_at TEXT, PRIMARY KEY (user_id, image_id));`)
	for b := 0; b < buyers; b++ {
		sqldb.Exec(`INSERT INTO wallets VALUES (?, 100000000)`, b)
	}
	var bare int64
	deadline = time.Now().Add(d)
	for b := 0; b < buyers; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				tx, err := sqldb.Begin()
				if err != nil {
					continue
				}
				tx.Exec(`UPDATE wallets SET balance = balance - 500 WHERE user_id = ? AND balance >= 500`, b)
				tx.Exec(`INSERT INTO ledger (user_id, amount, image_id, created_at) VALUES (?, -500, ?, ?)`, b, strconv.Itoa(i), time.Now().String())
				tx.Exec(`INSERT INTO library VALUES (?, ?, 500, ?)`, b, strconv.Itoa(i), time.Now().String())
				if tx.Commit() == nil {
					mu.Lock()
					bare++
					mu.Unlock()
				}
			}
		}(b)
	}
	wg.Wait()
	sqldb.Close()
	bareRate := float64(bare) / d.Seconds()
	return fmt.Sprintf("purchases through the API (synchronous=FULL): %.0f/s; bare SQLite transactions of the same shape: %.0f/s; ratio %.2f",
		apiRate, bareRate, apiRate/bareRate)
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

func ms(s float64) string { return strconv.FormatFloat(s*1000, 'f', 2, 64) + " ms" }

// The bench's load generator reads every kind of answer whole and keeps
// its connection alive between them.
func TestRawConn(t *testing.T) {
	var opened, reqs int
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs++
		mu.Unlock()
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		switch r.URL.Path {
		case "/chunked":
			for range 50 {
				w.Write(bytes.Repeat([]byte("x"), 1000))
				w.(http.Flusher).Flush()
			}
		case "/length":
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c := &rawConn{addr: strings.TrimPrefix(srv.URL, "http://")}
	defer c.close()
	for _, tc := range []struct {
		path   string
		status int
	}{{"/chunked", 200}, {"/length?a=1", 200}, {"/missing", 404}, {"/chunked", 200}, {"/close", 200}, {"/length", 200}} {
		status, err := c.get(tc.path)
		if err != nil || status != tc.status {
			t.Fatalf("%s: %d, %v; want %d", tc.path, status, err, tc.status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if reqs != 6 || opened != 2 {
		t.Errorf("%d requests over %d connections; want 6 over 2 (one closed by the server)", reqs, opened)
	}
}

// The same-CPU handler spends the CPU time it is asked to, and cpuSeconds
// reads a process's CPU time as the kernel counts it.
func TestSpinSpendsCPU(t *testing.T) {
	rate := spinRate()
	const want = 60 * time.Millisecond
	before, beforeProc := processCPU(), cpuSeconds(os.Getpid())
	spin(int(want.Microseconds()) * rate)
	spent, counted := processCPU()-before, cpuSeconds(os.Getpid())-beforeProc
	if spent < want/2 || spent > 2*want {
		t.Errorf("spin of %v spent %v of CPU", want, spent)
	}
	// /proc counts in ticks of 10 ms, and other goroutines may run too.
	if counted < (want / 2).Seconds() {
		t.Errorf("/proc counted %.3f s of CPU for a spin of %v", counted, want)
	}
}
