package store

import (
	"cmp"
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

// NewAliasError wraps err, the domain error callers map to a status, with
// what a person needs to fix the request.
func NewAliasError(alias, reason string, suggestions, architectures []string, err *Error) *AliasError {
	return &AliasError{Alias: alias, Reason: reason, Suggestions: suggestions, Architectures: architectures, err: err}
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
	q := ShortQuote(s)
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
func ShortQuote(s string) string {
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

// aliasInfo is what suggestions compare an input with.
type AliasCandidate struct {
	Alias, OS, Release, Variant string
	ImageNames                  []string
	PullRef                     string
}

// respellings are the aliases people most likely meant by s.
func Respellings(s string) []string {
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
func RankAliases(s string, cands []AliasCandidate, n int) []string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || n <= 0 {
		return nil
	}
	if utf8.RuneCountInString(s) > 128 {
		s = string([]rune(s)[:128])
	}
	// Distances are measured from the likeliest respelling: a colon or the
	// first hyphen made a slash.
	guesses := Respellings(s)
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
		Alias                        string
		tier, Release, Variant, dist int
	}
	var out []ranked
	for _, c := range cands {
		r := ranked{Alias: c.Alias, tier: 2, Release: 1, Variant: variantRank(c.Variant), dist: EditDistance(target, c.Alias)}
		if c.Release == release {
			r.Release = 0
		}
		if variant != "" {
			// A variant was asked for: the nearest spelling of it wins.
			r.Variant = 0
			if c.Variant == variant {
				r.Variant = -1
			}
		}
		switch {
		case slices.Contains(guesses, c.Alias) || slices.Contains(c.ImageNames, s) || (c.PullRef != "" && c.PullRef == s):
			r.tier = 0
		case c.OS == osPart:
			r.tier = 1
		case r.dist > max(2, utf8.RuneCountInString(target)/4):
			continue // not close enough to be a useful guess
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ranked) int {
		if c := cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(a.Release, b.Release),
			cmp.Compare(a.Variant, b.Variant), cmp.Compare(a.dist, b.dist)); c != 0 {
			return c
		}
		return strings.Compare(b.Alias, a.Alias) // newer releases sort higher
	})
	var names []string
	for _, r := range out[:min(n, len(out))] {
		names = append(names, r.Alias)
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
func EditDistance(a, b string) int {
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
