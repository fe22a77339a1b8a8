package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/berth/berth/store"
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

// TestAliasLookupsSeekTheirArchitecture: every lookup of alias suggestions
// on one architecture seeks it in an index rather than filtering the rows
// of all architectures. The neighbours of an alias on armhf, rare in the
// catalog, used to walk the (alias, architecture) index past every amd64
// and arm64 row between them: tens of thousands at a million images.
func TestAliasLookupsSeekTheirArchitecture(t *testing.T) {
	db := mustDefault(t)
	ctx := context.Background()
	if _, err := synth.Generate(ctx, db, 3_000, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for by, cond := range aliasLookups {
		args := []any{"armhf", "ubuntu/24.04"}
		if by == store.ByOSRelease {
			args = []any{"armhf", "ubuntu", "24.04"}
		}
		q := aliasCandidatesSQL("armhf", by)
		plan, err := queryPlan(ctx, db.read, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		seeks := false
		for _, line := range plan {
			seeks = seeks || strings.Contains(line, "(architecture=? AND alias")
		}
		// An equality on a column of its own (an alias, a name, an OS
		// release) finds a handful of rows: the architecture can be
		// checked on each. A range must seek it.
		if ranged := strings.Contains(cond, "ORDER BY"); ranged && !seeks {
			t.Errorf("%s\nplan: %s", q, strings.Join(plan, "; "))
		}
	}
}
