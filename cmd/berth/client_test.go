package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
	"github.com/berth/berth/web"
)

// TestMain lets a test run the real main, exit status and all: with
// BERTH_TEST_MAIN_ARGS set (a JSON list), the test binary is berth.
func TestMain(m *testing.M) {
	if args := os.Getenv("BERTH_TEST_MAIN_ARGS"); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			panic(err)
		}
		os.Args = append([]string{"berth"}, list...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// clientServer is a real Berth behind a loopback HTTP server: the default
// catalog with the demo ratings, and accounts for the client commands.
type clientServer struct {
	url                      string
	db                       *sqlite.DB
	ada, poor, revoked       string // API tokens
	adaEmail, poorEmail      string
	configHome               string
	env                      map[string]string
	freeID, paidID, priceyID string
}

func newClientServer(t *testing.T) *clientServer {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.PasswordCost = bcrypt.MinCost
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SeedDemo(ctx); err != nil {
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
	h := web.New(db, assets, site, slog.New(slog.NewTextHandler(io.Discard, nil)), web.Options{
		SignupOpen: true, SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}).Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cs := &clientServer{url: srv.URL, db: db, configHome: t.TempDir(),
		freeID:   store.ImageID("debian/13", "amd64"),
		paidID:   store.ImageID("fedora/42-python-data", "amd64"), // $15
		priceyID: store.ImageID("ubuntu/24.04-k3s", "amd64"),      // $25
	}
	account := func(email string, cents int64) string {
		u, err := db.CreateUser(ctx, email, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if cents > 0 {
			if _, err := db.Credit(ctx, u.ID, cents, "Operator top-up"); err != nil {
				t.Fatal(err)
			}
		}
		tok, _, err := db.CreateToken(ctx, u.ID, "cli")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cs.adaEmail, cs.poorEmail = "ada@example.com", "poor@example.com"
	cs.ada = account(cs.adaEmail, 10000)
	cs.poor = account(cs.poorEmail, 500)
	cs.revoked = account("gone@example.com", 0)
	gone, _ := db.FindUserByEmail(ctx, "gone@example.com")
	if _, err := db.RevokeAllTokens(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	cs.env = map[string]string{"BERTH_URL": srv.URL, "BERTH_TOKEN": cs.ada, "XDG_CONFIG_HOME": cs.configHome, "HOME": cs.configHome}
	return cs
}

// cli runs berth in-process with the server's environment plus extra
// (a value of "" unsets a variable).
func (cs *clientServer) cli(t *testing.T, extra map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	env := map[string]string{}
	for k, v := range cs.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// apiData is the data of the server's own answer to a GET.
func (cs *clientServer) apiData(t *testing.T, path, token string) any {
	t.Helper()
	req, _ := http.NewRequest("GET", cs.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		StatusCode int `json:"statusCode"`
		Data       any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d, %v", path, resp.StatusCode, err)
	}
	return env.Data
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return v
}

// fits80 fails for any output line wider than an 80-column terminal.
func fits80(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("a line of %d columns:\n%s", n, line)
		}
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// TestClientImagesListEqualsAPI: the seed's example query answers exactly
// what the API answers for it, as JSON and as a table.
func TestClientImagesListEqualsAPI(t *testing.T) {
	cs := newClientServer(t)
	out, _, err := cs.cli(t, nil, "", "images", "list", "--search", "docker", "--sort-by", "rating", "--sort-order", "desc", "--limit", "10", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	want := cs.apiData(t, "/api/v1/images/public?search=docker&sort_by=rating&sort_order=desc&limit=10", "")
	if got := decodeJSON(t, out); !reflect.DeepEqual(got, want) {
		t.Fatalf("berth images list --output json differs from the API:\n got %v\nwant %v", got, want)
	}
	images := want.(map[string]any)["images"].([]any)
	if len(images) < 2 {
		t.Fatalf("the query finds %d images; the test needs a few", len(images))
	}
	if images[0].(map[string]any)["rating_count"].(float64) == 0 {
		t.Fatal("the demo ratings are missing: the sort is not tested")
	}

	// The table lists the same images in the same order, within 80 columns.
	table, _, err := cs.cli(t, nil, "", "images", "list", "--search", "docker", "--sort-by", "rating", "--sort-order", "desc", "--limit", "10")
	if err != nil {
		t.Fatal(err)
	}
	fits80(t, table)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != len(images)+2 || !strings.HasPrefix(lines[0], "ID ") || !strings.HasPrefix(lines[len(lines)-1], "Page 1 of ") {
		t.Fatalf("table:\n%s", table)
	}
	for i, img := range images {
		m := img.(map[string]any)
		if f := strings.Fields(lines[i+1]); f[0] != m["id"] {
			t.Errorf("row %d is %s, want %s", i, f[0], m["id"])
		}
	}
	if !strings.Contains(table, "docker") {
		t.Errorf("no alias shown:\n%s", table)
	}

	// Every filter flag reaches the API under its parameter's name.
	args := []string{"images", "list", "--os", "ubuntu", "--architecture", "arm64", "--variant", "standard", "--min-price", "0",
		"--max-price", "100", "--min-rating", "0", "--sort-by", "name", "--sort-order", "asc", "--page", "1", "--limit", "3", "--output", "json"}
	out, _, err = cs.cli(t, nil, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	want = cs.apiData(t, "/api/v1/images/public?os=ubuntu&architecture=arm64&variant=standard&min_price=0&max_price=100&min_rating=0&sort_by=name&sort_order=asc&page=1&limit=3", "")
	if got := decodeJSON(t, out); !reflect.DeepEqual(got, want) {
		t.Fatalf("with every filter:\n got %v\nwant %v", got, want)
	}
	if n := len(want.(map[string]any)["images"].([]any)); n == 0 {
		t.Fatalf("the filtered page has %d images", n)
	}
	// Page 2 of the same query.
	out, _, err = cs.cli(t, nil, "", "images", "list", "--os", "debian", "--page", "2", "--limit", "4", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeJSON(t, out); !reflect.DeepEqual(got, cs.apiData(t, "/api/v1/images/public?os=debian&page=2&limit=4", "")) {
		t.Fatal("page 2 differs from the API")
	}
}

// TestClientBadFlags: mistakes on the command line are usage errors (exit
// 2) before any request; values only the server can judge come back with
// the server's message naming the parameter.
func TestClientBadFlags(t *testing.T) {
	cs := newClientServer(t)
	for _, args := range [][]string{
		{"images"}, {"images", "frob"}, {"images", "list", "--nope"}, {"images", "list", "--limit", "ten"},
		{"images", "list", "--output", "yaml"}, {"images", "list", "stray"}, {"images", "show"},
		{"images", "show", "a", "b"}, {"images", "import"}, {"images", "buy"}, {"images", "rate", "debian/13"},
		{"images", "rate", "debian/13", "4.5"}, {"library", "extra"}, {"wallet", "frob"}, {"wallet", "--output", "xml"},
		{"login", "--url", "ftp://x"}, {"login", "extra"},
	} {
		_, _, err := cs.cli(t, nil, "", args...)
		if !isUsage(err) {
			t.Errorf("berth %q = %v, want a usage error", args, err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"images", "list", "--min-price", "-1"}, "min_price cannot be negative"},
		{[]string{"images", "list", "--min-price", "20", "--max-price", "10"}, "min_price cannot be greater than max_price"},
		{[]string{"images", "list", "--sort-by", "colour"}, "sort_by must be one of"},
		{[]string{"images", "list", "--limit", "500"}, "limit must be a whole number from 1 to 100"},
		{[]string{"images", "list", "--page", "0"}, "page must be a whole number from 1"},
		{[]string{"images", "list", "--architecture", "sparc"}, "architecture must be one of"},
		{[]string{"images", "rate", "debian/13", "9"}, "rating must be a whole number from 0 to 5"},
	} {
		_, _, err := cs.cli(t, nil, "", tc.args...)
		if err == nil || isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("berth %q = %v, want the server's %q", tc.args, err, tc.want)
		}
	}
}

// TestClientCommands runs every client command against the server: show,
// import, buy, rate, library and wallet, and the refusals each can meet.
func TestClientCommands(t *testing.T) {
	cs := newClientServer(t)
	poor := map[string]string{"BERTH_TOKEN": cs.poor}

	// show: by alias (amd64 unless told), by id, and as JSON.
	out, _, err := cs.cli(t, nil, "", "images", "show", "debian/13")
	if err != nil || !strings.Contains(out, "Alias:        debian/13\n") || !strings.Contains(out, "ID:           "+cs.freeID+"\n") ||
		!strings.Contains(out, "Architecture: amd64") || !strings.Contains(out, "Price:        free") {
		t.Fatalf("show debian/13 = %v\n%s", err, out)
	}
	fits80(t, strings.SplitN(out, "\n\n", 2)[0])
	armID := store.ImageID("debian/13", "arm64")
	if out, _, err = cs.cli(t, nil, "", "images", "show", "debian/13", "--architecture", "arm64"); err != nil || !strings.Contains(out, armID) {
		t.Fatalf("show --architecture arm64 = %v\n%s", err, out)
	}
	out, _, err = cs.cli(t, nil, "", "images", "show", cs.paidID, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodeJSON(t, out), cs.apiData(t, "/api/v1/images/public/"+cs.paidID, ""); !reflect.DeepEqual(got, want) {
		t.Fatalf("show --output json differs from the API:\n got %v\nwant %v", got, want)
	}
	for _, tc := range []struct{ ref, want string }{
		{strings.Repeat("0", 24), `No image has the id "000000000000000000000000".`},
		{"ubuntu/99.04", `No image has the alias "ubuntu/99.04"`},
		{"ubuntu:24.04", "written like a registry tag"},
	} {
		if _, _, err := cs.cli(t, nil, "", "images", "show", tc.ref); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("show %s = %v, want %q", tc.ref, err, tc.want)
		}
	}

	// import: a free image, again, and a paid one.
	if out, _, err = cs.cli(t, nil, "", "images", "import", "debian/13"); err != nil || out != "Free image imported successfully: "+cs.freeID+"\n" {
		t.Fatalf("import = %q, %v", out, err)
	}
	if _, _, err = cs.cli(t, nil, "", "images", "import", cs.freeID); err != nil {
		t.Fatalf("import again = %v", err)
	}
	if _, _, err = cs.cli(t, nil, "", "images", "import", "fedora/42-python-data"); err == nil ||
		!strings.Contains(err.Error(), "buy it instead of importing it: POST /api/v1/images/purchase/"+cs.paidID) {
		t.Fatalf("import of a paid image = %v", err)
	}

	// buy: a paid image, again (nothing charged), without the money, a free one.
	if out, _, err = cs.cli(t, nil, "", "images", "buy", "fedora/42-python-data", "--idempotency-key", "k1"); err != nil ||
		out != "Image purchased successfully: "+cs.paidID+" for $15.00. Balance $85.00.\n" {
		t.Fatalf("buy = %q, %v", out, err)
	}
	if out, _, err = cs.cli(t, nil, "", "images", "buy", cs.paidID); err != nil || !strings.Contains(out, "nothing charged") || !strings.Contains(out, "$85.00") {
		t.Fatalf("buy again = %q, %v", out, err)
	}
	// A price other than the one agreed: nothing charged, the new price said.
	if _, _, err = cs.cli(t, nil, "", "images", "buy", cs.priceyID, "--expected-price", "20"); err == nil ||
		!strings.Contains(err.Error(), "is now $25, not the $20 you confirmed. Nothing was charged") {
		t.Fatalf("buy at a stale price = %v", err)
	}
	if _, _, err = cs.cli(t, nil, "", "images", "buy", cs.priceyID, "--expected-price", "lots"); !isUsage(err) {
		t.Fatalf("buy --expected-price lots = %v", err)
	}
	if _, _, err = cs.cli(t, poor, "", "images", "buy", cs.priceyID); err == nil || !strings.Contains(err.Error(), "Not enough funds") {
		t.Fatalf("buy without the money = %v", err)
	}
	if _, _, err = cs.cli(t, nil, "", "images", "buy", "debian/13"); err == nil || !strings.Contains(err.Error(), "import it instead") {
		t.Fatalf("buy of a free image = %v", err)
	}

	// rate: an owned image, one not owned.
	if out, _, err = cs.cli(t, nil, "", "images", "rate", "debian/13", "4"); err != nil || !strings.HasPrefix(out, "Rated "+cs.freeID+" 4.") {
		t.Fatalf("rate = %q, %v", out, err)
	}
	if _, _, err = cs.cli(t, nil, "", "images", "rate", cs.priceyID, "5"); err == nil || !strings.Contains(err.Error(), "Only people who use an image can rate it") {
		t.Fatalf("rate of an image not owned = %v", err)
	}

	// library: both images, as a table and as the API's data.
	out, _, err = cs.cli(t, nil, "", "library")
	if err != nil || !strings.Contains(out, cs.freeID+" debian/13") || !strings.Contains(out, cs.paidID+" fedora/42-python-data") ||
		!strings.Contains(out, "purchase") || !strings.Contains(out, "$15.00") || !strings.Contains(out, "2 image(s)") {
		t.Fatalf("library = %v\n%s", err, out)
	}
	fits80(t, out)
	out, _, err = cs.cli(t, nil, "", "library", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodeJSON(t, out), cs.apiData(t, "/api/v1/images/user", cs.ada); !reflect.DeepEqual(got, want) {
		t.Fatalf("library --output json differs from the API:\n got %v\nwant %v", got, want)
	}
	if out, _, err = cs.cli(t, poor, "", "library"); err != nil || !strings.Contains(out, "Your library is empty") {
		t.Fatalf("empty library = %q, %v", out, err)
	}

	// wallet: the balance and the history, newest first.
	out, _, err = cs.cli(t, nil, "", "wallet")
	if err != nil || !strings.HasPrefix(out, "Balance: $85.00 USD\n") {
		t.Fatalf("wallet = %v\n%s", err, out)
	}
	fits80(t, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.Contains(lines[3], "purchase") || !strings.Contains(lines[3], "-$15.00") ||
		!strings.Contains(lines[3], "fedora/42-python-data (amd64)") || !strings.Contains(lines[4], "credit") || !strings.Contains(lines[4], "$100.00") {
		t.Fatalf("wallet history:\n%s", out)
	}
	out, _, err = cs.cli(t, nil, "", "wallet", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	got := decodeJSON(t, out).(map[string]any)
	if !reflect.DeepEqual(got["history"], cs.apiData(t, "/api/v1/wallet/history", cs.ada).(map[string]any)["history"]) ||
		!reflect.DeepEqual(got["balances"], cs.apiData(t, "/api/v1/wallet/balances", cs.ada).(map[string]any)["balances"]) {
		t.Fatalf("wallet --output json differs from the API: %s", out)
	}
}

// TestClientAuthAndServerDown: a revoked or missing token and a server
// that is not there all fail with a message that says so.
func TestClientAuthAndServerDown(t *testing.T) {
	cs := newClientServer(t)
	revoked := map[string]string{"BERTH_TOKEN": cs.revoked}
	for _, args := range [][]string{{"library"}, {"wallet"}, {"images", "import", "debian/13"}, {"images", "buy", cs.paidID}, {"images", "rate", "debian/13", "3"}} {
		if _, _, err := cs.cli(t, revoked, "", args...); err == nil || !strings.Contains(err.Error(), "This API token is not valid") {
			t.Errorf("%q with a revoked token = %v", args, err)
		}
		if _, _, err := cs.cli(t, map[string]string{"BERTH_TOKEN": ""}, "", args...); err == nil || !strings.Contains(err.Error(), "Missing API token") {
			t.Errorf("%q without a token = %v", args, err)
		}
	}
	// The catalog needs no token, revoked or not.
	if _, _, err := cs.cli(t, revoked, "", "images", "list", "--limit", "1"); err != nil {
		t.Errorf("list with a revoked token = %v", err)
	}

	// A server that is down: a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{{"images", "list"}, {"images", "show", "debian/13"}, {"library"}, {"wallet"}, {"images", "import", "debian/13"}} {
		_, _, err := cs.cli(t, map[string]string{"BERTH_URL": down}, "", args...)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the Berth server at "+down) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%q against a server that is down = %v", args, err)
		}
	}
	// Something that is not Berth.
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	if _, _, err := cs.cli(t, map[string]string{"BERTH_URL": other.URL}, "", "images", "list"); err == nil || !strings.Contains(err.Error(), "did not answer like a Berth server (HTTP 404") {
		t.Errorf("against a server that is not Berth = %v", err)
	}
}

// TestClientLogin: berth login checks the token and saves it with the
// address, readable by its owner only; later commands use it, and
// BERTH_URL and BERTH_TOKEN override it.
func TestClientLogin(t *testing.T) {
	cs := newClientServer(t)
	bare := map[string]string{"BERTH_URL": "", "BERTH_TOKEN": ""}
	path := filepath.Join(cs.configHome, "berth", "config.json")

	// Before any log-in: the default server, which is not this one.
	if _, _, err := cs.cli(t, bare, "", "library"); err == nil || !strings.Contains(err.Error(), defaultServer) && !strings.Contains(err.Error(), "Missing API token") {
		t.Fatalf("library before log-in = %v", err)
	}
	// A refused token is not saved.
	if _, _, err := cs.cli(t, bare, "", "login", "--url", cs.url, "--token", cs.revoked); err == nil || !strings.Contains(err.Error(), "This API token is not valid") {
		t.Fatalf("login with a revoked token = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused log-in left %s: %v", path, err)
	}
	// The token from standard input.
	out, stderr, err := cs.cli(t, bare, cs.ada+"\n", "login", "--url", cs.url+"/")
	if err != nil || !strings.Contains(out, "Logged in to "+cs.url) || !strings.Contains(stderr, "API token for") {
		t.Fatalf("login = %q %q %v", out, stderr, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved log-in %s: %v %v", path, st.Mode(), err)
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Errorf("config directory mode %v", dir.Mode())
	}
	var saved clientConfig
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &saved); err != nil || saved.URL != cs.url || saved.Token != cs.ada {
		t.Fatalf("saved %s, %v", b, err)
	}
	// Later commands use it.
	if out, _, err := cs.cli(t, bare, "", "wallet"); err != nil || !strings.HasPrefix(out, "Balance: $100.00 USD") {
		t.Fatalf("wallet after log-in = %q, %v", out, err)
	}
	// The environment wins: another token, another server.
	if out, _, err := cs.cli(t, map[string]string{"BERTH_URL": "", "BERTH_TOKEN": cs.poor}, "", "wallet"); err != nil || !strings.HasPrefix(out, "Balance: $5.00 USD") {
		t.Fatalf("wallet with BERTH_TOKEN = %q, %v", out, err)
	}
	if _, _, err := cs.cli(t, map[string]string{"BERTH_URL": "", "BERTH_TOKEN": cs.revoked}, "", "wallet"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("wallet with a revoked BERTH_TOKEN = %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()
	if _, _, err := cs.cli(t, map[string]string{"BERTH_URL": down, "BERTH_TOKEN": ""}, "", "wallet"); err == nil || !strings.Contains(err.Error(), down) {
		t.Fatalf("wallet with BERTH_URL = %v", err)
	}
	// Logging in again with --token replaces the saved one.
	if _, _, err := cs.cli(t, bare, "", "login", "--token", cs.poor); err != nil {
		t.Fatal(err)
	}
	if out, _, err := cs.cli(t, bare, "", "wallet"); err != nil || !strings.HasPrefix(out, "Balance: $5.00 USD") {
		t.Fatalf("wallet after the second log-in = %q, %v", out, err)
	}
	// A revoked saved token: the server's message, and the way out.
	ctx := context.Background()
	u, _ := cs.db.FindUserByEmail(ctx, cs.poorEmail)
	if _, err := cs.db.RevokeAllTokens(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cs.cli(t, bare, "", "library"); err == nil || !strings.Contains(err.Error(), "This API token is not valid") {
		t.Fatalf("library with a revoked saved token = %v", err)
	}
}

// TestHelpListsEveryCommand: berth help and berth --help list every client
// and operator command, in two groups, within 80 columns.
func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		out, err := berth(t, args...)
		if err != nil {
			t.Fatalf("berth %v = %v", args, err)
		}
		client := strings.Index(out, "Client commands")
		operator := strings.Index(out, "Operator commands")
		if client < 0 || operator < client {
			t.Fatalf("berth %v has no client and operator groups:\n%s", args, out)
		}
		for _, cmd := range []string{"login", "images list", "images show", "images import", "images buy", "images rate", "library", "wallet"} {
			if i := strings.Index(out, "\n  "+cmd+" "); i < client || i > operator {
				t.Errorf("berth %v: %q is not among the client commands", args, cmd)
			}
		}
		for _, cmd := range []string{"serve", "user create", "user password", "token create", "wallet credit", "voucher create", "demo",
			"catalog import", "catalog export", "catalog generate", "image load", "image gc", "backup", "check", "version", "help"} {
			if i := strings.Index(out, "\n  "+cmd+" "); i < operator {
				t.Errorf("berth %v: %q is not among the operator commands", args, cmd)
			}
		}
		fits80(t, out)
	}
	// A command's own --help is still its flags.
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"images", "list", "--help"}, noEnv, strings.NewReader(""), &out, &errOut)
	if !isUsage(err) || !strings.Contains(errOut.String(), "-sort-by") {
		t.Errorf("images list --help = %v\n%s", err, errOut.String())
	}
}

// TestClientExitStatus runs the real main: the server's message on
// stderr and status 1 for a refusal, status 2 for a bad flag, 0 otherwise.
func TestClientExitStatus(t *testing.T) {
	cs := newClientServer(t)
	for _, tc := range []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"images", "list", "--limit", "1"}, 0, ""},
		{[]string{"images", "show", strings.Repeat("0", 24)}, 1, `berth: No image has the id "000000000000000000000000".`},
		{[]string{"images", "list", "--min-price", "-1"}, 1, "berth: min_price cannot be negative"},
		{[]string{"images", "list", "--output", "yaml"}, 2, `berth: --output "yaml": use table or json`},
	} {
		b, _ := json.Marshal(tc.args)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BERTH_TEST_MAIN_ARGS="+string(b), "BERTH_URL="+cs.url, "BERTH_TOKEN="+cs.ada, "XDG_CONFIG_HOME="+cs.configHome)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != tc.status || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("berth %q: status %d, stderr %q; want %d and %q", tc.args, status, stderr.String(), tc.status, tc.stderr)
		}
	}
}
