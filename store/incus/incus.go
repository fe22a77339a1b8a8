// Package incus stores Incus (LXD) images, a metadata tarball and a root
// file system (squashfs or tarball), in the blob store, and names them the
// way simplestreams clients expect: the image fingerprint is the sha256 of
// the metadata followed by the root file system.
package incus

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
)

// Media types Berth records for the two files; simplestreams names them
// by ftype (see FileType).
const (
	MediaMetadata = "application/x-incus-metadata+tar"
	MediaSquashfs = "application/x-incus-rootfs+squashfs"
	MediaRootTar  = "application/x-incus-rootfs+tar"
)

// FileType is the simplestreams ftype of a blob of an Incus build.
func FileType(b store.Blob) string {
	switch b.MediaType {
	case MediaMetadata:
		return "incus.tar.xz"
	case MediaSquashfs:
		return "squashfs"
	default:
		return "root.tar.xz"
	}
}

// Ingest stores the metadata tarball and the root file system in bs, each
// checked against the digest computed on a first reading, and returns the
// build to record (ImageID left for the caller).
func Ingest(bs *blobs.Store, metadata, rootfs string) (store.Build, error) {
	var b store.Build
	whole := sha256.New()
	meta, err := digestFile(metadata, whole)
	if err != nil {
		return b, err
	}
	root, err := digestFile(rootfs, whole)
	if err != nil {
		return b, err
	}
	meta.MediaType, meta.Role = MediaMetadata, store.RoleMetadata
	root.MediaType, root.Role = MediaRootTar, store.RoleRootfs
	if isSquashfs(rootfs) {
		root.MediaType = MediaSquashfs
	}
	for _, x := range []struct {
		path string
		blob store.Blob
	}{{metadata, meta}, {rootfs, root}} {
		f, err := os.Open(x.path)
		if err != nil {
			return b, err
		}
		_, err = bs.Put(x.blob.Digest, x.blob.Size, f)
		f.Close()
		if err != nil {
			return b, fmt.Errorf("%s: %w (did it change while loading?)", x.path, err)
		}
	}
	b.Kind = store.ContentIncus
	b.Manifest = store.Blob{Digest: "sha256:" + hex.EncodeToString(whole.Sum(nil)), Size: meta.Size + root.Size,
		MediaType: "application/x-incus-image", Role: store.RoleManifest}
	b.Blobs = []store.Blob{meta, root}
	return b, nil
}

func digestFile(path string, also io.Writer) (store.Blob, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.Blob{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, also), bufio.NewReader(f))
	if err != nil {
		return store.Blob{}, fmt.Errorf("read %s: %w", path, err)
	}
	return store.Blob{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// isSquashfs tells a squashfs image by its magic number.
func isSquashfs(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == "hsqs"
}
