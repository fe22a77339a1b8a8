package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// newClockedServer is newTestServer with a clock the test sets, and the
// options opts changes.
func newClockedServer(t testing.TB, start time.Time, opts func(*Options)) (*Server, *sqlite.DB, *testClock) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := docs.Load()
	if err != nil {
		t.Fatal(err)
	}
	db.PasswordCost = bcrypt.MinCost
	clock := &testClock{now: start}
	o := Options{SignupOpen: true, SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Now: clock.Now}
	if opts != nil {
		opts(&o)
	}
	return New(db, assets, site, slog.New(slog.NewTextHandler(io.Discard, nil)), o), db, clock
}

func listedAliases(r listResponse) []string {
	var out []string
	for _, img := range r.Data.Images {
		out = append(out, img["alias"].(string)+"|"+img["architecture"].(string))
	}
	return out
}

// TestSupportMovesWithTheClock moves the server's clock across fedora/42's
// end of life (13 May 2026 in the default catalog): its support goes from
// supported to ending to ended in the API, the support filter lists it
// under that state alone and every image it lists carries the state asked
// for, and the catalog page badges it. The catalog itself never changes,
// so cached answers must not outlive the day they were made on.
func TestSupportMovesWithTheClock(t *testing.T) {
	s, _, clock := newClockedServer(t, time.Time{}, nil)
	steps := []struct {
		now   time.Time
		state string
		badge string
	}{
		{time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC), store.SupportSupported, ""},
		{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), store.SupportEnding, "support ending"},
		{time.Date(2026, 5, 13, 9, 0, 0, 0, time.UTC), store.SupportEnded, "support ended"},
	}
	const target = "fedora/42|amd64"
	for _, st := range steps {
		clock.Set(st.now)
		one := getList(t, s, "alias=fedora/42&architecture=amd64")
		if len(one.Data.Images) != 1 {
			t.Fatalf("alias lookup listed %d images", len(one.Data.Images))
		}
		img := one.Data.Images[0]
		if img["support"] != st.state || img["eol_date"] != "2026-05-13" {
			t.Errorf("on %s fedora/42 has support %v, eol_date %v; want %s, 2026-05-13", st.now.Format(time.DateOnly), img["support"], img["eol_date"], st.state)
		}
		for _, state := range store.SupportStates {
			r := getList(t, s, "support="+state+"&limit=100")
			listed := slices.Contains(listedAliases(r), target)
			if listed != (state == st.state) {
				t.Errorf("on %s support=%s lists fedora/42: %v", st.now.Format(time.DateOnly), state, listed)
			}
			for _, img := range r.Data.Images {
				if img["support"] != state {
					t.Errorf("on %s support=%s lists %s, whose support is %v", st.now.Format(time.DateOnly), state, img["alias"], img["support"])
				}
			}
			if r.Data.Pagination.Total == 0 && state == st.state {
				t.Errorf("support=%s lists nothing", state)
			}
		}
		// The page filters the same way and badges the card.
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?os=fedora&support="+st.state+"&limit=100", nil))
		var card string
		doc.Find(".card").Each(func(_ int, c *goquery.Selection) {
			if strings.TrimSpace(c.Find("h3").Text()) == "fedora/42" {
				card = c.Text()
			}
		})
		if card == "" {
			t.Fatalf("on %s the page filtered by support=%s shows no fedora/42 card", st.now.Format(time.DateOnly), st.state)
		}
		if st.badge != "" && !strings.Contains(card, st.badge) {
			t.Errorf("on %s the fedora/42 card has no %q badge: %s", st.now.Format(time.DateOnly), st.badge, card)
		}
		if st.badge == "" && strings.Contains(card, "support ") {
			t.Errorf("on %s a supported card carries a support badge: %s", st.now.Format(time.DateOnly), card)
		}
	}
}

// TestDefaultCatalogHasEndOfLifeDates: every release of the distributions
// the default catalog carries has an upstream end-of-life date, and the
// releases that were replaced name their successor, which exists.
func TestDefaultCatalogHasEndOfLifeDates(t *testing.T) {
	distros := []string{"debian", "ubuntu", "alpine", "fedora", "centos", "rockylinux"}
	aliases := map[string]bool{}
	imgs := defaultImages(t)
	for _, ci := range imgs {
		aliases[ci.Alias] = true
	}
	for _, ci := range imgs {
		if !slices.Contains(distros, ci.OS) {
			continue
		}
		if _, err := time.Parse(store.DateLayout, ci.EOLDate); err != nil {
			t.Errorf("%s (%s) has no end-of-life date: %q", ci.Alias, ci.Architecture, ci.EOLDate)
		}
		if ci.SupersededBy != "" && !aliases[ci.SupersededBy] {
			t.Errorf("%s is superseded by %s, which is not in the catalog", ci.Alias, ci.SupersededBy)
		}
	}
	for _, old := range []string{"alpine/3.18", "debian/12", "ubuntu/22.04", "fedora/41"} {
		for _, ci := range imgs {
			if ci.Alias == old && ci.SupersededBy == "" {
				t.Errorf("%s names no successor", old)
			}
		}
	}
}

