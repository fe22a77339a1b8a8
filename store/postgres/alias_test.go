package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/berth/berth/store/postgres/pgtest"
	"github.com/berth/berth/store/synth"
)

// TestAliasLookupsSeekTheirArchitecture: the neighbours of an alias on one
// architecture are a seek of (architecture, alias). Filtered out of the
// alias index instead, an alias on armhf, rare in the catalog, walked past
// every amd64 and arm64 row between its neighbours.
func TestAliasLookupsSeekTheirArchitecture(t *testing.T) {
	ctx := context.Background()
	db := openRecorded(t, pgtest.DSN(t), newPlanRecorder())
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(ctx, db, 3_000, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE images`); err != nil {
		t.Fatal(err)
	}
	for by, cond := range aliasLookups {
		if !strings.Contains(cond, "ORDER BY") {
			continue // an equality finds a handful of rows, each checked
		}
		q := aliasCandidatesSQL("armhf", by)
		plan, err := explain(ctx, db.pool, recorded{query: q, args: []any{"armhf", "ubuntu/24.04"}})
		if err != nil {
			t.Fatal(err)
		}
		var seeks func(n planNode) bool
		seeks = func(n planNode) bool {
			if n.IndexName == "images_arch_alias" && strings.Contains(n.IndexCond, "architecture =") && strings.Contains(n.IndexCond, "alias") {
				return true
			}
			for _, c := range n.Plans {
				if seeks(c) {
					return true
				}
			}
			return false
		}
		if !seeks(plan) {
			t.Errorf("%s\nplan:\n%s", q, plan)
		}
	}
}
