package sqlite

import (
	"context"
	"testing"

	"github.com/berth/berth/store/synth"
)

func mustDefault(t testing.TB) *DB {
	t.Helper()
	db := mustOpen(t)
	if _, err := db.LoadDefaultCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// BenchmarkAliasMiss is a misspelt alias on a generated catalog: the
// explanation and its suggestions, as the image-by-alias page asks them.
func BenchmarkAliasMiss(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 10_000, 3); err != nil {
		b.Fatal(err)
	}
	misses := []string{"ubnutu/24.04", "ubuntu:24.04", "debian-13-amd64", "alpine/3.99", "fedroa/42-minimal"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := db.ResolveAlias(ctx, misses[i%len(misses)], "amd64"); err == nil {
			b.Fatal("a miss resolved")
		}
	}
}
