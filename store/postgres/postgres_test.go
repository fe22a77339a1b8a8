package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
	"github.com/berth/berth/store/synth"
)

// These tests cover what only the PostgreSQL backend has: instances that
// open one database together, bulk loading by COPY, pg_dump in place of
// berth backup, and PostgreSQL's own errors.

// TestInstancesMigrateOnce opens one database from several instances at
// once: the advisory lock lets one apply the migrations, and each is
// recorded once.
func TestInstancesMigrateOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	dbs := make([]*postgres.DB, 4)
	errs := make([]error, 4)
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = postgres.Open(ctx, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var n, distinct int
	if err := dbs[0].Pool().QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT name) FROM migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("%d migration records, %d distinct", n, distinct)
	}
	// Loading the default catalog from every instance at once loads it once.
	loads := make(chan bool, len(dbs))
	for _, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loaded, err := db.LoadDefaultCatalog(ctx)
			if err != nil {
				t.Error(err)
			}
			loads <- loaded
		}()
	}
	wg.Wait()
	close(loads)
	count := 0
	for l := range loads {
		if l {
			count++
		}
	}
	if count != 1 {
		t.Errorf("the default catalog loaded %d times", count)
	}
}

// TestBulkAdd loads a generated catalog by COPY and checks that it reads
// as any imported catalog does.
func TestBulkAdd(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	g0, _ := db.Generation(ctx)
	n, err := synth.Generate(ctx, db, 500, 7)
	if err != nil || n != 500 {
		t.Fatalf("generate = %d, %v", n, err)
	}
	if c, _ := db.CountImages(ctx); c != 500 {
		t.Errorf("%d images", c)
	}
	if g1, _ := db.Generation(ctx); g1 == g0 {
		t.Error("the generation did not move with a bulk load")
	}
	p, err := db.FindImages(ctx, store.Filter{Search: "ubuntu", SortBy: store.SortRating})
	if err != nil || p.Total == 0 || len(p.Images) == 0 {
		t.Fatalf("search after a bulk load: %+v, %v", p, err)
	}
	problems, err := db.Check(ctx)
	if err != nil || len(problems) > 0 {
		t.Errorf("check: %v %v", problems, err)
	}
	// The change trigger is back on: a rating after the load is logged.
	var before, after int
	db.Pool().QueryRow(ctx, `SELECT COUNT(*) FROM image_changes`).Scan(&before)
	if _, err := db.ImportCatalog(ctx, strings.NewReader(`{"version": 1, "images": []}`)); err != nil {
		t.Fatal(err)
	}
	u, _ := db.CreateUser(ctx, "ada@example.com", "correct horse battery")
	free, err := db.FindImages(ctx, store.Filter{MaxPrice: new(int64)})
	if err != nil || len(free.Images) == 0 {
		t.Fatal(err)
	}
	db.Import(ctx, u.ID, free.Images[0].ID)
	if _, err := db.Rate(ctx, u.ID, free.Images[0].ID, 4); err != nil {
		t.Fatal(err)
	}
	db.Pool().QueryRow(ctx, `SELECT COUNT(*) FROM image_changes`).Scan(&after)
	if after != before+1 {
		t.Errorf("image_changes %d → %d after one rating", before, after)
	}
}

// TestBackupExplainsPgDump: berth backup does not pretend on PostgreSQL.
func TestBackupExplainsPgDump(t *testing.T) {
	db := mustOpen(t)
	err := db.Backup(context.Background(), "out.dump")
	if store.ErrorCode(err) != store.EINVALID || !strings.Contains(store.ErrorMessage(err), "pg_dump") {
		t.Errorf("Backup = %v", err)
	}
}

// TestUnavailable maps PostgreSQL's connection and capacity errors to a
// message for people, and leaves the rest to be internal errors.
func TestUnavailable(t *testing.T) {
	db := mustOpen(t)
	for _, code := range []string{"08006", "57P01", "53300", "53100", "25006"} {
		if msg, ok := db.Unavailable(&pgconn.PgError{Code: code}); !ok || msg == "" {
			t.Errorf("%s: not unavailable", code)
		}
	}
	if _, ok := db.Unavailable(&pgconn.PgError{Code: "23505"}); ok {
		t.Error("a unique violation reads as unavailable")
	}
	if _, ok := db.Unavailable(errors.New("boom")); ok {
		t.Error("any error reads as unavailable")
	}
	// A request that ended is not a database that did.
	gone, cancelGone := context.WithCancel(context.Background())
	cancelGone()
	if err := db.Ping(gone); err == nil {
		t.Error("ping with a cancelled context")
	} else if _, ok := db.Unavailable(err); ok {
		t.Errorf("a cancelled request reads as an unavailable database: %v", err)
	}
	// A server that is not there.
	_, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Ping(ctx); err == nil {
		t.Error("ping with a cancelled context")
	}
}

// TestAllowEventIsShared: two instances on one database take tokens from
// one bucket per key, exactly up to the limit even when they race, and
// the bucket refills. Only PostgreSQL keeps limits (store.SharedLimiter):
// on SQLite one process counts them in memory.
func TestAllowEventIsShared(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var instances []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		instances = append(instances, db)
	}
	allowed := 0
	for i := range 8 {
		ok, wait, err := instances[i%2].AllowEvent(ctx, "test", "ada", 5, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else if wait <= 0 || wait > 12*time.Second {
			t.Errorf("wait %v, want up to one event's share of a minute", wait)
		}
	}
	if allowed != 5 {
		t.Errorf("%d of 8 events allowed across two instances, want 5", allowed)
	}
	if ok, _, _ := instances[0].AllowEvent(ctx, "test", "bob", 5, time.Minute); !ok {
		t.Error("another key shares ada's bucket")
	}
	if ok, _, _ := instances[0].AllowEvent(ctx, "other", "ada", 5, time.Minute); !ok {
		t.Error("another bucket shares ada's")
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	raced := 0
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := instances[i%2].AllowEvent(ctx, "race", "key", 7, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				raced++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if raced != 7 {
		t.Errorf("%d of 24 racing events allowed, want 7", raced)
	}

	for range 2 {
		if ok, _, _ := instances[1].AllowEvent(ctx, "refill", "key", 2, 400*time.Millisecond); !ok {
			t.Fatal("a fresh bucket refused")
		}
	}
	ok, wait, _ := instances[0].AllowEvent(ctx, "refill", "key", 2, 400*time.Millisecond)
	if ok {
		t.Fatal("a third event in the burst of two")
	}
	time.Sleep(wait + 20*time.Millisecond)
	if ok, _, _ := instances[0].AllowEvent(ctx, "refill", "key", 2, 400*time.Millisecond); !ok {
		t.Errorf("still refused after waiting %v", wait)
	}
}

// TestNotificationsRefreshTheGeneration: an instance that follows
// notifications (serve calls PrepareListings) sees another instance's
// catalog import at once, without waiting to poll.
func TestNotificationsRefreshTheGeneration(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	postgres.SetGenerationTTL(a, time.Hour) // polling would never see it
	a.PrepareListings()
	time.Sleep(200 * time.Millisecond) // the LISTEN is in place
	g0, err := a.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if g, _ := a.Generation(ctx); g != g0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance's import never reached this one")
		}
	}
}
