package web

import (
	"context"
	"errors"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/store"
)

// imageData is the part of an image page that is the same for every
// viewer: the image, its siblings and lineage (its rendered docs have a cache of their own, see imageDocs), the
// rating histogram and the guidance for its variant. It is worked out once
// per catalog generation and image and shared, read-only, by every request
// for the page; what belongs to the viewer (owned, their rating, their
// balance, the CSRF token, a flash) is filled in per request by
// imageDetail and never stored here.
//
// The generation moves on every change of any image and on every rating
// (see store.CatalogStore.Generation), which is everything this data is
// made from, so an entry is never stale; purchases and imports change only
// the viewer's parts.
type imageData struct {
	image     *store.Image
	siblings  []*store.Image
	lineage   *store.LineageNode
	histogram [store.MaxRating + 1]int64
	guidance  *docs.Guidance
	gen       int64 // the catalog generation it was read at
	size      int   // the bytes it holds, roughly, for the cache's bound
}

// imageCacheBytes bounds the cache of image page data: a few thousand
// pages, each some kilobytes of rendered docs and a few images.
const imageCacheBytes = 16 << 20

func newImageCache() *lru[*imageData] {
	return newLRU(imageCacheBytes, func(d *imageData) int { return d.size })
}

// imageShared returns the shared data of the page of image id, from the
// cache when the catalog has not changed since it was made. A miss is
// worked out in a turn of s.work, once however many requests want it.
func (s *Server) imageShared(ctx context.Context, id string) (*imageData, error) {
	gen, err := s.store.Generation(ctx)
	if err != nil {
		return nil, err
	}
	if d, ok := s.images.get(id, gen); ok {
		s.count(func(m *Metrics) { m.cache.WithLabelValues("hit").Inc() })
		return d, nil
	}
	s.count(func(m *Metrics) { m.cache.WithLabelValues("miss").Inc() })
	build := func() (*imageData, error) {
		if err := s.work.enter(ctx); err != nil {
			return nil, err
		}
		defer s.work.leave()
		d, err := s.loadImageData(ctx, id)
		if d != nil {
			d.gen = gen
		}
		return d, err
	}
	d, err := s.images.fill(ctx, id, gen, build)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The request that was working it out went away, and this one
		// waited for it: it works the data out itself.
		d, err = s.images.fill(ctx, id, gen, build)
	}
	return d, err
}

// loadImageData reads and renders the shared data of an image page.
func (s *Server) loadImageData(ctx context.Context, id string) (*imageData, error) {
	v, err := s.store.FindImageView(ctx, id)
	if err != nil {
		return nil, err
	}
	img := v.Image
	d := &imageData{image: img, siblings: v.Siblings, lineage: v.Lineage, histogram: v.Histogram}
	if g, ok := s.docs.Guidance(img.VariantLabel()); ok {
		d.guidance = &g
	}
	d.size = 512 + imageBytes(img)
	for _, sib := range d.siblings {
		d.size += imageBytes(sib)
	}
	d.size += lineageBytes(d.lineage)
	return d, nil
}

// imageBytes estimates what an image holds in memory.
func imageBytes(img *store.Image) int {
	n := 400 + len(img.Description) + len(img.Docs) + len(img.PullRef)
	for _, t := range img.Tags {
		n += 16 + len(t)
	}
	for _, f := range img.Features {
		n += 16 + len(f)
	}
	return n
}

func lineageBytes(n *store.LineageNode) int {
	if n == nil {
		return 0
	}
	size := 64 + imageBytes(n.Image)
	for _, c := range n.Children {
		size += lineageBytes(c)
	}
	return size
}
