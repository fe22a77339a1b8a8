package store

import (
	"math"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Architectures lists the CPU architectures an image can be built for.
var Architectures = []string{"amd64", "arm64", "armhf"}

// DefaultVariant is the stored name of the standard variant; people see it as
// "standard", and filters accept both names.
const DefaultVariant = "default"

// Image is one buildable image for one architecture. An alias names one image
// per architecture; the id names exactly one image.
type Image struct {
	ID           string
	Alias        string
	Description  string
	ImageName    string
	Architecture string
	OS           string
	Release      string
	Serial       string
	Variant      string
	Size         int64 // bytes
	PriceCents   int64
	AddedDate    time.Time
	RatingSum    int64
	RatingCount  int64
	Prespawn     bool
	Tags         []string
	BasedOn      string // alias of the parent image, "" when none
	Features     []string
	PullRef      string
	Security     *Security
	Docs         string // Markdown
	// Lifecycle (see lifecycle.go): when upstream support ends, as a
	// DateLayout date ("" when unknown), and the alias that replaces it.
	EOLDate      string
	SupersededBy string
	// TagsPinned are versioned tags of the pull reference (base-v1.0.0),
	// for people who pin rather than follow the floating tag.
	TagsPinned []string
	// SourceURL links the image's source or Dockerfile, "" when unknown.
	SourceURL string
}

// Security describes what is known about an image's supply chain.
type Security struct {
	Signed   bool      `json:"signed"`
	SBOM     string    `json:"sbom"`
	LastScan time.Time `json:"last_scan"`
	Findings Findings  `json:"findings"`
	// Scanner names what made the last scan (Trivy 0.58); Signature how
	// the image is signed, read by ParseSignature ("cosign keyless;
	// issuer URL; identity REGEXP"). SBOMURL and ReportURL link the SBOM
	// document and the scan report where the catalog has them.
	Scanner   string `json:"scanner,omitempty"`
	Signature string `json:"signature,omitempty"`
	SBOMURL   string `json:"sbom_url,omitempty"`
	ReportURL string `json:"report_url,omitempty"`
}

// Findings counts the vulnerabilities of the last scan by severity.
type Findings struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
}

// Total is the number of findings of any severity.
func (f Findings) Total() int { return f.Critical + f.High + f.Medium + f.Low }

// AverageRating is the mean of the stored ratings rounded to one decimal,
// 0 when there are none.
func (img *Image) AverageRating() float64 {
	return float64(RatingTenths(img.RatingSum, img.RatingCount)) / 10
}

// RatingTenths is the mean of count ratings summing to sum, in tenths,
// rounded half up with integer arithmetic (4.75 is 48). The rating sort
// orders by it, then by the count. It is Berth's one definition of the
// average: the listing engine (store/listing) computes it, and each
// backend's stored rating_tenths column must give the same value (the
// backends' tests check theirs against this function).
func RatingTenths(sum, count int64) int64 {
	if count <= 0 {
		return 0
	}
	return (sum*20 + count) / (count * 2)
}

// Popularity is the score the popularity sort orders by: a Bayesian
// average, the mean with a prior of ten ratings of 3.0, so one five-star
// rating does not outrank a hundred four-star ones. It is Berth's one
// definition of popularity: the listing engine (store/listing) computes it,
// and each backend's stored popularity column must give the same value,
// computed the same way in double precision (the backends' tests check
// theirs against this function).
func Popularity(sum, count int64) float64 {
	return (float64(sum) + 30.0) / float64(count+10)
}

// Free reports whether the image costs nothing.
func (img *Image) Free() bool { return img.PriceCents == 0 }

// VariantLabel is the variant's name as people read it.
func (img *Image) VariantLabel() string { return VariantLabel(img.Variant) }

// VariantLabel names a stored variant as people read it: "default" is "standard".
func VariantLabel(v string) string {
	if v == DefaultVariant {
		return "standard"
	}
	return v
}

// Family is the os/release group whose members are variants of each other.
func (img *Image) Family() string { return img.OS + "/" + img.Release }

