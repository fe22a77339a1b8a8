package postgres

import (
	"context"

	"github.com/berth/berth/store"
)

// FindLineage returns the based_on hierarchy around img (store.FindLineage).
func (db *DB) FindLineage(ctx context.Context, img *store.Image) (*store.LineageNode, error) {
	return store.FindLineage(ctx, db, img)
}

// Descendants returns the images on img's architecture whose based_on
// chain leads to img, by a recursive query. Asking for a based_on that is
// not empty (true of every match, as an alias never is) lets the planner
// use images_based_on, which holds only the images that have a parent
// (006_plans.sql).
func (db *DB) Descendants(ctx context.Context, img *store.Image) ([]*store.Image, error) {
	return queryImages(ctx, db.pool, `WITH RECURSIVE d(alias, depth) AS (
			SELECT $1::text COLLATE "C", 0
			UNION
			SELECT i.alias, d.depth + 1 FROM images i JOIN d ON i.based_on = d.alias WHERE i.based_on <> '' AND d.depth < $2
		)
		SELECT `+imageColumns+` FROM images
		WHERE architecture = $3 AND alias IN (SELECT alias FROM d WHERE depth > 0) ORDER BY alias`,
		img.Alias, store.MaxLineageDepth, img.Architecture)
}
