// Package postgres keeps Berth in PostgreSQL, for operators who run
// several Berth instances behind one database: the same store.Store as
// store/sqlite, with the same rules and guarantees, through pgx.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// IsURL reports whether a --db value names a PostgreSQL database rather
// than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DB is an open Berth database on PostgreSQL: a pool of connections.
// Unlike SQLite, writers do not queue on one connection: each money-moving
// transaction locks the rows it depends on (see lockUser), and
// conditional updates and unique constraints refuse what would break an
// invariant.
type DB struct {
	pool *pgxpool.Pool
	// Now returns the current time; tests replace it to control dates.
	Now func() time.Time
	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt's default. Tests lower it to stay fast.
	PasswordCost int
	gen          generation
	logger       atomic.Pointer[slog.Logger]
	// aliasOutline keeps what every alias suggestion looks up, per
	// catalog generation (see aliasIndex).
	aliasOutline store.AliasOutline

	// genTTL is generationTTL but in tests that need polling out of the way.
	genTTL time.Duration

	// listings answers listings from memory once its index is built
	// (store/listing); SQL answers them until then.
	listings *listing.Engine

	listenOnce sync.Once
	stopListen context.CancelFunc
	listening  sync.WaitGroup
}

var _ store.Store = (*DB)(nil)

// Open connects to the PostgreSQL database that dsn names (a postgres://
// URL; pool_max_conns and the other pgxpool settings may be given in it)
// and applies any migrations it lacks.
func Open(ctx context.Context, dsn string) (*DB, error) { return open(ctx, dsn, nil) }

// open is Open with tracer, when not nil, seeing every statement the
// pool's connections run, migrations included (the plan test records
// them with it).
func open(ctx context.Context, dsn string, tracer pgx.QueryTracer) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %s", redact(err))
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %s", redact(err))
	}
	db := &DB{pool: pool, Now: func() time.Time { return time.Now().UTC() }}
	db.listings = listing.New(listingSource{db}, db.log)
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", cfg.ConnConfig.Database, err)
	}
	return db, nil
}

// redact keeps a password typed into a URL out of an error message.
func redact(err error) string {
	s := err.Error()
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.Index(s[i:], "@"); at > 0 {
			if colon := strings.Index(s[i+3:i+at], ":"); colon >= 0 {
				s = s[:i+3+colon+1] + "xxxxx" + s[i+at:]
			}
		}
	}
	return s
}

// Close stops following notifications and closes the pool.
func (db *DB) Close() error {
	db.listenOnce.Do(func() {}) // no listener starts after Close
	if db.stopListen != nil {
		db.stopListen()
	}
	db.listening.Wait()
	db.listings.Close()
	db.pool.Close()
	return nil
}

// Pool is the connection pool, for tests and tools in this module.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// migrationLock is the advisory lock key held while migrating, so that
// instances started together do not apply the same migration twice.
const migrationLock = 0x6265727468 // "berth"

// migrate applies the embedded migrations not yet recorded, each in its
// own transaction, in file-name order, and records them in the same
// migrations table (name, applied_at) as the SQLite backend.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("lock for migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS migrations (
		name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, conn.Conn(), name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, conn *pgx.Conn, name string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	// No arguments: the simple protocol, which runs every statement of the file.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO migrations (name, applied_at) VALUES ($1, $2)`,
		name, db.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Tx is a write transaction that fixes "now" once (in whole seconds, as
// the SQLite backend stores times), so every row it writes carries the
// same time.
type Tx struct {
	pgx.Tx
	now time.Time
}

// inTx runs fn in a read-committed transaction and commits when it
// returns nil. Serialization failures and deadlocks, which PostgreSQL
// resolves by failing one transaction, are retried a few times.
func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.tryTx(ctx, fn)
		var pe *pgconn.PgError
		if attempt < 4 && errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return err
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *Tx) error) error {
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	tx := &Tx{Tx: ptx, now: db.Now().UTC().Truncate(time.Second)}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.touched()
	return nil
}

