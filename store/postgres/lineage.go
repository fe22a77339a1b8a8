package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/berth/berth/store"
)

// FindLineage returns the based_on hierarchy around img (store.FindLineage).
func (db *DB) FindLineage(ctx context.Context, img *store.Image) (*store.LineageNode, error) {
	return store.FindLineage(ctx, db, img)
}

// Descendants returns the images on img's architecture whose based_on
// chain leads to img, by FindImageView's recursive query.
func (db *DB) Descendants(ctx context.Context, img *store.Image) ([]*store.Image, error) {
	return queryImages(ctx, db.pool, viewDescendantsSQL, img.ID, store.MaxLineageDepth)
}

// The statements of FindImageView, each given the image's id, so that all
// of them go to the server in one batch: one round trip where reading the
// parts one at a time (store.ReadImageView) took five or more. Each
// answers what the method of the same part does.
const (
	viewSiblingsSQL = `SELECT ` + imageColumns + ` FROM images
		WHERE (os, release) = (SELECT os, release FROM images WHERE id = $1) ORDER BY ` + siblingOrder
	// The image's descendants on its architecture. Asking for a based_on
	// that is not empty (true of every match, as an alias never is) lets
	// the planner use images_based_on, which holds only the images that
	// have a parent (006_plans.sql).
	viewDescendantsSQL = `WITH RECURSIVE d(alias, depth) AS (
			SELECT alias, 0 FROM images WHERE id = $1
			UNION
			SELECT i.alias, d.depth + 1 FROM images i JOIN d ON i.based_on = d.alias WHERE i.based_on <> '' AND d.depth < $2
		)
		SELECT ` + imageColumns + ` FROM images
		WHERE architecture = (SELECT architecture FROM images WHERE id = $1)
			AND alias IN (SELECT alias FROM d WHERE depth > 0) ORDER BY alias`
	// Every image, on any architecture, whose alias is up the based_on
	// chain of an image of the same alias as this one within $2 steps: all
	// that store.FindLineage could look up on its way to the root. The
	// first step keeps an empty based_on (no image has an empty alias):
	// asked to leave it out, the generic plan walked images_based_on
	// looking for the id.
	viewAncestorsSQL = `WITH RECURSIVE u(alias, depth) AS (
			SELECT based_on, 1 FROM images WHERE id = $1
			UNION
			SELECT i.based_on, u.depth + 1 FROM images i JOIN u ON i.alias = u.alias WHERE i.based_on <> '' AND u.depth < $2
		)
		SELECT ` + imageColumns + ` FROM images WHERE alias IN (SELECT alias FROM u)`
	viewHistogramSQL = `SELECT rating, COUNT(*) FROM ratings WHERE image_id = $1 GROUP BY rating`
)

// FindImageView reads the view of an image page in one batch.
func (db *DB) FindImageView(ctx context.Context, id string) (*store.ImageView, error) {
	if !store.ValidID(id) {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	b := &pgx.Batch{}
	b.Queue(imageByIDSQL, id)
	b.Queue(viewSiblingsSQL, id)
	b.Queue(viewDescendantsSQL, id, store.MaxLineageDepth)
	b.Queue(viewAncestorsSQL, id, store.MaxLineageDepth)
	b.Queue(viewHistogramSQL, id)
	v, err := readImageView(db.pool.SendBatch(ctx, b))
	if err != nil {
		return nil, fmt.Errorf("find image %s: %w", id, err)
	}
	if v == nil {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	return v, nil
}

// readImageView reads FindImageView's batch results, in the order
// queued, and closes them; nil when there is no such image.
func readImageView(br pgx.BatchResults) (v *store.ImageView, err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	var self, siblings, descendants, ancestors []*store.Image
	for _, part := range []*[]*store.Image{&self, &siblings, &descendants, &ancestors} {
		rows, err := br.Query()
		if err != nil {
			return nil, err
		}
		if *part, err = collectImages(rows); err != nil {
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	histogram, err := collectHistogram(rows)
	if err != nil || len(self) == 0 {
		return nil, err
	}
	v = &store.ImageView{Image: self[0], Siblings: siblings, Histogram: histogram}
	if v.Lineage, err = store.LineageOf(v.Image, descendants, ancestors); err != nil {
		return nil, err
	}
	return v, nil
}
