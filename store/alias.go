package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// AliasFormat describes the shape of an alias, for messages.
const AliasFormat = "os/release or os/release-variant, such as ubuntu/24.04 or ubuntu/24.04-minimal"

// MaxSuggestions is how many aliases an explanation suggests at most.
const MaxSuggestions = 5

// AliasError is a failed alias lookup. It wraps the *Error that callers map
// to a status (EINVALID for a malformed alias, ENOTFOUND for one that names
// nothing) and carries what a person needs to fix the request: the closest
// existing aliases, or the architectures the alias is built for when only the
// requested one is missing.
type AliasError struct {
	Alias         string
	Reason        string // what is wrong, without the suggestions the message adds
	Suggestions   []string
	Architectures []string
	err           *Error
}

// WrongFormat reports whether the alias was refused for its spelling rather
// than because no image has it.
func (e *AliasError) WrongFormat() bool { return e.err.Code == EINVALID }

func (e *AliasError) Error() string { return e.err.Error() }

// Unwrap exposes the domain error, so ErrorCode and ErrorMessage see it.
func (e *AliasError) Unwrap() error { return e.err }

// CheckAlias returns nil when s has the shape of an alias, else an EINVALID
// error for the alias parameter whose message says what is wrong with this
// spelling (the mistakes people make most: a registry tag, an image name, a
// bare OS) and what the format is.
func CheckAlias(s string) *Error {
	if aliasPattern.MatchString(s) {
		return nil
	}
	q := shortQuote(s)
	var why string
	switch {
	case s == "":
		why = "alias is empty"
	case strings.Contains(s, ":"):
		why = "alias " + q + " is written like a registry tag; a colon belongs in a pull reference, not in an alias"
	case !strings.Contains(s, "/") && strings.Contains(s, "-"):
		why = "alias " + q + " joins the OS and the release with a hyphen, the way image names do; aliases use a slash"
	case !strings.Contains(s, "/"):
		why = "alias " + q + " names no release, and Berth has no implicit latest release"
	case s != strings.ToLower(s):
		why = "alias " + q + " has capital letters; aliases are lowercase"
	default:
		why = "alias " + q + " is not an alias"
	}
	return Invalid("alias", "%s. Aliases look like %s.", why, AliasFormat)
}