// lockUser takes the row lock that serialises one person's money and
// library changes (purchases, ratings, credits): a second purchase by the
// same person waits for the first to commit, then sees what it bought.
// FOR NO KEY UPDATE leaves foreign-key checks of other rows unblocked.
func lockUser(ctx context.Context, tx *Tx, userID int64) error {
	_, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID)
	if err != nil {
		return fmt.Errorf("lock account %d: %w", userID, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Unavailable tells whether err means the database cannot serve right now
// (unreachable, shutting down, out of connections or disk, read-only), and
// returns a message an operator can act on.
func (db *DB) Unavailable(err error) (string, bool) { return unavailable(err) }

func unavailable(err error) (string, bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", false // the request ended, not the database
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return "The database cannot be reached right now. Try again in a moment.", true
		case pe.Code == "53300":
			return "The database has no free connections right now. Try again in a moment.", true
		case pe.Code == "53100":
			return "The disk holding the database is full, so changes cannot be saved. The operator needs to free space.", true
		case pe.Code == "25006":
			return "The database is read-only, so changes cannot be saved. The operator needs to point Berth at the primary.", true
		}
		return "", false
	}
	// No connection could be made, or the one in use broke.
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) {
		return "The database cannot be reached right now. Try again in a moment.", true
	}
	return "", false
}

// SetLogger sets where the database logs what fails out of any request's
// way. Without one, nothing is logged.
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

func (db *DB) log() *slog.Logger {
	if l := db.logger.Load(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// PrepareListings starts following catalog changes made by other
// instances (see listen) and building the listing index in the
// background; until it is ready, SQL answers listings (full-text search
// with a GIN index, sort indexes).
func (db *DB) PrepareListings() {
	db.listings.Prepare()
	db.listenOnce.Do(func() {
		ctx, stop := context.WithCancel(context.Background())
		db.stopListen = stop
		db.listening.Add(1)
		go db.listen(ctx)
	})
}

// listen holds one connection that LISTENs on berth_catalog, which the
// images table's trigger notifies on every change, and forgets the
// memoised generation at each notification, so a catalog import or a
// rating through any instance shows here at once. Reading the generation
// at most every generationTTL stays the fallback while the connection is
// down; it is re-made after a pause.
func (db *DB) listen(ctx context.Context) {
	defer db.listening.Done()
	for ctx.Err() == nil {
		err := db.listenConn(ctx)
		if ctx.Err() != nil {
			return
		}
		db.log().Warn("catalog notifications stopped; polling until they resume", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listenConn(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool: a LISTEN must not be handed to
	// other queries, and it is closed rather than reused.
	c := conn.Hijack()
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, `LISTEN berth_catalog`); err != nil {
		return err
	}
	db.touched() // changes made while not listening
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		db.touched()
	}
}

// Backup refuses, explaining how PostgreSQL is backed up: a copy made by
// Berth would be neither consistent with the other instances' writes nor
// restorable with PostgreSQL's tools.
func (db *DB) Backup(ctx context.Context, path string) error {
	return store.Errorf(store.EINVALID, "berth backup copies SQLite files only. On PostgreSQL back up with the database's own tools, "+
		"for example `pg_dump --format=custom --file=%s \"$BERTH_DB\"` (restore with pg_restore), "+
		"or continuous archiving; see docs/self-hosting.md.", path)
}

func (db *DB) passwordCost() int {
	if db.PasswordCost != 0 {
		return db.PasswordCost
	}
	return bcrypt.DefaultCost
}

// generationTTL is how long a read of the catalog generation is reused.
// Writes through this DB take effect at once (see touched); writes by
// another instance within this delay.
const generationTTL = 100 * time.Millisecond

type generation struct {
	mu    sync.Mutex
	value int64
	read  time.Time
}

// Generation returns the catalog generation: a number that changes
// whenever images or their ratings change, for keying caches.
func (db *DB) Generation(ctx context.Context) (int64, error) {
	g := &db.gen
	g.mu.Lock()
	defer g.mu.Unlock()
	ttl := generationTTL
	if db.genTTL != 0 {
		ttl = db.genTTL
	}
	if !g.read.IsZero() && time.Since(g.read) < ttl {
		return g.value, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&g.value); err != nil {
		return 0, fmt.Errorf("catalog generation: %w", err)
	}
	g.read = time.Now()
	return g.value, nil
}

// touched forgets the memoised generation after a write, so the next read
// sees the change.
func (db *DB) touched() {
	db.gen.mu.Lock()
	db.gen.read = time.Time{}
	db.gen.mu.Unlock()
}

// Initialized reports whether the database dsn names holds a Berth schema
// (its migrations table), without creating anything: `berth check` must
// not pass on a mistyped database by creating an empty one.
func Initialized(ctx context.Context, dsn string) (bool, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return false, fmt.Errorf("open database: %s", redact(err))
	}
	defer pool.Close()
	var ok bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('migrations') IS NOT NULL`).Scan(&ok); err != nil {
		return false, fmt.Errorf("open database: %w", err)
	}
	return ok, nil
}

// Redact returns dsn with any password replaced, for logs and messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
