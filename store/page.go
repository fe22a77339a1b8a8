package store

import (
	"errors"
	"slices"
)

// ImagePage is one page of a catalog listing and the size of the whole result.
type ImagePage struct {
	Images []*Image
	Page   int
	Limit  int
	Total  int
	// Capped is set when there are more than CountCap matches; Total is
	// then CountCap.
	Capped bool
	// Grouped listings (Filter.Group): Images holds each alias's first
	// build by architecture, Builds[i] every build of Images[i]'s alias
	// that passes the filter (Images[i] first, then by architecture), and
	// Total counts aliases while BuildTotal counts the builds.
	Grouped    bool
	Builds     [][]*Image
	BuildTotal int
}

// Pages is the number of pages the result spans (0 when it is empty).
func (p ImagePage) Pages() int {
	if p.Limit < 1 {
		return 0
	}
	return (p.Total + p.Limit - 1) / p.Limit
}

// CountCap bounds how far a listing counts its matches: past it, the total
// is reported as CountCap and marked inexact, so a broad filter over a
// million images costs a bounded count rather than a full one.
const CountCap = 10_000

// Facets lists the distinct values people can filter on, for form choices.
type Facets struct {
	OS       []string
	Variants []string
}

// IsNotFound reports whether err is a not-found domain error.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ENOTFOUND
}

// ArchRank is an architecture's place in Architectures: the order in which
// a grouped listing takes an alias's builds.
func ArchRank(arch string) int {
	if i := slices.Index(Architectures, arch); i >= 0 {
		return i
	}
	return len(Architectures)
}

// GroupBuilds fills a grouped page's Builds from its first builds
// (page.Images) and the other builds of their aliases that pass (builds,
// in any order): each alias's builds by architecture, its first build first.
func GroupBuilds(page *ImagePage, builds []*Image) {
	byAlias := map[string][]*Image{}
	for _, b := range builds {
		byAlias[b.Alias] = append(byAlias[b.Alias], b)
	}
	page.Builds = make([][]*Image, len(page.Images))
	for i, img := range page.Images {
		bs := slices.DeleteFunc(slices.Clone(byAlias[img.Alias]), func(b *Image) bool { return b.ID == img.ID })
		bs = append([]*Image{img}, bs...)
		slices.SortStableFunc(bs, func(a, b *Image) int { return ArchRank(a.Architecture) - ArchRank(b.Architecture) })
		page.Builds[i] = bs
	}
}
