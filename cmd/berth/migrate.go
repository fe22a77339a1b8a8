package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/postgres"
)

// cmdMigrateTo copies a SQLite Berth (--db) into an empty PostgreSQL
// database, then proves the copy: every row of every table compared with
// the source, and berth check's invariants on both.
func cmdMigrateTo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("migrate-to", getenv, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.pos) != 1 || !postgres.IsURL(f.pos[0]) {
		return usageError{"migrate-to takes one postgres:// URL: berth migrate-to postgres://... --db berth.db"}
	}
	target := f.pos[0]
	if postgres.IsURL(*f.db) {
		return usageError{"migrate-to copies a SQLite database (--db PATH) into PostgreSQL"}
	}
	if err := mustExist(ctx, *f.db); err != nil {
		return fmt.Errorf("migrate-to: %w", err)
	}
	src, err := openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer src.Close()
	dumper, ok := src.(store.Dumper)
	if !ok {
		return fmt.Errorf("migrate-to: this backend cannot be copied")
	}
	if problems, err := src.Check(ctx); err != nil {
		return err
	} else if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return fmt.Errorf("migrate-to: %s fails berth check; fix it before copying it", *f.db)
	}
	dst, err := postgres.Open(ctx, target)
	if err != nil {
		return err
	}
	defer dst.Close()

	start := time.Now()
	counts := map[string]int{}
	if err := dst.Restore(ctx, func(put func(store.DumpTable, [][]any) error) error {
		return dumper.Dump(ctx, func(t store.DumpTable, rows [][]any) error {
			counts[t.Name] = len(rows)
			return put(t, rows)
		})
	}); err != nil {
		return failed("migrate-to", err)
	}
	copied := time.Since(start)

	// Proof: both databases read back, row for row.
	want, err := canonicalDump(ctx, dumper)
	if err != nil {
		return err
	}
	got, err := canonicalDump(ctx, dst)
	if err != nil {
		return err
	}
	for _, t := range store.DumpTables {
		if !slices.Equal(want[t.Name], got[t.Name]) {
			return fmt.Errorf("migrate-to: the copy of table %s differs from the source (%d rows, %d copied)",
				t.Name, len(want[t.Name]), len(got[t.Name]))
		}
	}
	if problems, err := dst.Check(ctx); err != nil {
		return err
	} else if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "FAIL", p)
		}
		return fmt.Errorf("migrate-to: the copy fails berth check")
	}
	fmt.Fprintf(stdout, "copied %s to %s in %s: %d images, %d accounts, %d ledger rows, %d library entries, %d ratings, %d API tokens, %d sessions, %d vouchers\n",
		*f.db, dbName(target), copied.Round(time.Millisecond), counts["images"], counts["users"], counts["ledger"],
		counts["library"], counts["ratings"], counts["api_tokens"], counts["sessions"], counts["vouchers"])
	fmt.Fprintln(stdout, "every row compared equal, and berth check passes on both")
	if _, err := os.Stat(*f.db + ".session-key"); err == nil {
		fmt.Fprintf(stdout, "to keep people signed in, give every instance the same session keys: BERTH_SESSION_KEY=$(paste -sd, %s)\n", *f.db+".session-key")
	}
	return nil
}

// canonicalDump renders every row of every table as text, sorted, so two
// backends' dumps compare whatever order their rows come in.
func canonicalDump(ctx context.Context, d store.Dumper) (map[string][]string, error) {
	out := map[string][]string{}
	err := d.Dump(ctx, func(t store.DumpTable, rows [][]any) error {
		lines := make([]string, len(rows))
		for i, r := range rows {
			vals := make([]string, len(r))
			for j, v := range r {
				vals[j] = render(v)
			}
			lines[i] = strings.Join(vals, "\x1f")
		}
		slices.Sort(lines)
		out[t.Name] = lines
		return nil
	})
	return out, err
}

func render(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if x == nil {
			return "NULL"
		}
		return x.UTC().Format(time.RFC3339Nano)
	case *int64:
		if x == nil {
			return "NULL"
		}
		return fmt.Sprint(*x)
	case *string:
		if x == nil {
			return "NULL"
		}
		return fmt.Sprintf("%q", *x)
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}
