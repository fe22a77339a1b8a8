package postgres

import (
	"context"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
)

// SetGenerationTTL lets a test make polling for the generation slow, so
// only notifications can explain a fresh one.
func SetGenerationTTL(db *DB, d time.Duration) { db.genTTL = d }

// BuildListingIndexNow builds the listing index and puts it in use.
func BuildListingIndexNow(ctx context.Context, db *DB) (*listing.Index, error) {
	return db.listings.BuildNow(ctx)
}

// FindImagesSQL answers a listing with SQL alone, index or not.
func FindImagesSQL(ctx context.Context, db *DB, f store.Filter) (store.ImagePage, error) {
	return db.findImagesSQL(ctx, f)
}
