package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
	"github.com/berth/berth/store/sqlite"
	"github.com/berth/berth/store/storetest"
)

// serverOn wires the real router around a store holding the default
// catalog.
func serverOn(t testing.TB, db store.Store) *Server {
	t.Helper()
	return serverWith(t, db, Options{SignupOpen: true})
}

// serverWith is serverOn with options of the test's own.
func serverWith(t testing.TB, db store.Store, opts Options) *Server {
	t.Helper()
	if _, err := db.LoadDefaultCatalog(context.Background()); err != nil {
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
	opts.SessionKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	return New(db, assets, site, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
}

// backend is one server and what the script needs of its store.
type backend struct {
	name  string
	srv   *Server
	db    store.Store
	token string
}

// TestAPIBackendsAgree sends the same API requests to a server on SQLite
// and one on PostgreSQL and requires the same status and the same JSON:
// listings with every filter and sort (support, signed and max_severity
// among them), grouped by alias or not, pages, searches, bad parameters,
// and a signed-in person's imports, purchases, ratings, library, wallet
// and voucher. Times of the moment are masked (the two servers act a few
// milliseconds apart), and so are voucher hints; nothing else is. Searches
// ranked by relevance are compared as sets: relevance is each database's
// own (FTS5's bm25, PostgreSQL's ts_rank), while which images match is
// the same.
func TestAPIBackendsAgree(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	lite.PasswordCost = bcrypt.MinCost
	pg, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	pg.PasswordCost = bcrypt.MinCost
	// One clock for both, moved on a second before each request. Both keep
	// times to the second and list a library newest first, by name within a
	// second: on their own clocks an import and a purchase fell in one
	// second on one backend and in two on the other, now and then, and the
	// libraries came back in other orders.
	clock := storetest.NewClock(time.Now().UTC())
	lite.Now, pg.Now = clock.Now, clock.Now
	backends := []*backend{{name: "sqlite", db: lite}, {name: "postgres", db: pg}}
	for _, b := range backends {
		b.srv = serverOn(t, b.db)
		u, err := b.db.CreateUser(ctx, "ada@example.com", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.Credit(ctx, u.ID, 2800, "Operator top-up"); err != nil {
			t.Fatal(err)
		}
		if b.token, _, err = b.db.CreateToken(ctx, u.ID, "test"); err != nil {
			t.Fatal(err)
		}
		codes, err := b.db.CreateVouchers(ctx, 1000, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		b.db.(interface{ SetLogger(*slog.Logger) }).SetLogger(slog.New(slog.DiscardHandler))
		b.name += ":" + codes[0]
		// Both answer listings from their listing index (store/listing),
		// as a server does once it is built.
		b.db.PrepareListings()
		for deadline := time.Now().Add(30 * time.Second); ; {
			if ready, _ := b.db.ListingIndexStatus(); ready {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the listing index was not ready in 30 s", b.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	img := func(alias, arch string) string { return store.ImageID(alias, arch) }
	free, paid, dear := img("debian/13", "amd64"), img("ubuntu/24.04-lamp", "amd64"), img("ubuntu/24.04-k3s", "amd64")
	if _, err := lite.FindImage(ctx, paid); err != nil {
		t.Fatal(err)
	}

	type req struct {
		method, path, body string
		auth               bool
		unordered          bool // a relevance-ranked listing: compare as a set
	}
	get := func(path string) req { return req{method: http.MethodGet, path: path} }
	lists := []string{
		"", "limit=100", "limit=7&page=3", "page=999",
		"os=ubuntu", "os=ubuntu&architecture=arm64", "architecture=armhf", "variant=minimal", "variant=standard&os=alpine",
		"prespawn=true", "min_price=0&max_price=0", "min_price=5&max_price=15", "min_rating=0",
		"sort_by=name", "sort_by=name&sort_order=desc", "sort_by=price&sort_order=desc", "sort_by=size",
		"sort_by=added_date&sort_order=asc", "sort_by=rating", "sort_by=popularity&limit=50",
		"search=ubuntu&sort_by=name", "search=24.04&sort_by=size", "search=docker+systemd&sort_by=price",
		"search=postg&sort_by=name", "search=%2B%2B%2B&limit=5", "search=nothing-like-this",
		"support=ended&sort_by=name", "support=ending&sort_by=name", "support=supported&sort_by=name&limit=100",
		"signed=true&sort_by=name", "signed=false&sort_by=size", "max_severity=none", "max_severity=high&sort_by=name&limit=100",
		"support=supported&signed=true&max_severity=medium&os=ubuntu",
		"group=alias", "group=alias&sort_by=name&limit=10&page=2", "group=alias&architecture=arm64&support=supported",
		"group=alias&sort_by=size&sort_order=desc&limit=100", "group=alias&search=ubuntu&sort_by=name",
	}
	var script []req
	for _, q := range lists {
		script = append(script, get("/api/v1/images/public?"+q))
	}
	// All matches on one page, so the sets compared are whole.
	for _, q := range []string{"search=ubuntu&limit=100", "search=headjack&limit=100", "search=lts+minimal&limit=100", "search=desktop&limit=100"} {
		script = append(script, req{method: http.MethodGet, path: "/api/v1/images/public?" + q, unordered: true})
	}
	for _, q := range []string{"min_price=-1", "min_price=5&max_price=1", "sort_by=cost", "limit=101", "page=0",
		"min_rating=6", "architecture=sparc", "frobnicate=1",
		"support=someday", "signed=perhaps", "max_severity=awful", "group=os"} {
		script = append(script, get("/api/v1/images/public?"+q))
	}
	script = append(script,
		get("/api/v1/images/public/"+paid),
		get("/api/v1/images/public/0123456789abcdef01234567"),
		get("/api/v1/images/public/nope"),
		req{method: http.MethodGet, path: "/api/v1/images/user"},
		req{method: http.MethodGet, path: "/api/v1/images/user", auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/import/" + free, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/import/" + free, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/import/" + paid, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + free, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + paid, body: `{"rating": 4}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + paid, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + paid, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + dear, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + paid, body: `{"rating": 4}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + paid, body: `{"rating": 2}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + free, body: `{"rating": 5}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + free, body: `{"rating": 7}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/rate/" + free, body: `{"rating": 2.5}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/0123456789abcdef01234567", auth: true},
		req{method: http.MethodGet, path: "/api/v1/images/user", auth: true},
		req{method: http.MethodGet, path: "/api/v1/wallet/balances", auth: true},
		req{method: http.MethodPost, path: "/api/v1/wallet/redeem", body: `{"code": "VOUCHER"}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/wallet/redeem", body: `{"code": "VOUCHER"}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/wallet/redeem", body: `{"code": "0000-0000-0000-0000-0000"}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + dear, body: `{"expected_price": 20}`, auth: true},
		req{method: http.MethodPost, path: "/api/v1/images/purchase/" + dear, body: `{"expected_price": 25}`, auth: true},
		req{method: http.MethodGet, path: "/api/v1/wallet/history", auth: true},
		get("/api/v1/images/public/"+paid),
		get("/api/v1/images/public?sort_by=rating&limit=5"),
		get("/api/v1/images/public?sort_by=popularity&limit=5"),
		get("/api/v1/images/public?min_rating=4"),
	)
	now := regexp.MustCompile(time.Now().UTC().Format("2006-01-02") + `T[0-9:]+Z`)
	hint := regexp.MustCompile(`Voucher …[0-9A-Z]{4}`)
	for _, r := range script {
		clock.Advance(time.Second)
		var answers [2]string
		var codes [2]int
		for i, b := range backends {
			body := r.body
			if code, ok := strings.CutPrefix(b.name, strings.Split(b.name, ":")[0]+":"); ok {
				body = strings.ReplaceAll(body, "VOUCHER", code)
			}
			hr := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
			if body != "" {
				hr.Header.Set("Content-Type", "application/json")
			}
			if r.auth {
				hr.Header.Set("Authorization", "Bearer "+b.token)
			}
			rec := httptest.NewRecorder()
			b.srv.Handler().ServeHTTP(rec, hr)
			codes[i] = rec.Code
			out := now.ReplaceAllString(rec.Body.String(), "<now>")
			answers[i] = hint.ReplaceAllString(out, "Voucher …<hint>")
			if r.unordered {
				answers[i] = sortedImages(t, answers[i])
			}
		}
		if codes[0] != codes[1] || answers[0] != answers[1] {
			t.Errorf("%s %s %s:\n sqlite   %d %.2000s\n postgres %d %.2000s", r.method, r.path, r.body,
				codes[0], answers[0], codes[1], answers[1])
		}
		if codes[0] >= 500 {
			t.Errorf("%s %s = %d", r.method, r.path, codes[0])
		}
	}
	for _, b := range backends {
		if problems, err := b.db.Check(ctx); err != nil || len(problems) > 0 {
			t.Errorf("%s: check %v %v", b.name, problems, err)
		}
	}
}

// sortedImages rewrites a listing's JSON with its images in id order.
func sortedImages(t *testing.T, body string) string {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	data, _ := r["data"].(map[string]any)
	imgs, _ := data["images"].([]any)
	slices.SortFunc(imgs, func(a, b any) int {
		return strings.Compare(a.(map[string]any)["id"].(string), b.(map[string]any)["id"].(string))
	})
	out, _ := json.Marshal(r)
	return string(out)
}

// TestLimitsAreSharedAcrossInstances: two servers on one PostgreSQL
// database (two instances) count a person's API calls and purchases
// together, so a limit of three is three in all, not three each. On
// SQLite, one process, the limits stay in memory.
func TestLimitsAreSharedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	var servers []*Server
	var token string
	for i := range 2 {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.PasswordCost = bcrypt.MinCost
		servers = append(servers, serverWith(t, db, Options{APIRate: 3, PurchaseRate: 2}))
		if i == 0 {
			u, err := db.CreateUser(ctx, "ada@example.com", "correct horse battery")
			if err != nil {
				t.Fatal(err)
			}
			if token, _, err = db.CreateToken(ctx, u.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var codes []int
	for i := range 5 {
		hr := httptest.NewRequest(http.MethodGet, "/api/v1/wallet/balances", nil)
		hr.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		servers[i%2].Handler().ServeHTTP(rec, hr)
		codes = append(codes, rec.Code)
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Error("a 429 without Retry-After")
		}
	}
	if want := []int{200, 200, 200, 429, 429}; !slices.Equal(codes, want) {
		t.Errorf("API calls alternating between two instances: %v, want %v", codes, want)
	}
}
