// Package blobs is Berth's content-addressed blob store: files on disk named
// by the sha256 of their bytes, beside the database. A blob is written to a
// temporary file while its digest is computed, checked against the digest it
// was announced with, synced, and only then renamed into place (and the
// directory synced), so a blob that exists under its name is whole and
// durable, whatever happens to the process.
package blobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth/berth/store"
)

// Store is a blob directory: DIR/sha256/<2 hex>/<64 hex>, and DIR/tmp for
// writes in progress.
type Store struct {
	dir string
}

// ErrDigestMismatch is returned when written bytes do not hash to the
// digest they were announced with.
var ErrDigestMismatch = errors.New("digest mismatch")

// Open opens (creating when needed) the blob store in dir.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// DefaultDir is the blob directory of a database file: PATH.blobs.
func DefaultDir(dbPath string) string { return dbPath + ".blobs" }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func hexOf(digest string) (string, error) {
	if !store.ValidDigest(digest) {
		return "", store.Invalid("digest", "%q is not a sha256 digest.", digest)
	}
	return strings.TrimPrefix(digest, "sha256:"), nil
}

// Path is where the blob with digest lives (whether or not it exists).
func (s *Store) Path(digest string) (string, error) {
	h, err := hexOf(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, "sha256", h[:2], h), nil
}

// Has reports whether the blob exists with the given size (size < 0: any).
func (s *Store) Has(digest string, size int64) bool {
	p, err := s.Path(digest)
	if err != nil {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

// Open opens a blob for reading.
func (s *Store) Open(digest string) (*os.File, error) {
	p, err := s.Path(digest)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Put stores r's bytes under digest. It fails with ErrDigestMismatch (and
// stores nothing) when the bytes hash otherwise, or when size >= 0 and the
// length differs. A blob already present is not written again; r is then
// not read.
func (s *Store) Put(digest string, size int64, r io.Reader) (int64, error) {
	final, err := s.Path(digest)
	if err != nil {
		return 0, err
	}
	if s.Has(digest, size) {
		return 0, nil
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", digest, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return n, fmt.Errorf("blob %s: write: %w", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest || (size >= 0 && n != size) {
		return n, fmt.Errorf("blob %s: %w: the %d bytes read hash to %s", digest, ErrDigestMismatch, n, got)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("blob %s: sync: %w", digest, err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := syncDir(parent); err != nil {
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	return n, syncDir(filepath.Join(s.dir, "sha256"))
}

// PutBytes stores b, returning its digest.
func (s *Store) PutBytes(b []byte) (string, error) {
	d := Digest(b)
	_, err := s.Put(d, int64(len(b)), bytes.NewReader(b))
	return d, err
}

// Digest is the sha256 digest of b as Berth writes digests.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Verify re-hashes a blob and fails when it is missing, of another size
// (size >= 0) or its bytes no longer match its name.
func (s *Store) Verify(digest string, size int64) error {
	f, err := s.Open(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("%w: %d bytes, want %d", ErrDigestMismatch, n, size)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: bytes hash to %s", ErrDigestMismatch, got)
	}
	return nil
}

// Entry is a stored blob as found on disk.
type Entry struct {
	Digest  string
	Size    int64
	ModTime time.Time
}

// List returns every stored blob.
func (s *Store) List() ([]Entry, error) {
	var out []Entry
	root := filepath.Join(s.dir, "sha256")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if !store.ValidDigest("sha256:" + name) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Entry{Digest: "sha256:" + name, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	return out, err
}

// Remove deletes a blob.
func (s *Store) Remove(digest string) error {
	p, err := s.Path(digest)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

// RemoveStaleTemps deletes temporary files (of writes that were
// interrupted) older than age, and says how many.
func (s *Store) RemoveStaleTemps(age time.Duration, now time.Time) (int, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "tmp"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < age {
			continue
		}
		if os.RemoveAll(filepath.Join(s.dir, "tmp", e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

// TempDir makes a directory for a loader's scratch files (an unpacked
// archive) inside the store's tmp, so gc can clear it if the loader dies.
func (s *Store) TempDir(pattern string) (string, error) {
	return os.MkdirTemp(filepath.Join(s.dir, "tmp"), pattern)
}
