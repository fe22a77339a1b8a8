package blobs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutVerifiesWhileWriting(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("layer bytes")
	d := Digest(body)

	t.Run("ErrDigestMismatch", func(t *testing.T) {
		_, err := s.Put(d, int64(len(body)), strings.NewReader("other bytes"))
		if !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("put of bytes that do not match: %v", err)
		}
		if s.Has(d, -1) {
			t.Error("a mismatched blob was stored under the digest")
		}
		if tmp, _ := os.ReadDir(filepath.Join(s.Dir(), "tmp")); len(tmp) != 0 {
			t.Errorf("%d temporary files left", len(tmp))
		}
	})
	t.Run("ErrSizeMismatch", func(t *testing.T) {
		if _, err := s.Put(d, 3, strings.NewReader(string(body))); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("put with the wrong size: %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		if _, err := s.Put(d, int64(len(body)), strings.NewReader(string(body))); err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(d, int64(len(body))); err != nil {
			t.Fatal(err)
		}
		list, err := s.List()
		if err != nil || len(list) != 1 || list[0].Digest != d {
			t.Errorf("list = %v, %v", list, err)
		}
	})
	t.Run("ErrNotADigest", func(t *testing.T) {
		if _, err := s.Put("sha256:../../etc/passwd", -1, strings.NewReader("")); err == nil {
			t.Error("a path-like digest was accepted")
		}
	})
}
