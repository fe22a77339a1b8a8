package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

// recorder keeps every statement the store sends to SQLite, with the
// arguments of its first run.
type recorder struct {
	mu    sync.Mutex
	seen  map[string]bool
	stmts []recorded
}

type recorded struct {
	query string
	args  []driver.NamedValue
}

func (r *recorder) add(query string, args []driver.NamedValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[query] {
		return
	}
	r.seen[query] = true
	r.stmts = append(r.stmts, recorded{query, slices.Clone(args)})
}

// recordingDriver is modernc's driver with every query, exec and prepared
// statement's run noted in rec.
type recordingDriver struct {
	driver.Driver
	rec *recorder
}

type fullConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

type recordingConn struct {
	fullConn
	rec *recorder
}

type recordingStmt struct {
	driver.Stmt
	query string
	rec   *recorder
}

func (d *recordingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return recordingConn{c.(fullConn), d.rec}, nil
}

func (c recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.rec.add(q, args)
	return c.fullConn.QueryContext(ctx, q, args)
}

func (c recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.rec.add(q, args)
	return c.fullConn.ExecContext(ctx, q, args)
}

func (c recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.fullConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return recordingStmt{st, q, c.rec}, nil
}

func (s recordingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.rec.add(s.query, args)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s recordingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.rec.add(s.query, args)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

var registerRecording sync.Once
var planRecorder = &recorder{seen: map[string]bool{}}

// fullScan finds a plan line that reads a whole table we must never read
// whole on a request: a SCAN without an index, or one through an index
// with no bound (SQLite says SEARCH when an index narrows the rows).
var fullScan = regexp.MustCompile(`^SCAN (images|library|ratings|ledger)\b`)

// tableAlias finds the names a statement gives those tables (images i), as
// plans name tables by them.
var tableAlias = regexp.MustCompile(`\b(?:images|library|ratings|ledger)\s+(?:AS\s+)?([a-z]\w*)\b`)

// scansWhole tells whether a plan line reads a whole guarded table: a SCAN
// of it or of its alias, or an automatic index, which SQLite builds by
// reading the whole table on every run.
func scansWhole(line, query string) bool {
	if fullScan.MatchString(line) {
		return true
	}
	for _, m := range tableAlias.FindAllStringSubmatch(query, -1) {
		switch strings.ToUpper(m[1]) {
		case "ON", "WHERE", "JOIN", "LEFT", "USING", "SET", "VALUES", "ORDER", "GROUP", "LIMIT", "WHEN", "AND", "OR":
			continue
		}
		if strings.HasPrefix(line, "SCAN "+m[1]+" ") || line == "SCAN "+m[1] ||
			strings.Contains(line, " "+m[1]+" USING AUTOMATIC") {
			return true
		}
	}
	return strings.Contains(line, "AUTOMATIC") && fullScan.MatchString("SCAN "+strings.Fields(line + " x x")[1])
}

// listingBuild matches the listing index's build and catch-up reads: they
// read every row on purpose, once per catalog generation, through the
// aggregates only they use.
var listingBuild = regexp.MustCompile(`berth_(rowset|seqlist|runs)\(|COUNT\(DISTINCT price_cents\)`)

// intentional marks statements that read everything on purpose, once per
// run or per change rather than per request (index builds, export, the
// invariant check, bulk loads).
const intentional = "/* full scan:"

// TestEveryStatementUsesIndexes runs every store operation a request can
// reach on a generated catalog through a driver that records each SQL
// statement the store itself sends, then asks SQLite for each one's plan
// and fails on a full scan of images, library, ratings or ledger.
func TestEveryStatementUsesIndexes(t *testing.T) {
	registerRecording.Do(func() {
		// The registered driver, with the functions store/sqlite adds to it.
		base, _ := sql.Open("sqlite", "")
		sql.Register("sqlite-recording", &recordingDriver{Driver: base.Driver(), rec: planRecorder})
	})
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plan.db")
	db, err := open(ctx, path, "sqlite-recording")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.PasswordCost = 4
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadDefaultCatalog(ctx); err != nil { // a start on a full catalog
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 20000, 3); err != nil {
		t.Fatal(err)
	}
	exercise(t, db)
	// Again with the listing index built: listings then read rows by seq.
	if _, err := db.buildListIndexNow(ctx); err != nil {
		t.Fatal(err)
	}
	exercise(t, db)
	operate(t, db)
	// The demo rates and buys across the whole catalog, which at this
	// size takes minutes: it is seeded on the default catalog alone, and
	// its statements are explained against the large one below.
	small, err := open(ctx, filepath.Join(t.TempDir(), "demo.db"), "sqlite-recording")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	small.PasswordCost = 4
	if _, err := small.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := small.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}

	planRecorder.mu.Lock()
	stmts := slices.Clone(planRecorder.stmts)
	planRecorder.mu.Unlock()
	conn, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	checked := 0
	for _, st := range stmts {
		q := strings.TrimSpace(st.query)
		verb := strings.ToUpper(strings.Fields(q + " x")[0])
		if !slices.Contains([]string{"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"}, verb) || strings.Contains(q, intentional) ||
			listingBuild.MatchString(q) {
			continue
		}
		args := make([]any, len(st.args))
		for i, a := range st.args {
			args[i] = a.Value
		}
		rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Errorf("explain %s: %v", q, err)
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		checked++
		for _, line := range plan {
			// An ordered walk of an index that stops at a LIMIT reads what
			// the page needs, not the table.
			walk := (strings.Contains(line, " USING INDEX ") || strings.Contains(line, " USING COVERING INDEX ")) &&
				strings.Contains(q, " LIMIT ")
			if scansWhole(line, q) && !walk {
				short := strings.Join(strings.Fields(q), " ")
				if len(short) > 400 {
					short = short[:400] + "…"
				}
				t.Errorf("full scan in a store statement:\n%s\nplan:\n  %s", short, strings.Join(plan, "\n  "))
				break
			}
		}
	}
	unrun := statementsNotRun(t, stmts)
	for _, lit := range unrun {
		t.Errorf("the store has a statement the plan test never ran (call what runs it in exercise or operate):\n%s", lit)
	}
	if checked < 40 {
		t.Fatalf("only %d statements checked: the recording missed the store's queries", checked)
	}
	t.Logf("%d distinct statements checked", checked)
}

