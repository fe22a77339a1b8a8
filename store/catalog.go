package store

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DefaultCatalog is the catalog Berth ships with, in the catalog file format.
//
//go:embed catalog/default.json
var DefaultCatalog []byte

// CatalogVersion is the version of the catalog file format this build writes.
const CatalogVersion = 1

// CatalogFile is the format of `berth catalog import` and `export`: the API's
// image fields plus the Markdown docs body. Ratings are not part of it; they
// belong to the people who gave them.
type CatalogFile struct {
	Version int            `json:"version"`
	Images  []CatalogImage `json:"images"`
}

// CatalogImage is one image in a catalog file. Price is in USD.
type CatalogImage struct {
	ID           string    `json:"id,omitempty"`
	Alias        string    `json:"alias"`
	Description  string    `json:"description"`
	ImageName    string    `json:"image_name"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Release      string    `json:"release"`
	Serial       string    `json:"serial"`
	Variant      string    `json:"variant"`
	Size         int64     `json:"size"`
	Price        float64   `json:"price"`
	AddedDate    time.Time `json:"added_date"`
	Prespawn     bool      `json:"prespawn"`
	Tags         []string  `json:"tags"`
	BasedOn      string    `json:"based_on"`
	Features     []string  `json:"features"`
	PullRef      string    `json:"pull_ref"`
	Security     *Security `json:"security"`
	Docs         string    `json:"docs"`
	EOLDate      string    `json:"eol_date,omitempty"`
	SupersededBy string    `json:"superseded_by,omitempty"`
	TagsPinned   []string  `json:"tags_pinned,omitempty"`
	SourceURL    string    `json:"source_url,omitempty"`

	// priceText is the price as the file wrote it ("" when missing), so
	// that a null price and fractions of a cent are refused rather than
	// read as free or rounded. See UnmarshalJSON.
	priceText string
}

// UnmarshalJSON reads a catalog image, refusing unknown fields, and keeps
// the text of its price for image to check.
func (ci *CatalogImage) UnmarshalJSON(b []byte) error {
	type plain CatalogImage // without this method
	var v struct {
		plain
		Price json.RawMessage `json:"price"` // shadows plain's
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*ci = CatalogImage(v.plain)
	ci.priceText = string(v.Price)
	if f, err := strconv.ParseFloat(ci.priceText, 64); err == nil {
		ci.Price = f
	}
	return nil
}

// priceCents reads the price as written in the file (see ParseUSD).
func (ci CatalogImage) priceCents() (int64, error) {
	if ci.priceText == "" || ci.priceText == "null" {
		return 0, Invalid("price", "image %s (%s): price is missing; give 0 for a free image", ci.Alias, ci.Architecture)
	}
	cents, err := ParseUSD("price", ci.priceText)
	if err != nil {
		return 0, Invalid("price", "image %s (%s): %s", ci.Alias, ci.Architecture, ErrorMessage(err))
	}
	return cents, nil
}

// ImageID derives the id of an image that a catalog file gives without one:
// the first 24 hex digits of SHA-256 over "alias|architecture", so the same
// image gets the same id in every database.
func ImageID(alias, architecture string) string {
	sum := sha256.Sum256([]byte(alias + "|" + architecture))
	return hex.EncodeToString(sum[:])[:24]
}

func (ci CatalogImage) image() (*Image, error) {
	cents, err := ci.priceCents()
	if err != nil {
		return nil, err
	}
	img := &Image{
		ID: ci.ID, Alias: ci.Alias, Description: ci.Description, ImageName: ci.ImageName,
		Architecture: ci.Architecture, OS: ci.OS, Release: ci.Release, Serial: ci.Serial,
		Variant: ci.Variant, Size: ci.Size, PriceCents: cents, AddedDate: ci.AddedDate.UTC(),
		Prespawn: ci.Prespawn, Tags: NonNil(ci.Tags), BasedOn: ci.BasedOn,
		Features: NonNil(ci.Features), PullRef: ci.PullRef, Security: ci.Security, Docs: ci.Docs,
		EOLDate: ci.EOLDate, SupersededBy: ci.SupersededBy, TagsPinned: NonNil(ci.TagsPinned), SourceURL: ci.SourceURL,
	}
	if img.Variant == "" || img.Variant == "standard" {
		img.Variant = DefaultVariant
	}
	if img.ID == "" {
		img.ID = ImageID(img.Alias, img.Architecture)
	}
	if img.Security != nil {
		img.Security.LastScan = img.Security.LastScan.UTC()
	}
	return img, img.Validate()
}

func CatalogImageOf(img *Image) CatalogImage {
	return CatalogImage{
		ID: img.ID, Alias: img.Alias, Description: img.Description, ImageName: img.ImageName,
		Architecture: img.Architecture, OS: img.OS, Release: img.Release, Serial: img.Serial,
		Variant: img.Variant, Size: img.Size, Price: CentsToUSD(img.PriceCents),
		AddedDate: img.AddedDate, Prespawn: img.Prespawn, Tags: NonNil(img.Tags),
		BasedOn: img.BasedOn, Features: NonNil(img.Features), PullRef: img.PullRef,
		Security: img.Security, Docs: img.Docs,
		EOLDate: img.EOLDate, SupersededBy: img.SupersededBy, TagsPinned: nilIfEmpty(img.TagsPinned), SourceURL: img.SourceURL,
	}
}

// nilIfEmpty leaves an empty list out of a catalog file.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// NonNil returns s, or an empty list for nil, so JSON shows [] not null.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ParseCatalog reads and validates a catalog file. It rejects unknown fields,
// so a typo in a field name is an error rather than silently lost data.
func ParseCatalog(r io.Reader) ([]*Image, error) {
	dec := json.NewDecoder(io.LimitReader(r, 256<<20))
	dec.DisallowUnknownFields()
	var f CatalogFile
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(EINVALID, "catalog file is not valid JSON: %v", err)
	}
	if f.Version != CatalogVersion {
		return nil, Errorf(EINVALID, "catalog file version %d is not supported (want %d)", f.Version, CatalogVersion)
	}
	imgs := make([]*Image, 0, len(f.Images))
	ids := map[string]bool{}
	names := map[string]bool{}
	for i, ci := range f.Images {
		img, err := ci.image()
		if err != nil {
			return nil, fmt.Errorf("catalog image %d: %w", i+1, err)
		}
		key := img.Alias + "|" + img.Architecture
		if ids[img.ID] || names[key] {
			return nil, Errorf(EINVALID, "catalog image %d: %s (%s) appears twice", i+1, img.Alias, img.Architecture)
		}
		ids[img.ID], names[key] = true, true
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// ImportResult counts what an import changed.
type ImportResult struct {
	Added, Updated, Unchanged int
}
