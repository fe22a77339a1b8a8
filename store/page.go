package store

import "errors"

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
