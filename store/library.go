package store

import "time"

// How an image came into a library.
const (
	AcquiredImport   = "import"
	AcquiredPurchase = "purchase"
)

// LibraryItem is an image a user may use, and how it became theirs.
type LibraryItem struct {
	Image      *Image
	How        string // AcquiredImport or AcquiredPurchase
	PriceCents int64
	AcquiredAt time.Time
	Rating     int  // the owner's own rating, when Rated
	Rated      bool // whether the owner has rated the image
}

// PurchaseResult is the outcome of a purchase.
type PurchaseResult struct {
	PricePaidCents   int64 `json:"price_paid_cents"`
	RemainingCents   int64 `json:"remaining_cents"`
	AlreadyOwned     bool  `json:"already_owned"`
	IdempotentReplay bool  `json:"-"`
}
