package main

import (
	"context"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// openStore opens the backend that --db names, creating and migrating the
// database when needed. Anything that is not a PostgreSQL URL is a SQLite
// file path.
func openStore(ctx context.Context, db string) (store.Store, error) {
	return sqlite.Open(ctx, db)
}
