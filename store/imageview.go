package store

import (
	"cmp"
	"context"
)

// ImageView is what an image page shows of the catalog: the same for
// every viewer, so web caches it per catalog generation and image.
type ImageView struct {
	Image     *Image
	Siblings  []*Image     // FindSiblings
	Lineage   *LineageNode // FindLineage; nil when the image has no family
	Histogram [MaxRating + 1]int64
}

// ImageViewReader is what ReadImageView asks of a backend.
type ImageViewReader interface {
	FindImage(ctx context.Context, id string) (*Image, error)
	FindSiblings(ctx context.Context, img *Image) ([]*Image, error)
	FindLineage(ctx context.Context, img *Image) (*LineageNode, error)
	Histogram(ctx context.Context, imageID string) ([MaxRating + 1]int64, error)
}

// ReadImageView reads the view of image id one read at a time: right for
// a backend in the same process, where a read costs no round trip.
func ReadImageView(ctx context.Context, r ImageViewReader, id string) (*ImageView, error) {
	img, err := r.FindImage(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &ImageView{Image: img}
	if v.Siblings, err = r.FindSiblings(ctx, img); err != nil {
		return nil, err
	}
	if v.Lineage, err = r.FindLineage(ctx, img); err != nil {
		return nil, err
	}
	if v.Histogram, err = r.Histogram(ctx, img.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// LineageOf is FindLineage over images already read: descendants as
// LineageIndex.Descendants gives them for img, and ancestors holding,
// on every architecture, each image whose alias lies up img's based_on
// chain within MaxLineageDepth steps (more does no harm). A backend that
// reads both in one round trip builds the same tree as FindLineage.
func LineageOf(img *Image, descendants, ancestors []*Image) (*LineageNode, error) {
	return FindLineage(context.Background(), readLineage{descendants, ancestors}, img)
}

// readLineage is a LineageIndex over images already read.
type readLineage struct{ descendants, ancestors []*Image }

func (r readLineage) Descendants(context.Context, *Image) ([]*Image, error) {
	return r.descendants, nil
}

// FindImageByAlias picks as the backends' FindImageByAlias do: the
// image of alias on arch or, with arch empty, on the first architecture
// in ArchRank's order (amd64, arm64, armhf), ties by name.
func (r readLineage) FindImageByAlias(_ context.Context, alias, arch string) (*Image, error) {
	var best *Image
	for _, img := range r.ancestors {
		if img.Alias != alias || (arch != "" && img.Architecture != arch) {
			continue
		}
		if best == nil || cmp.Or(cmp.Compare(ArchRank(img.Architecture), ArchRank(best.Architecture)),
			cmp.Compare(img.Architecture, best.Architecture)) < 0 {
			best = img
		}
	}
	if best == nil {
		return nil, Errorf(ENOTFOUND, "No image has the alias %q.", alias)
	}
	return best, nil
}
