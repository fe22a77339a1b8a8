package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isBusy tells whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Unavailable tells whether err means the database cannot serve right now
// (locked by another process, read-only, out of disk, unreadable), and
// returns a message an operator can act on; such errors are not bugs and
// should not read as "internal error".
func (db *DB) Unavailable(err error) (string, bool) { return unavailable(err) }

func unavailable(err error) (string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return "The database is busy. Try again in a moment.", true
	case sqlite3.SQLITE_READONLY:
		return "The database is read-only, so changes cannot be saved. The operator needs to fix its file permissions.", true
	case sqlite3.SQLITE_FULL:
		return "The disk holding the database is full, so changes cannot be saved. The operator needs to free space.", true
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return "The database file cannot be read or written right now.", true
	}
	return "", false
}
