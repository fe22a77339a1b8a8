package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// cmdLibrary is `berth library`: the images you imported or bought.
func cmdLibrary(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("library", stderr)
	output := f.outputFlag()
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) > 0 {
		return usageError{fmt.Sprintf("library takes no arguments, got %q", f.pos)}
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	items, err := c.Library(ctx)
	if err != nil {
		return err
	}
	if *output == "json" {
		b, err := json.Marshal(map[string]any{"images": items})
		if err != nil {
			return err
		}
		return writeJSON(stdout, b)
	}
	if len(items) == 0 {
		fmt.Fprintln(stdout, "Your library is empty: berth images import or berth images buy adds to it.")
		return nil
	}
	// 24+1+22+1+5+1+8+1+10+1+6 = 80 columns.
	fmt.Fprintf(stdout, "%-24s %-22s %-5s %-8s %-10s %6s\n", "ID", "ALIAS", "ARCH", "HOW", "ACQUIRED", "PAID")
	for _, it := range items {
		fmt.Fprintf(stdout, "%-24s %-22s %-5s %-8s %-10s %6s\n", it.ID, fit(it.Alias, 22), fit(it.Architecture, 5),
			it.AcquiredVia, day(it.AcquiredAt), price(it.PricePaid))
	}
	fmt.Fprintf(stdout, "%d image(s)\n", len(items))
	return nil
}

// day is the date of an RFC 3339 time.
func day(t string) string {
	d, _, _ := strings.Cut(t, "T")
	return d
}

// cmdWallet is `berth wallet`: the balance and every credit and purchase,
// newest first. (`berth wallet credit` is the operator's command.)
func cmdWallet(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newClientFlags("wallet", stderr)
	output := f.outputFlag()
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) > 0 {
		return usageError{fmt.Sprintf("unknown wallet argument %q: use berth wallet (your balance) or berth wallet credit (operators)", f.pos[0])}
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	balances, err := c.Balances(ctx)
	if err != nil {
		return err
	}
	history, err := c.History(ctx)
	if err != nil {
		return err
	}
	if *output == "json" {
		b, err := json.Marshal(map[string]any{"balances": balances, "history": history})
		if err != nil {
			return err
		}
		return writeJSON(stdout, b)
	}
	for _, b := range balances {
		fmt.Fprintf(stdout, "Balance: %s %s\n", usd2(b.Amount), b.Currency)
	}
	if len(history) == 0 {
		fmt.Fprintln(stdout, "No credits or purchases yet.")
		return nil
	}
	fmt.Fprintln(stdout)
	// 10+1+8+1+10+1+49 = 80 columns.
	fmt.Fprintf(stdout, "%-10s %-8s %10s %s\n", "DATE", "KIND", "AMOUNT", "WHAT")
	for _, e := range history {
		what := e.Memo
		if e.Alias != "" {
			what = e.Alias + " (" + e.Architecture + ")"
		}
		fmt.Fprintf(stdout, "%-10s %-8s %10s %s\n", day(e.CreatedAt), e.Kind, usd2(e.Amount), fit(what, 49))
	}
	return nil
}
