package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// AliasIndex is what alias resolution asks of a backend: a handful of
// index lookups, never a scan of the catalog. The rules that combine them
// (ResolveAlias, ExplainAlias, SuggestAliases) are the same on every
// backend and live here.
type AliasIndex interface {
	// FindImageByAlias returns the image alias names on arch ("" for the
	// usual one), or an ENOTFOUND error.
	FindImageByAlias(ctx context.Context, alias, arch string) (*Image, error)
	// AliasArchitectures lists the architectures alias is built for, in
	// ArchRank order.
	AliasArchitectures(ctx context.Context, alias string) ([]string, error)
	// AliasCandidates returns the images that l picks among those built for
	// arch ("" for any), each with its one image name in ImageNames.
	AliasCandidates(ctx context.Context, arch string, l AliasLookup) ([]AliasCandidate, error)
	// OSes lists the catalog's OS names.
	OSes(ctx context.Context) ([]string, error)
	// NewestReleases lists up to n releases of os, newest (greatest) first.
	NewestReleases(ctx context.Context, os string, n int) ([]string, error)
}

// AliasLookup is one lookup SuggestAliases gathers candidates from.
type AliasLookup struct {
	By      AliasLookupKind
	Value   string // the alias, image name or pull reference; the OS of ByOSRelease
	Release string // with ByOSRelease
}

// AliasLookupKind says what an AliasLookup matches.
type AliasLookupKind int

const (
	ByAlias       AliasLookupKind = iota // alias = Value
	ByImageName                          // image_name = Value
	ByPullRef                            // pull_ref = Value, never the empty one
	ByOSRelease                          // os = Value and release = Release
	AliasesFrom                          // the first AliasNeighbours rows with alias >= Value, in alias order
	AliasesBefore                        // the last AliasNeighbours rows with alias < Value, nearest first
)

// AliasNeighbours is how many rows either side of an alias AliasesFrom and
// AliasesBefore read.
const AliasNeighbours = 12

// ResolveAlias returns the image an alias names on an architecture ("" for
// the usual one: amd64, then arm64, then armhf). When there is none, the
// error is an *AliasError that explains why and suggests what exists.
func ResolveAlias(ctx context.Context, ix AliasIndex, alias, arch string) (*Image, error) {
	alias = strings.ToLower(strings.TrimSpace(alias))
	if err := CheckAlias(alias); err != nil {
		return nil, explainAlias(ctx, ix, alias, arch, err)
	}
	img, err := ix.FindImageByAlias(ctx, alias, arch)
	if IsNotFound(err) {
		return nil, ExplainAlias(ctx, ix, alias, arch)
	}
	return img, err
}

// ExplainAlias says why alias names no image on arch ("" for any
// architecture): its format is wrong (EINVALID), no image has it
// (ENOTFOUND), both with the closest aliases; or it is built only for other
// architectures (ENOTFOUND, with those architectures). It returns nil when
// the alias does name an image there.
func ExplainAlias(ctx context.Context, ix AliasIndex, alias, arch string) error {
	if err := CheckAlias(alias); err != nil {
		return explainAlias(ctx, ix, alias, arch, err)
	}
	archs, err := ix.AliasArchitectures(ctx, alias)
	if err != nil {
		return fmt.Errorf("explain alias %s: %w", alias, err)
	}
	switch {
	case len(archs) == 0:
		return explainAlias(ctx, ix, alias, arch, Errorf(ENOTFOUND, "No image has the alias %s.", ShortQuote(alias)))
	case arch != "" && !slices.Contains(archs, arch):
		e := Errorf(ENOTFOUND, "%s is not built for %s; it exists for %s.", alias, arch, strings.Join(archs, " and "))
		return NewAliasError(alias, e.Message, nil, archs, e)
	}
	return nil
}

// explainAlias wraps cause with the closest aliases to alias on arch, named
// in the message too, so that API clients that only show messages still
// help.
func explainAlias(ctx context.Context, ix AliasIndex, alias, arch string, cause *Error) error {
	sugg, err := SuggestAliases(ctx, ix, alias, arch, MaxSuggestions)
	if err != nil {
		return err
	}
	e := *cause
	if len(sugg) > 0 {
		e.Message += " Closest aliases: " + strings.Join(sugg, ", ") + "."
	}
	return NewAliasError(alias, cause.Message, sugg, nil, &e)
}

// SuggestAliases returns up to n existing aliases closest to s, among those
// built for arch ("" for any architecture), ranked by RankAliases: an alias
// that an obvious respelling of s names first, then aliases of the same OS,
// then any alias within a few edits of s.
//
// The candidates come from a bounded set of index lookups, never a scan of
// the catalog: the respellings, image names and pull references themselves;
// the asked release and the newest releases of the asked OS (and of any OS
// within two edits of it, for typos such as "ubunto"); and the aliases
// either side of s in alias order.
func SuggestAliases(ctx context.Context, ix AliasIndex, s, arch string, n int) ([]string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || n <= 0 {
		return nil, nil
	}
	if len(s) > 256 {
		s = s[:256]
	}
	byAlias := map[string]*AliasCandidate{}
	add := func(l AliasLookup) error {
		found, err := ix.AliasCandidates(ctx, arch, l)
		if err != nil {
			return err
		}
		for _, a := range found {
			have := byAlias[a.Alias]
			if have == nil {
				byAlias[a.Alias] = &a
				continue
			}
			for _, name := range a.ImageNames {
				if !slices.Contains(have.ImageNames, name) {
					have.ImageNames = append(have.ImageNames, name)
				}
			}
		}
		return nil
	}
	guesses := Respellings(s)
	target := guesses[0]
	if !strings.Contains(target, "/") && len(guesses) > 1 {
		target = guesses[1]
	}
	lookups := []AliasLookup{}
	for _, g := range guesses {
		lookups = append(lookups, AliasLookup{By: ByAlias, Value: g})
	}
	lookups = append(lookups, AliasLookup{By: ByImageName, Value: s}, AliasLookup{By: ByPullRef, Value: s})
	osPart, rest, _ := strings.Cut(target, "/")
	release, _, _ := strings.Cut(rest, "-")
	oses, err := ix.OSes(ctx)
	if err != nil {
		return nil, fmt.Errorf("suggest aliases: %w", err)
	}
	for _, os := range oses {
		if os != osPart && EditDistance(os, osPart) > 2 {
			continue
		}
		if release != "" {
			lookups = append(lookups, AliasLookup{By: ByOSRelease, Value: os, Release: release})
		}
		releases, err := ix.NewestReleases(ctx, os, 3)
		if err != nil {
			return nil, fmt.Errorf("suggest aliases: %w", err)
		}
		for _, r := range releases {
			lookups = append(lookups, AliasLookup{By: ByOSRelease, Value: os, Release: r})
		}
	}
	lookups = append(lookups, AliasLookup{By: AliasesFrom, Value: target}, AliasLookup{By: AliasesBefore, Value: target})
	for _, l := range lookups {
		if err := add(l); err != nil {
			return nil, fmt.Errorf("suggest aliases: %w", err)
		}
	}
	cands := make([]AliasCandidate, 0, len(byAlias))
	for _, a := range byAlias {
		cands = append(cands, *a)
	}
	return RankAliases(s, cands, n), nil
}
