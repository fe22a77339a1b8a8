package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth/berth/store"
	"github.com/berth/berth/web/client"
)

// imagesUsage lists the images subcommands.
const imagesUsage = "use: berth images list|show|import|buy|rate ..."

// cmdImages dispatches `berth images SUBCOMMAND`.
func cmdImages(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{imagesUsage}
	}
	switch args[0] {
	case "list":
		return cmdImagesList(ctx, args[1:], getenv, stdout, stderr)
	case "show":
		return cmdImagesShow(ctx, args[1:], getenv, stdout, stderr)
	case "import", "buy":
		return cmdImagesAcquire(ctx, args[0], args[1:], getenv, stdout, stderr)
	case "rate":
		return cmdImagesRate(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		return usageError{imagesUsage + "; berth images SUBCOMMAND --help lists its flags"}
	}
	return usageError{fmt.Sprintf("unknown images subcommand %q: %s", args[0], imagesUsage)}
}

// listFlags maps the list command's flags to the API's query parameters.
var listFlags = []struct{ flag, param, usage string }{
	{"search", "search", "words to find in names, descriptions and tags"},
	{"os", "os", "operating system, e.g. ubuntu"},
	{"architecture", "architecture", "amd64, arm64 or armhf"},
	{"variant", "variant", "standard, minimal, cloud, desktop, or a family member such as dind"},
	{"alias", "alias", "exactly this alias, e.g. ubuntu/24.04"},
	{"prespawn", "prespawn", "true or false: only images kept warm, or only those not"},
	{"min-price", "min_price", "lowest price in USD"},
	{"max-price", "max_price", "highest price in USD"},
	{"min-rating", "min_rating", "lowest average rating, 0 to 5"},
	{"sort-by", "sort_by", "popularity, rating, name, price, size or added_date"},
	{"sort-order", "sort_order", "asc or desc"},
}

// cmdImagesList is `berth images list`: the catalog query as flags, sent to
// the server as they are (the server checks them and says what is wrong).
func cmdImagesList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("images list", stderr)
	vals := map[string]*string{}
	for _, lf := range listFlags {
		vals[lf.param] = f.fs.String(lf.flag, "", lf.usage)
	}
	page := f.fs.Int("page", 0, "page number, from 1")
	limit := f.fs.Int("limit", 0, "images per page, 1 to 100 (the server's default: 20)")
	output := f.outputFlag()
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) > 0 {
		return usageError{fmt.Sprintf("images list takes flags only, got %q", f.pos)}
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	q := url.Values{}
	for _, lf := range listFlags {
		if v := *vals[lf.param]; v != "" {
			q.Set(lf.param, v)
		}
	}
	// Zero means "not given"; anything else, even a bad value, goes to the
	// server, whose message names the parameter.
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "page":
			q.Set("page", strconv.Itoa(*page))
		case "limit":
			q.Set("limit", strconv.Itoa(*limit))
		}
	})
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	if *output == "json" {
		raw, err := c.ListImagesRaw(ctx, q)
		if err != nil {
			return err
		}
		return writeJSON(stdout, raw)
	}
	list, err := c.ListImages(ctx, q)
	if err != nil {
		return err
	}
	writeImageTable(stdout, list)
	return nil
}

// writeJSON writes the API's data indented, as it came.
func writeJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// Column widths of the image table: 24+1+22+1+5+1+6+1+7+1+9 = 78 columns,
// inside an 80-column terminal.
const (
	colID     = 24
	colAlias  = 22
	colArch   = 5
	colSize   = 6
	colPrice  = 7
	colRating = 9
)

