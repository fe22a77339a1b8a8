package sqlite

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for the background build to write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A failed build of the listing index is counted and logged with its
// cause, and listings still answer, through SQL.
func TestListingIndexBuildFailureIsCountedAndLogged(t *testing.T) {
	db := mustOpenCatalog(t)
	var logs syncBuffer
	db.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	// Every read of the build fails: its read pool is one already closed.
	broken, err := Open(context.Background(), t.TempDir()+"/other.db")
	if err != nil {
		t.Fatal(err)
	}
	broken.Close()
	good := db.read
	db.read = broken.read
	if n := db.ListingIndexBuildFailures(); n != 0 {
		t.Fatalf("%d failures before any build", n)
	}
	db.PrepareListings()
	deadline := time.Now().Add(10 * time.Second)
	for db.ListingIndexBuildFailures() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the failed build was not counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	db.listings.Wait()
	if out := logs.String(); !strings.Contains(out, "listing index build failed") || !strings.Contains(out, "database is closed") {
		t.Errorf("the log does not give the failure and its cause: %q", out)
	}
	db.read = good
	if ready, _ := db.ListingIndexStatus(); ready {
		t.Error("a failed build left an index in use")
	}
	if p, err := db.FindImages(context.Background(), parse(t, "os=ubuntu")); err != nil || p.Total == 0 {
		t.Errorf("listing after a failed build: %d images, %v", p.Total, err)
	}
}

// An index that cannot catch up with the catalog (other than by being
// reshaped, which is routine) is logged with the cause, and rebuilt.
func TestListingIndexCatchUpFailureIsLogged(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	var logs syncBuffer
	db.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := Open(ctx, t.TempDir()+"/other.db")
	if err != nil {
		t.Fatal(err)
	}
	broken.Close()
	good := db.read
	db.read = broken.read
	defer func() { db.read = good }()
	if got := db.listings.Index(ctx, x.Generation()+1); got != nil {
		t.Fatal("an index that could not catch up is still in use")
	}
	db.listings.Wait()
	if out := logs.String(); !strings.Contains(out, "could not catch up") || !strings.Contains(out, "database is closed") {
		t.Errorf("the log does not give the failure and its cause: %q", out)
	}
}
