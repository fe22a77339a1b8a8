package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/incus"
)

// loadIncus stores a made-up Incus image (a metadata tarball and a
// squashfs-looking root) for alias on arch and returns its fingerprint.
func loadIncus(t *testing.T, f *registryFixture, alias, arch string) string {
	t.Helper()
	dir := t.TempDir()
	meta := filepath.Join(dir, "incus.tar.xz")
	root := filepath.Join(dir, "rootfs.squashfs")
	body := make([]byte, 64<<10)
	rand.Read(body)
	os.WriteFile(meta, append([]byte("metadata of "+alias+" "), body[:1000]...), 0o600)
	os.WriteFile(root, append([]byte("hsqs"), body...), 0o600)
	b, err := incus.Ingest(f.blobs, meta, root)
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.db.FindImageByAlias(context.Background(), alias, arch)
	if err != nil {
		t.Fatal(err)
	}
	b.ImageID = img.ID
	if err := f.db.RecordBuild(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(b.Manifest.Digest, "sha256:")
}

type streamsIndex struct {
	Index struct {
		Images struct {
			Path     string   `json:"path"`
			Products []string `json:"products"`
		} `json:"images"`
	} `json:"index"`
}

type streamsImages struct {
	Products map[string]streamProduct `json:"products"`
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return res.StatusCode
}

// checkStreams reads a simplestreams remote at base, downloads every file
// its index names and checks each hashes to the sha256 and size the index
// gives, and the combined fingerprint to metadata then root. It returns the
// aliases listed.
func checkStreams(t *testing.T, base string) []string {
	t.Helper()
	var idx streamsIndex
	if code := getJSON(t, base+"/streams/v1/index.json", &idx); code != http.StatusOK {
		t.Fatalf("%s index = %d", base, code)
	}
	var imgs streamsImages
	if code := getJSON(t, base+"/"+idx.Index.Images.Path, &imgs); code != http.StatusOK {
		t.Fatalf("%s images = %d", base, code)
	}
	if len(imgs.Products) != len(idx.Index.Images.Products) {
		t.Errorf("index names %d products, images.json has %d", len(idx.Index.Images.Products), len(imgs.Products))
	}
	var aliases []string
	for id, p := range imgs.Products {
		aliases = append(aliases, p.Aliases)
		for serial, v := range p.Versions {
			combined := sha256.New()
			var want string
			for _, name := range []string{streamMetaIncus, "squashfs"} {
				it, ok := v.Items[name]
				if !ok {
					t.Fatalf("%s %s lacks %s: %+v", id, serial, name, v.Items)
				}
				res, err := http.Get(base + "/" + it.Path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				sum := sha256.Sum256(b)
				if res.StatusCode != 200 || hex.EncodeToString(sum[:]) != it.SHA256 || int64(len(b)) != it.Size {
					t.Errorf("%s %s: %d, %d bytes hashing to %x; the index says %d bytes, %s", id, it.Path, res.StatusCode, len(b), sum, it.Size, it.SHA256)
				}
				combined.Write(b)
				if name == streamMetaIncus {
					want = it.CombinedSquash
				}
			}
			if got := hex.EncodeToString(combined.Sum(nil)); got != want || v.Items[streamMetaLXD].CombinedSquash != want {
				t.Errorf("%s: files combine to %s, the index says %s", id, got, want)
			}
		}
	}
	return aliases
}

// TestSimplestreams: free Incus images are listed at /streams/ for anyone,
// with files that hash to what the index says; paid ones only at the
// personal remote of an account that bought them; a revoked or made-up key
// lists nothing; keys never reach the logs.
func TestSimplestreams(t *testing.T) {
	f := newRegistryFixture(t, nil)
	var logs bytes.Buffer
	f.s.logger = slog.New(slog.NewTextHandler(&logs, nil))
	// A server of its own, started after the logger is set.
	logged := httptest.NewServer(f.s.Handler())
	t.Cleanup(logged.Close)
	f.url = logged.URL
	ctx := context.Background()
	loadIncus(t, f, "debian/13", "amd64")
	loadIncus(t, f, "debian/13", "arm64")
	loadIncus(t, f, paidAlias, "amd64")

	if got := strings.Join(sortStrings(checkStreams(t, f.url)), ","); got != "debian/13,debian/13" {
		t.Errorf("the public remote lists %s", got)
	}

	ada, _ := member(t, f.db, "ada@example.com", 5000)
	key, pk, err := f.db.CreatePullKey(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	personal := f.url + "/u/" + key
	if got := strings.Join(sortStrings(checkStreams(t, personal)), ","); got != "debian/13,debian/13" {
		t.Errorf("before buying, the personal remote lists %s", got)
	}
	paid, _ := f.db.FindImageByAlias(ctx, paidAlias, "amd64")
	paidFP := ""
	if b, err := f.db.FindBuild(ctx, paid.ID, store.ContentIncus); err == nil {
		paidFP = strings.TrimPrefix(b.Manifest.Digest, "sha256:")
	}
	if res, _ := http.Get(personal + "/streams/files/" + paidFP + "/" + streamSquashfs); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unbought paid image's root = %d", res.StatusCode)
	}
	if _, err := f.db.Purchase(ctx, ada.ID, paid.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sortStrings(checkStreams(t, personal)), ","); got != "debian/13,debian/13,"+paidAlias {
		t.Errorf("after buying, the personal remote lists %s", got)
	}
	if got := strings.Join(checkStreams(t, f.url), ","); strings.Contains(got, paidAlias) {
		t.Errorf("the public remote lists a paid image: %s", got)
	}
	if res, _ := http.Get(f.url + "/streams/files/" + paidFP + "/" + streamSquashfs); res.StatusCode != http.StatusNotFound {
		t.Errorf("a paid image's root through the public remote = %d", res.StatusCode)
	}
	if pulls, _ := f.db.LastPulls(ctx, ada.ID); pulls[paid.ID].IsZero() {
		t.Error("a download through the personal remote was not recorded as a pull")
	}

	var idx streamsIndex
	if code := getJSON(t, f.url+"/u/"+store.PullKeyPrefix+"madeup/streams/v1/index.json", &idx); code != http.StatusNotFound {
		t.Errorf("a made-up key = %d", code)
	}
	if err := f.db.RevokePullKey(ctx, ada.ID, pk.ID); err != nil {
		t.Fatal(err)
	}
	if code := getJSON(t, personal+"/streams/v1/index.json", &idx); code != http.StatusNotFound {
		t.Errorf("a revoked key = %d", code)
	}
	if strings.Contains(logs.String(), key) || !strings.Contains(logs.String(), "/u/<key>/streams/v1/index.json") {
		t.Errorf("the logs hold the key, or no redacted path:\n%s", logs.String())
	}
}

func sortStrings(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestLXCListsTheRemote: Debian's lxc (lxd-client) lists and describes the
// simplestreams remote. lxc refuses http:// in `remote add`, so the test
// writes the remote into its config.yml.
func TestLXCListsTheRemote(t *testing.T) {
	needTool(t, "lxc", "lxd-client")
	t.Parallel() // mostly waiting on lxc processes
	f := newRegistryFixture(t, nil)
	fp := loadIncus(t, f, "debian/13", "amd64")
	loadIncus(t, f, paidAlias, "amd64")
	ada, _ := member(t, f.db, "ada@example.com", 5000)
	key, _, err := f.db.CreatePullKey(context.Background(), ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	paid, _ := f.db.FindImageByAlias(context.Background(), paidAlias, "amd64")
	if _, err := f.db.Purchase(context.Background(), ada.ID, paid.ID, ""); err != nil {
		t.Fatal(err)
	}
	conf := t.TempDir()
	os.WriteFile(filepath.Join(conf, "config.yml"), []byte(`default-remote: berth
remotes:
  berth:
    addr: `+f.url+`
    protocol: simplestreams
    public: true
  mine:
    addr: `+f.url+`/u/`+key+`
    protocol: simplestreams
    public: true
`), 0o600)
	lxc := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "lxc", args...)
		cmd.Env = append(os.Environ(), "LXD_CONF="+conf, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("lxc %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	list := lxc("image", "list", "berth:", "--format", "csv")
	if !strings.Contains(list, "debian/13") || !strings.Contains(list, fp[:12]) || strings.Contains(list, paidAlias) {
		t.Errorf("lxc image list berth: =\n%s", list)
	}
	info := lxc("image", "info", "berth:debian/13")
	if !strings.Contains(info, "Fingerprint: "+fp) || !strings.Contains(info, "x86_64") {
		t.Errorf("lxc image info berth:debian/13 =\n%s", info)
	}
	t.Logf("lxc image list berth:\n%s\nlxc image info berth:debian/13\n%s", list, info)
	if mine := lxc("image", "list", "mine:", "--format", "csv"); !strings.Contains(mine, paidAlias) {
		t.Errorf("lxc image list mine: =\n%s", mine)
	}
}

// TestPullKeysOnAccountPage: a pull key is made on /account, its remote
// address shown once in an incus command, and revoked there.
func TestPullKeysOnAccountPage(t *testing.T) {
	f := newRegistryFixture(t, nil)
	loadIncus(t, f, "debian/13", "amd64")
	b := newBrowserClient(t, f.s)
	b.base = f.url
	b.signUp("keys@example.com")
	_, doc := b.get("/account")
	// The POST answers with a redirect to the page that shows the remote
	// once: a reload makes no second key.
	res, _ := b.post("/account/pull-keys", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account#pullkeys-h" {
		t.Fatalf("make a pull key = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, doc = b.get("/account")
	cmd := doc.Find("#new-pull-key").Text()
	if doc.Find("table.pull-keys tbody tr").Length() != 1 || !strings.HasPrefix(cmd, "incus remote add berth "+f.url+"/u/"+store.PullKeyPrefix) || !strings.HasSuffix(cmd, "/ --protocol simplestreams") {
		t.Fatalf("the new pull key: %d listed, %q", doc.Find("table.pull-keys tbody tr").Length(), cmd)
	}
	remote := strings.Fields(cmd)[4]
	var idx streamsIndex
	if code := getJSON(t, strings.TrimSuffix(remote, "/")+"/streams/v1/index.json", &idx); code != 200 || len(idx.Index.Images.Products) != 1 {
		t.Errorf("the new remote = %d, %v", code, idx.Index.Images.Products)
	}
	_, doc = b.get("/account")
	if strings.Contains(doc.Text(), strings.Split(remote, "/u/")[1]) {
		t.Error("the account page shows the key again")
	}
	if n := doc.Find("table.pull-keys tbody tr").Length(); n != 1 {
		t.Errorf("after a reload the account page lists %d pull keys, want 1", n)
	}
	action, _ := doc.Find(`table.pull-keys form`).Attr("action")
	res, _ = b.post(action, url.Values{"_csrf": {csrfFrom(t, doc)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d", res.StatusCode)
	}
	if code := getJSON(t, strings.TrimSuffix(remote, "/")+"/streams/v1/index.json", &idx); code != http.StatusNotFound {
		t.Errorf("the revoked remote = %d", code)
	}
}
