// Package synth makes synthetic catalogs for load tests and demos of scale.
// It knows no database: it draws images and their ratings from a seed and
// hands them, one at a time, to a backend's bulk loader. The same seed
// always gives the same catalog.
//
// Each synthetic build repeats one real release's set of variants and
// architectures from the default catalog under a new release name
// (ubuntu/24.04.b3k9-minimal), with its descriptions and tags, jittered
// sizes, dates and prices, and ratings from a fixed set of synthetic
// raters for a share of the free images.
package synth

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/berth/berth/store"
)

// Raters is how many synthetic people rate generated images.
const Raters = 12

// MaxImages bounds one load.
const MaxImages = 10_000_000

// Build is one generated image and the ratings it gets.
type Build struct {
	// Template is the index, in the default catalog, of the image this one
	// copies; its Tags, Features and Security are the template's own
	// slices and values, shared and read-only, so a loader can encode
	// them once per template.
	Template int
	Image    store.Image
	// Votes[i] is the rating rater i gave, for the first len(Votes) raters.
	Votes []int
}

// Loader is a backend that adds many images in one transaction. fill gets
// how many images the catalog already holds (builds are numbered after them,
// so loading again with the same seed adds new images rather than
// colliding) and calls add for each build; add may keep nothing of b after
// it returns. raters are the emails of the synthetic raters, created when
// missing.
type Loader interface {
	BulkAdd(ctx context.Context, raters []string, fill func(existing int, add func(b *Build) error) error) (int, error)
}

// RaterEmails names the synthetic raters of a seed.
func RaterEmails(seed uint64) []string {
	out := make([]string, Raters)
	for i := range out {
		out[i] = fmt.Sprintf("gen%d-rater%02d@synthetic.berth.example", seed, i+1)
	}
	return out
}

// Generate adds n synthetic images drawn from seed to into, in one
// transaction: all of them or none.
func Generate(ctx context.Context, into Loader, n int, seed uint64) (int, error) {
	if n < 1 || n > MaxImages {
		return 0, store.Invalid("count", "count must be from 1 to 10,000,000")
	}
	templates, err := store.ParseCatalog(bytes.NewReader(store.DefaultCatalog))
	if err != nil {
		return 0, err
	}
	index := map[*store.Image]int{}
	families := map[string][]*store.Image{}
	var order []string
	for i, img := range templates {
		index[img] = i
		key := img.OS + "/" + img.Release
		if families[key] == nil {
			order = append(order, key)
		}
		families[key] = append(families[key], img)
	}
	n, err = into.BulkAdd(ctx, RaterEmails(seed), func(existing int, add func(*Build) error) error {
		rng := rand.New(rand.NewPCG(seed, 0x6265727468))
		start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
		span := int(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
		prices := []int64{0, 0, 0, 0, 0, 0, 499, 500, 1000, 1500, 2500}
		b := &Build{Votes: make([]int, 0, Raters)}
		build, written := existing, 0
		for written < n {
			build++
			fam := families[order[rng.IntN(len(order))]]
			release := fam[0].Release + ".b" + strconv.FormatUint(seed%1000, 36) + strconv.FormatInt(int64(build), 36)
			day := start.AddDate(0, 0, rng.IntN(span))
			serial, from := day.Format("20060102"), day.Format("2 January 2006")
			for _, t := range fam {
				if written >= n {
					break
				}
				alias := t.OS + "/" + release
				name := t.OS + "-" + release
				if t.Variant != store.DefaultVariant {
					alias += "-" + t.Variant
					name += "-" + t.Variant
				}
				price := t.PriceCents
				if price > 0 {
					price = prices[6+rng.IntN(len(prices)-6)]
				} else if rng.IntN(20) == 0 {
					price = prices[rng.IntN(len(prices))]
				}
				var sum int64
				b.Votes = b.Votes[:0]
				if price == 0 && rng.IntN(8) == 0 {
					quality := 2.5 + rng.Float64()*2.4
					for range 1 + rng.IntN(Raters) {
						v := max(store.MinRating, min(store.MaxRating, int(quality+rng.NormFloat64()+0.5)))
						b.Votes = append(b.Votes, v)
						sum += int64(v)
					}
				}
				// Drawn in this order, after the votes, so that a seed keeps
				// giving the catalog it always gave.
				size := t.Size * int64(90+rng.IntN(21)) / 100
				prespawn := rng.IntN(5) == 0
				b.Template = index[t]
				b.Image = store.Image{ID: store.ImageID(alias, t.Architecture), Alias: alias, Description: t.Description,
					ImageName: name + "-" + t.Architecture, Architecture: t.Architecture, OS: t.OS, Release: release,
					Serial: serial, Variant: t.Variant, Size: size, PriceCents: price, AddedDate: day, Prespawn: prespawn,
					Tags: t.Tags, Features: t.Features, Security: t.Security,
					Docs:      "A synthetic build of " + t.Alias + " from " + from + ", generated for load tests.",
					RatingSum: sum, RatingCount: int64(len(b.Votes))}
				if err := add(b); err != nil {
					return err
				}
				written++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("generate: %w", err)
	}
	return n, nil
}
