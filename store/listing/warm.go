package listing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/berth/berth/store"
)

// Warming: the first search for a word reads its rows from the source's
// full-text index, which takes time in proportion to how many images the
// word is in (tens of milliseconds for the commonest words at a million
// images, while rare ones take well under one). So once an index is in use, the words
// common enough to be slow are read in the background, before anyone waits
// for them.
const (
	warmSample   = 4096 // rows sampled to find the common words
	warmShare    = 64   // words in at least 1/warmShare of the sample are read
	warmMaxBytes = maxTextBytes / 2
)

// warm reads the rows of the catalog's common words into the text cache.
// Which words are common is estimated from a sample of rows split into
// words at every character that is not a letter or digit, as full-text
// tokenizers (FTS5's unicode61) do in the main; a word split differently is
// only read on first use, as any other.
func (x *Index) warm(ctx context.Context) error {
	words, err := x.commonWords(ctx)
	if err != nil {
		return err
	}
	spent := 0
	for _, w := range words {
		// A replaced index's words are of no more use: reading them would
		// only hold read connections the current one needs.
		if spent+x.capacity/8 > warmMaxBytes || ctx.Err() != nil || x.retired.Load() {
			break
		}
		e, err := x.text.word(ctx, x.src, store.SearchWords(w)[0], x.capacity)
		if err != nil {
			return err
		}
		spent += e.size
	}
	return nil
}

// functionWords are English words common in descriptions that nobody
// searches a catalog by.
var functionWords = map[string]bool{"a": true, "an": true, "and": true, "are": true, "as": true, "at": true,
	"be": true, "but": true, "by": true, "can": true, "for": true, "from": true, "has": true, "have": true,
	"in": true, "into": true, "is": true, "it": true, "its": true, "not": true, "of": true, "on": true,
	"or": true, "so": true, "that": true, "the": true, "their": true, "then": true, "this": true, "to": true,
	"until": true, "with": true, "without": true}

// unsearched reports whether a word is not worth reading ahead: a function
// word; a number, which people search as part of a version ("24.04"), a
// phrase with a search of its own; or a word under three letters, whose
// search matches every word it begins (a search is a prefix), far more
// images than the sample counted.
func unsearched(w string) bool {
	return functionWords[w] || len(w) < 3 || !strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsDigit(r) })
}

// commonWords returns the words in at least 1/warmShare of a sample of
// rows spread evenly over the catalog, commonest first, leaving out those
// nobody searches by alone (see unsearched).
func (x *Index) commonWords(ctx context.Context) ([]string, error) {
	total := x.all.Count()
	step := max(1, total/warmSample)
	var sample []int64
	i := 0
	x.all.Each(func(seq int) bool {
		if i%step == 0 {
			sample = append(sample, int64(seq))
		}
		i++
		return len(sample) < warmSample
	})
	docs := map[string]int{}
	texts, err := x.src.Texts(ctx, sample)
	if err != nil {
		return nil, fmt.Errorf("sample words: %w", err)
	}
	for _, text := range texts {
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if !seen[w] {
				seen[w] = true
				docs[w]++
			}
		}
	}
	sampled := min(total, warmSample)
	var words []string
	for w, n := range docs {
		if n*warmShare >= sampled && !unsearched(w) {
			words = append(words, w)
		}
	}
	slices.SortFunc(words, func(a, b string) int {
		if c := cmp.Compare(docs[b], docs[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return words, nil
}
