package postgres_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
	"github.com/berth/berth/store/storetest"
)

// mustOpen opens a store on a fresh schema, dropped when t ends.
func mustOpen(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.PasswordCost = bcrypt.MinCost
	return db
}

// TestConformance runs the backend-agnostic store contract against PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		db := mustOpen(t)
		if now != nil {
			db.Now = now
		}
		return db
	})
}
