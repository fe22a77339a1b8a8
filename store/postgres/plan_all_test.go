package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres/pgtest"
	"github.com/berth/berth/store/storetest"
	"github.com/berth/berth/store/synth"
)

// This is store/sqlite's plan test (plan_all_test.go there) for
// PostgreSQL: every statement the store sends while it is used as
// requests use it, on a generated catalog, is explained, and a plan that
// reads a whole guarded table fails the test.
//
// What is recorded: every Query, QueryRow and Exec of the store's pool,
// through a pgx.QueryTracer given to open (migrations included). COPY
// (BulkAdd and Restore load rows with CopyFrom) is not recorded: it is no
// statement a plan can be asked for. The statements of a batch
// (FindImageView) are recorded one by one, through pgx.BatchTracer. SQL run
// inside PL/pgSQL (the images triggers) is not seen by pgx either.
//
// How it is explained: EXPLAIN (FORMAT JSON) with the arguments of the
// statement's first run, so the planner plans for those values (a custom
// plan), inside a transaction that repeats the SET LOCAL statements the
// store had made on that connection's transaction when the statement ran
// (FindImages turns enable_seqscan and enable_indexscan off for the
// counts of a search, and back on for some pages): the plan explained is
// the one the store gets. The test itself never changes a planner setting.
//
// Table sizes: PostgreSQL rightly reads a table of a few pages whole, so
// a plan test on small tables proves nothing. The catalog has 20,000
// generated images (with their synthetic raters' library rows and
// ratings), and populate gives library, ratings and ledger the rows of
// hundreds of accounts that buy, import and rate through the store's own
// methods; the test fails unless each guarded table holds at least
// minGuardedRows rows (pg_class.reltuples after VACUUM ANALYZE, which
// also sets the visibility map, as autovacuum keeps it in a live
// database).

// guarded are the tables no request may read whole.
var guarded = map[string]bool{"images": true, "library": true, "ratings": true, "ledger": true}

// minGuardedRows is the fewest rows each guarded table must hold for its
// plans to mean anything.
const minGuardedRows = 1000

// intentional marks statements that read everything on purpose, once per
// run or per change rather than per request (index builds, export, the
// invariant check, bulk loads), as in store/sqlite.
const intentional = "/* full scan:"

// planRecorder keeps every distinct statement the store sends, with the
// arguments of its first run and the SET LOCAL statements in force on its
// connection.
type planRecorder struct {
	mu       sync.Mutex
	seen     map[string]bool
	stmts    []recorded
	settings map[*pgx.Conn][]string
}

type recorded struct {
	query    string
	args     []any
	settings []string
}

func newPlanRecorder() *planRecorder {
	return &planRecorder{seen: map[string]bool{}, settings: map[*pgx.Conn][]string{}}
}

func (r *planRecorder) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q := strings.TrimSpace(data.SQL)
	up := strings.ToUpper(q)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case strings.HasPrefix(up, "SET LOCAL "):
		r.settings[conn] = append(r.settings[conn], q)
	case up == "COMMIT" || up == "ROLLBACK" || strings.HasPrefix(up, "BEGIN"):
		// SET LOCAL lasts until the transaction ends.
		delete(r.settings, conn)
	}
	set := r.settings[conn]
	key := strings.Join(set, "\n") + "\x00" + q
	if r.seen[key] {
		return ctx
	}
	r.seen[key] = true
	r.stmts = append(r.stmts, recorded{q, slices.Clone(data.Args), slices.Clone(set)})
	return ctx
}

func (r *planRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *planRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery records each statement of a batch as TraceQueryStart
// records a statement sent alone.
func (r *planRecorder) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	r.TraceQueryStart(ctx, conn, pgx.TraceQueryStartData{SQL: data.SQL, Args: data.Args})
}

func (r *planRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *planRecorder) ran(fragment string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stmts {
		if strings.Contains(s.query, fragment) {
			return true
		}
	}
	return false
}

// openRecorded opens the store on dsn with every statement noted in rec.
func openRecorded(t *testing.T, dsn string, rec *planRecorder) *DB {
	t.Helper()
	db, err := open(context.Background(), dsn, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.PasswordCost = bcrypt.MinCost
	return db
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan tree.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Strategy  string     `json:"Strategy"`
	Relation  string     `json:"Relation Name"`
	Alias     string     `json:"Alias"`
	IndexName string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Filter    string     `json:"Filter"`
	Parent    string     `json:"Parent Relationship"`
	Plans     []planNode `json:"Plans"`
}

func (n planNode) String() string {
	var b strings.Builder
	var write func(n planNode, depth int)
	write = func(n planNode, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + n.NodeType)
		if n.Strategy != "" {
			b.WriteString(" (" + n.Strategy + ")")
		}
		if n.IndexName != "" {
			b.WriteString(" using " + n.IndexName)
		}
		if n.Relation != "" {
			b.WriteString(" on " + n.Relation)
			if n.Alias != n.Relation {
				b.WriteString(" " + n.Alias)
			}
		}
		if n.Parent == "InitPlan" || n.Parent == "SubPlan" {
			b.WriteString(" [" + n.Parent + "]")
		}
		if n.IndexCond != "" {
			b.WriteString(" cond " + n.IndexCond)
		}
		if n.Filter != "" {
			b.WriteString(" filter " + n.Filter)
		}
		b.WriteString("\n")
		for _, c := range n.Plans {
			write(c, depth+1)
		}
	}
	write(n, 0)
	return strings.TrimRight(b.String(), "\n")
}

