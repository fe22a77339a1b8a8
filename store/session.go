package store

import "time"

// SessionRecord is a stored browser session: its data and owner.
type SessionRecord struct {
	UserID    int64 // 0 for an anonymous session
	Data      string
	ExpiresAt time.Time
}
