package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	archs, err := queryStrings(ctx, db.pool, `SELECT architecture FROM images WHERE alias = $1
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
// built for arch ("" for any architecture), ranked by store.RankAliases: an
// alias that an obvious respelling of s names first, then aliases of the
// same OS, then any alias within a few edits of s.
//
// The candidates come from a bounded set of index lookups, never a scan of
// the catalog: the respellings, image names and pull references themselves;
// the asked release and the newest releases of the asked OS (and of any OS
// within two edits of it, for typos such as "ubunto"); and the aliases
// either side of s in alias order.
func (db *DB) SuggestAliases(ctx context.Context, s, arch string, n int) ([]string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || n <= 0 {
		return nil, nil
	}
	if len(s) > 256 {
		s = s[:256]
	}
	c := candidates{db: db, arch: arch, byAlias: map[string]*store.AliasCandidate{}}
	guesses := store.Respellings(s)
	target := guesses[0]
	if !strings.Contains(target, "/") && len(guesses) > 1 {
		target = guesses[1]
	}
	for _, g := range guesses {
		c.add(ctx, `alias = ?`, g)
	}
	c.add(ctx, `image_name = ?`, s)
	c.add(ctx, `pull_ref = ? AND pull_ref != ''`, s)
	osPart, rest, _ := strings.Cut(target, "/")
	release, _, _ := strings.Cut(rest, "-")
	oses, err := db.distinctOSes(ctx)
	if err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", err)
	}
	for _, os := range oses {
		if os != osPart && store.EditDistance(os, osPart) > 2 {
			continue
		}
		if release != "" {
			c.add(ctx, `os = ? AND release = ?`, os, release)
		}
		releases, err := db.newestReleases(ctx, os, 3)
		if err != nil {
			return nil, fmt.Errorf("suggest aliases: %w", err)
		}
		for _, r := range releases {
			c.add(ctx, `os = ? AND release = ?`, os, r)
		}
	}
	c.add(ctx, `alias >= ? ORDER BY alias LIMIT 12`, target)
	c.add(ctx, `alias < ? ORDER BY alias DESC LIMIT 12`, target)
	if c.err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", c.err)
	}
	cands := make([]store.AliasCandidate, 0, len(c.byAlias))
	for _, a := range c.byAlias {
		cands = append(cands, *a)
	}
	return store.RankAliases(s, cands, n), nil
}

// candidates gathers alias candidates from several lookups, once each.
type candidates struct {
	db      *DB
	arch    string
	byAlias map[string]*store.AliasCandidate
	err     error
}

// add reads the images that cond picks (on the wanted architecture) into the
// candidates. cond is one of SuggestAliases' own fixed conditions.
func (c *candidates) add(ctx context.Context, cond string, args ...any) {
	if c.err != nil {
		return
	}
	q := `SELECT alias, os, release, variant, image_name, pull_ref FROM images WHERE (? = '' OR architecture = ?) AND ` + cond
	rows, err := c.db.pool.Query(ctx, rebind(q), append([]any{c.arch, c.arch}, args...)...)
	if err != nil {
		c.err = err
		return
	}
	defer rows.Close()
	for rows.Next() {
		var a store.AliasCandidate
		var name string
		if err := rows.Scan(&a.Alias, &a.OS, &a.Release, &a.Variant, &name, &a.PullRef); err != nil {
			c.err = err
			return
		}
		if have := c.byAlias[a.Alias]; have != nil {
			if !slices.Contains(have.ImageNames, name) {
				have.ImageNames = append(have.ImageNames, name)
			}
			continue
		}
		a.ImageNames = []string{name}
		c.byAlias[a.Alias] = &a
	}
	c.err = rows.Err()
}

// distinctOSes lists the catalog's OS names by skipping through the
// (os, architecture) index: one seek per OS, however many images each has.
func (db *DB) distinctOSes(ctx context.Context) ([]string, error) {
	var out []string
	last := ""
	for len(out) < 1000 {
		var os string
		err := db.pool.QueryRow(ctx, `SELECT os FROM images WHERE os > $1 ORDER BY os LIMIT 1`, last).Scan(&os)
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

// newestReleases returns up to n releases of os, newest (greatest) first,
// one seek of the (os, release, variant) index each.
func (db *DB) newestReleases(ctx context.Context, os string, n int) ([]string, error) {
	var out []string
	q := `SELECT release FROM images WHERE os = $1 ORDER BY release DESC LIMIT 1`
	args := []any{os}
	for len(out) < n {
		var r string
		err := db.pool.QueryRow(ctx, q, args...).Scan(&r)
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

// rebind numbers the ? placeholders of a query built from fixed parts
// ($1, $2, ...), as PostgreSQL writes them.
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