// streams tells whether node n hands its child i's rows on as it reads
// them, so that a Limit above n stops the child's reading too. Sorts,
// hashes and plain aggregates read their whole input first.
func streams(n planNode, i int) bool {
	switch n.NodeType {
	case "Limit", "Subquery Scan", "Result", "Append", "Merge Append", "Unique", "Group", "WindowAgg",
		"Gather", "Gather Merge", "LockRows", "ProjectSet":
		return true
	case "Aggregate":
		return n.Strategy == "Sorted"
	case "Nested Loop":
		return i == 0 // the inner side runs again for every outer row
	}
	return false
}

// oneRowExists finds EXISTS over a whole table with no condition: its
// unfiltered scan stops at the first row.
var oneRowExists = regexp.MustCompile(`EXISTS \(SELECT 1 FROM (\w+)\)`)

// fullScans returns the nodes of a plan that read a guarded table whole:
// a sequential scan, or an index scan with no condition (a walk of the
// whole index), unless a Limit above stops it early: a walk of an index
// in order that stops at a LIMIT reads what the page needs (as an index
// SCAN under a LIMIT on SQLite), and so does an unfiltered sequential
// scan under one (a count up to store.CountCap). A partial index holds
// only the rows its predicate picks, so reading all of one is no full
// scan.
func fullScans(n planNode, limited bool, oneRow, partial map[string]bool) []string {
	var out []string
	if guarded[n.Relation] {
		switch n.NodeType {
		case "Seq Scan":
			if n.Filter != "" || !(limited || oneRow[n.Relation]) {
				out = append(out, fmt.Sprintf("Seq Scan on %s", n.Relation))
			}
		case "Index Scan", "Index Only Scan":
			if n.IndexCond == "" && !limited && !partial[n.IndexName] {
				out = append(out, fmt.Sprintf("%s of all of %s on %s", n.NodeType, n.IndexName, n.Relation))
			}
		}
	}
	for i, c := range n.Plans {
		keep := n.NodeType == "Limit" || (limited && streams(n, i))
		if c.Parent == "InitPlan" || c.Parent == "SubPlan" {
			keep = false
		}
		out = append(out, fullScans(c, keep, oneRow, partial)...)
	}
	return out
}

// acceptedFullScans are request statements known to read a guarded table
// whole, which the test lets pass, and why. Each is a debt, not a design.
var acceptedFullScans = []struct {
	statement *regexp.Regexp
	why       string
}{
	{regexp.MustCompile(`^SELECT COUNT\(\*\) FROM \(SELECT 1 FROM images WHERE .* GROUP BY alias LIMIT \$\d+\) m$`),
		"a grouped listing's count, with a filter, reads the alias of every build that passes it (no index gives " +
			"aliases by filter value; one per filter column would cost every write). SQL answers listings only " +
			"until the listing index is built, and the index counts from memory. (Without a filter it walks the " +
			"(alias, architecture) index up to store.CountCap.) SQLite's plan test passes the same count only " +
			"because its statement has a LIMIT"},
}

// explain returns the plan PostgreSQL makes for a recorded statement.
func explain(ctx context.Context, pool *pgxpool.Pool, st recorded) (planNode, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return planNode{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, s := range st.settings {
		if _, err := tx.Exec(ctx, s); err != nil {
			return planNode{}, fmt.Errorf("%s: %w", s, err)
		}
	}
	var out []byte
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+st.query, st.args...).Scan(&out); err != nil {
		return planNode{}, err
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		return planNode{}, fmt.Errorf("plan %s: %v", out, err)
	}
	return plans[0].Plan, nil
}