// writeImageTable prints a page of images, one line each, and where the
// page is in the whole list.
func writeImageTable(w io.Writer, list *client.ImageList) {
	if list.Message != "" {
		fmt.Fprintln(w, list.Message)
	}
	if len(list.Images) == 0 {
		fmt.Fprintln(w, "No images match.")
	} else {
		fmt.Fprintf(w, "%-*s %-*s %-*s %*s %*s %*s\n", colID, "ID", colAlias, "ALIAS", colArch, "ARCH",
			colSize, "SIZE", colPrice, "PRICE", colRating, "RATING")
		for _, img := range list.Images {
			fmt.Fprintf(w, "%-*s %-*s %-*s %*s %*s %*s\n", colID, fit(img.ID, colID), colAlias, fit(img.Alias, colAlias),
				colArch, fit(img.Architecture, colArch), colSize, humanSize(img.Size), colPrice, price(img.Price),
				colRating, fit(rating(img.AverageRating, img.RatingCount), colRating))
		}
	}
	p := list.Pagination
	total := strconv.Itoa(p.Total)
	if p.TotalCapped {
		total = "over " + total
	}
	fmt.Fprintf(w, "Page %d of %d, %s images\n", p.Page, max(p.Pages, 1), total)
}

// wrap breaks s into lines of at most width runes at spaces, indenting
// every line after the first; a word longer than width stays whole.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		l := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case n+1+l > width:
			b.WriteString("\n" + indent)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

// fit cuts s to n runes, marking a cut with "…".
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func price(usd float64) string {
	if usd == 0 {
		return "free"
	}
	return usd2(usd)
}

// usd2 is an amount in dollars with cents: $15.00, -$4.99.
func usd2(v float64) string {
	if v < 0 {
		return "-$" + strconv.FormatFloat(-v, 'f', 2, 64)
	}
	return "$" + strconv.FormatFloat(v, 'f', 2, 64)
}

func rating(avg float64, count int64) string {
	if count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f (%d)", avg, count)
}

// humanSize is a byte count in at most 6 characters: 812K, 95M, 1.2G.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"K", "M", "G", "T"} {
		v /= unit
		suffix = s
		if v < unit {
			break
		}
	}
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + suffix
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + suffix
}

var imageIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// resolveImage finds the image an argument names: an id as it is, an
// alias on the given architecture, or on amd64 (else the first there is)
// when none is given, as the site's alias links do.
func resolveImage(ctx context.Context, c *client.Client, ref, arch string) (string, error) {
	ref = strings.TrimSpace(ref)
	if imageIDPattern.MatchString(ref) {
		return ref, nil
	}
	q := url.Values{"alias": {strings.ToLower(ref)}, "limit": {"10"}}
	if arch != "" {
		q.Set("architecture", arch)
	}
	list, err := c.ListImages(ctx, q)
	if err != nil {
		return "", err
	}
	if len(list.Images) == 0 {
		if list.Message != "" {
			return "", &client.Error{Status: 404, Message: list.Message}
		}
		return "", &client.Error{Status: 404, Message: fmt.Sprintf("No image has the alias %q.", ref)}
	}
	for _, img := range list.Images {
		if img.Architecture == "amd64" {
			return img.ID, nil
		}
	}
	return list.Images[0].ID, nil
}

// cmdImagesShow is `berth images show ALIAS|ID`: every property, then the
// image's docs.
func cmdImagesShow(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("images show", stderr)
	arch := f.fs.String("architecture", "", "for an alias: which architecture (default amd64)")
	output := f.outputFlag()
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 1 {
		return usageError{"use: berth images show ALIAS|ID [--architecture arm64] [--output table|json]"}
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	id, err := resolveImage(ctx, c, f.pos[0], *arch)
	if err != nil {
		return err
	}
	img, err := c.Image(ctx, id)
	if err != nil {
		return err
	}
	if *output == "json" {
		b, err := json.Marshal(img)
		if err != nil {
			return err
		}
		return writeJSON(stdout, b)
	}
	variant := img.Variant
	if variant == store.DefaultVariant {
		variant = "standard"
	}
	rows := [][2]string{
		{"Alias", img.Alias}, {"ID", img.ID}, {"Name", img.ImageName}, {"Description", img.Description},
		{"OS", img.OS + " " + img.Release}, {"Architecture", img.Architecture}, {"Variant", variant},
		{"Serial", img.Serial}, {"Size", humanSize(img.Size) + " (" + strconv.FormatInt(img.Size, 10) + " bytes)"},
		{"Price", price(img.Price)}, {"Rating", rating(img.AverageRating, img.RatingCount)},
		{"Added", img.AddedDate}, {"Prespawn", strconv.FormatBool(img.Prespawn)},
		{"Tags", strings.Join(img.Tags, ", ")}, {"Based on", img.BasedOn},
		{"Features", strings.Join(img.Features, ", ")}, {"Pull", img.PullRef},
		{"Pinned tags", strings.Join(img.TagsPinned, ", ")}, {"Support", support(img)},
		{"Successor", img.SupersededBy}, // the source URL is in --output json: a URL does not wrap
	}
	if s := img.Security; s != nil {
		signed := "no"
		if s.Signed {
			signed = "yes"
		}
		rows = append(rows, [2]string{"Signed", signed}, [2]string{"SBOM", s.SBOM},
			[2]string{"Last scan", fmt.Sprintf("%s: %d critical, %d high, %d medium, %d low", s.LastScan,
				s.Findings.Critical, s.Findings.High, s.Findings.Medium, s.Findings.Low)})
		if s.ScanStale {
			rows = append(rows, [2]string{"Scan", "stale: older than the server allows"})
		}
	}
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintf(stdout, "%-13s %s\n", r[0]+":", wrap(r[1], 80-14, strings.Repeat(" ", 14)))
		}
	}
	if img.Docs != "" {
		fmt.Fprintf(stdout, "\n%s\n", strings.TrimSpace(img.Docs))
	}
	return nil
}

