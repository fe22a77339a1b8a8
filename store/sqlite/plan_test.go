package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// TestQueryPlansUseIndexes asks SQLite how it would run each documented
// filter and sort, and fails on a full scan of the images table.
func TestQueryPlansUseIndexes(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	queries := []string{
		"", "os=ubuntu", "architecture=arm64", "os=debian&architecture=amd64", "variant=minimal",
		"prespawn=true", "min_price=5", "max_price=0", "min_price=5&max_price=15", "min_rating=4",
		"alias=ubuntu/24.04", "search=docker", "search=docker&os=debian",
	}
	for _, k := range store.SortKeys {
		queries = append(queries, "sort_by="+k, "sort_by="+k+"&sort_order=asc", "os=ubuntu&sort_by="+k)
	}
	for _, raw := range queries {
		q, _ := url.ParseQuery(raw)
		f, err := store.ParseFilter(q)
		if err != nil {
			t.Fatal(err)
		}
		from, fromArgs := filterFrom(f)
		where, whereArgs := filterWhere(f)
		args := append(fromArgs, whereArgs...)
		order := orderBy(f.Sort(), f.Order())
		if f.Ranked() {
			order = "m.fts_rank, image_name, id"
		}
		for _, sql := range []string{
			`SELECT COUNT(*) FROM (SELECT 1 FROM ` + from + where + ` LIMIT 10001)`,
			`SELECT ` + imageColumns + ` FROM ` + from + where + ` ORDER BY ` + order + ` LIMIT 20 OFFSET 0`,
		} {
			plan, err := queryPlan(ctx, db.read, sql, args...)
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			for _, line := range plan {
				if (line == "SCAN images" || strings.HasPrefix(line, "SCAN images ")) && !strings.Contains(line, "USING") {
					t.Errorf("%q scans the whole images table:\n  %s", raw, strings.Join(plan, "\n  "))
				}
			}
		}
	}
}

// queryPlan returns the detail lines of SQLite's EXPLAIN QUERY PLAN for
// query with args.
func queryPlan(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}