// TestEveryStatementUsesIndexes runs every store operation a request can
// reach on a generated catalog through a pool that records each SQL
// statement the store itself sends, then asks PostgreSQL for each one's
// plan and fails on a full scan of images, library, ratings or ledger.
func TestEveryStatementUsesIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a catalog of 20,000 images")
	}
	start := time.Now()
	ctx := context.Background()
	rec := newPlanRecorder()
	dsn := pgtest.DSN(t)
	db := openRecorded(t, dsn, rec)
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadDefaultCatalog(ctx); err != nil { // a start on a full catalog
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 20000, 3); err != nil {
		t.Fatal(err)
	}
	populate(t, db, 300)
	vacuumAnalyze(t, db)
	t.Logf("catalog and accounts ready in %v", time.Since(start).Round(time.Millisecond))

	// SQL answers listings until the listing index is built: its
	// statements are run directly, so that no build starts underneath.
	exercise(t, db, true)
	// Again with the listing index built (and warmed, as a background
	// build does): listings then read rows by seq and search words from
	// the GIN index.
	x, err := db.listings.BuildNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	exercise(t, db, false)
	storetest.Operate(t, db)
	// Rate limits shared by instances (store.SharedLimiter): allowed,
	// refused, and now and then (one call in 200) a sweep.
	for i := 0; i < 5000 && (i < 3 || !rec.ran("DELETE FROM rate_limits")); i++ {
		key := strconv.Itoa(i)
		if i == 1 {
			key = "0" // refused: one event an hour
		}
		if _, _, err := db.AllowEvent(ctx, "plan", key, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// The demo rates and buys across the whole catalog, which at this
	// size takes minutes: it is seeded on the default catalog alone, and
	// its statements are explained against the large one below. A dump
	// of that database restored into an empty one is berth migrate-to.
	small := openRecorded(t, pgtest.DSN(t), rec)
	if _, err := small.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := small.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	empty := openRecorded(t, pgtest.DSN(t), rec)
	if err := empty.Restore(ctx, func(put func(store.DumpTable, [][]any) error) error {
		return small.Dump(ctx, put)
	}); err != nil {
		t.Fatal(err)
	}
	db.listings.Wait() // background builds started by the catch-ups above
	t.Logf("exercised in %v", time.Since(start).Round(time.Millisecond))

	vacuumAnalyze(t, db)
	var sizes []string
	rows, err := db.pool.Query(ctx, `SELECT relname, reltuples::bigint FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' AND relname = ANY($1)`,
		[]string{"images", "library", "ratings", "ledger"})
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fmt.Sprintf("%s %d", name, n))
		if n < minGuardedRows {
			t.Errorf("%s holds %d rows, too few for its plans to mean anything (want %d)", name, n, minGuardedRows)
		}
	}
	rows.Close()
	t.Logf("guarded tables: %s", strings.Join(sizes, ", "))

	rec.mu.Lock()
	stmts := slices.Clone(rec.stmts)
	rec.mu.Unlock()
	// A pool of its own, without the recorder, on the large catalog.
	plain, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	partial := map[string]bool{}
	names, err := queryStrings(ctx, db.pool, `SELECT c.relname::text FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
		WHERE x.indpred IS NOT NULL AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		partial[n] = true
	}
	checked, distinct, accepted, marked := 0, map[string]bool{}, 0, 0
statements:
	for _, st := range stmts {
		q := st.query
		verb := strings.ToUpper(strings.Fields(q + " x")[0])
		if !slices.Contains([]string{"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"}, verb) {
			continue
		}
		if strings.Contains(q, intentional) {
			marked++
			continue
		}
		plan, err := explain(ctx, plain, st)
		if err != nil {
			t.Errorf("explain %s: %v", q, err)
			continue
		}
		checked++
		distinct[q] = true
		oneRow := map[string]bool{}
		for _, m := range oneRowExists.FindAllStringSubmatch(q, -1) {
			oneRow[m[1]] = true
		}
		if scans := fullScans(plan, false, oneRow, partial); len(scans) > 0 {
			short := strings.Join(strings.Fields(q), " ")
			for _, a := range acceptedFullScans {
				if a.statement.MatchString(short) {
					accepted++
					continue statements
				}
			}
			if len(short) > 600 {
				short = short[:600] + "…"
			}
			var with string
			if len(st.settings) > 0 {
				with = "\nafter: " + strings.Join(st.settings, "; ")
			}
			t.Errorf("full scan in a store statement (%s):\n%s%s\nplan:\n%s", strings.Join(scans, ", "), short, with, plan)
		}
	}
	for _, lit := range storetest.StatementsNotRun(t, queriesOf(stmts), regexp.MustCompile(`\$\d+`), notRecorded) {
		t.Errorf("the store has a statement the plan test never ran (call what runs it in exercise or operate):\n%s", lit)
	}
	if checked < 60 {
		t.Fatalf("only %d statements checked: the recording missed the store's queries", checked)
	}
	t.Logf("%d statement plans checked (%d distinct statements; %d grouped counts accepted as full scans); %d marked full scans not checked; in %v",
		checked, len(distinct), accepted, marked, time.Since(start).Round(time.Millisecond))
}

// vacuumAnalyze brings the statistics and visibility map of the store's
// tables up to date, as autovacuum keeps them in a live database.
func vacuumAnalyze(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	tables, err := queryStrings(ctx, db.pool, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) `+strings.Join(tables, ", ")); err != nil {
		t.Fatal(err)
	}
}

