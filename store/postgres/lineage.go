package postgres

import (
	"context"
	"fmt"

	"github.com/berth/berth/store"
)

// FindLineage returns the based_on hierarchy around img on its
// architecture: from its topmost ancestor down the chain to img, then every
// image built on img, recursively. A parent missing on img's architecture is
// taken from another one; a parent missing altogether ends the chain. It
// returns nil when img has neither a parent nor children.
func (db *DB) FindLineage(ctx context.Context, img *store.Image) (*store.LineageNode, error) {
	seen := map[string]bool{img.Alias: true}
	node := &store.LineageNode{Image: img}
	var err error
	if node.Children, err = db.findDescendants(ctx, img, seen); err != nil {
		return nil, err
	}
	root := node
	for cur, depth := img, 0; cur.BasedOn != "" && !seen[cur.BasedOn] && depth < store.MaxLineageDepth; depth++ {
		parent, err := db.FindImageByAlias(ctx, cur.BasedOn, img.Architecture)
		if store.IsNotFound(err) {
			parent, err = db.FindImageByAlias(ctx, cur.BasedOn, "")
		}
		if store.IsNotFound(err) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("lineage of %s: %w", img.Alias, err)
		}
		seen[parent.Alias] = true
		root = &store.LineageNode{Image: parent, Children: []*store.LineageNode{root}}
		cur = parent
	}
	if root == node && len(node.Children) == 0 {
		return nil, nil
	}
	return root, nil
}

// findDescendants returns the tree of images on img's architecture whose
// based_on chain leads to img. Asking for a based_on that is not empty
// (true of every match, as an alias never is) lets the planner use
// images_based_on, which holds only the images that have a parent
// (006_plans.sql).
func (db *DB) findDescendants(ctx context.Context, img *store.Image, seen map[string]bool) ([]*store.LineageNode, error) {
	imgs, err := queryImages(ctx, db.pool, `WITH RECURSIVE d(alias, depth) AS (
			SELECT $1::text COLLATE "C", 0
			UNION
			SELECT i.alias, d.depth + 1 FROM images i JOIN d ON i.based_on = d.alias WHERE i.based_on <> '' AND d.depth < $2
		)
		SELECT `+imageColumns+` FROM images
		WHERE architecture = $3 AND alias IN (SELECT alias FROM d WHERE depth > 0) ORDER BY alias`,
		img.Alias, store.MaxLineageDepth, img.Architecture)
	if err != nil {
		return nil, fmt.Errorf("lineage of %s: %w", img.Alias, err)
	}
	nodes := map[string]*store.LineageNode{img.Alias: {Image: img}}
	for _, d := range imgs {
		if !seen[d.Alias] {
			nodes[d.Alias] = &store.LineageNode{Image: d}
		}
	}
	for _, d := range imgs {
		n, ok := nodes[d.Alias]
		if !ok || seen[d.Alias] {
			continue
		}
		if parent, ok := nodes[d.BasedOn]; ok {
			parent.Children = append(parent.Children, n)
		}
	}
	for alias := range nodes {
		seen[alias] = true
	}
	return nodes[img.Alias].Children, nil
}
