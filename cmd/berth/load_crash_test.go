package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth/berth/store/oci/ocitest"
)

// TestImageLoadSurvivesKill kills `berth image load` (a real process) with
// SIGKILL at moments spread over a whole load, and after each kill checks
// that `berth check --deep` passes: a build is recorded only with all its
// blobs. Unreferenced leftovers are collected between rounds, so every
// load writes its blobs again. Then the server must serve exactly the
// builds that were recorded, each whole.
func TestImageLoadSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes some 100 MB")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := catalogDB(t)
	const alias = "ubuntu/24.04-minimal"
	src := filepath.Join(dir, "layout")
	ocitest.WriteLayout(t, src, map[string]v1.Image{
		"amd64": ocitest.Image(t, "amd64", 3, 12<<20),
		"arm64": ocitest.Image(t, "arm64", 3, 12<<20),
	})
	load := func(arch string) *exec.Cmd {
		cmd := exec.Command(bin, "image", "load", "--db", db, "--alias", alias, "--architecture", arch, src)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	check := func(when string) {
		t.Helper()
		if out, err := exec.Command(bin, "check", "--deep", "--db", db).CombinedOutput(); err != nil {
			t.Fatalf("check after %s: %v\n%s", when, err, out)
		}
	}

	// One whole load, timed, so the kills can be spread over one.
	start := time.Now()
	if err := load("arm64").Wait(); err != nil {
		t.Fatalf("load arm64: %v", err)
	}
	whole := time.Since(start)
	t.Logf("a whole load took %s", whole)
	check("a whole load")

	const rounds = 8
	killed := 0
	for i := range rounds {
		if out, err := exec.Command(bin, "image", "gc", "--grace", "0s", "--db", db).CombinedOutput(); err != nil {
			t.Fatalf("gc: %v\n%s", err, out)
		}
		// From just after start to just before the end of a whole load.
		delay := whole * time.Duration(i+1) / time.Duration(rounds+1)
		cmd := load("amd64")
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err != nil {
			killed++
		}
		check("a kill after " + delay.String())
		if findBuild(t, db, alias, "amd64") != nil {
			break // this load finished before its kill
		}
	}
	if killed == 0 {
		t.Fatal("no load was killed before it finished: the kills came too late to test anything")
	}
	t.Logf("%d loads killed part-way", killed)

	// Serve what is recorded: the index lists exactly the recorded builds,
	// and each pulls whole (go-containerregistry verifies every digest).
	addr := freeAddr(t)
	env := map[string]string{"BERTH_DB": db, "BERTH_ADDR": addr, "BERTH_ANONYMOUS_PULL": "true"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return env[k] }, nil, io.Discard, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		<-done
	}()
	// Under -race on a busy machine, an in-process serve takes more than
	// waitReady's 10 s to start.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer within a minute")
		}
	}
	ref, err := name.ParseReference(addr+"/"+alias+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, arch := range []string{"amd64", "arm64"} {
		if b := findBuild(t, db, alias, arch); b != nil {
			recorded[arch] = b.Manifest.Digest
		}
	}
	if len(im.Manifests) != len(recorded) {
		t.Errorf("the index lists %d builds, %d are recorded", len(im.Manifests), len(recorded))
	}
	for _, d := range im.Manifests {
		if recorded[d.Platform.Architecture] != d.Digest.String() {
			t.Errorf("the index lists %s for %s, the record says %q", d.Digest, d.Platform.Architecture, recorded[d.Platform.Architecture])
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil {
				t.Errorf("%s: %v", d.Platform.Architecture, err)
			}
			rc.Close()
		}
	}
	// A load after the kills completes, and is served.
	if err := load("amd64").Wait(); err != nil {
		t.Fatalf("load after the kills: %v", err)
	}
	check("the last load")
	if _, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err != nil {
		t.Errorf("amd64 after a whole load: %v", err)
	}
	if leftovers, _ := os.ReadDir(filepath.Join(db+".blobs", "tmp")); len(leftovers) > 0 {
		out, _ := exec.Command(bin, "image", "gc", "--grace", "0s", "--db", db).CombinedOutput()
		t.Logf("interrupted writes left %d temporary files; gc: %s", len(leftovers), out)
	}
}
