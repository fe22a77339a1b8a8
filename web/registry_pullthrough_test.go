package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/oci"
	"github.com/berth/berth/store/oci/ocitest"
	"github.com/berth/berth/store/sqlite"
)

// upstreamRegistry is an in-process registry (go-containerregistry's
// pkg/registry) on loopback holding a two-architecture index at repo:tag.
// With corrupt set, a proxy in front of it flips a byte of every layer it
// serves.
type upstreamRegistry struct {
	srv    *httptest.Server
	ref    string
	images map[string]v1.Image
}

func newUpstream(t *testing.T, repo string, corrupt bool) *upstreamRegistry {
	t.Helper()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	u := &upstreamRegistry{srv: reg, images: map[string]v1.Image{}}
	host := strings.TrimPrefix(reg.URL, "http://")
	idx := v1.ImageIndex(empty.Index)
	for _, arch := range []string{"amd64", "arm64"} {
		img := ocitest.Image(t, arch, 2, 5000)
		u.images[arch] = img
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: ocitest.Platform(arch)}})
	}
	ref, err := name.ParseReference(host+"/"+repo+":1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	u.ref = ref.String()
	if corrupt {
		target, _ := url.Parse(reg.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ModifyResponse = func(res *http.Response) error {
			if !strings.Contains(res.Request.URL.Path, "/blobs/") || res.Request.Method != http.MethodGet {
				return nil
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				return err
			}
			if len(body) > 1000 { // layers, not the small config
				body[len(body)/2] ^= 0xff
			}
			res.Body = io.NopCloser(bytes.NewReader(body))
			return nil
		}
		front := httptest.NewServer(proxy)
		t.Cleanup(front.Close)
		u.srv = front
		u.ref = strings.TrimPrefix(front.URL, "http://") + "/" + repo + ":1"
	}
	return u
}

func nilLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// addCatalogImages adds alias for amd64 and arm64 with pull_ref.
func addCatalogImages(t *testing.T, db *sqlite.DB, alias, pullRef string) {
	t.Helper()
	osName, release, _ := strings.Cut(alias, "/")
	var cat store.CatalogFile
	cat.Version = 1
	for _, arch := range []string{"amd64", "arm64"} {
		cat.Images = append(cat.Images, store.CatalogImage{Alias: alias, Description: "Pulled through.",
			ImageName: osName + "-" + release + "-" + arch, Architecture: arch, OS: osName, Release: release,
			Serial: "20260101", Variant: "default", Size: 1 << 20, AddedDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Tags: []string{}, Features: []string{}, PullRef: pullRef})
	}
	b, _ := json.Marshal(cat)
	if _, err := db.ImportCatalog(context.Background(), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

// TestPullThrough: an image with no content but an upstream pull_ref is
// fetched on first pull, verified and cached; later pulls work with the
// upstream gone; a corrupted upstream blob is refused and nothing of it
// kept; an uncached image whose upstream is down gets a clear OCI error
// within the request's deadline.
func TestPullThrough(t *testing.T) {
	ctx := context.Background()
	good := newUpstream(t, "library/cached", false)
	bad := newUpstream(t, "library/corrupt", true)
	down := freeLoopbackAddr(t)
	f := newRegistryFixture(t, func(db *sqlite.DB, bs *blobs.Store, o *Options) {
		addCatalogImages(t, db, "cached/1", good.ref)
		addCatalogImages(t, db, "corrupt/1", bad.ref)
		addCatalogImages(t, db, "down/1", down+"/library/down:1")
		o.PullThrough = oci.NewPullThrough(bs, db, nilLogger())
	})
	ada, token := member(t, f.db, "ada@example.com", 0)
	creds := remote.WithAuth(&authn.Basic{Username: ada.Email, Password: token})

	pull := func(alias, arch string) (v1.Image, error) {
		// No client retries: each pull is one attempt, timed as such.
		img, err := remote.Image(f.ref(t, alias, "latest"), creds, remote.WithPlatform(*ocitest.Platform(arch)), remote.WithRetryStatusCodes())
		if err != nil {
			return nil, err
		}
		layers, err := img.Layers()
		if err != nil {
			return nil, err
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(io.Discard, rc) // verified against the digest
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
		return img, nil
	}

	// First pull: fetched from upstream, verified, cached.
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := pull("cached/1", arch)
		if err != nil {
			t.Fatalf("first pull of %s: %v", arch, err)
		}
		if got, want := ocitest.Digest(t, img), ocitest.Digest(t, good.images[arch]); got != want {
			t.Errorf("%s: pulled %s, upstream has %s", arch, got, want)
		}
		catalogImg, _ := f.db.FindImageByAlias(ctx, "cached/1", arch)
		b, err := f.db.FindBuild(ctx, catalogImg.ID, store.ContentOCI)
		if err != nil {
			t.Fatalf("%s: nothing recorded after the first pull: %v", arch, err)
		}
		for _, bl := range b.Blobs {
			if err := f.blobs.Verify(bl.Digest, bl.Size); err != nil {
				t.Errorf("%s: cached blob %s: %v", arch, bl.Digest, err)
			}
		}
	}
	// Second pull: the upstream is gone, the cache serves.
	good.srv.Close()
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := pull("cached/1", arch); err != nil {
			t.Errorf("pull of %s with the upstream stopped: %v", arch, err)
		}
	}

	// A corrupted upstream blob is refused; nothing is recorded or kept.
	_, err := pull("corrupt/1", "amd64")
	if code := ociCode(t, err); code != "UNAVAILABLE" || !strings.Contains(err.Error(), "fetching it from its upstream registry") {
		t.Errorf("pull of a corrupted upstream image: %v", err)
	}
	corrupted, _ := f.db.FindImageByAlias(ctx, "corrupt/1", "amd64")
	if _, err := f.db.FindBuild(ctx, corrupted.ID, store.ContentOCI); !store.IsNotFound(err) {
		t.Errorf("a corrupted image was recorded: %v", err)
	}
	m, _ := bad.images["amd64"].Manifest()
	for _, l := range m.Layers {
		if f.blobs.Has(l.Digest.String(), -1) {
			t.Errorf("layer %s of the corrupted image was kept", l.Digest)
		}
	}

	// Uncached and upstream down: a clear error, quickly.
	start := time.Now()
	_, err = pull("down/1", "amd64")
	if code := ociCode(t, err); code != "UNAVAILABLE" || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("pull with the upstream down: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the refusal took %s", took)
	}
}

// TestPullThroughHangingUpstream: an upstream that accepts connections and
// never answers does not hold the request past its deadline.
func TestPullThroughHangingUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a request deadline")
	}
	t.Parallel() // 15 s of waiting: run beside others
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	f := newRegistryFixture(t, func(db *sqlite.DB, bs *blobs.Store, o *Options) {
		addCatalogImages(t, db, "hang/1", ln.Addr().String()+"/library/hang:1")
		o.PullThrough = oci.NewPullThrough(bs, db, nilLogger())
	})
	ada, token := member(t, f.db, "ada@example.com", 0)
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, f.url+"/v2/hang/1/manifests/latest", nil)
	req.SetBasicAuth(ada.Email, token)
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "still being fetched") || took > 16*time.Second {
		t.Errorf("hanging upstream: %d %s after %s", res.StatusCode, body, took)
	}
	t.Logf("answered %d after %s: %s", res.StatusCode, took.Round(time.Millisecond), body)
}

// freeLoopbackAddr is a loopback address nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
