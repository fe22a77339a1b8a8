package store

import (
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sort keys accepted by sort_by.
const (
	SortName       = "name"
	SortPrice      = "price"
	SortRating     = "rating"
	SortSize       = "size"
	SortAddedDate  = "added_date"
	SortPopularity = "popularity"
)

// SortKeys lists every accepted sort_by value, in the order forms offer them.
var SortKeys = []string{SortPopularity, SortRating, SortName, SortPrice, SortSize, SortAddedDate}

// Paging bounds of the list endpoints.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	maxSearchLen = 200
	// maxPage caps page×limit so that a request cannot ask SQLite to skip an
	// unbounded number of rows.
	maxOffset = 1_000_000
)

// Filter selects and orders catalog images. The zero value lists everything
// in the default order; empty strings and nil pointers mean "any".
type Filter struct {
	OS           string
	Architecture string
	Variant      string   // stored name: "default", not "standard"
	Alias        string   // exact alias lookup
	Prespawn     *bool    // nil: either
	MinPrice     *int64   // cents
	MaxPrice     *int64   // cents
	MinRating    *float64 // 0–5
	Search       string
	Support      string // supported, ending or ended (see SupportOf)
	Signed       *bool  // nil: either
	MaxSeverity  string // keep images whose last scan found nothing worse (see Severities)
	SortBy       string // "" means popularity
	SortOrder    string // "" means the sort key's natural order
	Page         int    // from 1; 0 means 1
	Limit        int    // 0 means DefaultLimit
	Group        string // "" lists builds; GroupAlias lists one entry per alias
	// Now is the instant Support is judged at; the zero time means the
	// backend's clock. Not part of the query: callers with a clock of
	// their own (web, tests) set it.
	Now time.Time
}

// At returns the instant the filter judges support at: Now, or the
// current time when Now is not set.
func (f Filter) At() time.Time {
	if f.Now.IsZero() {
		return time.Now()
	}
	return f.Now
}

// MaxSeverityRank is the rank of MaxSeverity in Severities, -1 when unset.
func (f Filter) MaxSeverityRank() int {
	if f.MaxSeverity == "" {
		return -1
	}
	return SeverityRank(f.MaxSeverity)
}

// GroupAlias groups a listing by alias: one entry per alias that has a
// build passing the filter (filters apply to builds), holding those builds.
// The entry stands where its first build by architecture (amd64, arm64,
// armhf) stands in the order, and its count is the number of aliases.
const GroupAlias = "alias"

// Sort returns the effective sort key.
func (f Filter) Sort() string {
	if f.SortBy == "" {
		return SortPopularity
	}
	return f.SortBy
}

// Order returns the effective sort order: names, prices and sizes read
// naturally from small to large, ratings, popularity and dates from the top.
func (f Filter) Order() string {
	if f.SortOrder != "" {
		return f.SortOrder
	}
	return DefaultOrder(f.Sort())
}

// DefaultOrder is the order a sort key uses when sort_order is not given.
func DefaultOrder(sortBy string) string {
	switch sortBy {
	case SortName, SortPrice, SortSize:
		return "asc"
	default:
		return "desc"
	}
}

// PageNumber returns the effective page, from 1.
func (f Filter) PageNumber() int {
	if f.Page < 1 {
		return 1
	}
	return f.Page
}

// PageLimit returns the effective page size.
func (f Filter) PageLimit() int {
	if f.Limit < 1 {
		return DefaultLimit
	}
	return f.Limit
}

// Offset is the number of rows skipped before the page.
func (f Filter) Offset() int { return (f.PageNumber() - 1) * f.PageLimit() }

// IsZero reports whether the filter narrows nothing (sorting and paging aside).
func (f Filter) IsZero() bool {
	return f.OS == "" && f.Architecture == "" && f.Variant == "" && f.Alias == "" &&
		f.Prespawn == nil && f.MinPrice == nil && f.MaxPrice == nil && f.MinRating == nil &&
		f.Search == "" && f.Support == "" && f.Signed == nil && f.MaxSeverity == ""
}

