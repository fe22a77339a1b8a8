package views

import (
	"strconv"
	"strings"

	"github.com/berth/berth/store"
)

// Option is one choice of a select in the filter form.
type Option struct {
	Value, Label string
}

// control returns the value a filter control shows: the canonical value,
// or what was sent when the server refused the query (so the refused value
// stays on screen, marked). Defaults map to the option that stands for them.
func (c Catalog) control(param string) string {
	v := c.Value(param)
	switch param {
	case "limit":
		if v == "" {
			v = strconv.Itoa(store.DefaultLimit)
		}
	case "sort_by":
		v = strings.ToLower(v)
		if v == store.SortPopularity && !c.searching() {
			v = "" // popularity is the default without search words
		}
	case "sort_order":
		v = strings.ToLower(v)
		if v == store.DefaultOrder(c.sortKey()) {
			v = ""
		}
	case "os", "architecture", "prespawn":
		v = strings.ToLower(v)
	case "variant":
		v = strings.ToLower(v)
		if v == store.DefaultVariant {
			v = store.VariantLabel(v)
		}
	}
	return v
}

// searching reports whether the query has search words.
func (c Catalog) searching() bool {
	return len(store.SearchWords(c.Value("search"))) > 0
}

// sortKey is the sort the form shows, "" for relevance.
func (c Catalog) sortKey() string {
	s := strings.ToLower(c.Value("sort_by"))
	if s == "" && c.searching() {
		return ""
	}
	for _, k := range store.SortKeys {
		if s == k {
			return k
		}
	}
	return store.SortPopularity
}

// Options lists a select's choices. A refused value that is none of them
// is added, so the control shows what was sent and can be marked.
func (c Catalog) Options(param string, opts []Option) []Option {
	v := c.control(param)
	for _, o := range opts {
		if o.Value == v {
			return opts
		}
	}
	return append(opts, Option{Value: v, Label: v + " (not valid)"})
}

// Selected reports whether a select option is the one the form shows.
func (c Catalog) Selected(param, value string) bool { return c.control(param) == value }

// SortOptions are the sort choices. The default is relevance ("Best
// match") with search words and popularity without them; it is sent as an
// empty value so the URL stays canonical.
func (c Catalog) SortOptions() []Option {
	var out []Option
	if c.searching() {
		out = append(out, Option{"", "Best match"})
	}
	for _, k := range store.SortKeys {
		if k == store.SortPopularity && !c.searching() {
			out = append(out, Option{"", SortLabel(k)})
			continue
		}
		out = append(out, Option{k, SortLabel(k)})
	}
	return out
}

// OrderOptions are the two directions of the sort, named the way the sort
// reads (A to Z, lowest price first); the sort's default is sent as an
// empty value. Relevance has one order.
func (c Catalog) OrderOptions() []Option {
	key := c.sortKey()
	if key == "" {
		return []Option{{"", "Best first"}}
	}
	asc, desc := OrderLabels(key)
	if store.DefaultOrder(key) == "asc" {
		return []Option{{"", asc}, {"desc", desc}}
	}
	return []Option{{"", desc}, {"asc", asc}}
}

// OrderLabels names the two directions of a sort key.
func OrderLabels(key string) (asc, desc string) {
	switch key {
	case store.SortName:
		return "A to Z", "Z to A"
	case store.SortPrice:
		return "Lowest price first", "Highest price first"
	case store.SortSize:
		return "Smallest first", "Largest first"
	case store.SortAddedDate:
		return "Oldest first", "Newest first"
	case store.SortRating:
		return "Lowest rated first", "Highest rated first"
	default:
		return "Least popular first", "Most popular first"
	}
}

// filterLabels name each filter parameter the way the form labels it.
var filterLabels = map[string]string{
	"search": "Search", "os": "Operating system", "architecture": "Architecture",
	"variant": "Variant", "min_price": "Minimum price", "max_price": "Maximum price",
	"min_rating": "Rating", "prespawn": "Prespawn", "sort_by": "Sort by",
	"sort_order": "Order", "page": "Page", "limit": "Per page", "alias": "Alias",
}

// FilterLabel is the form's label of a filter parameter, "" for a
// parameter the form does not have.
func FilterLabel(param string) string { return filterLabels[param] }