// exercise calls every store operation a request can reach.
func exercise(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil && store.ErrorCode(err) == store.EINTERNAL {
			t.Fatal(err)
		}
	}
	queries := []string{"", "os=ubuntu", "architecture=arm64", "variant=minimal", "prespawn=true", "min_price=5&max_price=15",
		"min_rating=4", "alias=ubuntu/24.04", "alias=ubuntu/24.04&search=ubuntu", "search=docker", "search=docker&os=debian", "search=redis&sort_by=price", "page=3&limit=7",
		"support=ended", "support=ending", "support=supported", "support=supported&os=debian", "signed=true", "signed=false",
		"max_severity=high", "max_severity=none&sort_by=name", "signed=true&max_severity=medium&support=supported&search=docker"}
	for _, k := range store.SortKeys {
		queries = append(queries, "sort_by="+k, "sort_by="+k+"&sort_order=asc", "os=alpine&sort_by="+k)
	}
	for _, raw := range queries {
		q, _ := url.ParseQuery(raw)
		f, err := store.ParseFilter(q)
		must(err)
		_, err = db.FindImages(ctx, f)
		must(err)
		f.Group = store.GroupAlias
		_, err = db.FindImages(ctx, f)
		must(err)
	}
	for _, raw := range []string{"", "os=debian", "search=docker&architecture=arm64", "support=ended&signed=true", "alias=debian/13"} {
		q, _ := url.ParseQuery(raw)
		f, err := store.ParseFilter(q)
		must(err)
		_, err = db.FeedEvents(ctx, f, store.FeedLimit)
		must(err)
	}
	img, err := db.FindImageByAlias(ctx, "headjack/systemd", "amd64")
	must(err)
	_, err = db.FindImageByAlias(ctx, "headjack/systemd", "")
	must(err)
	_, err = db.FindImage(ctx, img.ID)
	must(err)
	_, err = db.FindSiblings(ctx, img)
	must(err)
	_, err = db.FindLineage(ctx, img)
	must(err)
	_, err = db.FindFacets(ctx)
	must(err)
	_, err = db.Histogram(ctx, img.ID)
	must(err)
	_, err = db.Generation(ctx)
	must(err)
	// Every member of the family, on each architecture: a root with
	// descendants, a middle and a leaf of the recursive lineage.
	for _, a := range []string{"headjack/base", "headjack/systemd", "headjack/dind"} {
		for _, arch := range []string{"amd64", "arm64"} {
			m, err := db.FindImageByAlias(ctx, a, arch)
			must(err)
			if m != nil {
				_, err = db.FindLineage(ctx, m)
				must(err)
				_, err = db.FindSiblings(ctx, m)
				must(err)
			}
		}
	}
	// A generated image: no family, thousands of neighbours in alias order.
	gen := generatedImage(t, db)
	_, err = db.FindImage(ctx, gen.ID)
	must(err)
	_, err = db.FindSiblings(ctx, gen)
	must(err)
	_, err = db.FindLineage(ctx, gen)
	must(err)
	_, err = db.Histogram(ctx, gen.ID)
	must(err)
	typo := []byte(gen.Alias)
	typo[1], typo[2] = typo[2], typo[1]
	// Hits and misses: respellings, wrong formats, image names and pull
	// references where an alias belongs, other architectures.
	for _, a := range []string{"ubuntu/24.04", "ubuntu:24.04", "ubunto/24.04", "ubuntu", "debian-13", "nothing/here",
		"ubuntu-24.04-amd64", "Ubuntu 24.04", gen.Alias, string(typo), gen.ImageName, gen.Alias + "x", "ghcr.io/gilmanlab/headjack:base",
		"headjack/dind", "headjack/dindd", strings.Repeat("z", 300)} {
		for _, arch := range []string{"", "arm64", "armhf"} {
			_, err = db.ResolveAlias(ctx, a, arch)
			must(err)
			must(db.ExplainAlias(ctx, a, arch))
			_, err = db.SuggestAliases(ctx, a, arch, store.MaxSuggestions)
			must(err)
		}
	}
	_, err = db.CountImages(ctx)
	must(err)
	must(db.Ping(ctx))

	email := fmt.Sprintf("plan%d@example.com", time.Now().UnixNano())
	u, err := db.CreateUser(ctx, email, "correct horse battery")
	must(err)
	_, err = db.Authenticate(ctx, email, "correct horse battery")
	must(err)
	_, err = db.FindUser(ctx, u.ID)
	must(err)
	_, err = db.FindUserByEmail(ctx, email)
	must(err)
	secret, tok, err := db.CreateToken(ctx, u.ID, "plan")
	must(err)
	_, err = db.UserByToken(ctx, secret)
	must(err)
	_, err = db.Tokens(ctx, u.ID)
	must(err)
	must(db.RevokeToken(ctx, u.ID, tok.ID))
	_, err = db.Credit(ctx, u.ID, 10000, "plan")
	must(err)
	free, err := db.FindImageByAlias(ctx, "debian/13", "amd64")
	must(err)
	paid, err := db.FindImageByAlias(ctx, "ubuntu/24.04-k3s", "amd64")
	must(err)
	must(db.Import(ctx, u.ID, free.ID))
	_, err = db.Purchase(ctx, u.ID, paid.ID, "plan-key-"+email)
	must(err)
	_, err = db.Purchase(ctx, u.ID, paid.ID, "plan-key-"+email)
	must(err)
	_, err = db.Owns(ctx, u.ID, paid.ID)
	must(err)
	_, err = db.Library(ctx, u.ID)
	must(err)
	_, err = db.Rate(ctx, u.ID, free.ID, 4)
	must(err)
	_, err = db.Rate(ctx, u.ID, free.ID, 2) // a rating replaced
	must(err)
	must(db.Import(ctx, u.ID, paid.ID)) // refused: it is paid
	must(db.Import(ctx, u.ID, free.ID)) // owned already
	_, _, err = db.UserRating(ctx, u.ID, free.ID)
	must(err)
	_, err = db.Balance(ctx, u.ID)
	must(err)
	_, err = db.Ledger(ctx, u.ID)
	must(err)
	_, err = db.LibraryEvents(ctx, u.ID, store.FeedLimit)
	must(err)
	key, err := db.CreateFeedKey(ctx, u.ID)
	must(err)
	_, err = db.UserByFeedKey(ctx, key)
	must(err)
	_, err = db.FeedKeyCreated(ctx, u.ID)
	must(err)
	must(db.RevokeFeedKey(ctx, u.ID))
	sid := store.NewSecret(16)
	must(db.SaveSession(ctx, sid, store.SessionRecord{UserID: u.ID, Data: "{}", ExpiresAt: time.Now().Add(time.Hour)}))
	_, err = db.LoadSession(ctx, sid)
	must(err)
	_, err = db.CountSessions(ctx, u.ID)
	must(err)
	_, err = db.DeleteOtherSessions(ctx, u.ID, sid)
	must(err)
	must(db.DeleteSession(ctx, sid))
	// Someone who cannot afford an image, and the limits of an account.
	poor, err := db.CreateUser(ctx, "poor-"+email, "correct horse battery")
	must(err)
	_, err = db.Purchase(ctx, poor.ID, paid.ID, "")
	must(err)
	_, err = db.PurchaseAtPrice(ctx, poor.ID, paid.ID, "", paid.PriceCents+1) // a changed price
	must(err)
	must(db.SetPassword(ctx, u.ID, "another horse battery"))
	_, err = db.RevokeAllTokens(ctx, u.ID)
	must(err)
	codes, err := db.CreateVouchers(ctx, 500, 1, time.Time{})
	must(err)
	_, err = db.RedeemVoucher(ctx, u.ID, codes[0])
	must(err)
	_, err = db.RedeemVoucher(ctx, u.ID, codes[0])
	must(err)

	// Content: a recorded build, what the registry and gc read, pulls.
	d := "sha256:" + strings.Repeat("ab", 32)
	must(db.RecordBuild(ctx, store.Build{ImageID: free.ID, Kind: store.ContentOCI,
		Manifest: store.Blob{Digest: d, Size: 10, MediaType: "application/vnd.oci.image.manifest.v1+json"},
		Blobs:    []store.Blob{{Digest: d, Size: 10, MediaType: "m", Role: store.RoleManifest}}}))
	_, err = db.FindBuild(ctx, free.ID, store.ContentOCI)
	must(err)
	_, _, err = db.AliasBuilds(ctx, free.Alias, store.ContentOCI)
	must(err)
	_, err = db.KindBuilds(ctx, store.ContentOCI)
	must(err)
	_, err = db.ReferencedBlobs(ctx)
	must(err)
	must(db.RecordPull(ctx, u.ID, free.ID))
	_, err = db.LastPulls(ctx, u.ID)
	must(err)
	key, pk, err := db.CreatePullKey(ctx, u.ID)
	must(err)
	_, err = db.UserByPullKey(ctx, key)
	must(err)
	_, err = db.PullKeys(ctx, u.ID)
	must(err)
	must(db.RevokePullKey(ctx, u.ID, pk.ID))
}

