// Package store owns Berth's domain model, its rules and errors, and keeps it
// in SQLite: migrations, queries and transactions.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open Berth database: one writer connection, so that write
// transactions queue instead of failing with SQLITE_BUSY, and a pool of
// read-only connections that WAL lets run beside the writer.
type DB struct {
	path  string
	write *sql.DB
	read  *sql.DB
	// Now returns the current time; tests replace it to control dates.
	Now func() time.Time
	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt's default. Tests lower it to stay fast.
	PasswordCost int
	gen          generation
	listings     *listing.Engine
	// aliasOutline keeps what every alias suggestion looks up, per
	// catalog generation (see aliasIndex).
	aliasOutline store.AliasOutline
	// logger takes what goes wrong out of any request's way, such as a
	// failed build of the listing index; see SetLogger.
	logger atomic.Pointer[slog.Logger]
	// prepared holds read statements prepared on first use, by their SQL
	// (see preparedReads): a fixed set of literals, no values in them.
	prepared sync.Map // string → *lazyStmt
}

// dsn builds the connection string. Pragmas go in the DSN so that every
// pooled connection gets them; busy_timeout comes first so that the others
// wait for locks instead of failing.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// Escape the path so that '?', '#' and '%' in a file name stay part of it.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and applies any
// migrations it lacks.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, "sqlite")
}

// open is Open through the named database/sql driver: "sqlite" but in the
// plan test, which records every statement the store runs.
func open(ctx context.Context, path, driverName string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open database: invalid path %q", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, write: w, Now: func() time.Time { return time.Now().UTC() }}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Let SQLite refresh planner statistics where they are missing or
	// stale, sampling so start-up stays quick on a large catalog.
	if _, err := w.ExecContext(ctx, `PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002`); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: optimize: %w", path, err)
	}
	r, err := sql.Open(driverName, dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.read = r
	db.listings = listing.New(listingSource{db}, db.log)
	return db, nil
}

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	db.listings.Close()
	var errs []error
	db.prepared.Range(func(_, v any) bool {
		errs = append(errs, v.(*lazyStmt).close())
		return true
	})
	return errors.Join(append(errs, db.read.Close(), db.write.Close())...)
}

// preparedReads runs read queries through statements prepared once and
// kept. modernc's SQLite parses and plans a query's SQL on every call that
// is not prepared: a fifth of the CPU of an alias lookup, which runs up
// to a dozen small queries. Its queries must be SQL literals.
type preparedReads struct{ db *DB }

func (p preparedReads) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	v, ok := p.db.prepared.Load(query)
	if !ok {
		v, _ = p.db.prepared.LoadOrStore(query, &lazyStmt{db: p.db.read, query: query})
	}
	return v.(*lazyStmt).get(ctx)
}

// QueryContext runs query, prepared.
func (p preparedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowScan runs query, prepared, and scans its first row into dest
// (sql.ErrNoRows when there is none).
func (p preparedReads) QueryRowScan(ctx context.Context, query string, args []any, dest ...any) error {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// lazyStmt is a statement prepared on its first use, so it is parsed once
// per connection rather than per query. Preparing it in Open would open a
// read connection that stays in the pool, and while one is open a bulk
// load cannot leave WAL for a rollback journal (see tuneForBulkLoad).
type lazyStmt struct {
	db    *sql.DB
	query string
	mu    sync.Mutex // held while preparing
	stmt  atomic.Pointer[sql.Stmt]
}

// get returns the prepared statement, preparing it if need be. A failure is
// not kept: the next call tries again.
func (l *lazyStmt) get(ctx context.Context) (*sql.Stmt, error) {
	if stmt := l.stmt.Load(); stmt != nil {
		return stmt, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if stmt := l.stmt.Load(); stmt != nil {
		return stmt, nil
	}
	stmt, err := l.db.PrepareContext(ctx, l.query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	l.stmt.Store(stmt)
	return stmt, nil
}

func (l *lazyStmt) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if stmt := l.stmt.Swap(nil); stmt != nil {
		return stmt.Close()
	}
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction, in file-name order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`,
		name, db.Now().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}

// Tx is a write transaction that fixes "now" once, so every row it writes
// carries the same time.
type Tx struct {
	*sql.Tx
	now time.Time
	db  *DB
}

// Commit commits and lets the memoised catalog generation be read afresh,
// since the transaction may have changed images or ratings.
func (tx *Tx) Commit() error {
	if err := tx.Tx.Commit(); err != nil {
		return err
	}
	tx.db.touched()
	return nil
}

// begin starts an immediate write transaction on the single writer connection.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, now: db.Now().UTC(), db: db}, nil
}

var _ store.Store = (*DB)(nil)
