package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
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
}

// ImageID derives the id of an image that a catalog file gives without one:
// the first 24 hex digits of SHA-256 over "alias|architecture", so the same
// image gets the same id in every database.
func ImageID(alias, architecture string) string {
	sum := sha256.Sum256([]byte(alias + "|" + architecture))
	return hex.EncodeToString(sum[:])[:24]
}

func (ci CatalogImage) image() (*Image, error) {
	cents, ok := USDToCents(ci.Price)
	if !ok {
		return nil, Invalid("price", "image %s: price is not a valid amount", ci.Alias)
	}
	img := &Image{
		ID: ci.ID, Alias: ci.Alias, Description: ci.Description, ImageName: ci.ImageName,
		Architecture: ci.Architecture, OS: ci.OS, Release: ci.Release, Serial: ci.Serial,
		Variant: ci.Variant, Size: ci.Size, PriceCents: cents, AddedDate: ci.AddedDate.UTC(),
		Prespawn: ci.Prespawn, Tags: nonNil(ci.Tags), BasedOn: ci.BasedOn,
		Features: nonNil(ci.Features), PullRef: ci.PullRef, Security: ci.Security, Docs: ci.Docs,
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

func catalogImage(img *Image) CatalogImage {
	return CatalogImage{
		ID: img.ID, Alias: img.Alias, Description: img.Description, ImageName: img.ImageName,
		Architecture: img.Architecture, OS: img.OS, Release: img.Release, Serial: img.Serial,
		Variant: img.Variant, Size: img.Size, Price: CentsToUSD(img.PriceCents),
		AddedDate: img.AddedDate, Prespawn: img.Prespawn, Tags: nonNil(img.Tags),
		BasedOn: img.BasedOn, Features: nonNil(img.Features), PullRef: img.PullRef,
		Security: img.Security, Docs: img.Docs,
	}
}

func nonNil(s []string) []string {
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

// ImportCatalog adds or updates the images of a catalog file in one
// transaction: all of them land or none. Images already stored with the same
// content are left alone, so importing an export changes nothing. Ratings
// are kept across updates.
func (db *DB) ImportCatalog(ctx context.Context, r io.Reader) (ImportResult, error) {
	var res ImportResult
	imgs, err := ParseCatalog(r)
	if err != nil {
		return res, err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	for _, img := range imgs {
		existing, err := queryImages(ctx, tx, `SELECT `+imageColumns+` FROM images WHERE id = ?`, img.ID)
		if err != nil {
			return res, fmt.Errorf("import %s: %w", img.Alias, err)
		}
		if len(existing) == 1 {
			old := existing[0]
			img.RatingSum, img.RatingCount = old.RatingSum, old.RatingCount
			if reflect.DeepEqual(old, img) {
				res.Unchanged++
				continue
			}
			res.Updated++
		} else {
			res.Added++
		}
		if err := upsertImage(ctx, tx, img); err != nil {
			return res, fmt.Errorf("import %s (%s): %w", img.Alias, img.Architecture, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("import catalog: %w", err)
	}
	if res.Added+res.Updated > 0 {
		return res, db.analyze(ctx)
	}
	return res, nil
}

func upsertImage(ctx context.Context, tx *Tx, img *Image) error {
	tags, _ := json.Marshal(nonNil(img.Tags))
	features, _ := json.Marshal(nonNil(img.Features))
	var security any
	if img.Security != nil {
		b, err := json.Marshal(img.Security)
		if err != nil {
			return err
		}
		security = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO images (`+
		`id, alias, description, image_name, architecture, os, release, serial, variant, size,
		price_cents, added_date, prespawn, tags, based_on, features, pull_ref, security, docs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET alias = excluded.alias, description = excluded.description,
		image_name = excluded.image_name, architecture = excluded.architecture, os = excluded.os,
		release = excluded.release, serial = excluded.serial, variant = excluded.variant,
		size = excluded.size, price_cents = excluded.price_cents, added_date = excluded.added_date,
		prespawn = excluded.prespawn, tags = excluded.tags, based_on = excluded.based_on,
		features = excluded.features, pull_ref = excluded.pull_ref, security = excluded.security,
		docs = excluded.docs`,
		img.ID, img.Alias, img.Description, img.ImageName, img.Architecture, img.OS, img.Release,
		img.Serial, img.Variant, img.Size, img.PriceCents, img.AddedDate.UTC().Format(time.RFC3339),
		boolInt(img.Prespawn), string(tags), img.BasedOn, string(features), img.PullRef, security, img.Docs)
	if err != nil && isUniqueViolation(err) {
		return Errorf(ECONFLICT, "another image already uses alias %s on %s", img.Alias, img.Architecture)
	}
	return err
}

// ExportCatalog writes every image as a catalog file, ordered by id so that
// two exports of the same catalog are byte for byte equal.
func (db *DB) ExportCatalog(ctx context.Context, w io.Writer) error {
	imgs, err := queryImages(ctx, db.read, `SELECT `+imageColumns+` FROM images ORDER BY id`)
	if err != nil {
		return fmt.Errorf("export catalog: %w", err)
	}
	f := CatalogFile{Version: CatalogVersion, Images: make([]CatalogImage, len(imgs))}
	for i, img := range imgs {
		f.Images[i] = catalogImage(img)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("export catalog: %w", err)
	}
	return nil
}

// LoadDefaultCatalog imports the embedded catalog when the catalog is empty,
// and reports whether it did.
func (db *DB) LoadDefaultCatalog(ctx context.Context) (bool, error) {
	n, err := db.CountImages(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	if _, err := db.ImportCatalog(ctx, bytes.NewReader(DefaultCatalog)); err != nil {
		return false, fmt.Errorf("load default catalog: %w", err)
	}
	return true, nil
}
