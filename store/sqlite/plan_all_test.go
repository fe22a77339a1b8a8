package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/storetest"
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
	storetest.Operate(t, db)
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
		plan, err := queryPlan(ctx, conn, q, args...)
		if err != nil {
			t.Errorf("explain %s: %v", q, err)
			continue
		}
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
	unrun := storetest.StatementsNotRun(t, queriesOf(stmts), nil, nil)
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
	storetest.Exercise(t, db, db.FindImages, storetest.GeneratedImage(t, db))
}

// queriesOf is the SQL of the recorded statements.
func queriesOf(stmts []recorded) []string {
	out := make([]string, len(stmts))
	for i, r := range stmts {
		out[i] = r.query
	}
	return out
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
	called := storetest.CalledOn(t, []string{"plan_all_test.go", "../storetest/exercise.go"}, // exercise calls storetest.Exercise
		[]string{"exercise", "Operate", "TestEveryStatementUsesIndexes", "Exercise"}, []string{"db", "small"})
	st := reflect.TypeFor[store.Store]()
	for i := range st.NumMethod() {
		name := st.Method(i).Name
		if _, exempt := exemptFromExercise[name]; !called[name] && !exempt {
			t.Errorf("exercise never calls %s: its statements escape the plan test", name)
		}
	}
}
