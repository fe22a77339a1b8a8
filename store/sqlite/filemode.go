package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// privateMode is the mode of the database and its backups: they hold
// password hashes, session and token hashes and wallets, so only the owner
// reads them, as with the session key file.
const privateMode = 0o600

// createPrivate creates the database file with privateMode when it does
// not exist yet. SQLite gives its -wal and -shm files the mode of the
// database file, so they follow. An existing file keeps the mode its
// operator chose.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, privateMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}