var (
	idPattern    = regexp.MustCompile(`^[0-9a-f]{24}$`)
	namePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	aliasPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}/[a-z0-9][a-z0-9._-]{0,63}$`)
	// usdPattern is a JSON number with an exponent of at most three
	// digits, so that reading it exactly costs nothing.
	usdPattern     = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$`)
	serialPattern  = regexp.MustCompile(`^[0-9]{8}(\.[0-9]+)?$`)
	maxDescription = 2000
	maxPullRef     = 512
)

// label names the image in messages: its alias and architecture, which
// together name one image of a catalog file.
func (img *Image) label() string { return img.Alias + " (" + img.Architecture + ")" }

// MaxDocs is the largest Markdown docs body a catalog file may give an
// image, in bytes. Markdown rendering is quadratic on some inputs: 32 KiB
// of "[a](" took 2 s to render here, 50 KB 4–5 s (9–21 s on a loaded
// machine); real docs bodies are a few KB. Web renders each body once per
// catalog generation besides.
const MaxDocs = 32 << 10

// ValidID reports whether s has the shape of an image id (24 lowercase hex).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ValidArchitecture reports whether s is a known architecture.
func ValidArchitecture(s string) bool {
	for _, a := range Architectures {
		if s == a {
			return true
		}
	}
	return false
}

// Validate checks an image before it is stored, naming the first bad field.
func (img *Image) Validate() error {
	switch {
	case !ValidID(img.ID):
		return Invalid("id", "id %q must be 24 lowercase hexadecimal characters", img.ID)
	case !aliasPattern.MatchString(img.Alias):
		return Invalid("alias", "alias %q must look like os/release or os/release-variant", img.Alias)
	case !namePattern.MatchString(img.OS):
		return Invalid("os", "image %s: os %q must be a lowercase name", img.label(), img.OS)
	case !namePattern.MatchString(img.Release):
		return Invalid("release", "image %s: release %q must be a lowercase name", img.label(), img.Release)
	case !namePattern.MatchString(img.Variant):
		return Invalid("variant", "image %s: variant %q must be a lowercase name", img.label(), img.Variant)
	case !ValidArchitecture(img.Architecture):
		return Invalid("architecture", "image %s: architecture must be one of %s", img.label(), strings.Join(Architectures, ", "))
	case !namePattern.MatchString(img.ImageName):
		return Invalid("image_name", "image %s: image_name %q must be a lowercase name", img.label(), img.ImageName)
	case !serialPattern.MatchString(img.Serial):
		return Invalid("serial", "image %s: serial %q must be a build date such as 20231109", img.label(), img.Serial)
	case strings.TrimSpace(img.Description) == "" || len(img.Description) > maxDescription:
		return Invalid("description", "image %s: description must be 1 to %d characters", img.label(), maxDescription)
	case img.Size <= 0:
		return Invalid("size", "image %s: size must be a positive number of bytes", img.label())
	case img.PriceCents < 0:
		return Invalid("price", "image %s: price cannot be negative", img.label())
	case img.AddedDate.IsZero():
		return Invalid("added_date", "image %s: added_date is required", img.label())
	case len(img.Docs) > MaxDocs:
		return Invalid("docs", "image %s: docs is %d bytes, over the limit of %d KiB; shorten it, or link to longer documentation", img.label(), len(img.Docs), MaxDocs>>10)
	case img.BasedOn != "" && !aliasPattern.MatchString(img.BasedOn):
		return Invalid("based_on", "image %s: based_on %q is not an alias", img.label(), img.BasedOn)
	}
	if strings.ContainsFunc(img.PullRef, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) || !utf8.ValidString(img.PullRef) {
		return Invalid("pull_ref", "image %s: pull_ref %q cannot contain spaces, line breaks or other control characters: it is pasted into a shell", img.label(), img.PullRef)
	}
	if len(img.PullRef) > maxPullRef {
		return Invalid("pull_ref", "image %s: pull_ref is longer than %d characters", img.label(), maxPullRef)
	}
	if strings.ContainsFunc(img.Description, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		return Invalid("description", "image %s: description cannot contain control characters", img.label())
	}
	for _, f := range img.Features {
		if strings.ContainsFunc(f, unicode.IsControl) || strings.TrimSpace(f) == "" {
			return Invalid("features", "image %s: feature %q must be text on one line", img.label(), f)
		}
	}
	if sec := img.Security; sec != nil {
		for _, c := range []struct {
			name string
			n    int
		}{{"critical", sec.Findings.Critical}, {"high", sec.Findings.High}, {"medium", sec.Findings.Medium}, {"low", sec.Findings.Low}} {
			if c.n < 0 {
				return Invalid("security.findings."+c.name, "image %s: security.findings.%s is %d; finding counts cannot be negative", img.label(), c.name, c.n)
			}
		}
		if strings.ContainsFunc(sec.SBOM, unicode.IsControl) {
			return Invalid("security.sbom", "image %s: security.sbom cannot contain control characters", img.label())
		}
	}
	for _, t := range img.Tags {
		if !namePattern.MatchString(t) {
			return Invalid("tags", "image %s: tag %q must be a lowercase word", img.label(), t)
		}
	}
	if img.EOLDate != "" {
		if d, err := time.Parse(DateLayout, img.EOLDate); err != nil || d.Format(DateLayout) != img.EOLDate {
			return Invalid("eol_date", "image %s: eol_date %q must be a date such as 2029-05-31", img.label(), img.EOLDate)
		}
	}
	if img.SupersededBy != "" && !aliasPattern.MatchString(img.SupersededBy) {
		return Invalid("superseded_by", "image %s: superseded_by %q is not an alias", img.label(), img.SupersededBy)
	}
	for _, t := range img.TagsPinned {
		if !tagPattern.MatchString(t) {
			return Invalid("tags_pinned", "image %s: tags_pinned: %q is not a registry tag", img.label(), t)
		}
	}
	if !validLink(img.SourceURL) {
		return Invalid("source_url", "image %s: source_url must be an http(s) address", img.label())
	}
	if s := img.Security; s != nil && (!validLink(s.SBOMURL) || !validLink(s.ReportURL)) {
		return Invalid("security", "image %s: security.sbom_url and report_url must be http(s) addresses", img.label())
	}
	return nil
}

