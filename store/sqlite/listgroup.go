package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth/berth/store"
)

// Grouped listings (store.GroupAlias) list one entry per alias: of an
// alias's builds that pass the filter, the first by architecture
// (store.ArchRank) stands for it. The listing index answers them; SQL
// answers them while it builds (findGroupsSQL).

// archRankSQL is store.ArchRank as an SQL expression.
var archRankSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE architecture")
	for i, a := range store.Architectures {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", a, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(store.Architectures))
	return b.String()
}()

// Aliases reads every row's alias and architecture in alias order, in one
// pass over the alias index (which holds both, and the seq as its rowid).
func (s *snapshot) Aliases(ctx context.Context, fn func(seq int, alias, architecture string)) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT /* full scan: once per listing index build */ seq, alias, architecture
		FROM images ORDER BY alias, architecture`)
	if err != nil {
		return fmt.Errorf("aliases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var alias, arch string
		if err := rows.Scan(&seq, &alias, &arch); err != nil {
			return fmt.Errorf("aliases: %w", err)
		}
		fn(seq, alias, arch)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("aliases: %w", err)
	}
	return rows.Close()
}
