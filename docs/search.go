package docs

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Search limits.
const (
	// MaxQuery is the longest search query accepted, in bytes.
	MaxQuery = 200
	// maxTerms caps the words of a query that count.
	maxTerms = 10
	// snippetBefore and snippetAfter frame the first match in a snippet.
	snippetBefore = 70
	snippetAfter  = 150
)

// Result is one section of a page that matches a search.
type Result struct {
	Page    *Page
	ID      string // heading anchor, "" for the top of the page
	Heading string // heading text, "" for the top of the page
	Snippet Snippet
	score   int
	order   int
}

// URL links the result to its heading.
func (r Result) URL() string {
	if r.ID == "" {
		return r.Page.URL()
	}
	return r.Page.URL() + "#" + r.ID
}

// Snippet is an excerpt of a section around the first match, split so a
// view can mark the match without writing HTML itself.
type Snippet struct {
	Before, Match, After string
}

// Terms splits a query into the lowercase words a search looks for.
func Terms(q string) []string {
	var terms []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !slices.Contains(terms, w) {
			terms = append(terms, w)
		}
		if len(terms) == maxTerms {
			break
		}
	}
	return terms
}

// Search finds the sections in which every word of q occurs, in the page
// title, the heading or the text, best first: words in titles and headings
// count more than words in the text. It returns at most limit results.
func (s *Site) Search(q string, limit int) []Result {
	terms := Terms(q)
	if len(terms) == 0 {
		return nil
	}
	var out []Result
	n := 0
	for _, p := range s.pages {
		title := strings.ToLower(p.Title)
		for _, sec := range p.sections {
			n++
			heading := strings.ToLower(sec.heading)
			score, all := 0, true
			for _, t := range terms {
				inTitle, inHeading := strings.Contains(title, t), strings.Contains(heading, t)
				count := strings.Count(sec.lower, t)
				if !inTitle && !inHeading && count == 0 {
					all = false
					break
				}
				if inTitle {
					score += 4
				}
				if inHeading {
					score += 8
				}
				score += min(count, 5)
			}
			if !all {
				continue
			}
			out = append(out, Result{Page: p, ID: sec.id, Heading: sec.heading,
				Snippet: snippet(sec.text, terms), score: score, order: n})
		}
	}
	slices.SortStableFunc(out, func(a, b Result) int {
		if a.score != b.score {
			return b.score - a.score
		}
		return a.order - b.order
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// snippet cuts text around the earliest occurrence of any term, at word
// boundaries, with ellipses where it was cut.
func snippet(text string, terms []string) Snippet {
	at, size := -1, 0
	for _, t := range terms {
		if i := indexFold(text, t); i >= 0 && (at < 0 || i < at) {
			at, size = i, matchLen(text[i:], t)
		}
	}
	if at < 0 {
		// Only the title or heading matched: show the start of the text.
		return Snippet{Before: cut(text, 0, snippetAfter)}
	}
	start := max(0, at-snippetBefore)
	for start < at && !utf8.RuneStart(text[start]) {
		start++
	}
	if start > 0 {
		if sp := strings.IndexByte(text[start:at], ' '); sp >= 0 {
			start += sp + 1
		}
	}
	before := text[start:at]
	if start > 0 {
		before = "…" + before
	}
	return Snippet{Before: before, Match: text[at : at+size], After: cut(text, at+size, snippetAfter)}
}

// cut returns up to n bytes of text from start, ending at a word boundary.
func cut(text string, start, n int) string {
	rest := text[start:]
	if len(rest) <= n {
		return rest
	}
	end := n
	if sp := strings.LastIndexByte(rest[:end], ' '); sp > 0 {
		end = sp
	}
	for !utf8.ValidString(rest[:end]) && end > 0 {
		end--
	}
	return rest[:end] + " …"
}

// indexFold is strings.Index ignoring case, on rune boundaries, so the
// offsets are those of the original text.
func indexFold(s, sub string) int {
	for i := range s {
		if matchLen(s[i:], sub) > 0 {
			return i
		}
	}
	return -1
}

// matchLen returns how many bytes of s match sub ignoring case, 0 when s
// does not start with sub.
func matchLen(s, sub string) int {
	n := 0
	for _, want := range sub {
		if n >= len(s) {
			return 0
		}
		got, size := utf8.DecodeRuneInString(s[n:])
		if got != want && !strings.EqualFold(string(got), string(want)) {
			return 0
		}
		n += size
	}
	return n
}
