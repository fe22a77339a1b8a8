package postgres

import (
	"context"
	"fmt"

	"github.com/berth/berth/store"
)

// ResolveAlias, ExplainAlias and SuggestAliases follow the rules in store
// (aliasresolve.go) through the index lookups of aliasIndex.

func (db *DB) ResolveAlias(ctx context.Context, alias, arch string) (*store.Image, error) {
	return store.ResolveAlias(ctx, db.aliases(), alias, arch)
}

func (db *DB) ExplainAlias(ctx context.Context, alias, arch string) error {
	return store.ExplainAlias(ctx, db.aliases(), alias, arch)
}

func (db *DB) SuggestAliases(ctx context.Context, s, arch string, n int) ([]string, error) {
	return store.SuggestAliases(ctx, db.aliases(), s, arch, n)
}

// aliases answers store.AliasIndex's lookups, each an index seek, those
// that only change with the catalog read once per generation.
func (db *DB) aliases() store.AliasIndex {
	return store.WithOutline(aliasIndex{db}, &db.aliasOutline, db.Generation)
}

// aliasIndex answers store.AliasIndex's lookups, each an index seek.
type aliasIndex struct{ *DB }

// aliasLookups are the conditions of store.AliasLookup's kinds, their
// parameters numbered after the architecture's.
var aliasLookups = map[store.AliasLookupKind]string{
	store.ByAlias:       `alias = $2`,
	store.ByImageName:   `image_name = $2`,
	store.ByPullRef:     `pull_ref = $2 AND pull_ref != ''`,
	store.ByOSRelease:   `os = $2 AND release = $3`,
	store.AliasesFrom:   fmt.Sprintf(`alias >= $2 ORDER BY alias LIMIT %d`, store.AliasNeighbours),
	store.AliasesBefore: fmt.Sprintf(`alias < $2 ORDER BY alias DESC LIMIT %d`, store.AliasNeighbours),
}

// aliasArchitecture is the condition on the architecture of a lookup:
// none when arch is "". With one, the neighbours of an alias are a seek of
// the (architecture, alias) index rather than a walk of the (alias,
// architecture) one past every row of the other architectures.
func aliasArchitecture(arch string) string {
	if arch == "" {
		return `$1 = ''`
	}
	return `architecture = $1`
}

func (ix aliasIndex) AliasArchitectures(ctx context.Context, alias string) ([]string, error) {
	return queryStrings(ctx, ix.pool, `SELECT architecture FROM images WHERE alias = $1
		ORDER BY CASE architecture WHEN 'amd64' THEN 0 WHEN 'arm64' THEN 1 ELSE 2 END`, alias)
}

// aliasCandidatesSQL is the statement of one lookup; its arguments are the
// architecture, then the lookup's values.
func aliasCandidatesSQL(arch string, by store.AliasLookupKind) string {
	return `SELECT alias, os, release, variant, image_name, pull_ref FROM images
		WHERE ` + aliasArchitecture(arch) + ` AND ` + aliasLookups[by]
}

func (ix aliasIndex) AliasCandidates(ctx context.Context, arch string, l store.AliasLookup) ([]store.AliasCandidate, error) {
	args := []any{arch, l.Value}
	if l.By == store.ByOSRelease {
		args = append(args, l.Release)
	}
	rows, err := ix.pool.Query(ctx, aliasCandidatesSQL(arch, l.By), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AliasCandidate
	for rows.Next() {
		var a store.AliasCandidate
		var name string
		if err := rows.Scan(&a.Alias, &a.OS, &a.Release, &a.Variant, &name, &a.PullRef); err != nil {
			return nil, err
		}
		a.ImageNames = []string{name}
		out = append(out, a)
	}
	return out, rows.Err()
}

// OSes lists the catalog's OS names by skipping through the
// (os, architecture) index: one seek per OS, however many images each has.
func (ix aliasIndex) OSes(ctx context.Context) ([]string, error) {
	var out []string
	last := ""
	for len(out) < 1000 {
		var os string
		err := ix.pool.QueryRow(ctx, `SELECT os FROM images WHERE os > $1 ORDER BY os LIMIT 1`, last).Scan(&os)
		if noRows(err) {
			break
		} else if err != nil {
			return nil, err
		}
		out = append(out, os)
		last = os
	}
	return out, nil
}

// NewestReleases returns up to n releases of os, newest (greatest) first,
// one seek of the (os, release, variant) index each.
func (ix aliasIndex) NewestReleases(ctx context.Context, os string, n int) ([]string, error) {
	var out []string
	q := `SELECT release FROM images WHERE os = $1 ORDER BY release DESC LIMIT 1`
	args := []any{os}
	for len(out) < n {
		var r string
		err := ix.pool.QueryRow(ctx, q, args...).Scan(&r)
		if noRows(err) {
			break
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
		q = `SELECT release FROM images WHERE os = $1 AND release < $2 ORDER BY release DESC LIMIT 1`
		args = []any{os, r}
	}
	return out, nil
}
