package store

import (
	"context"
	"fmt"
)

// LineageIndex is what FindLineage asks of a backend.
type LineageIndex interface {
	// FindImageByAlias returns the image alias names on arch ("" for the
	// usual one), or an ENOTFOUND error.
	FindImageByAlias(ctx context.Context, alias, arch string) (*Image, error)
	// Descendants returns the images on img's architecture whose based_on
	// chain leads to img within MaxLineageDepth steps, in alias order.
	Descendants(ctx context.Context, img *Image) ([]*Image, error)
}

// FindLineage returns the based_on hierarchy around img on its
// architecture: from its topmost ancestor down the chain to img, then every
// image built on img, recursively. A parent missing on img's architecture is
// taken from another one; a parent missing altogether ends the chain. It
// returns nil when img has neither a parent nor children.
func FindLineage(ctx context.Context, ix LineageIndex, img *Image) (*LineageNode, error) {
	seen := map[string]bool{img.Alias: true}
	node := &LineageNode{Image: img}
	var err error
	if node.Children, err = descendantTree(ctx, ix, img, seen); err != nil {
		return nil, err
	}
	root := node
	for cur, depth := img, 0; cur.BasedOn != "" && !seen[cur.BasedOn] && depth < MaxLineageDepth; depth++ {
		parent, err := ix.FindImageByAlias(ctx, cur.BasedOn, img.Architecture)
		if IsNotFound(err) {
			parent, err = ix.FindImageByAlias(ctx, cur.BasedOn, "")
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

// descendantTree returns the tree of images on img's architecture whose
// based_on chain leads to img, leaving out those in seen, which it adds
// them to.
func descendantTree(ctx context.Context, ix LineageIndex, img *Image, seen map[string]bool) ([]*LineageNode, error) {
	imgs, err := ix.Descendants(ctx, img)
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
