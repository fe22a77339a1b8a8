package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/berth/berth/store"
)

// Backup writes a consistent copy of the database to path while it stays in
// use: VACUUM INTO reads one snapshot and writes a compact new file. It
// refuses to overwrite an existing file.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return store.Errorf(store.ECONFLICT, "backup: %s already exists; choose a new file name", path)
	}
	// A connection of its own: the read pool is query-only, and the single
	// writer connection must stay free for purchases while the copy runs.
	conn, err := sql.Open("sqlite", dsn(db.path, false))
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