// shortQuote quotes a string for a message, cut short so that a long input
// does not flood the answer.
func shortQuote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// ResolveAlias returns the image an alias names on an architecture ("" for
// the usual one: amd64, then arm64, then armhf). When there is none, the
// error is an *AliasError that explains why and suggests what exists.
func (db *DB) ResolveAlias(ctx context.Context, alias, arch string) (*Image, error) {
	alias = strings.ToLower(strings.TrimSpace(alias))
	if err := CheckAlias(alias); err != nil {
		return nil, db.explain(ctx, alias, arch, err)
	}
	img, err := db.FindImageByAlias(ctx, alias, arch)
	if IsNotFound(err) {
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
	if err := CheckAlias(alias); err != nil {
		return db.explain(ctx, alias, arch, err)
	}
	archs, err := queryStrings(ctx, db.read, `SELECT architecture FROM images WHERE alias = ?
		ORDER BY CASE architecture WHEN 'amd64' THEN 0 WHEN 'arm64' THEN 1 ELSE 2 END`, alias)
	if err != nil {
		return fmt.Errorf("explain alias %s: %w", alias, err)
	}
	switch {
	case len(archs) == 0:
		return db.explain(ctx, alias, arch, Errorf(ENOTFOUND, "No image has the alias %s.", shortQuote(alias)))
	case arch != "" && !slices.Contains(archs, arch):
		e := Errorf(ENOTFOUND, "%s is not built for %s; it exists for %s.", alias, arch, strings.Join(archs, " and "))
		return &AliasError{Alias: alias, Reason: e.Message, Architectures: archs, err: e}
	}
	return nil
}

// explain wraps cause with the closest aliases to alias on arch, named in
// the message too, so that API clients that only show messages still help.
func (db *DB) explain(ctx context.Context, alias, arch string, cause *Error) error {
	sugg, err := db.SuggestAliases(ctx, alias, arch, MaxSuggestions)
	if err != nil {
		return err
	}
	e := *cause
	if len(sugg) > 0 {
		e.Message += " Closest aliases: " + strings.Join(sugg, ", ") + "."
	}
	return &AliasError{Alias: alias, Reason: cause.Message, Suggestions: sugg, err: &e}
}

// aliasInfo is what suggestions compare an input with.
type aliasInfo struct {
	alias, os, release, variant string
	imageNames                  []string
	pullRef                     string
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
	var cands []aliasInfo
	for rows.Next() {
		var a aliasInfo
		var name string
		if err := rows.Scan(&a.alias, &a.os, &a.release, &a.variant, &name, &a.pullRef); err != nil {
			return nil, fmt.Errorf("suggest aliases: %w", err)
		}
		if len(cands) > 0 && cands[len(cands)-1].alias == a.alias {
			cands[len(cands)-1].imageNames = append(cands[len(cands)-1].imageNames, name)
			continue
		}
		a.imageNames = []string{name}
		cands = append(cands, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", err)
	}
	return rankAliases(s, cands, n), nil
}

// respellings are the aliases people most likely meant by s.
func respellings(s string) []string {
	first := strings.ReplaceAll(s, ":", "/")
	out := []string{first}
	if !strings.Contains(first, "/") {
		for i := 0; i < len(first); i++ {
			if first[i] == '-' {
				out = append(out, first[:i]+"/"+first[i+1:])
			}
		}
	}
	return out
}

// rankAliases orders candidates by closeness to s and keeps the first n.
func rankAliases(s string, cands []aliasInfo, n int) []string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || n <= 0 {
		return nil
	}
	if utf8.RuneCountInString(s) > 128 {
		s = string([]rune(s)[:128])
	}
	// Distances are measured from the likeliest respelling: a colon or the
	// first hyphen made a slash.
	guesses := respellings(s)
	target := guesses[0]
	if !strings.Contains(target, "/") && len(guesses) > 1 {
		target = guesses[1]
	}
	osPart := s
	if i := strings.IndexAny(s, "/:-"); i >= 0 {
		osPart = s[:i]
	}
	var release, variant string
	if _, rest, ok := strings.Cut(target, "/"); ok {
		release, variant, _ = strings.Cut(rest, "-")
	}
	type ranked struct {
		alias                        string
		tier, release, variant, dist int
	}
	var out []ranked
	for _, c := range cands {
		r := ranked{alias: c.alias, tier: 2, release: 1, variant: variantRank(c.variant), dist: editDistance(target, c.alias)}
		if c.release == release {
			r.release = 0
		}
		if variant != "" {
			// A variant was asked for: the nearest spelling of it wins.
			r.variant = 0
			if c.variant == variant {
				r.variant = -1
			}
		}
		switch {
		case slices.Contains(guesses, c.alias) || slices.Contains(c.imageNames, s) || (c.pullRef != "" && c.pullRef == s):
			r.tier = 0
		case c.os == osPart:
			r.tier = 1
		case r.dist > max(2, utf8.RuneCountInString(target)/4):
			continue // not close enough to be a useful guess
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ranked) int {
		if c := cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(a.release, b.release),
			cmp.Compare(a.variant, b.variant), cmp.Compare(a.dist, b.dist)); c != 0 {
			return c
		}
		return strings.Compare(b.alias, a.alias) // newer releases sort higher
	})
	var names []string
	for _, r := range out[:min(n, len(out))] {
		names = append(names, r.alias)
	}
	return names
}

// variantRank orders the common variants before the special-purpose ones.
func variantRank(v string) int {
	switch v {
	case DefaultVariant:
		return 0
	case "minimal":
		return 1
	case "cloud":
		return 2
	case "desktop":
		return 3
	}
	return 4
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
