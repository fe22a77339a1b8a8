// Package views renders Berth's pages and htmx partials with templ. Views do
// no IO: handlers gather everything a page shows into the models below.
package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/store"
)

// Assets are the versioned URLs of the static files a page links to. An
// empty URL is left out of the page.
type Assets struct {
	CSS  string
	JS   string
	HTMX string
	// Morph is idiomorph, which htmx swaps use to morph the catalog in
	// place (keeping focus and what is being typed).
	Morph string
}

// Shell is what the layout needs around every page.
type Shell struct {
	Title       string
	Description string
	Path        string // current path, to mark the active navigation link
	Assets      Assets
	User        *ShellUser // nil when nobody is signed in
	CSRF        string     // token for forms and htmx requests
	Flash       string     // a one-time message after a redirect
	SignupOpen  bool
	// FeedURL is the Atom feed of what the page shows, linked from its
	// head as an alternate; "" for none.
	FeedURL string
}

// ShellUser is the signed-in person as the header shows them.
type ShellUser struct {
	Email        string
	BalanceCents int64
}

// CSRFHeaders is the hx-headers value that sends the CSRF token with every
// htmx request.
func (s Shell) CSRFHeaders() string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": s.CSRF})
	return string(b)
}

// Catalog is the model of the catalog page and its results partial.
type Catalog struct {
	Shell
	Filter store.Filter
	Result store.ImagePage
	Facets store.Facets
	// Problem explains a filter the server could not use; Param names the
	// field. Raw holds the query as sent, so the form keeps what was typed.
	Problem string
	Param   string
	Raw     url.Values
	// ResultsHTML is the results partial rendered already (from the cache);
	// when set, the page embeds it instead of rendering Result.
	ResultsHTML []byte
	Life        Lifecycle
}

// ImageDetail is the model of an image's page. Its variant chooser,
// comparison and lineage are worked out from these fields in variants.go.
type ImageDetail struct {
	Shell
	Image    *store.Image
	Siblings []*store.Image     // same os and release: variants and architectures
	Lineage  *store.LineageNode // the based_on hierarchy around Image, nil when it has none
	Guidance *docs.Guidance     // when to use Image's variant, from the docs; nil when they say nothing
	DocsHTML string             // the image's docs body, rendered from Markdown and sanitised
	// DocsPending says the docs body is still being rendered.
	DocsPending bool
	Viewer      Viewer
	Histogram   [store.MaxRating + 1]int64
	Problem     string // why the last rating was refused
	Pull        Pull
	Life        Lifecycle
}

// Pull is how to reach this Berth from the command line, for snippets.
type Pull struct {
	Host   string // the registry's public address, host[:port]
	Base   string // the public URL, scheme://host[:port]
	Served bool   // Berth serves the image's content from its registry
}

// Ref is the reference docker pulls for an image from this Berth.
func (p Pull) Ref(img *store.Image) string { return p.Host + "/" + img.Alias + ":latest" }

// ErrorPage is the model of a page that reports a failed request.
type ErrorPage struct {
	Shell
	Status  int
	Heading string
	Message string
	// Back leads back to where the missing page was looked for (the docs),
	// before the link to the catalog; "" for none.
	BackURL, BackText string
}

// FeedURL is the Atom feed of the current query: its filters, without
// sort or page, which a feed does not use.
func (c Catalog) FeedURL() string {
	f := c.Filter
	f.SortBy, f.SortOrder, f.Page, f.Limit = "", "", 0, 0
	if q := f.Query().Encode(); q != "" {
		return "/feed.atom?" + q
	}
	return "/feed.atom"
}

// URL returns the catalog URL for the current filter with the given page.
func (c Catalog) URL(page int) string {
	f := c.Filter
	f.Page = page
	return catalogURL(f)
}

// WithoutParam returns the catalog URL with one filter field cleared, for
// the "remove this filter" chips.
func (c Catalog) WithoutParam(param string) string {
	q := c.Filter.Query()
	q.Del(param)
	q.Del("page")
	return "/?" + q.Encode()
}

func catalogURL(f store.Filter) string {
	if q := f.Query().Encode(); q != "" {
		return "/?" + q
	}
	return "/"
}

