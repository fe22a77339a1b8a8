package store

import (
	"cmp"
	"slices"
)

// maxLineageDepth bounds how far a based_on chain is followed, so a cycle
// in a hand-written catalog cannot loop.
const MaxLineageDepth = 8

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
		for cur := img; cur.BasedOn != "" && d < MaxLineageDepth; d++ {
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