// ParseFilter reads a filter from query parameters as the API and the catalog
// page receive them. Empty values mean "not set", so a submitted form with
// blank fields behaves like no filter. Errors name the parameter at fault.
func ParseFilter(q url.Values) (Filter, error) {
	var f Filter
	if err := checkParamText(q); err != nil {
		return f, err
	}
	if err := checkParamNames(q); err != nil {
		return f, err
	}
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }

	f.OS = strings.ToLower(get("os"))
	if f.OS != "" && !namePattern.MatchString(f.OS) {
		return f, Invalid("os", "os must be a lowercase name such as ubuntu or debian")
	}
	if a := strings.ToLower(get("architecture")); a != "" {
		if !ValidArchitecture(a) {
			return f, Invalid("architecture", "architecture must be one of %s", strings.Join(Architectures, ", "))
		}
		f.Architecture = a
	}
	if v := strings.ToLower(get("variant")); v != "" {
		if v == "standard" {
			v = DefaultVariant
		}
		if !namePattern.MatchString(v) {
			return f, Invalid("variant", "variant must be a name such as standard, minimal, cloud or desktop")
		}
		f.Variant = v
	}
	if a := strings.ToLower(get("alias")); a != "" {
		if err := CheckAlias(a); err != nil {
			return f, err
		}
		f.Alias = a
	}
	if p := strings.ToLower(get("prespawn")); p != "" {
		b, err := strconv.ParseBool(p)
		if err != nil {
			return f, Invalid("prespawn", "prespawn must be true or false")
		}
		f.Prespawn = &b
	}
	var err error
	if f.MinPrice, err = parsePrice(get("min_price"), "min_price"); err != nil {
		return f, err
	}
	if f.MaxPrice, err = parsePrice(get("max_price"), "max_price"); err != nil {
		return f, err
	}
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		return f, Invalid("min_price", "min_price cannot be greater than max_price")
	}
	if r := get("min_rating"); r != "" {
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 5 {
			return f, Invalid("min_rating", "min_rating must be a number from 0 to 5")
		}
		f.MinRating = &v
	}
	if v := strings.ToLower(get("support")); v != "" {
		if !ValidSupport(v) {
			return f, Invalid("support", "support must be one of %s", strings.Join(SupportStates, ", "))
		}
		f.Support = v
	}
	if v := strings.ToLower(get("signed")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, Invalid("signed", "signed must be true or false")
		}
		f.Signed = &b
	}
	if v := strings.ToLower(get("max_severity")); v != "" {
		if SeverityRank(v) < 0 {
			return f, Invalid("max_severity", "max_severity must be one of %s", strings.Join(Severities, ", "))
		}
		f.MaxSeverity = v
	}
	f.Search = get("search")
	if len(f.Search) > maxSearchLen {
		return f, Invalid("search", "search must be at most %d characters", maxSearchLen)
	}
	if s := strings.ToLower(get("sort_by")); s != "" {
		if !validSort(s) {
			return f, Invalid("sort_by", "sort_by must be one of %s", strings.Join(SortKeys, ", "))
		}
		f.SortBy = s
	}
	if o := strings.ToLower(get("sort_order")); o != "" {
		if o != "asc" && o != "desc" {
			return f, Invalid("sort_order", "sort_order must be asc or desc")
		}
		f.SortOrder = o
	}
	if p := get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return f, Invalid("page", "page must be a whole number from 1")
		}
		f.Page = n
	}
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return f, Invalid("limit", "limit must be a whole number from 1 to %d", MaxLimit)
		}
		f.Limit = n
	}
	if g := strings.ToLower(get("group")); g != "" {
		if g != GroupAlias {
			return f, Invalid("group", "group must be alias (one entry per alias), or left out for one entry per build")
		}
		f.Group = g
	}
	if f.Page > maxOffset/f.PageLimit() {
		return f, Invalid("page", "page is too deep; narrow the filters instead")
	}
	return f, nil
}

