package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/berth/berth/store"
)

// ResolveAlias returns the image an alias names on an architecture ("" for
// the usual one: amd64, then arm64, then armhf). When there is none, the
// error is an *AliasError that explains why and suggests what exists.
func (db *DB) ResolveAlias(ctx context.Context, alias, arch string) (*store.Image, error) {
	alias = strings.ToLower(strings.TrimSpace(alias))
	if err := store.CheckAlias(alias); err != nil {
		return nil, db.explain(ctx, alias, arch, err)
	}
	img, err := db.FindImageByAlias(ctx, alias, arch)
	if store.IsNotFound(err) {
		return nil, db.ExplainAlias(ctx, alias, arch)
	}
	return img, err
}

// ExplainAlias says why alias names no image on arch ("" for any
// architecture): its format is wrong (EINVALID), no image has it
// (ENOTFOUND), both with the closest aliases; or it is built only for other
// architectures (ENOTFOUND, with those architectures). It returns nil when
// the alias does name an image there.
func (db *DB) ExplainAlias(ctx context.Context, alias, arch string) error {
	if err := store.CheckAlias(alias); err != nil {
		return db.explain(ctx, alias, arch, err)
	}
	archs, err := queryStrings(ctx, db.read, `SELECT architecture FROM images WHERE alias = ?
		ORDER BY CASE architecture WHEN 'amd64' THEN 0 WHEN 'arm64' THEN 1 ELSE 2 END`, alias)
	if err != nil {
		return fmt.Errorf("explain alias %s: %w", alias, err)
	}
	switch {
	case len(archs) == 0:
		return db.explain(ctx, alias, arch, store.Errorf(store.ENOTFOUND, "No image has the alias %s.", store.ShortQuote(alias)))
	case arch != "" && !slices.Contains(archs, arch):
		e := store.Errorf(store.ENOTFOUND, "%s is not built for %s; it exists for %s.", alias, arch, strings.Join(archs, " and "))
		return store.NewAliasError(alias, e.Message, nil, archs, e)
	}
	return nil
}

// explain wraps cause with the closest aliases to alias on arch, named in
// the message too, so that API clients that only show messages still help.
func (db *DB) explain(ctx context.Context, alias, arch string, cause *store.Error) error {
	sugg, err := db.SuggestAliases(ctx, alias, arch, store.MaxSuggestions)
	if err != nil {
		return err
	}
	e := *cause
	if len(sugg) > 0 {
		e.Message += " Closest aliases: " + strings.Join(sugg, ", ") + "."
	}
	return store.NewAliasError(alias, cause.Message, sugg, nil, &e)
}

// SuggestAliases returns up to n existing aliases closest to s, among those
// built for arch ("" for any architecture). An alias
// that an obvious respelling of s names comes first (ubuntu:24.04 and
// ubuntu-24.04 name ubuntu/24.04; an image_name or a pull_ref names its
// image's alias); then aliases of the same OS; then any alias within a few
// edits of s. Within a group, the same release and the same variant come
// first, then the common variants (standard, minimal, cloud, desktop), then
// the smaller edit distance, and newer releases before older ones.
func (db *DB) SuggestAliases(ctx context.Context, s, arch string, n int) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT alias, os, release, variant, image_name, pull_ref
		FROM images WHERE ? = '' OR architecture = ? ORDER BY alias`, arch, arch)
	if err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", err)
	}
	defer rows.Close()
	var cands []store.AliasCandidate
	for rows.Next() {
		var a store.AliasCandidate
		var name string
		if err := rows.Scan(&a.Alias, &a.OS, &a.Release, &a.Variant, &name, &a.PullRef); err != nil {
			return nil, fmt.Errorf("suggest aliases: %w", err)
		}
		if len(cands) > 0 && cands[len(cands)-1].Alias == a.Alias {
			cands[len(cands)-1].ImageNames = append(cands[len(cands)-1].ImageNames, name)
			continue
		}
		a.ImageNames = []string{name}
		cands = append(cands, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", err)
	}
	return store.RankAliases(s, cands, n), nil
}
