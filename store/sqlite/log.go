package sqlite

import "log/slog"

// SetLogger sets where the database logs what fails out of any request's
// way (a build of the listing index, its warm-up or catch-up). Without
// one, nothing is logged. Safe to call at any time.
func (db *DB) SetLogger(l *slog.Logger) { db.logger.Store(l) }

// log returns the logger set by SetLogger, or one that discards.
func (db *DB) log() *slog.Logger {
	if l := db.logger.Load(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
