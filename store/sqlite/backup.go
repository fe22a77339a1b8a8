package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/berth/berth/store"
)

// Backup writes a consistent copy of the database to path while it stays in
// use: VACUUM INTO reads one snapshot and writes a compact new file. It
// refuses to overwrite an existing file. The copy is created with mode
// 0600 (VACUUM INTO accepts an empty file), since it holds what the
// database does.
func (db *DB) Backup(ctx context.Context, path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateMode)
	if errors.Is(err, fs.ErrExist) {
		return store.Errorf(store.ECONFLICT, "backup: %s already exists; choose a new file name", path)
	} else if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(path) // no empty or half-written backup left behind
		}
	}()
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
