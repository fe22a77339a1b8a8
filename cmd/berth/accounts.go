package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth/berth/store"
)

// openFor parses a command's flags and opens its database.
func openFor(ctx context.Context, f *flags, args []string) (store.Store, error) {
	if err := f.parse(args); err != nil {
		return nil, err
	}
	if len(f.pos) != 0 {
		return nil, usageError{fmt.Sprintf("%s takes flags only, got %q", f.fs.Name(), f.pos)}
	}
	return openStore(ctx, *f.db)
}

func cmdUserCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("user create", getenv, stderr)
	email := f.fs.String("email", "", "email address of the account")
	password := f.fs.String("password", "", "password (at least 8 characters)")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, *email, *password)
	if err != nil {
		return failed("user create", err)
	}
	fmt.Fprintf(stdout, "created %s\n", u.Email)
	return nil
}

// cmdUserPassword sets an account's password, for someone locked out of
// theirs, and ends every session of the account.
func cmdUserPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("user password", getenv, stderr)
	email := f.fs.String("email", "", "email address of the account")
	password := f.fs.String("password", "", "the new password (at least 8 characters, not a common one)")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("user password: %s", store.ErrorMessage(err))
	}
	if err := db.SetPassword(ctx, u.ID, *password); err != nil {
		return fmt.Errorf("user password: %s", store.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "password of %s changed; its sessions are signed out\n", u.Email)
	return nil
}

// cmdTokenCreate prints a new token and nothing else on stdout, so scripts
// can capture it: TOKEN=$(berth token create --email E).
func cmdTokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("token create", getenv, stderr)
	email := f.fs.String("email", "", "email address of the account")
	name := f.fs.String("name", "command line", "a name to recognise the token by")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(ctx, *email)
	if err != nil {
		return failed("token create", err)
	}
	secret, _, err := db.CreateToken(ctx, u.ID, *name)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdWalletCredit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("wallet credit", getenv, stderr)
	email := f.fs.String("email", "", "email address of the account")
	amount := f.fs.String("amount", "", "amount in USD, e.g. 50 or 12.50")
	memo := f.fs.String("memo", "Operator top-up", "a note for the wallet history")
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	cents, err := parseUSD(*amount)
	if err != nil {
		return err
	}
	u, err := db.FindUserByEmail(ctx, *email)
	if err != nil {
		return failed("wallet credit", err)
	}
	bal, err := db.Credit(ctx, u.ID, cents, *memo)
	if err != nil {
		return failed("wallet credit", err)
	}
	fmt.Fprintf(stdout, "credited $%s to %s; balance $%s\n", store.FormatUSD(cents), u.Email, store.FormatUSD(bal))
	return nil
}

// usdPattern is an amount as people write it: digits, then at most two
// decimals. No sign, space or other character anywhere: ParseInt alone
// read "1.-5" as one dollar minus five cents.
var usdPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// parseUSD reads a positive amount with at most two decimals.
func parseUSD(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	bad := usageError{fmt.Sprintf("--amount %q: give a positive USD amount such as 50 or 12.50", s)}
	if !usdPattern.MatchString(s) {
		return 0, bad
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	c, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w > store.MaxCreditCents/100 {
		return 0, bad
	}
	return w*100 + c, nil
}

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("demo", getenv, stderr)
	db, err := openFor(ctx, f, args)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		return err
	}
	return seedDemo(ctx, db, stdout)
}

func seedDemo(ctx context.Context, db store.Store, stdout io.Writer) error {
	res, err := db.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if res.Created {
		fmt.Fprintf(stdout, "Demo data added: %d people rated %d images (%d ratings).\n", res.Raters, res.Images, res.Ratings)
		fmt.Fprintf(stdout, "Log in as %s with password %s (wallet: $%s).\n", res.Email, res.Password, store.FormatUSD(res.BalanceCents))
	} else {
		fmt.Fprintf(stdout, "Demo data is already there; log in as %s (its password was printed when it was created).\n", res.Email)
	}
	return nil
}
