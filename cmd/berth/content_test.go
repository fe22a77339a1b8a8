package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/oci/ocitest"
	"github.com/berth/berth/store/sqlite"
)

// catalogDB makes a database holding the default catalog.
func catalogDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.LoadDefaultCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return path
}

func findBuild(t *testing.T, path, alias, arch string) *store.Build {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	img, err := db.FindImageByAlias(context.Background(), alias, arch)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.FindBuild(context.Background(), img.ID, store.ContentOCI)
	if store.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImageLoadFormats loads the same kind of content from each format an
// operator may have, and checks the recorded manifest digest is the
// image's and every blob is in the store.
func TestImageLoadFormats(t *testing.T) {
	db := catalogDB(t)
	dir := t.TempDir()
	amd, arm := ocitest.Image(t, "amd64", 2, 4096), ocitest.Image(t, "arm64", 1, 4096)

	layoutDir := filepath.Join(dir, "layout")
	ocitest.WriteLayout(t, layoutDir, map[string]v1.Image{"amd64": amd, "arm64": arm})
	archive := filepath.Join(dir, "image.oci.tar")
	armhf := ocitest.Image(t, "armhf", 1, 2048)
	ocitest.WriteOCIArchive(t, archive, map[string]v1.Image{"armhf": armhf})
	saved := filepath.Join(dir, "saved.tar")
	docker := ocitest.Image(t, "amd64", 1, 4096)
	ocitest.WriteDockerSave(t, saved, "example.com/debian:13", docker)

	for _, c := range []struct {
		alias, arch, file string
		img               v1.Image
		viaDocker         bool
	}{
		{"ubuntu/24.04-minimal", "amd64", layoutDir, amd, false},
		{"ubuntu/24.04-minimal", "arm64", layoutDir, arm, false},
		{"debian/13", "armhf", archive, armhf, false},
		{"debian/13", "amd64", saved, docker, true},
	} {
		out, err := berth(t, "image", "load", "--db", db, "--alias", c.alias, "--architecture", c.arch, c.file)
		if err != nil {
			t.Fatalf("load %s %s from %s: %v", c.alias, c.arch, c.file, err)
		}
		b := findBuild(t, db, c.alias, c.arch)
		if b == nil {
			t.Fatalf("%s %s: no build recorded (%s)", c.alias, c.arch, out)
		}
		if !c.viaDocker {
			// A layout or an archive keeps the manifest's bytes.
			if want := ocitest.Digest(t, c.img); b.Manifest.Digest != want {
				t.Errorf("%s %s: recorded %s, the image is %s", c.alias, c.arch, b.Manifest.Digest, want)
			}
		}
		if !strings.Contains(out, b.Manifest.Digest) {
			t.Errorf("load printed %q, without the digest %s", out, b.Manifest.Digest)
		}
		bs, _ := blobs.Open(blobs.DefaultDir(db))
		layers := 0
		for _, bl := range b.Blobs {
			if err := bs.Verify(bl.Digest, bl.Size); err != nil {
				t.Errorf("%s %s: blob %s: %v", c.alias, c.arch, bl.Digest, err)
			}
			if bl.Role == store.RoleLayer {
				layers++
			}
		}
		m, _ := c.img.Manifest()
		if layers != len(m.Layers) {
			t.Errorf("%s %s: %d layers recorded, the image has %d", c.alias, c.arch, layers, len(m.Layers))
		}
	}

	t.Run("ErrWrongArchitecture", func(t *testing.T) {
		_, err := berth(t, "image", "load", "--db", db, "--alias", "debian/13", "--architecture", "arm64", saved)
		if err == nil || !strings.Contains(err.Error(), "built for amd64") {
			t.Errorf("loading an amd64 image as arm64: %v", err)
		}
	})
	t.Run("ErrUnknownAlias", func(t *testing.T) {
		_, err := berth(t, "image", "load", "--db", db, "--alias", "nope/1", "--architecture", "amd64", saved)
		if err == nil || !strings.Contains(err.Error(), "berth catalog import") {
			t.Errorf("loading for an unknown alias: %v", err)
		}
	})
	t.Run("ErrNotAnImage", func(t *testing.T) {
		junk := filepath.Join(dir, "junk")
		os.WriteFile(junk, []byte("not a tarball"), 0o600)
		if _, err := berth(t, "image", "load", "--db", db, "--alias", "debian/13", "--architecture", "amd64", junk); err == nil {
			t.Error("loading a junk file succeeded")
		}
	})

	t.Run("Check", func(t *testing.T) {
		if out, err := berth(t, "check", "--db", db, "--deep"); err != nil {
			t.Fatalf("check after loads: %v\n%s", err, out)
		}
		b := findBuild(t, db, "ubuntu/24.04-minimal", "amd64")
		bs, _ := blobs.Open(blobs.DefaultDir(db))
		var layer store.Blob
		for _, bl := range b.Blobs {
			if bl.Role == store.RoleLayer {
				layer = bl
			}
		}
		p, _ := bs.Path(layer.Digest)
		orig, _ := os.ReadFile(p)
		corrupt := append([]byte{}, orig...)
		corrupt[len(corrupt)/2] ^= 0xff
		os.WriteFile(p, corrupt, 0o600)
		if _, err := berth(t, "check", "--db", db); err != nil {
			t.Errorf("a shallow check re-hashed: %v", err)
		}
		if out, err := berth(t, "check", "--db", db, "--deep"); err == nil || !strings.Contains(out, layer.Digest) {
			t.Errorf("deep check of a corrupted blob: %v\n%s", err, out)
		}
		os.Remove(p)
		if out, err := berth(t, "check", "--db", db); err == nil || !strings.Contains(out, "missing") {
			t.Errorf("check of a missing blob: %v\n%s", err, out)
		}
		os.WriteFile(p, orig, 0o600)
	})

	t.Run("GC", func(t *testing.T) {
		bs, _ := blobs.Open(blobs.DefaultDir(db))
		stray, err := bs.PutBytes([]byte("nothing references me"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := berth(t, "image", "gc", "--db", db); err != nil {
			t.Fatal(err)
		}
		if !bs.Has(stray, -1) {
			t.Error("gc removed a fresh blob a load in progress may be about to record")
		}
		old := time.Now().Add(-2 * time.Hour)
		p, _ := bs.Path(stray)
		os.Chtimes(p, old, old)
		out, err := berth(t, "image", "gc", "--db", db)
		if err != nil || !strings.Contains(out, "removed 1 unreferenced") {
			t.Fatalf("gc = %q, %v", out, err)
		}
		if bs.Has(stray, -1) {
			t.Error("gc kept an old unreferenced blob")
		}
		if out, err := berth(t, "check", "--db", db, "--deep"); err != nil {
			t.Errorf("check after gc: %v\n%s", err, out)
		}
	})
}

// TestImageLoadIncus loads an Incus image (metadata tarball and root file
// system) from the command line and records its fingerprint.
func TestImageLoadIncus(t *testing.T) {
	db := catalogDB(t)
	dir := t.TempDir()
	meta, root := filepath.Join(dir, "incus.tar.xz"), filepath.Join(dir, "rootfs.squashfs")
	os.WriteFile(meta, []byte("metadata"), 0o600)
	os.WriteFile(root, []byte("hsqs and the rest of a file system"), 0o600)
	out, err := berth(t, "image", "load", "--db", db, "--format", "incus", "--alias", "debian/13", "--architecture", "amd64", meta, root)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	// The fingerprint Incus checks: sha256 of the metadata then the root.
	want := blobs.Digest([]byte("metadatahsqs and the rest of a file system"))
	if !strings.Contains(out, want) {
		t.Errorf("load printed %q, want the fingerprint %s", out, want)
	}
	if out, err := berth(t, "check", "--deep", "--db", db); err != nil {
		t.Errorf("check: %v\n%s", err, out)
	}
	if _, err := berth(t, "image", "load", "--db", db, "--format", "incus", "--alias", "debian/13", "--architecture", "amd64", meta); err == nil {
		t.Error("an Incus load without its root file system succeeded")
	}
}
