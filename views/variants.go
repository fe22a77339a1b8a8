package views

import (
	"fmt"
	"slices"
	"strings"

	"github.com/a-h/templ"

	"github.com/berth/berth/store"
)

// Choice is one option of the variant chooser: a link to the image it
// names, or, when that combination is not built, a note saying so.
type Choice struct {
	ID      string // stable element id, so focus survives an htmx swap
	Label   string
	URL     string // "" when the combination does not exist
	Current bool
	Note    string // why the choice is unavailable
}

// Available reports whether the choice leads to an image.
func (c Choice) Available() bool { return c.URL != "" }

// Chooser is the variant and architecture picker of a detail page.
type Chooser struct {
	Variants      []Choice
	Architectures []Choice
}

// find returns the sibling with the given variant and architecture.
func (d ImageDetail) find(variant, arch string) *store.Image {
	for _, s := range d.Siblings {
		if s.Variant == variant && s.Architecture == arch {
			return s
		}
	}
	return nil
}

// archsOf lists the architectures a variant is built for, in the usual order.
func (d ImageDetail) archsOf(variant string) []string {
	var out []string
	for _, a := range store.Architectures {
		if d.find(variant, a) != nil {
			out = append(out, a)
		}
	}
	return out
}

// Chooser lists every variant of the release or family on the current
// architecture, and every architecture for the current variant. Choices
// that are not built stay in the list, marked unavailable with the reason.
func (d ImageDetail) Chooser() Chooser {
	var c Chooser
	img := d.Image
	for _, v := range store.VariantOrder(d.Siblings) {
		ch := Choice{ID: "choose-variant-" + v, Label: store.VariantLabel(v), Current: v == img.Variant}
		if s := d.find(v, img.Architecture); s != nil {
			ch.URL = ImageURL(s)
		} else {
			ch.Note = "not built for " + img.Architecture + "; " + strings.Join(d.archsOf(v), " and ") + " only"
		}
		c.Variants = append(c.Variants, ch)
	}
	familyHas := func(arch string) bool {
		return slices.ContainsFunc(d.Siblings, func(s *store.Image) bool { return s.Architecture == arch })
	}
	for _, a := range store.Architectures {
		ch := Choice{ID: "choose-arch-" + a, Label: a, Current: a == img.Architecture}
		switch s := d.find(img.Variant, a); {
		case s != nil:
			ch.URL = ImageURL(s)
		case familyHas(a):
			ch.Note = "no " + img.VariantLabel() + " build"
		default:
			ch.Note = "not built for this release"
		}
		c.Architectures = append(c.Architectures, ch)
	}
	return c
}

// Comparison sets the variants of the current architecture side by side.
type Comparison struct {
	Images   []*store.Image // one per variant, in chooser order
	Missing  []string       // variants not built for this architecture
	Features []FeatureRow   // empty when no compared image lists features
}

// FeatureRow is one feature and whether each compared image has it:
// "Yes", "No", or "" when an image lists no features at all.
type FeatureRow struct {
	Name  string
	Cells []string
}

// Comparison compares the variants built for the current architecture,
// in chooser order (a family's from base to the last child). Feature rows follow the longest features list, so a family reads
// from what every member shares to what only the last one adds; a row no
// image has is left out.
func (d ImageDetail) Comparison() Comparison {
	var c Comparison
	for _, v := range store.VariantOrder(d.Siblings) {
		if s := d.find(v, d.Image.Architecture); s != nil {
			c.Images = append(c.Images, s)
		} else {
			c.Missing = append(c.Missing, store.VariantLabel(v))
		}
	}
	var names []string
	longest := slices.MaxFunc(append([]*store.Image{d.Image}, c.Images...), func(a, b *store.Image) int {
		return len(a.Features) - len(b.Features)
	})
	names = append(names, longest.Features...)
	for _, img := range c.Images {
		for _, f := range img.Features {
			if !slices.Contains(names, f) {
				names = append(names, f)
			}
		}
	}
	for _, f := range names {
		row := FeatureRow{Name: f}
		for _, img := range c.Images {
			switch {
			case len(img.Features) == 0:
				row.Cells = append(row.Cells, "")
			case slices.Contains(img.Features, f):
				row.Cells = append(row.Cells, "Yes")
			default:
				row.Cells = append(row.Cells, "No")
			}
		}
		if slices.Contains(row.Cells, "Yes") {
			c.Features = append(c.Features, row)
		}
	}
	return c
}

// RatingCell is a rating as the comparison shows it.
func RatingCell(img *store.Image) string {
	if img.RatingCount == 0 {
		return "not rated"
	}
	return fmt.Sprintf("%.1f ★ (%d)", img.AverageRating(), img.RatingCount)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

// AnyBasedOn reports whether a compared image is built on another.
func (c Comparison) AnyBasedOn() bool {
	return slices.ContainsFunc(c.Images, func(img *store.Image) bool { return img.BasedOn != "" })
}

// AnyPrespawn reports whether a compared image is prespawned.
func (c Comparison) AnyPrespawn() bool {
	return slices.ContainsFunc(c.Images, func(img *store.Image) bool { return img.Prespawn })
}

// swapToTop is swap for links further down the page (the comparison, the
// lineage): after the swap the page shows the new image from its title,
// which takes the focus (see berth.js).
func swapToTop(url string) templ.Attributes {
	a := swap(url)
	a["hx-swap"] = "outerHTML show:window:top"
	a["data-focus-title"] = "true"
	return a
}
