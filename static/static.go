// Package static holds Berth's CSS, scripts and icons, embedded in the
// binary. Asset URLs carry a content hash so browsers may cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

// htmx.min.js is copied into js/ by `make assets` from the pinned npm
// package and is not committed; pages work without it.
//
//go:embed css icons all:js
var files embed.FS

// Assets is an immutable index of the embedded files and their hashes.
type Assets struct {
	fs     fs.FS
	hashes map[string]string // name -> short content hash
}

// Load hashes every embedded file once.
func Load() (*Assets, error) {
	a := &Assets{fs: files, hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[name] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return a, err
}

// FS is the tree of embedded files.
func (a *Assets) FS() fs.FS { return a.fs }

// Has reports whether the named file is embedded.
func (a *Assets) Has(name string) bool { _, ok := a.hashes[name]; return ok }

// Hash returns the content hash of the named file, "" if it is missing.
func (a *Assets) Hash(name string) string { return a.hashes[name] }

// URL returns the versioned URL of a file, or "" when it is not embedded
// (htmx before `make assets`), so pages can leave the reference out.
func (a *Assets) URL(name string) string {
	h, ok := a.hashes[name]
	if !ok {
		return ""
	}
	return "/static/" + name + "?v=" + h
}

// Icon returns the SVG icon for an operating system, falling back to a
// generic one for systems without their own drawing.
func (a *Assets) Icon(os string) (name string, body []byte, err error) {
	name = path.Join("icons", strings.ToLower(os)+".svg")
	if !a.Has(name) || strings.Contains(os, "/") {
		name = "icons/generic.svg"
	}
	body, err = fs.ReadFile(a.fs, name)
	return name, body, err
}