// Value returns the form value of a filter field: as typed when the filter
// was refused, else as the canonical query has it.
func (c Catalog) Value(param string) string {
	if c.Problem != "" {
		return strings.TrimSpace(c.Raw.Get(param))
	}
	return c.Filter.Param(param)
}

// Chips lists the active filters as (param, label) pairs.
func (c Catalog) Chips() [][2]string {
	q := c.Filter.Query()
	labels := []struct{ param, label string }{
		{"search", "matching “%s”"}, {"os", "OS %s"}, {"architecture", "%s"},
		{"variant", "%s variant"}, {"min_price", "from $%s"}, {"max_price", "up to $%s"},
		{"min_rating", "rated %s+"}, {"prespawn", "prespawn: %s"}, {"alias", "alias %s"},
		{"support", "support: %s"}, {"signed", "signed: %s"}, {"max_severity", "findings up to %s"},
	}
	var out [][2]string
	for _, l := range labels {
		if v := q.Get(l.param); v != "" {
			if l.param == "os" {
				v = OSName(v)
			}
			out = append(out, [2]string{l.param, fmt.Sprintf(l.label, v)})
		}
	}
	return out
}

// PageNumbers lists the page links to show: the first, the last, and a
// window around the current page, with 0 standing for a gap.
func (c Catalog) PageNumbers() []int {
	last, cur := c.Result.Pages(), c.Result.Page
	var out []int
	add := func(p int) {
		switch {
		case p < 1 || p > last || (len(out) > 0 && p <= out[len(out)-1]):
		case len(out) > 0 && p > out[len(out)-1]+1: // a gap, shown as 0
			out = append(out, 0, p)
		default:
			out = append(out, p)
		}
	}
	add(1)
	for p := cur - 2; p <= cur+2; p++ {
		add(p)
	}
	add(last)
	return out
}

// RangeText says which results the page shows, e.g. "21–40 of 1,073".
func (c Catalog) RangeText() string {
	r := c.Result
	count := grouped(r.Total) + " images"
	if r.Total == 1 {
		count = "1 image"
	}
	if r.Capped {
		count = "over " + count
	}
	if r.Grouped && r.BuildTotal != r.Total {
		count += " (" + grouped(r.BuildTotal) + " builds)"
	}
	if r.Total == 0 || len(r.Images) == 0 || (r.Page <= 1 && len(r.Images) == r.Total) {
		return count
	}
	from := (r.Page-1)*r.Limit + 1
	return grouped(from) + "–" + grouped(from+len(r.Images)-1) + " of " + count
}

// grouped writes a count with its thousands separated by commas: 1,000,000.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ImageURL is the path of an image's page.
func ImageURL(img *store.Image) string { return "/images/" + img.ID }

// IconURL is the path of an image's icon, as the API reports it.
func IconURL(img *store.Image) string { return "/api/v1/images/" + img.ID + "/icon" }

// HumanSize formats bytes in binary units, named as such, with one
// decimal: 1.5 GiB.
func HumanSize(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + " B"
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	v := float64(b) / float64(div)
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTP"[exp]) + "iB"
}

// PriceText is "Free" or the price in dollars and cents, as Money
// writes every amount: $25.00.
func PriceText(cents int64) string {
	if cents == 0 {
		return "Free"
	}
	return Money(cents)
}

