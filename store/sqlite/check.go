package sqlite

import (
	"context"
	"fmt"
)

// Check verifies the invariants Berth relies on and returns one line per
// violation (none when the database is sound): SQLite's own integrity
// check, every balance equal to its ledger sum, every rating aggregate equal
// to its rows, and every purchase in the ledger matched by a library row.
func (db *DB) Check(ctx context.Context) ([]string, error) {
	var problems []string
	rows, err := db.read.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, "integrity: "+line)
		}
	}
	rows.Close()

	checks := []struct {
		query  string
		format string
	}{
		{`SELECT /* full scan: berth check reads everything */ u.email, w.balance_cents, COALESCE((SELECT SUM(amount_cents) FROM ledger l WHERE l.user_id = w.user_id), 0) AS total
			FROM wallets w JOIN users u ON u.id = w.user_id WHERE w.balance_cents <> total`,
			"wallet of %v: balance %v cents, ledger sum %v cents"},
		{`SELECT /* full scan: berth check reads everything */ i.alias || ' (' || i.architecture || ')', i.rating_sum || '/' || i.rating_count,
			COALESCE(SUM(r.rating), 0) || '/' || COUNT(r.rating) AS actual
			FROM images i LEFT JOIN ratings r ON r.image_id = i.id GROUP BY i.id
			HAVING i.rating_sum <> COALESCE(SUM(r.rating), 0) OR i.rating_count <> COUNT(r.rating)`,
			"ratings of %v: aggregate sum/count %v, rows %v"},
		{`SELECT /* full scan: berth check reads everything */ u.email, l.image_id, l.amount_cents FROM ledger l JOIN users u ON u.id = l.user_id
			WHERE l.kind = 'purchase' AND NOT EXISTS (SELECT 1 FROM library b WHERE b.user_id = l.user_id
			AND b.image_id = l.image_id AND b.how = 'purchase' AND b.price_cents = -l.amount_cents)`,
			"purchase by %v of %v for %v cents has no matching library row"},
		{`SELECT /* full scan: berth check reads everything */ u.email, b.image_id, b.price_cents FROM library b JOIN users u ON u.id = b.user_id
			WHERE b.how = 'purchase' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.user_id = b.user_id
			AND l.image_id = b.image_id AND l.kind = 'purchase')`,
			"library of %v holds purchased %v (%v cents) with no ledger row"},
	}
	for _, c := range checks {
		found, err := db.read.QueryContext(ctx, c.query)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		for found.Next() {
			var a, b, d any
			if err := found.Scan(&a, &b, &d); err != nil {
				found.Close()
				return nil, err
			}
			problems = append(problems, fmt.Sprintf(c.format, a, b, d))
		}
		found.Close()
		if err := found.Err(); err != nil {
			return nil, err
		}
	}
	return problems, nil
}
