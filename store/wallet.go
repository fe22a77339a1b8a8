package store

import "time"

// Currency is the only currency wallets hold.
const Currency = "USD"

// MaxCreditCents bounds one top-up, so a typo cannot mint a fortune.
const MaxCreditCents = 100_000_000 // $1,000,000

// LedgerEntry is one change of a balance.
type LedgerEntry struct {
	ID          int64
	Kind        string // "credit" or "purchase"
	AmountCents int64  // positive for credits, negative for purchases
	ImageID     string
	ImageAlias  string
	ImageArch   string
	Memo        string
	CreatedAt   time.Time
}
