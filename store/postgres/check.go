package postgres

import (
	"context"
	"fmt"
)

// Check verifies the invariants Berth relies on and returns one line per
// violation (none when the database is sound): every balance equal to its
// ledger sum, every rating aggregate equal to its rows, and every purchase
// in the ledger matched by a library row. PostgreSQL checks its own pages
// (data checksums, amcheck); the queries read one snapshot.
func (db *DB) Check(ctx context.Context) ([]string, error) {
	var problems []string
	checks := []struct {
		query  string
		format string
	}{
		{`SELECT /* full scan: berth check reads everything */ u.email, w.balance_cents::text, COALESCE((SELECT SUM(amount_cents) FROM ledger l WHERE l.user_id = w.user_id), 0)::text
			FROM wallets w JOIN users u ON u.id = w.user_id
			WHERE w.balance_cents <> COALESCE((SELECT SUM(amount_cents) FROM ledger l WHERE l.user_id = w.user_id), 0)`,
			"wallet of %v: balance %v cents, ledger sum %v cents"},
		{`SELECT /* full scan: berth check reads everything */ i.alias || ' (' || i.architecture || ')', i.rating_sum || '/' || i.rating_count,
			COALESCE(SUM(r.rating), 0) || '/' || COUNT(r.rating)
			FROM images i LEFT JOIN ratings r ON r.image_id = i.id GROUP BY i.seq
			HAVING i.rating_sum <> COALESCE(SUM(r.rating), 0) OR i.rating_count <> COUNT(r.rating)`,
			"ratings of %v: aggregate sum/count %v, rows %v"},
		{`SELECT /* full scan: berth check reads everything */ u.email, l.image_id, l.amount_cents::text FROM ledger l JOIN users u ON u.id = l.user_id
			WHERE l.kind = 'purchase' AND NOT EXISTS (SELECT 1 FROM library b WHERE b.user_id = l.user_id
			AND b.image_id = l.image_id AND b.how = 'purchase' AND b.price_cents = -l.amount_cents)`,
			"purchase by %v of %v for %v cents has no matching library row"},
		{`SELECT /* full scan: berth check reads everything */ u.email, b.image_id, b.price_cents::text FROM library b JOIN users u ON u.id = b.user_id
			WHERE b.how = 'purchase' AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.user_id = b.user_id
			AND l.image_id = b.image_id AND l.kind = 'purchase')`,
			"library of %v holds purchased %v (%v cents) with no ledger row"},
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	for _, c := range checks {
		rows, err := tx.Query(ctx, c.query)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		for rows.Next() {
			var a, b, d string
			if err := rows.Scan(&a, &b, &d); err != nil {
				rows.Close()
				return nil, err
			}
			problems = append(problems, fmt.Sprintf(c.format, a, b, d))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
	}
	return problems, nil
}