// MaxPriceCents bounds a price (USD 1,000,000), far above any image's and
// well inside what a float64 holds to the cent.
const MaxPriceCents = 100_000_000

// ParseUSD reads an exact price in USD, as a JSON number or a form writes
// it ("15", "4.99", "1.5e1"), into cents. It refuses, naming param, what
// is not a number, a negative amount, a fraction of a cent (instead of
// rounding it) and more than MaxPriceCents.
func ParseUSD(param, text string) (int64, error) {
	var r *big.Rat
	ok := len(text) <= 64 && usdPattern.MatchString(text)
	if ok {
		r, ok = new(big.Rat).SetString(text)
	}
	if !ok {
		return 0, Invalid(param, "%s %.64q must be a number of USD, such as 5 or 4.99", param, text)
	}
	if r.Sign() < 0 {
		return 0, Invalid(param, "%s %s cannot be negative", param, text)
	}
	cents := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !cents.IsInt() {
		return 0, Invalid(param, "%s %s has a fraction of a cent; amounts are in whole cents, such as 4.99", param, text)
	}
	if !cents.Num().IsInt64() || cents.Num().Int64() > MaxPriceCents {
		return 0, Invalid(param, "%s %s is too large", param, text)
	}
	return cents.Num().Int64(), nil
}

// tagPattern is an OCI tag, as the distribution spec defines it.
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// validLink reports whether s is empty or an absolute http(s) URL, the
// only links the catalog shows (never javascript: or data:).
func validLink(s string) bool {
	if s == "" {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 2000
}

// CentsToUSD converts integer cents to a USD amount for display and JSON.
func CentsToUSD(c int64) float64 { return float64(c) / 100 }

// USDToCents converts a USD amount to integer cents, rounding to the nearest
// cent; it rejects amounts that are not finite or are too large to store.
func USDToCents(usd float64) (int64, bool) {
	if math.IsNaN(usd) || math.IsInf(usd, 0) || math.Abs(usd) > 1e12 {
		return 0, false
	}
	return int64(math.Round(usd * 100)), true
}
