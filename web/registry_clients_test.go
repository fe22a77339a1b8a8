package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTool finds a client program the tests drive. CI installs them all
// (.ci/run), so there a missing one fails the test; elsewhere it skips.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: apt-get install %s (.ci/run does)", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// skopeoCopy copies alias:latest for arch from the registry into a fresh
// directory and returns it, with skopeo's output.
func skopeoCopy(t *testing.T, f *registryFixture, alias, arch, creds string) (string, string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "copy")
	args := []string{"--insecure-policy", "--override-arch", arch, "--override-os", "linux", "copy", "--src-tls-verify=false"}
	if creds != "" {
		args = append(args, "--src-creds", creds)
	} else {
		args = append(args, "--src-no-creds")
	}
	args = append(args, "docker://"+f.host+"/"+alias+":latest", "dir:"+dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "skopeo", args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "REGISTRY_AUTH_FILE="+filepath.Join(t.TempDir(), "auth.json"))
	out, err := cmd.CombinedOutput()
	return dir, string(out), err
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestSkopeoCopy copies a loaded two-architecture image out of Berth with
// Debian's skopeo, an API token as the password: each architecture's
// manifest arrives byte for byte (skopeo's dir: keeps the manifest, so its
// sha256 is the manifest digest). Without credentials skopeo gets 401; a
// paid build not bought is DENIED until it is bought through the API.
func TestSkopeoCopy(t *testing.T) {
	needTool(t, "skopeo", "skopeo")
	t.Parallel() // mostly waiting on skopeo processes
	f := newRegistryFixture(t, nil)
	ada, token := member(t, f.db, "ada@example.com", 5000)
	creds := ada.Email + ":" + token

	for _, arch := range []string{"amd64", "arm64"} {
		dir, out, err := skopeoCopy(t, f, freeAlias, arch, creds)
		if err != nil {
			t.Fatalf("skopeo copy %s: %v\n%s", arch, err, out)
		}
		if got, want := fileDigest(t, filepath.Join(dir, "manifest.json")), f.digests[freeAlias+" "+arch]; got != want {
			t.Errorf("%s: copied manifest %s, loaded %s", arch, got, want)
		}
		m, _ := f.images[freeAlias+" "+arch].Manifest()
		for _, l := range m.Layers {
			if got := fileDigest(t, filepath.Join(dir, l.Digest.Hex)); got != l.Digest.String() {
				t.Errorf("%s: layer %s arrived as %s", arch, l.Digest, got)
			}
		}
	}

	if _, out, err := skopeoCopy(t, f, freeAlias, "amd64", ""); err == nil || !strings.Contains(out, "401") && !strings.Contains(strings.ToLower(out), "unauthorized") {
		t.Errorf("copy without credentials: %v\n%s", err, out)
	}

	_, out, err := skopeoCopy(t, f, paidAlias, "arm64", creds)
	if err == nil || !strings.Contains(out, "denied") && !strings.Contains(out, "DENIED") {
		t.Fatalf("copy of an unbought paid build: %v\n%s", err, out)
	}
	paid, err := f.db.FindImageByAlias(context.Background(), paidAlias, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "/images/"+paid.ID) {
		t.Errorf("the refusal does not name the page to buy it:\n%s", out)
	}
	req, _ := http.NewRequest(http.MethodPost, f.url+"/api/v1/images/purchase/"+paid.ID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("purchase = %d", res.StatusCode)
	}
	dir, out, err := skopeoCopy(t, f, paidAlias, "arm64", creds)
	if err != nil {
		t.Fatalf("copy after buying: %v\n%s", err, out)
	}
	if got, want := fileDigest(t, filepath.Join(dir, "manifest.json")), f.digests[paidAlias+" arm64"]; got != want {
		t.Errorf("paid arm64: copied %s, loaded %s", got, want)
	}
}