// cmdImagesAcquire is `berth images import|buy ALIAS|ID`.
func cmdImagesAcquire(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("images "+verb, stderr)
	arch := f.fs.String("architecture", "", "for an alias: which architecture (default amd64)")
	var key, expected *string
	if verb == "buy" {
		key = f.fs.String("idempotency-key", "", "send this Idempotency-Key, so repeating the command cannot charge twice")
		expected = f.fs.String("expected-price", "", "the price in USD you agree to pay; any other price charges nothing")
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 1 {
		return usageError{fmt.Sprintf("use: berth images %s ALIAS|ID [--architecture arm64]", verb) + map[string]string{"buy": " [--expected-price USD] [--idempotency-key K]"}[verb]}
	}
	var price *float64
	if expected != nil && *expected != "" {
		v, err := strconv.ParseFloat(*expected, 64)
		if err != nil || v < 0 {
			return usageError{fmt.Sprintf("--expected-price %q: use a price in USD such as 15 or 4.99", *expected)}
		}
		price = &v
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	id, err := resolveImage(ctx, c, f.pos[0], *arch)
	if err != nil {
		return err
	}
	if verb == "import" {
		msg, err := c.Import(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s\n", msg, id)
		return nil
	}
	res, err := c.Purchase(ctx, id, *key, price)
	if err != nil {
		return err
	}
	if res.PricePaid == 0 {
		fmt.Fprintf(stdout, "Already in your library, nothing charged: %s. Balance %s.\n", id, usd2(res.RemainingBalance))
		return nil
	}
	fmt.Fprintf(stdout, "%s: %s for %s. Balance %s.\n", res.Message, id, usd2(res.PricePaid), usd2(res.RemainingBalance))
	return nil
}

// cmdImagesRate is `berth images rate ALIAS|ID RATING`.
func cmdImagesRate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("images rate", stderr)
	arch := f.fs.String("architecture", "", "for an alias: which architecture (default amd64)")
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 2 {
		return usageError{"use: berth images rate ALIAS|ID RATING (a whole number from 0 to 5)"}
	}
	n, err := strconv.Atoi(f.pos[1])
	if err != nil {
		return usageError{fmt.Sprintf("rating %q: use a whole number from 0 to 5", f.pos[1])}
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	id, err := resolveImage(ctx, c, f.pos[0], *arch)
	if err != nil {
		return err
	}
	res, err := c.Rate(ctx, id, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Rated %s %d. Average now %.1f from %d rating(s).\n", id, res.Rating, res.AverageRating, res.RatingCount)
	return nil
}

// support is the support state with the date it is judged from.
func support(img *client.Image) string {
	if img.EOLDate == nil {
		return img.Support
	}
	return img.Support + " (upstream support ends " + *img.EOLDate + ")"
}
