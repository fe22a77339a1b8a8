package postgres

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/berth/berth/store"
)

// Search on PostgreSQL matches the same words as SQLite's FTS5 index with
// its unicode61 tokenizer (remove_diacritics 2): text is split into runs
// of letters, numbers and private-use characters, case-folded and
// stripped of diacritics. PostgreSQL's own text parser would split
// differently ("24.04" is one number to it, two words to FTS5), so Berth
// splits the text here and stores the words with their positions as a
// tsvector; a search word becomes a phrase of its parts whose last part
// is a prefix, as an FTS5 query "word"* is.

// words splits s as unicode61 does.
func words(s string) []string {
	s = foldDiacritics(strings.ToLower(s))
	return strings.FieldsFunc(s, func(r rune) bool { return !isTokenRune(r) })
}

func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// foldDiacritics removes combining marks after decomposing, so "é" reads "e".
func foldDiacritics(s string) string {
	isASCII := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			isASCII = false
			break
		}
	}
	if isASCII {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

// maxPosition is the largest position a tsvector keeps.
const maxPosition = 16383

// searchVector returns the tsvector literal of an image's searchable
// columns. Positions run on across columns with a gap between them, so a
// phrase never matches across two columns, as in FTS5.
func searchVector(img *store.Image) string {
	pos := map[string][]int{}
	var order []string
	p := 0
	for _, col := range []string{img.ImageName, img.Alias, img.Description, strings.Join(img.Tags, " ")} {
		for _, w := range words(col) {
			p++
			if _, ok := pos[w]; !ok {
				order = append(order, w)
			}
			pos[w] = append(pos[w], min(p, maxPosition))
		}
		p++ // the gap
	}
	var b strings.Builder
	for i, w := range order {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteLexeme(w))
		b.WriteByte(':')
		for j, n := range pos[w] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(n))
		}
	}
	return b.String()
}

// searchQuery returns the tsquery literal of a search: every word must
// match, each as a phrase of its parts with the last part a prefix; ""
// when the search has no words.
func searchQuery(search string) string {
	var terms []string
	for _, w := range store.SearchWords(search) {
		parts := words(w)
		if len(parts) == 0 {
			continue
		}
		q := make([]string, len(parts))
		for i, p := range parts {
			q[i] = quoteLexeme(p)
		}
		q[len(q)-1] += ":*"
		terms = append(terms, "("+strings.Join(q, " <-> ")+")")
	}
	return strings.Join(terms, " & ")
}

// quoteLexeme quotes a word for a tsvector or tsquery literal.
func quoteLexeme(w string) string {
	w = strings.ReplaceAll(w, `\`, `\\`)
	return "'" + strings.ReplaceAll(w, "'", "''") + "'"
}
