// Package oci reads container images in the formats operators hand to
// `berth image load` (an OCI image layout directory, an oci-archive
// tarball, a `docker save` tarball) and copies them into the blob store,
// each blob checked against its digest as it is written. It also fetches
// images from upstream registries for pull-through. The formats are read
// by github.com/google/go-containerregistry, never parsed by hand.
package oci

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
)

// Formats of a file given to Open.
const (
	FormatLayout     = "oci-layout"
	FormatOCIArchive = "oci-archive"
	FormatDockerSave = "docker-save"
)

// Source is an opened image file; Close removes any scratch files.
type Source struct {
	Format string
	Image  v1.Image
	close  func()
}

// Close releases the source's scratch files.
func (s *Source) Close() {
	if s.close != nil {
		s.close()
	}
}

// Open reads path (a layout directory, an oci-archive or a docker save
// tarball) and picks the image for arch. scratch makes a directory to
// unpack an oci-archive into.
func Open(path, arch string, scratch func() (string, error)) (*Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		img, err := fromLayout(path, arch)
		if err != nil {
			return nil, err
		}
		return &Source{Format: FormatLayout, Image: img}, nil
	}
	kind, err := sniffTar(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case FormatDockerSave:
		img, err := tarball.ImageFromPath(path, nil)
		if err != nil {
			return nil, fmt.Errorf("read docker save tarball %s: %w", path, err)
		}
		if err := checkArch(img, arch); err != nil {
			return nil, err
		}
		return &Source{Format: FormatDockerSave, Image: img}, nil
	case FormatOCIArchive:
		dir, err := scratch()
		if err != nil {
			return nil, err
		}
		done := func() { os.RemoveAll(dir) }
		if err := untar(path, dir); err != nil {
			done()
			return nil, fmt.Errorf("unpack oci-archive %s: %w", path, err)
		}
		img, err := fromLayout(dir, arch)
		if err != nil {
			done()
			return nil, err
		}
		return &Source{Format: FormatOCIArchive, Image: img, close: done}, nil
	}
	return nil, fmt.Errorf("%s is neither an OCI image layout, an oci-archive nor a docker save tarball", path)
}

// openTar opens a tarball, gzip-compressed or not.
func openTar(path string) (*tar.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return tar.NewReader(zr), f, nil
	}
	return tar.NewReader(br), f, nil
}

// sniffTar tells an oci-archive (an image layout in a tarball: it holds
// oci-layout) from a docker save tarball (it holds manifest.json).
func sniffTar(path string) (string, error) {
	tr, c, err := openTar(path)
	if err != nil {
		return "", err
	}
	defer c.Close()
	kind := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return kind, nil
		}
		if err != nil {
			return "", fmt.Errorf("%s is not a tarball: %w", path, err)
		}
		switch filepath.Clean(h.Name) {
		case "oci-layout":
			return FormatOCIArchive, nil
		case "manifest.json":
			kind = FormatDockerSave
		}
	}
}

// untar unpacks the regular files and directories of a tarball into dir,
// refusing names that would leave it.
func untar(path, dir string) error {
	tr, c, err := openTar(path)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q leaves the archive", h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o750); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// fromLayout picks the image for arch from an image layout's index,
// descending into nested indexes.
func fromLayout(dir, arch string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read OCI image layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read OCI image layout %s: %w", dir, err)
	}
	img, err := pick(idx, arch)
	if err != nil {
		return nil, fmt.Errorf("OCI image layout %s: %w", dir, err)
	}
	return img, nil
}

// pick chooses the image for arch in an index: the one whose platform
// matches, or the only one when the index holds one image.
func pick(idx v1.ImageIndex, arch string) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	want, variant := store.OCIPlatform(arch)
	var images []v1.Descriptor
	for _, d := range m.Manifests {
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := pick(child, arch); err == nil {
				return img, nil
			}
			continue
		}
		if d.MediaType.IsImage() {
			images = append(images, d)
		}
	}
	for _, d := range images {
		if d.Platform != nil && d.Platform.Architecture == want && (variant == "" || d.Platform.Variant == variant || d.Platform.Variant == "") {
			return idx.Image(d.Digest)
		}
	}
	if len(images) == 1 {
		img, err := idx.Image(images[0].Digest)
		if err != nil {
			return nil, err
		}
		return img, checkArch(img, arch)
	}
	if len(images) == 0 {
		return nil, errors.New("it holds no image manifest")
	}
	return nil, fmt.Errorf("none of its %d images is for %s", len(images), arch)
}

// checkArch refuses an image whose config names another architecture.
func checkArch(img v1.Image, arch string) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read image config: %w", err)
	}
	want, _ := store.OCIPlatform(arch)
	if cf.Architecture != "" && cf.Architecture != want {
		return fmt.Errorf("the image is built for %s, not %s", cf.Architecture, arch)
	}
	return nil
}

// Ingest copies every blob of img into bs, each checked against its digest
// while it is written and synced before it is named, and returns the build
// to record (ImageID left for the caller). The manifest is written last.
func Ingest(ctx context.Context, bs *blobs.Store, img v1.Image) (store.Build, error) {
	var b store.Build
	raw, err := img.RawManifest()
	if err != nil {
		return b, fmt.Errorf("read manifest: %w", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return b, fmt.Errorf("read manifest: %w", err)
	}
	if !mt.IsImage() {
		return b, fmt.Errorf("manifest media type %s is not an image manifest", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		return b, fmt.Errorf("read manifest: %w", err)
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return b, fmt.Errorf("read config: %w", err)
	}
	if _, err := bs.Put(m.Config.Digest.String(), m.Config.Size, bytes.NewReader(cfg)); err != nil {
		return b, fmt.Errorf("config: %w", err)
	}
	b.Blobs = append(b.Blobs, store.Blob{Digest: m.Config.Digest.String(), Size: m.Config.Size,
		MediaType: string(m.Config.MediaType), Role: store.RoleConfig})
	for _, d := range m.Layers {
		if err := ctx.Err(); err != nil {
			return b, err
		}
		bl := store.Blob{Digest: d.Digest.String(), Size: d.Size, MediaType: string(d.MediaType), Role: store.RoleLayer}
		if d.MediaType == types.OCIRestrictedLayer || d.MediaType == types.DockerForeignLayer || d.MediaType == types.OCIUncompressedRestrictedLayer {
			return b, fmt.Errorf("layer %s is non-distributable (%s): Berth serves only content it holds", d.Digest, d.MediaType)
		}
		if !bs.Has(bl.Digest, bl.Size) {
			layer, err := img.LayerByDigest(d.Digest)
			if err != nil {
				return b, fmt.Errorf("layer %s: %w", d.Digest, err)
			}
			rc, err := layer.Compressed()
			if err != nil {
				return b, fmt.Errorf("layer %s: %w", d.Digest, err)
			}
			_, err = bs.Put(bl.Digest, bl.Size, rc)
			rc.Close()
			if err != nil {
				return b, fmt.Errorf("layer: %w", err)
			}
		}
		b.Blobs = append(b.Blobs, bl)
	}
	md, err := bs.PutBytes(raw)
	if err != nil {
		return b, fmt.Errorf("manifest: %w", err)
	}
	b.Kind = store.ContentOCI
	b.Manifest = store.Blob{Digest: md, Size: int64(len(raw)), MediaType: string(mt), Role: store.RoleManifest}
	b.Blobs = append(b.Blobs, b.Manifest)
	return b, nil
}