// checkParamText refuses a parameter whose name or values hold bytes no
// filter can mean: invalid UTF-8 or control characters (NUL, line breaks,
// tabs, DEL). They would otherwise reach the search engine, which fails on
// some of them (an internal error) and ignores others. Parameters are
// checked in name order, so the same query always names the same one.
func checkParamText(q url.Values) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name == "" {
			return Invalid(emptyName, "a parameter has no name (a query such as ?=x); give each value a name")
		}
		label := shortName(name)
		if CheckText(name, name) != nil {
			return Invalid(label, "parameter name %q must be text without control characters", label)
		}
		for _, v := range q[name] {
			if err := CheckText(label, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListParams returns the names of every parameter the list API and the
// catalog page accept, in canonical order.
func ListParams() []string { return slices.Clone(queryParams) }

// paramHints maps names other APIs use for a list parameter, which are too
// far from ours by spelling for a suggestion, to ours.
var paramHints = map[string]string{
	"q": "search", "query": "search", "text": "search", "arch": "architecture",
	"per_page": "limit", "page_size": "limit", "size": "limit", "count": "limit",
	"sort": "sort_by", "order_by": "sort_by", "order": "sort_order", "direction": "sort_order",
	"rating": "min_rating", "release": "alias",
}

// checkParamNames refuses a parameter that is not one of queryParams, so a
// script with a misspelt filter gets an error instead of every image. The
// message names it and, when one is close, the parameter it likely meant.
func checkParamNames(q url.Values) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if slices.Contains(queryParams, name) {
			continue
		}
		label := shortName(name)
		if m := ClosestParam(name); m != "" {
			return Invalid(label, "unknown parameter %q; did you mean %s?", label, m)
		}
		return Invalid(label, "unknown parameter %q; the parameters are %s", label, strings.Join(queryParams, ", "))
	}
	return nil
}

// ClosestParam is the list parameter that name most likely meant, or ""
// when none is close: the same name written in another case or style
// (sortBy, min-price), a common name from other APIs (q, per_page), a
// prefix (arch) or a misspelling within a few edits.
func ClosestParam(name string) string {
	if len(name) > 64 {
		return ""
	}
	norm := snakeCase(name)
	if slices.Contains(queryParams, norm) {
		return norm
	}
	if h, ok := paramHints[norm]; ok && slices.Contains(queryParams, h) {
		return h
	}
	// A misspelling: at most one edit in three letters, and at least one.
	best, bestDist := "", max(1, len([]rune(norm))/3)+1
	for _, p := range queryParams {
		if len(norm) >= 3 && strings.HasPrefix(p, norm) {
			return p
		}
		if d := EditDistance(norm, p); d < bestDist {
			best, bestDist = p, d
		}
	}
	return best
}

// snakeCase writes a parameter name as Berth spells its own: lower case,
// words joined by underscores (sortBy, sort-by and Sort By give sort_by).
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shortName is a parameter name as errors quote it: cut to 64 bytes, on a
// character boundary, so a made-up name of a megabyte is not echoed back.
func shortName(name string) string {
	if len(name) <= 64 {
		return name
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}

// emptyName is the Param of an error about a parameter without a name.
const emptyName = "(no name)"

// CheckText refuses a value that is not valid UTF-8 or holds a control
// character, naming param.
func CheckText(param, v string) error {
	if !utf8.ValidString(v) {
		return Invalid(param, "%s must be valid UTF-8 text", param)
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return Invalid(param, "%s cannot contain control characters (such as NUL, tabs or line breaks)", param)
	}
	return nil
}

func parsePrice(s, param string) (*int64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, Invalid(param, "%s must be a price in USD such as 10 or 4.99", param)
	}
	if v < 0 {
		return nil, Invalid(param, "%s cannot be negative", param)
	}
	c, ok := USDToCents(v)
	if !ok {
		return nil, Invalid(param, "%s is out of range", param)
	}
	return &c, nil
}

func validSort(s string) bool {
	for _, k := range SortKeys {
		if s == k {
			return true
		}
	}
	return false
}