// DateText formats a date the way people read it: 9 Nov 2023.
func DateText(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// Stars draws a rating as five characters, rounded to whole stars.
func Stars(avg float64) string {
	n := int(avg + 0.5)
	return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
}

// RatingText describes a rating for screen readers and tooltips.
func RatingText(img *store.Image) string {
	switch img.RatingCount {
	case 0:
		return "Not rated yet"
	case 1:
		return fmt.Sprintf("Rated %.1f out of 5 by 1 person", img.AverageRating())
	default:
		return fmt.Sprintf("Rated %.1f out of 5 by %d people", img.AverageRating(), img.RatingCount)
	}
}

// SortLabel names a sort key in the sort menu.
func SortLabel(key string) string {
	switch key {
	case store.SortPopularity:
		return "Popularity"
	case store.SortRating:
		return "Rating"
	case store.SortName:
		return "Name"
	case store.SortPrice:
		return "Price"
	case store.SortSize:
		return "Size"
	case store.SortAddedDate:
		return "Date added"
	}
	return key
}

// Invalid marks the form control of the parameter the server refused.
func (c Catalog) Invalid(param string) templ.Attributes {
	if c.Param == param {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": "filter-problem"}
	}
	return nil
}

// AuthForm is the model of the log-in and sign-up pages.
type AuthForm struct {
	Shell
	Signup  bool   // sign-up rather than log-in
	Email   string // as typed, kept across a failed attempt
	Next    string // where to go after
	Problem string
	Param   string // the field at fault: "email" or "password"
}

// Invalid marks the form control the problem is about.
func (f AuthForm) Invalid(param string) templ.Attributes {
	if f.Param == param || (f.Problem != "" && f.Param == "" && param == "password") {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": "form-problem"}
	}
	return nil
}

// Account is the model of the account page.
// RevokeToken is the model of the question before a token is revoked.
type RevokeToken struct {
	Shell
	Token *store.Token
}

type Account struct {
	Shell
	Email     string
	Tokens    []*store.Token
	NewToken  string // a token just created, shown once
	Sessions  int    // live sessions, this one included
	Problem   string
	TokenName string
	// PasswordProblem is what went wrong changing the password, beside
	// the field PasswordParam names (current_password or new_password).
	PasswordProblem string
	PasswordParam   string
	// PullKeys are the personal simplestreams keys; NewPullKeyURL is the
	// remote address of one just made, shown once.
	PullKeys      []*store.PullKey
	NewPullKeyURL string
	Pull          Pull
	// FeedCreated is when the personal feed address was made, nil when
	// there is none; NewFeedURL the address just made, shown once.
	FeedCreated *time.Time
	NewFeedURL  string
}

// PasswordInvalid marks the password field that a problem is about, and
// ties the new password to its hint.
func (a Account) PasswordInvalid(param string) templ.Attributes {
	attrs := templ.Attributes{}
	described := ""
	if a.PasswordProblem != "" && (a.PasswordParam == param || a.PasswordParam == "" && param == "current_password") {
		attrs["aria-invalid"] = "true"
		described = "password-problem"
	}
	if param == "new_password" {
		described = strings.TrimSpace(described + " new-password-hint")
	}
	if described != "" {
		attrs["aria-describedby"] = described
	}
	return attrs
}

// ActiveTokens counts the tokens not revoked.
func (a Account) ActiveTokens() int {
	n := 0
	for _, t := range a.Tokens {
		if t.RevokedAt == nil {
			n++
		}
	}
	return n
}

// Wallet is the model of the wallet page.
type Wallet struct {
	Shell
	BalanceCents int64
	Ledger       []store.LedgerEntry
	Redeem       RedeemForm
}

// RedeemForm is the voucher form of the wallet page: what was typed, and
// why it was refused.
type RedeemForm struct {
	Code  string
	Error string
}

// Library is the model of the library page.
type Library struct {
	Shell
	Items []store.LibraryItem
	Pull  Pull
	// Served tells, by image id, which items Berth serves from its registry.
	Served map[string]bool
	// LastPulled is when the viewer last pulled each image, by id.
	LastPulled map[string]time.Time
}

// AnyServed reports whether any item of the library can be pulled.
func (l Library) AnyServed() bool {
	for _, served := range l.Served {
		if served {
			return true
		}
	}
	return false
}

// Viewer is what the detail page knows about the person looking at it.
type Viewer struct {
	SignedIn     bool
	Owned        bool
	BalanceCents int64
	Rating       int
	Rated        bool
}

// BuyPage is the model of the purchase confirmation.
type BuyPage struct {
	Shell
	Image        *store.Image
	BalanceCents int64
	Problem      string
}

// Money formats cents as dollars with cents: $4.99, $15.00.
func Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "−", -cents
	}
	return fmt.Sprintf("%s$%d.%02d", sign, cents/100, cents%100)
}
