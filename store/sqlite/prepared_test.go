package sqlite

import (
	"context"
	"testing"
)

// TestPreparedReadsPrepareOnce checks that a read through preparedReads is
// prepared once and then reused, and that alias lookups and image pages'
// reads go through it: modernc's SQLite otherwise parses each query's SQL
// on every call.
func TestPreparedReadsPrepareOnce(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	p := preparedReads{db}
	const q = `SELECT id FROM images WHERE alias = ?`
	first, err := p.stmt(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.stmt(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("the same SQL was prepared twice")
	}
	before := countPrepared(db)
	img, err := db.FindImageByAlias(ctx, "ubuntu/24.04", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResolveAlias(ctx, "ubnutu/24.04", ""); err == nil {
		t.Fatal("a misspelt alias resolved")
	}
	after := countPrepared(db)
	if after <= before {
		t.Errorf("alias lookups and image reads kept no prepared statements (%d before, %d after)", before, after)
	}
	// The same lookups again prepare nothing new.
	db.FindImageByAlias(ctx, "ubuntu/24.04", "")
	db.ResolveAlias(ctx, "ubnutu/24.04", "")
	if again := countPrepared(db); again != after {
		t.Errorf("the same lookups prepared %d more statements", again-after)
	}
}

func countPrepared(db *DB) int {
	n := 0
	db.prepared.Range(func(_, _ any) bool { n++; return true })
	return n
}