// TestSuccessorAndSupportOnTheImagePage: an ended image's page says when
// support ended and links its successor on the same architecture.
func TestSuccessorAndSupportOnTheImagePage(t *testing.T) {
	s, _, _ := newClockedServer(t, time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC), nil)
	id := store.ImageID("alpine/3.18", "arm64")
	doc := mustDoc(t, do(t, s, http.MethodGet, "/images/"+id, nil))
	life := doc.Find("#lifecycle")
	if txt := life.Text(); !strings.Contains(txt, "Upstream support ended on 9 May 2025") {
		t.Errorf("lifecycle block: %q", txt)
	}
	href, _ := life.Find(".successor a").Attr("href")
	if href != "/images/by-alias/alpine/3.19?architecture=arm64" {
		t.Errorf("successor link %q", href)
	}
	if b := doc.Find(".image-head .badge.support-ended").Text(); b != "support ended" {
		t.Errorf("page badge %q", b)
	}
	// The link leads to the successor's page.
	rec := do(t, s, http.MethodGet, href, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/images/"+store.ImageID("alpine/3.19", "arm64") {
		t.Errorf("successor link answers %d to %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestStaleScanFlag: a scan older than --stale-scan is flagged on the card
// and in the API (security.scan_stale), and not with the flag turned off.
func TestStaleScanFlag(t *testing.T) {
	// debian/13 was last scanned on 18 Oct 2025.
	day := time.Date(2025, 11, 30, 12, 0, 0, 0, time.UTC) // 43 days later
	for _, tt := range []struct {
		age   time.Duration
		stale bool
	}{{0, true}, {60 * 24 * time.Hour, false}, {-1, false}, {40 * 24 * time.Hour, true}} {
		s, _, _ := newClockedServer(t, day, func(o *Options) { o.StaleScan = tt.age })
		r := getList(t, s, "alias=debian/13&architecture=amd64")
		sec := r.Data.Images[0]["security"].(map[string]any)
		if sec["scan_stale"] != tt.stale {
			t.Errorf("--stale-scan %v: scan_stale = %v, want %v", tt.age, sec["scan_stale"], tt.stale)
		}
		doc := mustDoc(t, do(t, s, http.MethodGet, "/?search=trixie&os=debian&architecture=amd64&variant=standard", nil))
		flagged := doc.Find(".card .badge.stale-scan").Length() > 0
		if flagged != tt.stale {
			t.Errorf("--stale-scan %v: card flagged %v, want %v", tt.age, flagged, tt.stale)
		}
	}
}

// TestSupplyChainOnTheImagePage: every signed image with a pull reference
// shows its cosign verify command (headjack's with the identity the seed
// gives), pinned tags sit beside the floating reference, and the API
// carries tags_pinned and source_url.
func TestSupplyChainOnTheImagePage(t *testing.T) {
	s, _, _ := newClockedServer(t, time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC), nil)
	signed := 0
	for _, ci := range defaultImages(t) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/images/"+store.ImageID(ci.Alias, ci.Architecture), nil))
		verify := doc.Find("#usage-verify").Text()
		if ci.Security != nil && ci.Security.Signed && ci.PullRef != "" {
			signed++
			if !strings.HasPrefix(verify, "cosign verify "+ci.PullRef) {
				t.Errorf("%s (%s): verify command %q", ci.Alias, ci.Architecture, verify)
			}
		} else if verify != "" {
			t.Errorf("%s (%s) is not signed or has no pull reference, yet shows %q", ci.Alias, ci.Architecture, verify)
		}
		if ci.Security != nil && ci.Security.Scanner != "" && !strings.Contains(doc.Find("#security").Text(), ci.Security.Scanner) {
			t.Errorf("%s: the scanner is not shown", ci.Alias)
		}
	}
	if signed < 20 {
		t.Fatalf("only %d signed images with a pull reference", signed)
	}
	doc := mustDoc(t, do(t, s, http.MethodGet, "/images/"+store.ImageID("headjack/base", "amd64"), nil))
	verify := doc.Find("#usage-verify").Text()
	for _, want := range []string{"cosign verify ghcr.io/gilmanlab/headjack:base", "--certificate-oidc-issuer https://token.actions.githubusercontent.com",
		"--certificate-identity-regexp 'https://github.com/gilmanlab/headjack/.*'"} {
		if !strings.Contains(verify, want) {
			t.Errorf("headjack/base verify command lacks %q: %s", want, verify)
		}
	}
	if got := doc.Find("#pinned-tags code").Text(); got != "docker pull ghcr.io/gilmanlab/headjack:base-v1.0.0" {
		t.Errorf("pinned tag snippet %q", got)
	}
	if href, _ := doc.Find("#lifecycle a").Attr("href"); href != "https://github.com/GilmanLab/headjack/blob/master/images/base/Dockerfile" {
		t.Errorf("source link %q", href)
	}
	r := getList(t, s, "alias=headjack/base&architecture=amd64")
	img := r.Data.Images[0]
	if tags, _ := img["tags_pinned"].([]any); len(tags) != 1 || tags[0] != "base-v1.0.0" {
		t.Errorf("tags_pinned = %v", img["tags_pinned"])
	}
	if img["source_url"] == "" {
		t.Error("no source_url")
	}
	if sec := img["security"].(map[string]any); sec["scanner"] != "Trivy" || !strings.HasPrefix(sec["signature"].(string), "cosign keyless") {
		t.Errorf("security = %v", sec)
	}
}