// populate makes accounts that buy, import and rate generated images
// through the store, in parallel, so that library, ratings and ledger hold
// the rows of many people (see minGuardedRows).
func populate(t *testing.T, db *DB, accounts int) {
	t.Helper()
	ctx := context.Background()
	var free, paid []*store.Image
	zero, one := int64(0), int64(1)
	for page := 1; page <= 5; page++ {
		p, err := db.findImagesSQL(ctx, store.Filter{MaxPrice: &zero, SortBy: store.SortName, Page: page * 7, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		free = append(free, p.Images...)
		p, err = db.findImagesSQL(ctx, store.Filter{MinPrice: &one, SortBy: store.SortSize, Page: page * 3, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		paid = append(paid, p.Images...)
	}
	if len(free) < 100 || len(paid) < 100 {
		t.Fatalf("%d free and %d paid images to populate with", len(free), len(paid))
	}
	work := make(chan int)
	errs := make(chan error, accounts)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs <- account(ctx, db, i, free, paid)
			}
		}()
	}
	for i := range accounts {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// account is one populated account: two credits, four purchases, four
// imports and four ratings.
func account(ctx context.Context, db *DB, i int, free, paid []*store.Image) error {
	u, err := db.CreateUser(ctx, fmt.Sprintf("buyer%03d@plan.example", i), "correct horse battery")
	if err != nil {
		return err
	}
	for range 2 {
		if _, err := db.Credit(ctx, u.ID, 6000, "plan"); err != nil {
			return err
		}
	}
	for k := range 4 {
		p := paid[(i*7+k*31)%len(paid)]
		if _, err := db.Purchase(ctx, u.ID, p.ID, ""); err != nil {
			return err
		}
		f := free[(i*11+k*37)%len(free)]
		if err := db.Import(ctx, u.ID, f.ID); err != nil {
			return err
		}
		if _, err := db.Rate(ctx, u.ID, f.ID, (i+k)%6); err != nil {
			return err
		}
	}
	return nil
}

// exercise calls every store operation a request can reach. With sql,
// listings are answered by SQL (findImagesSQL, as before the listing
// index is built); without, by FindImages.
func exercise(t *testing.T, db *DB, sql bool) {
	t.Helper()
	find := db.FindImages
	if sql {
		find = db.findImagesSQL
	}
	storetest.Exercise(t, db, find, storetest.GeneratedImage(t, db))
}

// queriesOf is the SQL of the recorded statements.
func queriesOf(stmts []recorded) []string {
	out := make([]string, len(stmts))
	for i, r := range stmts {
		out[i] = r.query
	}
	return out
}

// notRecorded are statements of the package that no store's pool runs,
// and why.
var notRecorded = map[string]string{
	"SELECT to_regclass('migrations')": "Initialized asks through a pool of its own, before any store opens",
}

// exemptFromExercise are the methods exercise does not call, and why.
var exemptFromExercise = map[string]string{
	"Backup":                    "refuses with a message; it runs no query",
	"Close":                     "no SQL",
	"PrepareListings":           "starts the listing index build (whose snapshot is marked) and LISTEN; the test builds the index with BuildNow and warms it",
	"ListingIndexStatus":        "no SQL",
	"ListingIndexBuildFailures": "no SQL",
	"SetLogger":                 "no SQL",
	"Unavailable":               "no SQL: it classifies an error",
}

// TestPlanTestCallsEveryStoreMethod fails when a method is added to the
// Store (or to the other interfaces this backend serves: shared rate
// limits, bulk loads, dumps and restores) without the plan test calling
// it (or saying here why not), so that it keeps covering every statement
// the store runs.
func TestPlanTestCallsEveryStoreMethod(t *testing.T) {
	called := storetest.CalledOn(t, []string{"plan_all_test.go", "../storetest/exercise.go"}, // exercise calls storetest.Exercise
		[]string{"exercise", "Operate", "populate", "account", "TestEveryStatementUsesIndexes", "Exercise"}, []string{"db", "small", "empty"})
	// synth.Generate calls BulkAdd.
	called["BulkAdd"] = true
	for _, it := range []reflect.Type{reflect.TypeFor[store.Store](), reflect.TypeFor[store.SharedLimiter](),
		reflect.TypeFor[store.Dumper](), reflect.TypeFor[store.Restorer](), reflect.TypeFor[synth.Loader]()} {
		for i := range it.NumMethod() {
			name := it.Method(i).Name
			if _, exempt := exemptFromExercise[name]; !called[name] && !exempt {
				t.Errorf("the plan test never calls %s (%s): its statements escape it", name, it)
			}
		}
	}
}
