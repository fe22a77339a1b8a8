package sqlite

import (
	"context"

	"github.com/berth/berth/store"
)

// FindLineage returns the based_on hierarchy around img (store.FindLineage).
func (db *DB) FindLineage(ctx context.Context, img *store.Image) (*store.LineageNode, error) {
	return store.FindLineage(ctx, db, img)
}

// Descendants returns the images on img's architecture whose based_on
// chain leads to img, by a recursive query on the based_on index.
func (db *DB) Descendants(ctx context.Context, img *store.Image) ([]*store.Image, error) {
	return queryImages(ctx, preparedReads{db}, `WITH RECURSIVE d(alias, depth) AS (
			SELECT ?, 0
			UNION
			SELECT i.alias, d.depth + 1 FROM images i JOIN d ON i.based_on = d.alias WHERE d.depth < ?
		)
		SELECT `+imageColumns+` FROM images
		WHERE architecture = ? AND alias IN (SELECT alias FROM d WHERE depth > 0) ORDER BY alias`,
		img.Alias, store.MaxLineageDepth, img.Architecture)
}

// FindImageView reads the view of an image page one read at a time
// (store.ReadImageView): in process, a read costs no round trip.
func (db *DB) FindImageView(ctx context.Context, id string) (*store.ImageView, error) {
	return store.ReadImageView(ctx, db, id)
}
