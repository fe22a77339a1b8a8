package postgres

import "time"

// SetGenerationTTL lets a test make polling for the generation slow, so
// only notifications can explain a fresh one.
func SetGenerationTTL(db *DB, d time.Duration) { db.genTTL = d }
