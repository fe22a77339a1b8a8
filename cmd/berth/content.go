package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/incus"
	"github.com/berth/berth/store/oci"
	"github.com/berth/berth/store/postgres"
)

// blobsFlag adds --blobs (env BERTH_BLOBS) to a command; the returned
// function gives the directory, PATH.blobs beside the database by default
// (./berth.blobs for a PostgreSQL database).
func (f *flags) blobsFlag(getenv func(string) string) func() string {
	dir := f.fs.String("blobs", getenv("BERTH_BLOBS"), "blob directory (env BERTH_BLOBS; default: the database path + .blobs)")
	return func() string {
		if *dir != "" {
			return *dir
		}
		if postgres.IsURL(*f.db) {
			// A URL is no place for files: berth.blobs in the working
			// directory (instances share content through --blobs).
			return "berth.blobs"
		}
		return blobs.DefaultDir(*f.db)
	}
}

// cmdImageLoad is `berth image load --alias A --architecture X FILE`: it
// copies one build's blobs into the blob store, each verified and durable,
// and then records the manifest with the catalog image in one transaction.
func cmdImageLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("image load", getenv, stderr)
	blobDir := f.blobsFlag(getenv)
	alias := f.fs.String("alias", "", "the catalog alias the content is for, such as debian/13")
	arch := f.fs.String("architecture", "", "the architecture of the build: amd64, arm64 or armhf")
	format := f.fs.String("format", "oci", "oci (an OCI layout, oci-archive or docker save tarball) or incus (METADATA ROOTFS)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *alias == "" || *arch == "" {
		return usageError{"image load needs --alias and --architecture"}
	}
	if !store.ValidArchitecture(*arch) {
		return usageError{fmt.Sprintf("--architecture %q: use amd64, arm64 or armhf", *arch)}
	}
	switch *format {
	case "oci":
		if len(f.pos) != 1 {
			return usageError{"image load takes one FILE: an OCI image layout directory, an oci-archive or a docker save tarball"}
		}
	case "incus":
		if len(f.pos) != 2 {
			return usageError{"image load --format incus takes METADATA ROOTFS"}
		}
	default:
		return usageError{fmt.Sprintf("--format %q: use oci or incus", *format)}
	}
	db, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	img, err := db.FindImageByAlias(ctx, *alias, *arch)
	if err != nil {
		if store.IsNotFound(err) {
			return fmt.Errorf("image load: the catalog has no image %s for %s: add it with `berth catalog import` first", *alias, *arch)
		}
		return failed("image load", err)
	}
	bs, err := blobs.Open(blobDir())
	if err != nil {
		return err
	}
	var build store.Build
	switch *format {
	case "oci":
		src, err := oci.Open(f.pos[0], *arch, func() (string, error) { return bs.TempDir("unpack-*") })
		if err != nil {
			return fmt.Errorf("image load: %w", err)
		}
		defer src.Close()
		build, err = oci.Ingest(ctx, bs, src.Image)
		if err != nil {
			return fmt.Errorf("image load %s: %w", f.pos[0], err)
		}
	case "incus":
		build, err = incus.Ingest(bs, f.pos[0], f.pos[1])
		if err != nil {
			return fmt.Errorf("image load: %w", err)
		}
	}
	build.ImageID = img.ID
	if err := db.RecordBuild(ctx, build); err != nil {
		return failed("image load", err)
	}
	var size int64
	for _, b := range build.Blobs {
		if b.Role != store.RoleManifest {
			size += b.Size
		}
	}
	fmt.Fprintf(stdout, "loaded %s (%s) %s: %d blobs, %d bytes\n", img.Alias, img.Architecture, build.Manifest.Digest, len(build.Blobs), size)
	return nil
}

// gcGrace is how old an unreferenced blob must be before gc removes it: a
// load in progress writes its blobs before it records them.
const gcGrace = time.Hour

// cmdImageGC is `berth image gc`: it removes the blobs no build references
// (older than an hour, so a load in progress keeps its own) and the
// leftovers of interrupted writes.
func cmdImageGC(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("image gc", getenv, stderr)
	blobDir := f.blobsFlag(getenv)
	grace := f.fs.Duration("grace", gcGrace, "keep unreferenced blobs younger than this (a load in progress writes blobs before recording them)")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	bs, err := blobs.Open(blobDir())
	if err != nil {
		return err
	}
	refs, err := db.ReferencedBlobs(ctx)
	if err != nil {
		return failed("image gc", err)
	}
	keep := map[string]bool{}
	for _, r := range refs {
		keep[r.Digest] = true
	}
	found, err := bs.List()
	if err != nil {
		return fmt.Errorf("image gc: %w", err)
	}
	now := time.Now()
	var removed int
	var freed int64
	for _, e := range found {
		if keep[e.Digest] || now.Sub(e.ModTime) < *grace {
			continue
		}
		if err := bs.Remove(e.Digest); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("image gc: %w", err)
		}
		removed++
		freed += e.Size
	}
	temps, err := bs.RemoveStaleTemps(*grace, now)
	if err != nil {
		return fmt.Errorf("image gc: %w", err)
	}
	fmt.Fprintf(stdout, "removed %d unreferenced blobs (%d bytes) and %d interrupted writes; %d blobs in use\n", removed, freed, temps, len(keep))
	return nil
}

// checkBlobs verifies that every blob a build references is in the blob
// store with its recorded size, and with deep that its bytes still hash
// to its name.
func checkBlobs(ctx context.Context, db store.Store, dir string, deep bool) ([]string, error) {
	refs, err := db.ReferencedBlobs(ctx)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, nil
	}
	bs, err := blobs.Open(dir)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, r := range refs {
		switch {
		case !bs.Has(r.Digest, -1):
			problems = append(problems, fmt.Sprintf("blob %s (%s) is referenced but missing from %s", r.Digest, r.Role, dir))
		case !bs.Has(r.Digest, r.Size):
			problems = append(problems, fmt.Sprintf("blob %s (%s) does not have its recorded size of %d bytes", r.Digest, r.Role, r.Size))
		case deep:
			if err := bs.Verify(r.Digest, r.Size); err != nil {
				problems = append(problems, fmt.Sprintf("blob %s (%s): %v", r.Digest, r.Role, err))
			}
		}
	}
	return problems, nil
}
