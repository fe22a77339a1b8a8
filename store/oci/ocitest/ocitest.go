// Package ocitest makes small, valid container images for tests: random
// layers in an OCI image layout, an oci-archive or a docker save tarball,
// written with go-containerregistry.
package ocitest

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth/berth/store"
)

// Image makes an OCI image for a Berth architecture with the given number
// of random gzip layers of about size bytes each.
func Image(t testing.TB, arch string, layers int, size int64) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for range layers {
		l, err := random.Layer(size, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture, cf.Variant = store.OCIPlatform(arch)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Platform is the OCI platform of a Berth architecture.
func Platform(arch string) *v1.Platform {
	a, v := store.OCIPlatform(arch)
	return &v1.Platform{OS: "linux", Architecture: a, Variant: v}
}

// WriteLayout writes images (by Berth architecture) into an OCI image
// layout at dir, each listed in index.json with its platform.
func WriteLayout(t testing.TB, dir string, images map[string]v1.Image) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for arch, img := range images {
		if err := p.AppendImage(img, layout.WithPlatform(*Platform(arch))); err != nil {
			t.Fatal(err)
		}
	}
}

// WriteDockerSave writes img as `docker save` would, tagged ref.
func WriteDockerSave(t testing.TB, path, ref string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
}

// WriteOCIArchive writes an image layout as an oci-archive tarball (what
// `skopeo copy ... oci-archive:FILE` makes).
func WriteOCIArchive(t testing.TB, path string, images map[string]v1.Image) {
	t.Helper()
	dir := t.TempDir()
	WriteLayout(t, dir, images)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Digest is an image's manifest digest.
func Digest(t testing.TB, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
