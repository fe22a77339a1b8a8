package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
)

// blobBenchSize is the blob make bench serves: 1 GB.
const blobBenchSize = 1 << 30

// TestBenchBlob is make bench's registry row: one client downloads a 1 GB
// blob from a real berth process on 127.0.0.1, and the same file from a
// bare http.ServeFile in a process of its own; berth must reach 80% of the
// bare throughput with its RSS growing by less than 50 MB. It writes its
// row into docs/benchmarks.md (after TestBenchTable, which writes the
// rest of the page).
func TestBenchBlob(t *testing.T) {
	if os.Getenv("BERTH_BENCH") != "1" {
		t.Skip("set BERTH_BENCH=1 (make bench) to run the load benchmarks")
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
	// The database and its 1 GB blob are kept in the bench directory and
	// reused by later runs: making them takes minutes on a busy machine.
	db := filepath.Join(dir, "blob.db")
	digest := ""
	if b, err := os.ReadFile(db + ".digest"); err == nil {
		digest = strings.TrimSpace(string(b))
		if st, err := blobs.Open(blobs.DefaultDir(db)); err != nil || !st.Has(digest, blobBenchSize) {
			digest = ""
		}
	}
	if digest == "" {
		os.Remove(db)
		os.RemoveAll(blobs.DefaultDir(db))
		digest = recordBigBlob(t, db)
		os.WriteFile(db+".digest", []byte(digest+"\n"), 0o644)
	}
	bs, _ := blobs.Open(blobs.DefaultDir(db))
	file, _ := bs.Path(digest)

	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--anonymous-pull")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitReady(t, "http://"+addr)
	bareAddr := freeAddr(t)
	bare := exec.Command(os.Args[0], "-test.run=^TestBareServeFile$")
	bare.Env = append(os.Environ(), "BERTH_BARE_ADDR="+bareAddr, "BERTH_BARE_FILE="+file)
	if err := bare.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bare.Process.Kill(); bare.Wait() }()
	waitReady(t, "http://"+bareAddr)
	readFile(t, file) // in the page cache for both, as for a server that has been running

	berthURL := "http://" + addr + "/v2/ubuntu/24.04-minimal/blobs/" + digest
	bareURL := "http://" + bareAddr + "/blob"
	// Reset the peak RSS the kernel keeps, so the peak read after the
	// downloads is theirs and not start-up's.
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", cmd.Process.Pid), []byte("5"), 0o200)
	before := rss(cmd.Process.Pid)
	var berthRates, bareRates []float64
	for range 3 {
		berthRates = append(berthRates, download(t, berthURL))
		bareRates = append(bareRates, download(t, bareURL))
	}
	slices.Sort(berthRates)
	slices.Sort(bareRates)
	berthRate, bareRate := berthRates[1], bareRates[1]
	growth := peakRSSBytes(cmd.Process.Pid) - before
	ratio := berthRate / bareRate
	row := fmt.Sprintf("registry: a 1 GB blob to one client: berth %.0f MB/s, bare http.ServeFile %.0f MB/s (ratio %.2f, medians of 3); berth's RSS grew by %.1f MB",
		berthRate/1e6, bareRate/1e6, ratio, float64(growth)/(1<<20))
	fmt.Println(row)
	if ratio < 0.8 {
		t.Errorf("berth served the blob at %.0f%% of http.ServeFile's throughput, want at least 80%%", 100*ratio)
	}
	if growth >= 50<<20 {
		t.Errorf("berth's RSS grew by %d MB serving the blob, want under 50", growth>>20)
	}
	page := filepath.Join("..", "..", "docs", "benchmarks.md")
	doc, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^- registry: a 1 GB blob.*\n?`).ReplaceAllString(string(doc), "")
	text = strings.TrimRight(text, "\n") + "\n- " + row + "\n"
	if err := os.WriteFile(page, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordBigBlob makes a database with the default catalog and a 1 GB
// layer recorded as the amd64 build of ubuntu/24.04-minimal (free), and
// returns the layer's digest.
func recordBigBlob(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	bs, err := blobs.Open(blobs.DefaultDir(db))
	if err != nil {
		t.Fatal(err)
	}
	// Seeded random bytes: generated once to learn their digest, then again
	// into the store (which checks it as it writes).
	stream := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{1}), blobBenchSize) }
	h := sha256.New()
	if _, err := io.Copy(h, stream()); err != nil {
		t.Fatal(err)
	}
	layer := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if _, err := bs.Put(layer, blobBenchSize, bufio.NewReaderSize(stream(), 1<<20)); err != nil {
		t.Fatal(err)
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd, err := bs.PutBytes(config)
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(config)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": blobBenchSize}},
	})
	md, err := bs.PutBytes(manifest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := st.FindImageByAlias(ctx, "ubuntu/24.04-minimal", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	m := store.Blob{Digest: md, Size: int64(len(manifest)), MediaType: "application/vnd.oci.image.manifest.v1+json", Role: store.RoleManifest}
	if err := st.RecordBuild(ctx, store.Build{ImageID: img.ID, Kind: store.ContentOCI, Manifest: m, Blobs: []store.Blob{m,
		{Digest: cd, Size: int64(len(config)), MediaType: "application/vnd.oci.image.config.v1+json", Role: store.RoleConfig},
		{Digest: layer, Size: blobBenchSize, MediaType: "application/vnd.oci.image.layer.v1.tar", Role: store.RoleLayer}}}); err != nil {
		t.Fatal(err)
	}
	return layer
}

// download reads url to its end once and returns bytes per second.
func download(t *testing.T, url string) float64 {
	t.Helper()
	start := time.Now()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || n != blobBenchSize {
		t.Fatalf("%s: %d, %d bytes, %v", url, res.StatusCode, n, err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// TestBareServeFile is the baseline of TestBenchBlob: in a process of its
// own, http.ServeFile serves one file until killed (ten minutes at most).
func TestBareServeFile(t *testing.T) {
	addr, file := os.Getenv("BERTH_BARE_ADDR"), os.Getenv("BERTH_BARE_FILE")
	if addr == "" || file == "" {
		t.Skip("run by TestBenchBlob")
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		http.ServeFile(w, r, file)
	})}
	time.AfterFunc(10*time.Minute, func() { srv.Close() })
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		t.Fatal(err)
	}
}

// rss is a process's resident set now, and peakRSSBytes its peak, in bytes.
func rss(pid int) int64 { return statusKB(pid, "VmRSS") << 10 }

func peakRSSBytes(pid int) int64 { return statusKB(pid, "VmHWM") << 10 }

func statusKB(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb
}
