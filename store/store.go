package store

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Store is everything Berth keeps: the catalog, accounts, libraries, wallets
// and sessions. Each backend (store/sqlite, store/postgres) implements it;
// web and the commands depend only on this interface, and cmd/berth picks
// the backend from --db.
type Store interface {
	CatalogStore
	AccountStore
	LibraryStore
	SessionStore
	VoucherStore
	OperatorStore
	ContentStore
	PullKeyStore
}

// CatalogStore reads the catalog.
type CatalogStore interface {
	// FindImages returns one page of the images that pass f, and the total.
	FindImages(ctx context.Context, f Filter) (ImagePage, error)
	FindImage(ctx context.Context, id string) (*Image, error)
	FindImageByAlias(ctx context.Context, alias, arch string) (*Image, error)
	// ResolveAlias finds the image an alias names on arch; a miss is an
	// *AliasError that explains why and suggests what exists.
	ResolveAlias(ctx context.Context, alias, arch string) (*Image, error)
	// ExplainAlias returns nil when alias names an image on arch, else an
	// *AliasError.
	ExplainAlias(ctx context.Context, alias, arch string) error
	SuggestAliases(ctx context.Context, s, arch string, n int) ([]string, error)
	// FindSiblings returns the images of img's release or family.
	FindSiblings(ctx context.Context, img *Image) ([]*Image, error)
	FindLineage(ctx context.Context, img *Image) (*LineageNode, error)
	// FindImageView returns what the page of image id shows of the
	// catalog: the image, its siblings, lineage and rating histogram.
	FindImageView(ctx context.Context, id string) (*ImageView, error)
	FindFacets(ctx context.Context) (Facets, error)
	CountImages(ctx context.Context) (int, error)
	Histogram(ctx context.Context, imageID string) ([MaxRating + 1]int64, error)
	// Generation changes whenever the catalog or any rating changes, so
	// caches keyed by it never serve stale answers.
	Generation(ctx context.Context) (int64, error)
	// FeedEvents returns the latest added and serial events of the images
	// that pass f (its sort and page aside), newest first.
	FeedEvents(ctx context.Context, f Filter, limit int) ([]ImageEvent, error)
}

// AccountStore keeps people and their API tokens.
type AccountStore interface {
	CreateUser(ctx context.Context, email, password string) (*User, error)
	Authenticate(ctx context.Context, email, password string) (*User, error)
	FindUser(ctx context.Context, id int64) (*User, error)
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	CreateToken(ctx context.Context, userID int64, name string) (string, *Token, error)
	UserByToken(ctx context.Context, secret string) (*User, error)
	Tokens(ctx context.Context, userID int64) ([]*Token, error)
	RevokeToken(ctx context.Context, userID, tokenID int64) error
	// RevokeAllTokens revokes every API token of the user and says how many.
	RevokeAllTokens(ctx context.Context, userID int64) (int, error)
	// SetPassword replaces the user's password, under the same rules as
	// sign-up.
	SetPassword(ctx context.Context, userID int64, password string) error
	// CreateFeedKey makes the user's personal feed key, replacing any
	// earlier one; it is returned once and stored as a hash.
	CreateFeedKey(ctx context.Context, userID int64) (string, error)
	RevokeFeedKey(ctx context.Context, userID int64) error
	// FeedKeyCreated tells when the user's feed key was made; nil: none.
	FeedKeyCreated(ctx context.Context, userID int64) (*time.Time, error)
	// UserByFeedKey returns the owner of a feed key, ENOTFOUND when it
	// was revoked or replaced.
	UserByFeedKey(ctx context.Context, key string) (*User, error)
}

// LibraryStore moves images into libraries and money out of wallets.
type LibraryStore interface {
	Import(ctx context.Context, userID int64, imageID string) error
	Purchase(ctx context.Context, userID int64, imageID, idemKey string) (PurchaseResult, error)
	// PurchaseAtPrice is Purchase bound to the price the buyer was shown:
	// when the image costs anything else at the moment of the debit, it
	// charges nothing and fails with a *PriceChangedError (ECONFLICT).
	PurchaseAtPrice(ctx context.Context, userID int64, imageID, idemKey string, expectedCents int64) (PurchaseResult, error)
	Owns(ctx context.Context, userID int64, imageID string) (bool, error)
	Library(ctx context.Context, userID int64) ([]LibraryItem, error)
	Rate(ctx context.Context, userID int64, imageID string, rating int) (RatingSummary, error)
	UserRating(ctx context.Context, userID int64, imageID string) (int, bool, error)
	Balance(ctx context.Context, userID int64) (int64, error)
	Credit(ctx context.Context, userID, cents int64, memo string) (int64, error)
	Ledger(ctx context.Context, userID int64) ([]LedgerEntry, error)
	// LibraryEvents returns the latest serial and security events of the
	// images in the user's library, newest first.
	LibraryEvents(ctx context.Context, userID int64, limit int) ([]ImageEvent, error)
}

// SessionStore keeps browser sessions server-side.
type SessionStore interface {
	LoadSession(ctx context.Context, id string) (*SessionRecord, error)
	SaveSession(ctx context.Context, id string, rec SessionRecord) error
	DeleteSession(ctx context.Context, id string) error
	DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int, error)
	CountSessions(ctx context.Context, userID int64) (int, error)
}

// OperatorStore is what the operator's commands and the server's own
// housekeeping need.
type OperatorStore interface {
	ImportCatalog(ctx context.Context, r io.Reader) (ImportResult, error)
	ExportCatalog(ctx context.Context, w io.Writer) error
	LoadDefaultCatalog(ctx context.Context) (bool, error)
	SeedDemo(ctx context.Context) (DemoResult, error)
	// Backup writes a consistent copy to path, or explains why this
	// backend leaves backups to its own tools.
	Backup(ctx context.Context, path string) error
	// Check verifies the invariants and returns the violations found.
	Check(ctx context.Context) ([]string, error)
	// PrepareListings starts building the in-memory listing index.
	PrepareListings()
	ListingIndexStatus() (ready bool, lastBuild time.Duration)
	// ListingIndexBuildFailures counts failed builds of the listing index.
	ListingIndexBuildFailures() int64
	// SetLogger sets where failures out of any request's way are logged.
	SetLogger(l *slog.Logger)
	Ping(ctx context.Context) error
	// Unavailable tells whether err means the database cannot serve right
	// now, with a message an operator can act on.
	Unavailable(err error) (string, bool)
	Close() error
}
