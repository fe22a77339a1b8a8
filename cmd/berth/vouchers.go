package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/berth/berth/store"
)

// cmdVoucherCreate prints count new voucher codes worth --amount each, one
// per line and nothing else on stdout, so they can be piped into a file or
// a mail merge. Only their hashes are stored: this is the one chance to
// copy them.
func cmdVoucherCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("voucher create", getenv, stderr)
	amount := f.fs.String("amount", "", "value of each voucher in USD, e.g. 50 or 12.50")
	count := f.fs.Int("count", 1, fmt.Sprintf("how many vouchers to create (1-%d)", store.MaxVouchers))
	expires := f.fs.String("expires", "", "validity from now, e.g. 30d or 12h (default: no expiry)")
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 0 {
		return usageError{fmt.Sprintf("voucher create takes flags only, got %q", f.pos)}
	}
	cents, err := parseUSD(*amount)
	if err != nil {
		return err
	}
	if *count < 1 || *count > store.MaxVouchers {
		return usageError{fmt.Sprintf("--count %d: give a number from 1 to %d", *count, store.MaxVouchers)}
	}
	var until time.Time
	if *expires != "" {
		d, err := parseValidity(*expires)
		if err != nil {
			return err
		}
		until = time.Now().UTC().Add(d)
	}
	db, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	codes, err := db.CreateVouchers(ctx, cents, *count, until)
	if err != nil {
		return fmt.Errorf("voucher create: %w", err)
	}
	for _, c := range codes {
		fmt.Fprintln(stdout, c)
	}
	what := fmt.Sprintf("%d voucher(s) of $%s", len(codes), store.FormatUSD(cents))
	if !until.IsZero() {
		what += ", valid until " + until.Format(time.RFC3339)
	}
	fmt.Fprintln(stderr, "created", what)
	return nil
}

// parseValidity reads a positive span in days ("30d") or as a Go duration
// ("12h", "90m").
func parseValidity(s string) (time.Duration, error) { return parseSpan("--expires", s) }

// parseSpan reads a positive span in days ("30d") or as a Go duration
// ("12h"), naming flag when it cannot.
func parseSpan(flag, s string) (time.Duration, error) {
	bad := usageError{fmt.Sprintf("%s %q: give a span such as 30d or 12h", flag, s)}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d <= 0 {
		return 0, bad
	}
	return d, nil
}