// operate runs the operator's commands once: an import that updates an
// image and adds one, an export, the invariant check. (The demo is seeded
// in TestEveryStatementUsesIndexes, on a small catalog of its own.)
func operate(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil && store.ErrorCode(err) == store.EINTERNAL {
			t.Fatal(err)
		}
	}
	gen := generatedImage(t, db)
	changed := store.CatalogImageOf(gen)
	changed.Description += " (edited)"
	added := store.CatalogImageOf(gen)
	added.ID, added.Alias, added.ImageName, added.Variant = "", gen.OS+"/"+gen.Release+"-plan", gen.ImageName+"-plan", "plan"
	cat, err := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{changed, added}})
	must(err)
	if res, err := db.ImportCatalog(ctx, bytes.NewReader(cat)); err != nil {
		t.Fatalf("import: %v", err)
	} else {
		t.Logf("import: %+v", res)
	}
	must(db.ExportCatalog(ctx, io.Discard))
	// berth migrate-to reads every table (its statements are full scans).
	must(db.Dump(ctx, func(store.DumpTable, [][]any) error { return nil }))
	_, err = db.Check(ctx)
	must(err)
}

// statementsNotRun returns the SQL string literals of the package's own
// code (not its tests) that no recorded statement contains: statements
// the store can run that exercise and operate never made it run. Literals
// joined with + to other parts are each found inside the statement they
// build.
func statementsNotRun(t *testing.T, ran []recorded) []string {
	t.Helper()
	norm := func(q string) string { return strings.Join(strings.Fields(q), " ") }
	var all strings.Builder
	for _, r := range ran {
		all.WriteString(norm(r.query))
		all.WriteString("\n")
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			q := norm(v)
			// SQL is written in capitals here; messages are not.
			verb := strings.Fields(q + " x")[0]
			if !slices.Contains([]string{"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"}, verb) || len(q) < 12 {
				return true
			}
			if !strings.Contains(all.String(), q) {
				missing = append(missing, fset.Position(lit.Pos()).String()+": "+q)
			}
			return true
		})
	}
	return missing
}