// queryParams are the parameters of a canonical query, in the order
// Param knows them. It is also the one list of every parameter the list
// API and the catalog page accept: ParseFilter refuses any other name,
// suggesting the closest of these. To add a filter, add its name here,
// read it in ParseFilter and write it in Param.
var queryParams = []string{"search", "os", "architecture", "variant", "alias", "prespawn",
	"min_price", "max_price", "min_rating", "support", "signed", "max_severity", "sort_by", "sort_order", "page", "limit", "group"}

// QueryParams lists every parameter ParseFilter reads, so a caller can
// tell the ones it does not know.
func QueryParams() []string { return slices.Clone(queryParams) }

// Query encodes the filter as canonical query parameters: only what is set,
// with defaults left out, so equal filters give equal URLs.
func (f Filter) Query() url.Values {
	q := url.Values{}
	for _, name := range queryParams {
		if v := f.Param(name); v != "" {
			q[name] = []string{v}
		}
	}
	return q
}

// Param is one parameter of the canonical query (see Query), "" when the
// filter leaves it out. Pages ask for a few of them per render, without
// building the whole query each time.
func (f Filter) Param(name string) string {
	switch name {
	case "search":
		return f.Search
	case "os":
		return f.OS
	case "architecture":
		return f.Architecture
	case "variant":
		if f.Variant != "" {
			return VariantLabel(f.Variant)
		}
	case "alias":
		return f.Alias
	case "prespawn":
		if f.Prespawn != nil {
			return strconv.FormatBool(*f.Prespawn)
		}
	case "min_price":
		if f.MinPrice != nil {
			return FormatUSD(*f.MinPrice)
		}
	case "max_price":
		if f.MaxPrice != nil {
			return FormatUSD(*f.MaxPrice)
		}
	case "min_rating":
		if f.MinRating != nil {
			return strconv.FormatFloat(*f.MinRating, 'f', -1, 64)
		}
	case "support":
		return f.Support
	case "signed":
		if f.Signed != nil {
			return strconv.FormatBool(*f.Signed)
		}
	case "max_severity":
		return f.MaxSeverity
	case "sort_by":
		// Popularity is the default order only without search words; with
		// them the default is relevance, so an explicit popularity stays.
		if f.SortBy != "" && (f.SortBy != SortPopularity || len(SearchWords(f.Search)) > 0) {
			return f.SortBy
		}
	case "sort_order":
		if f.SortOrder != "" && f.SortOrder != DefaultOrder(f.Sort()) {
			return f.SortOrder
		}
	case "page":
		if f.PageNumber() > 1 {
			return strconv.Itoa(f.PageNumber())
		}
	case "limit":
		if f.PageLimit() != DefaultLimit {
			return strconv.Itoa(f.PageLimit())
		}
	case "group":
		return f.Group
	}
	return ""
}

// FormatUSD writes cents as a plain decimal USD amount: 1500 → "15",
// 499 → "4.99".
func FormatUSD(cents int64) string {
	s := strconv.FormatFloat(CentsToUSD(cents), 'f', 2, 64)
	s = strings.TrimSuffix(s, ".00")
	return s
}

// SearchWords splits a search into the words every result must contain as
// word prefixes: lower-cased, without repeats, and without "words" that hold
// no letter or digit. Both backends match these words the same way.
func SearchWords(search string) []string {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(search)) {
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return words
}

// Ranked reports whether results go by relevance: a search with no sort
// asked for. Relevance applies only when at most BroadMatch images match
// the words; past that the listing goes by popularity.
func (f Filter) Ranked() bool { return f.SortBy == "" && len(SearchWords(f.Search)) > 0 }

// BroadMatch bounds relevance ranking: a search with no sort asked for goes
// by relevance when at most this many images match its words, and by
// popularity when more do (words that common say little about relevance,
// and ranking every match would cost more than the answer is worth). The
// listing engine and every backend's SQL listings apply the same bound.
const BroadMatch = 2000
