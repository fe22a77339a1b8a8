package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUnavailableErrors shows that a locked or full database ends in an
// error an operator can read, not a hang and not "internal error".
func TestUnavailableErrors(t *testing.T) {
	t.Run("Full", func(t *testing.T) {
		db := mustOpenCatalog(t)
		u := mustUser(t, db, "ada@example.com", 0)
		var pages int
		db.write.QueryRow(`PRAGMA page_count`).Scan(&pages)
		// The writer pool has one connection, so the cap reaches every write.
		if _, err := db.write.Exec(`PRAGMA max_page_count = ` + strconv.Itoa(pages)); err != nil {
			t.Fatal(err)
		}
		var err error
		for i := 0; i < 200 && err == nil; i++ {
			_, _, err = db.CreateToken(context.Background(), u.ID, strings.Repeat("x", 80))
		}
		msg, ok := unavailable(err)
		if !ok || !strings.Contains(msg, "full") {
			t.Errorf("full database: %v → %q, %v", err, msg, ok)
		}
	})
	t.Run("Locked", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the 5 s busy timeout")
		}
		db := mustOpenCatalog(t)
		u := mustUser(t, db, "ada@example.com", 0)
		// Another process holds the write lock.
		other, err := sql.Open("sqlite", "file:"+db.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		conn, err := other.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = db.Credit(context.Background(), u.ID, 100, "")
		took := time.Since(start)
		conn.ExecContext(context.Background(), `ROLLBACK`)
		msg, ok := unavailable(err)
		if !ok || !strings.Contains(msg, "busy") || took > 10*time.Second {
			t.Errorf("locked database after %v: %v → %q, %v", took, err, msg, ok)
		}
	})
}