// TestSignedAndSeverityFiltersAgreeWithTheAPI: what signed= and
// max_severity= list agrees with each listed image's own security record.
func TestSignedAndSeverityFiltersAgreeWithTheAPI(t *testing.T) {
	s, _, _ := newClockedServer(t, time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC), nil)
	all := getList(t, s, "limit=100")
	worst := func(img map[string]any) int {
		sec, _ := img["security"].(map[string]any)
		if sec == nil || sec["last_scan"] == "0001-01-01T00:00:00Z" {
			return store.SeverityUnscanned
		}
		f := sec["findings"].(map[string]any)
		for i, k := range []string{"critical", "high", "medium", "low"} {
			if f[k].(float64) > 0 {
				return 4 - i
			}
		}
		return 0
	}
	for rank, sev := range store.Severities {
		r := getList(t, s, "max_severity="+sev+"&limit=100")
		want := 0
		for _, img := range all.Data.Images {
			if worst(img) <= rank {
				want++
			}
		}
		if r.Data.Pagination.Total != want {
			t.Errorf("max_severity=%s lists %d, want %d", sev, r.Data.Pagination.Total, want)
		}
		for _, img := range r.Data.Images {
			if worst(img) > rank {
				t.Errorf("max_severity=%s lists %s with worse findings", sev, img["alias"])
			}
		}
	}
	r := getList(t, s, "signed=true&limit=100")
	for _, img := range r.Data.Images {
		if sec, _ := img["security"].(map[string]any); sec == nil || sec["signed"] != true {
			t.Errorf("signed=true lists unsigned %s", img["alias"])
		}
	}
	u := getList(t, s, "signed=false&limit=100")
	if r.Data.Pagination.Total+u.Data.Pagination.Total != all.Data.Pagination.Total || u.Data.Pagination.Total == 0 {
		t.Errorf("signed %d + unsigned %d != %d", r.Data.Pagination.Total, u.Data.Pagination.Total, all.Data.Pagination.Total)
	}
	// The page refuses a bad value with a message beside the field.
	rec := do(t, s, http.MethodGet, "/?max_severity=severe", nil)
	doc := mustDoc(t, rec)
	if rec.Code != http.StatusBadRequest || !strings.Contains(doc.Find("#filter-problem").Text(), "max_severity") {
		t.Errorf("bad max_severity on the page: %d %q", rec.Code, doc.Find("#filter-problem").Text())
	}
	if v, _ := doc.Find("#f-severity").Attr("aria-invalid"); v != "true" {
		t.Error("the severity field is not marked invalid")
	}
}

// TestSupplyChainLinks: the SBOM and scan report links a catalog gives
// are on the image's page and in the API; links that are not http(s) are
// refused at import, naming the field.
func TestSupplyChainLinks(t *testing.T) {
	s, db, _ := newClockedServer(t, time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC), nil)
	reimport(t, db, "headjack/dind", "arm64", func(ci *store.CatalogImage) {
		ci.Security.SBOMURL = "https://example.com/headjack/dind.spdx.json"
		ci.Security.ReportURL = "https://example.com/headjack/dind-trivy.json"
	})
	id := store.ImageID("headjack/dind", "arm64")
	doc := mustDoc(t, do(t, s, http.MethodGet, "/images/"+id, nil))
	var links []string
	doc.Find("#security a").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
	if !slices.Contains(links, "https://example.com/headjack/dind.spdx.json") || !slices.Contains(links, "https://example.com/headjack/dind-trivy.json") {
		t.Errorf("security links %v", links)
	}
	r := getList(t, s, "alias=headjack/dind&architecture=arm64")
	if sec := r.Data.Images[0]["security"].(map[string]any); sec["sbom_url"] != "https://example.com/headjack/dind.spdx.json" {
		t.Errorf("API security %v", sec)
	}
	for field, edit := range map[string]func(ci *store.CatalogImage){
		"source_url": func(ci *store.CatalogImage) { ci.SourceURL = "javascript:alert(1)" },
		"security":   func(ci *store.CatalogImage) { ci.Security.ReportURL = "data:text/html,hi" },
		"eol_date":   func(ci *store.CatalogImage) { ci.EOLDate = "2027-02-30" },
		"tags_pinned": func(ci *store.CatalogImage) {
			ci.TagsPinned = []string{"base v1"}
		},
		"superseded_by": func(ci *store.CatalogImage) { ci.SupersededBy = "not an alias" },
	} {
		for _, ci := range defaultImages(t) {
			if ci.Alias != "headjack/base" {
				continue
			}
			edit(&ci)
			b, _ := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{ci}})
			_, err := db.ImportCatalog(context.Background(), bytes.NewReader(b))
			if store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != field {
				t.Errorf("%s: import = %v, want invalid %s", field, err, field)
			}
			break
		}
	}
}