// generatedImage returns an image of the generated part of the catalog.
func generatedImage(t *testing.T, db *DB) *store.Image {
	t.Helper()
	page, err := db.FindImages(context.Background(), store.Filter{OS: "debian", SortBy: "added_date", SortOrder: "desc", Page: 1, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range page.Images {
		if strings.Contains(img.Release, ".b") {
			return img
		}
	}
	t.Fatal("no generated image among the newest debian images")
	return nil
}

// exemptFromExercise are the Store methods exercise does not call, and why.
var exemptFromExercise = map[string]string{
	"Backup":                    "VACUUM INTO copies the file; it runs no query on the tables",
	"Close":                     "no SQL",
	"PrepareListings":           "starts the listing index build, whose reads are listingBuild's",
	"ListingIndexStatus":        "no SQL",
	"ListingIndexBuildFailures": "no SQL",
	"SetLogger":                 "no SQL",
	"Unavailable":               "no SQL: it classifies an error",
}

// TestPlanTestCallsEveryStoreMethod fails when a method is added to the
// Store without exercise calling it (or saying here why not), so that the
// plan test keeps covering every statement the store runs.
func TestPlanTestCallsEveryStoreMethod(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "plan_all_test.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || !slices.Contains([]string{"exercise", "operate", "TestEveryStatementUsesIndexes"}, fn.Name.Name) {
			continue
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "db" || x.Name == "small") {
						called[sel.Sel.Name] = true
					}
				}
			}
			return true
		})
	}
	st := reflect.TypeFor[store.Store]()
	for i := range st.NumMethod() {
		name := st.Method(i).Name
		if _, exempt := exemptFromExercise[name]; !called[name] && !exempt {
			t.Errorf("exercise never calls %s: its statements escape the plan test", name)
		}
	}
}