// FilterProblem turns the store's message about a refused parameter (which
// speaks the API's names, for API clients) into one that speaks the form's
// labels. A message about a parameter the form does not have (an unknown
// one) is left as it is.
func FilterProblem(param, message string) string {
	label, ok := filterLabels[param]
	if !ok {
		return message
	}
	has := func(s string) bool { return strings.Contains(message, s) }
	switch {
	case has("control characters"):
		return label + " can't contain control characters (such as tabs or line breaks)."
	case has("UTF-8"):
		return label + " must be plain text."
	}
	switch param {
	case "min_price", "max_price":
		switch {
		case has("negative"):
			return label + " can't be negative."
		case has("greater"):
			return "Minimum price can't be more than the maximum price."
		case has("out of range"):
			return label + " is too large."
		case has("must be a price"):
			return label + " must be an amount in US dollars, such as 10 or 4.99."
		}
	case "search":
		if has("at most") {
			return "Search can be at most 200 characters long."
		}
	case "os":
		if has("must be") {
			return "Operating system must be a lowercase name such as ubuntu or debian."
		}
	case "architecture":
		if has("must be one of") {
			return "Architecture must be one of " + strings.Join(store.Architectures, ", ") + "."
		}
	case "variant":
		if has("must be") {
			return "Variant must be a name such as standard, minimal, cloud or desktop."
		}
	case "min_rating":
		if has("must be") {
			return "Rating must be a number from 0 to 5."
		}
	case "prespawn":
		if has("must be") {
			return "Prespawn must be “Prespawn only” or “Not prespawn”."
		}
	case "sort_by":
		if has("must be one of") {
			names := make([]string, len(store.SortKeys))
			for i, k := range store.SortKeys {
				names[i] = SortLabel(k)
			}
			return "Sort by must be one of " + strings.Join(names, ", ") + "."
		}
	case "sort_order":
		if has("must be") {
			return "Order must be ascending or descending."
		}
	case "limit":
		if has("whole number") {
			return "Per page must be a whole number from 1 to " + strconv.Itoa(store.MaxLimit) + "."
		}
	case "page":
		if has("deep") {
			return "That page is too far in; narrow the filters instead."
		}
		if has("whole number") {
			return "Page must be a whole number from 1."
		}
	}
	// Any other message: the parameter's name becomes the label.
	if strings.HasPrefix(message, param) {
		return label + strings.TrimPrefix(message, param)
	}
	return strings.Replace(message, param, strings.ToLower(label), 1)
}

var (
	ratingOptions   = []Option{{"", "Any"}, {"4.5", "4.5+ stars"}, {"4", "4+ stars"}, {"3", "3+ stars"}, {"2", "2+ stars"}, {"1", "1+ stars"}}
	prespawnOptions = []Option{{"", "Either"}, {"true", "Prespawn only"}, {"false", "Not prespawn"}}
	limitOptions    = []Option{{"10", "10"}, {"20", "20"}, {"50", "50"}, {"100", "100"}}
)

// plainOptions offers values as they are, after an "any" choice.
func plainOptions(any string, values []string) []Option {
	out := []Option{{"", any}}
	for _, v := range values {
		out = append(out, Option{v, v})
	}
	return out
}

func osOptions(oses []string) []Option {
	out := []Option{{"", "Any"}}
	for _, os := range oses {
		out = append(out, Option{os, OSName(os)})
	}
	return out
}

func variantOptions(variants []string) []Option {
	out := []Option{{"", "Any"}}
	for _, v := range variants {
		out = append(out, Option{store.VariantLabel(v), store.VariantLabel(v)})
	}
	return out
}

// Entry is one card of the catalog: an alias with its builds that pass
// the filter (the first one by architecture first).
type Entry struct {
	Image  *store.Image // the first build: the card's link, text and icon
	Builds []*store.Image
}

// Entries lists the cards of the page: one per alias in a grouped result,
// one per build otherwise.
func (c Catalog) Entries() []Entry {
	out := make([]Entry, len(c.Result.Images))
	for i, img := range c.Result.Images {
		out[i] = Entry{Image: img, Builds: []*store.Image{img}}
		if c.Result.Grouped && i < len(c.Result.Builds) && len(c.Result.Builds[i]) > 0 {
			out[i].Builds = c.Result.Builds[i]
		}
	}
	return out
}

// PriceText is the price of the builds: one price, or the range when the
// architectures differ ("Free – $4.99").
func (e Entry) PriceText() string {
	lo, hi := e.Image.PriceCents, e.Image.PriceCents
	for _, b := range e.Builds {
		lo, hi = min(lo, b.PriceCents), max(hi, b.PriceCents)
	}
	if lo == hi {
		return PriceText(lo)
	}
	return PriceText(lo) + " – " + PriceText(hi)
}

// Free reports whether every build is free.
func (e Entry) Free() bool {
	for _, b := range e.Builds {
		if !b.Free() {
			return false
		}
	}
	return true
}

// Prespawn reports whether any build is prespawned.
func (e Entry) Prespawn() bool {
	for _, b := range e.Builds {
		if b.Prespawn {
			return true
		}
	}
	return false
}

// Rating pools the ratings of every build, as one image's would be.
func (e Entry) Rating() *store.Image {
	r := &store.Image{}
	for _, b := range e.Builds {
		r.RatingSum += b.RatingSum
		r.RatingCount += b.RatingCount
	}
	return r
}

// osNames are the names people know operating systems by, for the ids
// the catalog uses.
var osNames = map[string]string{
	"alpine": "Alpine Linux", "almalinux": "AlmaLinux", "amazonlinux": "Amazon Linux",
	"archlinux": "Arch Linux", "centos": "CentOS", "debian": "Debian", "fedora": "Fedora",
	"headjack": "Headjack", "opensuse": "openSUSE", "oraclelinux": "Oracle Linux",
	"rockylinux": "Rocky Linux", "ubuntu": "Ubuntu",
}

// OSName is an operating system's display name: "Rocky Linux" for
// rockylinux. An id it does not know is shown capitalised.
func OSName(os string) string {
	if n, ok := osNames[os]; ok {
		return n
	}
	if os == "" {
		return os
	}
	return strings.ToUpper(os[:1]) + os[1:]
}

// UseRef is how an image is referred to where it is used: its pull
// reference when it has one, else its alias.
func UseRef(img *store.Image) string {
	if img.PullRef != "" {
		return img.PullRef
	}
	return img.Alias
}
