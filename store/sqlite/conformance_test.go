package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/storetest"
)

// TestConformance runs the backend-agnostic store contract against SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "berth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.PasswordCost = bcrypt.MinCost
		if now != nil {
			db.Now = now
		}
		return db
	})
}
