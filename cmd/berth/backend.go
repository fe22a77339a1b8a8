package main

import (
	"context"
	"fmt"
	"os"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/sqlite"
)

// openStore opens the backend that --db names, creating and migrating the
// database when needed: a postgres:// (or postgresql://) URL is
// PostgreSQL, for several instances on one database; anything else is a
// SQLite file path.
func openStore(ctx context.Context, db string) (store.Store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, db)
}

// dbName is how messages and logs name the database: a PostgreSQL URL
// without its password.
func dbName(db string) string {
	if postgres.IsURL(db) {
		return postgres.Redact(db)
	}
	return db
}

// mustExist fails when db names no Berth database, creating nothing.
func mustExist(ctx context.Context, db string) error {
	if !postgres.IsURL(db) {
		_, err := os.Stat(db)
		return err
	}
	ok, err := postgres.Initialized(ctx, db)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s holds no Berth database (no migrations table); check the URL and its search_path", dbName(db))
	}
	return nil
}
