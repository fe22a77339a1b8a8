package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// maxLineageDepth bounds how far a based_on chain is followed, so a cycle
// in a hand-written catalog cannot loop.
const maxLineageDepth = 8

// VariantOrder returns the distinct variants among imgs in the order people
// choose from: the common variants first (standard, minimal, cloud,
// desktop), then the others by how deep they sit in the based_on chain
// among imgs (base before systemd before dind), then by name.
func VariantOrder(imgs []*Image) []string {
	byAlias := map[string]*Image{}
	for _, img := range imgs {
		byAlias[img.Alias] = img
	}
	depth := func(img *Image) int {
		d := 0
		for cur := img; cur.BasedOn != "" && d < maxLineageDepth; d++ {
			parent, ok := byAlias[cur.BasedOn]
			if !ok {
				break
			}
			cur = parent
		}
		return d
	}
	type entry struct {
		variant     string
		rank, depth int
	}
	var out []entry
	for _, img := range imgs {
		if slices.ContainsFunc(out, func(e entry) bool { return e.variant == img.Variant }) {
			continue
		}
		out = append(out, entry{img.Variant, variantRank(img.Variant), depth(img)})
	}
	slices.SortFunc(out, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.depth, b.depth), cmp.Compare(a.variant, b.variant))
	})
	names := make([]string, len(out))
	for i, e := range out {
		names[i] = e.variant
	}
	return names
}

// LineageNode is an image in a based_on hierarchy and the images built on it.
type LineageNode struct {
	Image    *Image
	Children []*LineageNode
}

// FindLineage returns the based_on hierarchy around img on its
// architecture: from its topmost ancestor down the chain to img, then every
// image built on img, recursively. A parent missing on img's architecture is
// taken from another one; a parent missing altogether ends the chain. It
// returns nil when img has neither a parent nor children.
func (db *DB) FindLineage(ctx context.Context, img *Image) (*LineageNode, error) {
	seen := map[string]bool{img.Alias: true}
	node := &LineageNode{Image: img}
	var err error
	if node.Children, err = db.findDescendants(ctx, img, seen); err != nil {
		return nil, err
	}
	root := node
	for cur, depth := img, 0; cur.BasedOn != "" && !seen[cur.BasedOn] && depth < maxLineageDepth; depth++ {
		parent, err := db.FindImageByAlias(ctx, cur.BasedOn, img.Architecture)
		if IsNotFound(err) {
			parent, err = db.FindImageByAlias(ctx, cur.BasedOn, "")
		}
		if IsNotFound(err) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("lineage of %s: %w", img.Alias, err)
		}
		seen[parent.Alias] = true
		root = &LineageNode{Image: parent, Children: []*LineageNode{root}}
		cur = parent
	}
	if root == node && len(node.Children) == 0 {
		return nil, nil
	}
	return root, nil
}

// findDescendants returns the tree of images on img's architecture whose
// based_on chain leads to img.
func (db *DB) findDescendants(ctx context.Context, img *Image, seen map[string]bool) ([]*LineageNode, error) {
	imgs, err := queryImages(ctx, db.read, `WITH RECURSIVE d(alias, depth) AS (
			SELECT ?, 0
			UNION
			SELECT i.alias, d.depth + 1 FROM images i JOIN d ON i.based_on = d.alias WHERE d.depth < ?
		)
		SELECT `+imageColumns+` FROM images
		WHERE architecture = ? AND alias IN (SELECT alias FROM d WHERE depth > 0) ORDER BY alias`,
		img.Alias, maxLineageDepth, img.Architecture)
	if err != nil {
		return nil, fmt.Errorf("lineage of %s: %w", img.Alias, err)
	}
	nodes := map[string]*LineageNode{img.Alias: {Image: img}}
	for _, d := range imgs {
		if !seen[d.Alias] {
			nodes[d.Alias] = &LineageNode{Image: d}
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
