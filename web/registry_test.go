package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/oci"
	"github.com/berth/berth/store/oci/ocitest"
	"github.com/berth/berth/store/sqlite"
)

// The images the registry tests load: a free alias and a paid one, each
// for amd64 and arm64.
const (
	freeAlias = "ubuntu/24.04-minimal"
	paidAlias = "debian/13-postgres" // $10 per architecture
)

// registryFixture is a server with content loaded for freeAlias and
// paidAlias, on a loopback listener.
type registryFixture struct {
	s       *Server
	db      *sqlite.DB
	blobs   *blobs.Store
	url     string            // http://127.0.0.1:PORT
	host    string            // 127.0.0.1:PORT
	digests map[string]string // alias + " " + arch -> manifest digest
	images  map[string]v1.Image
}

// loadImage ingests img into the blob store and records it for alias on arch.
func loadImage(t testing.TB, db *sqlite.DB, bs *blobs.Store, alias, arch string, img v1.Image) string {
	t.Helper()
	ctx := context.Background()
	catalogImg, err := db.FindImageByAlias(ctx, alias, arch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := oci.Ingest(ctx, bs, img)
	if err != nil {
		t.Fatal(err)
	}
	b.ImageID = catalogImg.ID
	if err := db.RecordBuild(ctx, b); err != nil {
		t.Fatal(err)
	}
	return b.Manifest.Digest
}

func newRegistryFixture(t testing.TB, tune func(*sqlite.DB, *blobs.Store, *Options)) *registryFixture {
	t.Helper()
	f := &registryFixture{digests: map[string]string{}, images: map[string]v1.Image{}}
	f.s, f.db = newTestServerWith(t, func(db *sqlite.DB, o *Options) {
		bs, err := blobs.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		f.blobs = bs
		for _, alias := range []string{freeAlias, paidAlias} {
			for _, arch := range []string{"amd64", "arm64"} {
				img := ocitest.Image(t, arch, 2, 3000)
				f.images[alias+" "+arch] = img
				f.digests[alias+" "+arch] = loadImage(t, db, bs, alias, arch, img)
			}
		}
		o.Blobs, o.Metrics, o.MetricsOnMainAddr = bs, NewMetrics(), true
		if tune != nil {
			tune(db, bs, o)
		}
	})
	srv := httptest.NewServer(f.s.Handler())
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

// ref names alias:tag on the fixture's registry.
func (f *registryFixture) ref(t testing.TB, alias, tag string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(f.host+"/"+alias+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ociCode(t testing.TB, err error) string {
	t.Helper()
	var te *transport.Error
	if err == nil {
		return ""
	}
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return err.Error()
	}
	return string(te.Errors[0].Code)
}

// TestRegistryPull pulls through the real router with go-containerregistry's
// client, which does the token flow docker does.
func TestRegistryPull(t *testing.T) {
	f := newRegistryFixture(t, nil)
	ctx := context.Background()
	ada, token := member(t, f.db, "ada@example.com", 5000)
	creds := remote.WithAuth(&authn.Basic{Username: ada.Email, Password: token})

	t.Run("ChallengeWithoutCredentials", func(t *testing.T) {
		res, err := http.Get(f.url + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		wa := res.Header.Get("WWW-Authenticate")
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(wa, `realm="`+f.url+`/v2/token"`) ||
			!strings.Contains(wa, `service="`+f.host+`"`) {
			t.Errorf("GET /v2/ without credentials = %d, WWW-Authenticate %q", res.StatusCode, wa)
		}
		_, err = remote.Index(f.ref(t, freeAlias, "latest"))
		if code := ociCode(t, err); code != "UNAUTHORIZED" {
			t.Errorf("anonymous pull = %v", err)
		}
	})

	t.Run("LatestIsAnIndexOverArchitectures", func(t *testing.T) {
		idx, err := remote.Index(f.ref(t, freeAlias, "latest"), creds)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 2 {
			t.Fatalf("index has %d manifests", len(im.Manifests))
		}
		for _, arch := range []string{"amd64", "arm64"} {
			img, err := remote.Image(f.ref(t, freeAlias, "latest"), creds, remote.WithPlatform(*ocitest.Platform(arch)))
			if err != nil {
				t.Fatal(err)
			}
			d, _ := img.Digest()
			if d.String() != f.digests[freeAlias+" "+arch] {
				t.Errorf("%s: pulled %s, loaded %s", arch, d, f.digests[freeAlias+" "+arch])
			}
			layers, _ := img.Layers()
			for _, l := range layers {
				rc, err := l.Compressed() // go-containerregistry verifies the digest as it reads
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					t.Errorf("%s layer: %v", arch, err)
				}
				rc.Close()
			}
		}
		// The serial is a tag too, naming the same index.
		serial, err := f.db.FindImageByAlias(ctx, freeAlias, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		byS, err := remote.Index(f.ref(t, freeAlias, serial.Serial), creds)
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := idx.Digest()
		d2, _ := byS.Digest()
		if d1 != d2 {
			t.Errorf("latest is %s, the serial %s", d1, d2)
		}
		tags, err := remote.List(f.ref(t, freeAlias, "latest").Context(), creds)
		if err != nil || strings.Join(tags, ",") != serial.Serial+",latest" {
			t.Errorf("tags = %v, %v", tags, err)
		}
	})

	t.Run("RangeAndHead", func(t *testing.T) {
		img := f.images[freeAlias+" amd64"]
		layers, _ := img.Layers()
		d, _ := layers[0].Digest()
		want, _ := layers[0].Compressed()
		all, _ := io.ReadAll(want)
		tok := registryToken(t, f, ada.Email, token)
		req, _ := http.NewRequest(http.MethodGet, f.url+"/v2/"+freeAlias+"/blobs/"+d.String(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Range", "bytes=10-19")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusPartialContent || string(got) != string(all[10:20]) {
			t.Errorf("range = %d %q", res.StatusCode, got)
		}
		req.Method = http.MethodHead
		req.Header.Del("Range")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.ContentLength != int64(len(all)) || res.Header.Get("Docker-Content-Digest") != d.String() {
			t.Errorf("HEAD blob = %d, length %d, digest %q", res.StatusCode, res.ContentLength, res.Header.Get("Docker-Content-Digest"))
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		_, err := remote.Index(f.ref(t, "nothing/here", "latest"), creds)
		if code := ociCode(t, err); code != "NAME_UNKNOWN" {
			t.Errorf("unknown name: %v", err)
		}
		_, err = remote.Index(f.ref(t, freeAlias, "19990101"), creds)
		if code := ociCode(t, err); code != "MANIFEST_UNKNOWN" {
			t.Errorf("unknown tag: %v", err)
		}
		_, err = remote.Index(f.ref(t, "debian/13-cloud", "latest"), creds)
		if code := ociCode(t, err); code != "NAME_UNKNOWN" {
			t.Errorf("alias without content: %v", err)
		}
	})

	t.Run("PaidOnlyForBuyers", func(t *testing.T) {
		_, err := remote.Image(f.ref(t, paidAlias, "latest"), creds, remote.WithPlatform(*ocitest.Platform("amd64")))
		paid, _ := f.db.FindImageByAlias(ctx, paidAlias, "amd64")
		if code := ociCode(t, err); code != "DENIED" || !strings.Contains(err.Error(), "/images/"+paid.ID) {
			t.Fatalf("paid image not bought: %v", err)
		}
		if _, err := f.db.Purchase(ctx, ada.ID, paid.ID, ""); err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(f.ref(t, paidAlias, "latest"), creds, remote.WithPlatform(*ocitest.Platform("amd64")))
		if err != nil {
			t.Fatalf("after buying: %v", err)
		}
		// The arm64 build is another purchase.
		_, err = remote.Image(f.ref(t, paidAlias, "latest"), creds, remote.WithPlatform(*ocitest.Platform("arm64")))
		if code := ociCode(t, err); code != "DENIED" {
			t.Errorf("arm64 build not bought: %v", err)
		}
		// Nor can its blobs be read by digest through an alias one owns.
		layers, _ := f.images[paidAlias+" arm64"].Layers()
		ld, _ := layers[0].Digest()
		l, err := remote.Layer(f.ref(t, freeAlias, "latest").Context().Digest(ld.String()), creds)
		if err == nil {
			_, err = l.Compressed()
		}
		if code := ociCode(t, err); code != "BLOB_UNKNOWN" {
			t.Errorf("a paid blob through a free repository: %v", err)
		}
		// Nor through its own repository.
		l, err = remote.Layer(f.ref(t, paidAlias, "latest").Context().Digest(ld.String()), creds)
		if err == nil {
			_, err = l.Compressed()
		}
		if code := ociCode(t, err); code != "DENIED" {
			t.Errorf("a blob of an unbought build: %v", err)
		}
		if d, _ := img.Digest(); d.String() != f.digests[paidAlias+" amd64"] {
			t.Errorf("pulled %s", d)
		}
	})

	t.Run("BadCredentials", func(t *testing.T) {
		_, err := remote.Index(f.ref(t, freeAlias, "latest"), remote.WithAuth(&authn.Basic{Username: ada.Email, Password: "nope"}))
		if code := ociCode(t, err); code != "UNAUTHORIZED" {
			t.Errorf("wrong token: %v", err)
		}
		_, err = remote.Index(f.ref(t, freeAlias, "latest"), remote.WithAuth(&authn.Basic{Username: "someone@example.com", Password: token}))
		if code := ociCode(t, err); code != "UNAUTHORIZED" {
			t.Errorf("token of another account: %v", err)
		}
		tok := registryToken(t, f, ada.Email, token)
		for _, bad := range []string{tok[:len(tok)-2] + "xx", "brt1.e30.AAAA", token} {
			req, _ := http.NewRequest(http.MethodGet, f.url+"/v2/"+freeAlias+"/tags/list", nil)
			req.Header.Set("Authorization", "Bearer "+bad)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("bearer %q = %d", bad, res.StatusCode)
			}
		}
	})

	t.Run("PullsAreCounted", func(t *testing.T) {
		pulls, err := f.db.LastPulls(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		free, _ := f.db.FindImageByAlias(ctx, freeAlias, "arm64")
		if pulls[free.ID].IsZero() {
			t.Errorf("no pull recorded for %s: %v", free.ID, pulls)
		}
		res, err := http.Get(f.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{`berth_pulls_total{price="free",protocol="oci"}`, `berth_pulls_total{price="paid",protocol="oci"} 1`,
			`berth_registry_errors_total{code="DENIED"}`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("PushIsUnsupported", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.url+"/v2/"+freeAlias+"/blobs/uploads/", nil)
		req.SetBasicAuth(ada.Email, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Errors []registryError `json:"errors"`
		}
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || len(body.Errors) != 1 || body.Errors[0].Code != "UNSUPPORTED" {
			t.Errorf("push = %d %+v", res.StatusCode, body)
		}
	})
}

// TestRegistryAnonymousPull: with --anonymous-pull, free images need no
// account and paid ones still do.
func TestRegistryAnonymousPull(t *testing.T) {
	f := newRegistryFixture(t, func(_ *sqlite.DB, _ *blobs.Store, o *Options) { o.AnonymousPull = true })
	img, err := remote.Image(f.ref(t, freeAlias, "latest"), remote.WithPlatform(*ocitest.Platform("arm64")))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() != f.digests[freeAlias+" arm64"] {
		t.Errorf("pulled %s", d)
	}
	_, err = remote.Image(f.ref(t, paidAlias, "latest"), remote.WithPlatform(*ocitest.Platform("amd64")))
	if code := ociCode(t, err); code != "UNAUTHORIZED" {
		t.Errorf("anonymous pull of a paid image: %v", err)
	}
}

// registryToken gets a bearer token from /v2/token with Basic credentials.
func registryToken(t testing.TB, f *registryFixture, email, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url+"/v2/token?service="+f.host+"&scope=repository:x:pull", nil)
	req.SetBasicAuth(email, token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 || body.Token == "" || body.ExpiresIn <= 0 {
		t.Fatalf("token = %d %+v %v", res.StatusCode, body, err)
	}
	return body.Token
}

// TestPullSnippets: the detail page and the library give the pull and
// log-in commands for images Berth serves, at the request's host or at
// --public-url, and every snippet uses the same address.
func TestPullSnippets(t *testing.T) {
	ctx := context.Background()
	for _, public := range []string{"", "https://berth.example.com"} {
		f := newRegistryFixture(t, func(_ *sqlite.DB, _ *blobs.Store, o *Options) { o.PublicURL = public })
		host, base := f.host, f.url
		if public != "" {
			host, base = "berth.example.com", public
		}
		b := newBrowserClient(t, f.s)
		b.base = f.url
		served, _ := f.db.FindImageByAlias(ctx, freeAlias, "amd64")
		_, doc := b.get("/images/" + served.ID)
		if got, want := doc.Find("#usage-pull").Text(), "docker pull "+host+"/"+freeAlias+":latest"; got != want {
			t.Errorf("public %q: pull snippet %q, want %q", public, got, want)
		}
		if got, want := doc.Find("#usage-login").Text(), "docker login "+host; got != want {
			t.Errorf("public %q: login snippet %q, want %q", public, got, want)
		}
		if api := doc.Find("#usage-api").Text(); !strings.Contains(api, base+"/api/v1/images/import/"+served.ID) || strings.Contains(api, "localhost:8080") {
			t.Errorf("public %q: API snippet %q", public, api)
		}
		// An image with no content here points at its upstream.
		upstream, _ := f.db.FindImageByAlias(ctx, "debian/13", "amd64")
		_, doc = b.get("/images/" + upstream.ID)
		if got := doc.Find("#usage-pull").Text(); got != "docker pull "+upstream.PullRef || doc.Find("#usage-login").Length() != 0 {
			t.Errorf("public %q: an image Berth does not serve shows %q", public, got)
		}

		// The library: the pull command, and when it was last pulled.
		b.signUp("lib@example.com")
		u, err := f.db.FindUserByEmail(ctx, "lib@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.Import(ctx, u.ID, served.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.db.Import(ctx, u.ID, upstream.ID); err != nil {
			t.Fatal(err)
		}
		_, doc = b.get("/library")
		if got := doc.Find("code.pull-ref").Text(); got != "docker pull "+host+"/"+freeAlias+":latest" {
			t.Errorf("public %q: library pull ref %q", public, got)
		}
		if got := doc.Find("#library-login").Text(); got != "docker login "+host {
			t.Errorf("public %q: library login %q", public, got)
		}
		if n := doc.Find("td:contains('never')").Length(); n != 2 {
			t.Errorf("public %q: %d images never pulled, want 2", public, n)
		}
		token, _, err := f.db.CreateToken(ctx, u.ID, "pull")
		if err != nil {
			t.Fatal(err)
		}
		// Basic auth on the manifest itself (the token realm is the
		// public address, which this test cannot reach).
		req, _ := http.NewRequest(http.MethodGet, f.url+"/v2/"+freeAlias+"/manifests/"+f.digests[freeAlias+" amd64"], nil)
		req.SetBasicAuth(u.Email, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("pull with Basic auth = %d", res.StatusCode)
		}
		_, doc = b.get("/library")
		if n := doc.Find("td:contains('never')").Length(); n != 1 || doc.Find("td time").Length() != 3 {
			t.Errorf("public %q: after a pull, %d never pulled and %d dates", public, n, doc.Find("td time").Length())
		}
	}
}
