package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth/berth/store"
)

func ownsTx(ctx context.Context, tx *Tx, userID int64, imageID string) (bool, error) {
	var owned bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM library WHERE user_id = $1 AND image_id = $2)`, userID, imageID).Scan(&owned)
	return owned, err
}

// Import adds a free image to a user's library. Importing an image already
// there changes nothing and succeeds.
func (db *DB) Import(ctx context.Context, userID int64, imageID string) error {
	return db.inTx(ctx, func(tx *Tx) error { return importTx(ctx, tx, userID, imageID) })
}

func importTx(ctx context.Context, tx *Tx, userID int64, imageID string) error {
	img, err := findImage(ctx, tx, imageID)
	if err != nil {
		return err
	}
	if !img.Free() {
		return &store.Error{Code: store.EINVALID, Err: store.ErrNeedsPurchase,
			Message: fmt.Sprintf("%s costs $%s: buy it instead of importing it.", img.Alias, store.FormatUSD(img.PriceCents))}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO library (user_id, image_id, how, price_cents, acquired_at)
		VALUES ($1, $2, 'import', 0, $3) ON CONFLICT DO NOTHING`, userID, img.ID, tx.now); err != nil {
		return fmt.Errorf("import %s: %w", img.ID, err)
	}
	return nil
}

// Purchase buys a paid image from the user's wallet in one transaction:
// the buyer's row lock orders their purchases, the debit only happens when
// the balance covers the price, and the ledger and library rows (each
// under a unique constraint) land with it or not at all. An image already
// owned costs nothing. With an idempotency key, a retried request returns
// the first result instead of acting again.
func (db *DB) Purchase(ctx context.Context, userID int64, imageID, idemKey string) (store.PurchaseResult, error) {
	return db.purchase(ctx, userID, imageID, idemKey, nil)
}

// PurchaseAtPrice is Purchase that charges only the price the buyer
// confirmed. The image's row is read FOR SHARE inside the purchase's
// transaction, so a catalog import on any instance cannot change the
// price between the comparison and the debit. A replayed Idempotency-Key
// answers as before, whatever the price: the purchase it names is done.
func (db *DB) PurchaseAtPrice(ctx context.Context, userID int64, imageID, idemKey string, expectedCents int64) (store.PurchaseResult, error) {
	return db.purchase(ctx, userID, imageID, idemKey, &expectedCents)
}

func (db *DB) purchase(ctx context.Context, userID int64, imageID, idemKey string, expectedCents *int64) (store.PurchaseResult, error) {
	var res store.PurchaseResult
	if len(idemKey) > 255 {
		return res, store.Invalid("Idempotency-Key", "An Idempotency-Key must be at most 255 characters.")
	}
	err := db.inTx(ctx, func(tx *Tx) error {
		res = store.PurchaseResult{}
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if idemKey != "" {
			// Keys are kept for a day; older ones never answer.
			if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`,
				tx.now.Add(-24*time.Hour)); err != nil {
				return fmt.Errorf("purchase: sweep idempotency keys: %w", err)
			}
			var reqHash, saved string
			err := tx.QueryRow(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
				userID, idemKey).Scan(&reqHash, &saved)
			switch {
			case err == nil && reqHash != store.HashSecret("purchase "+imageID):
				return &store.Error{Code: store.ECONFLICT, Param: "Idempotency-Key",
					Message: "This Idempotency-Key was already used for a different request; use a new key."}
			case err == nil:
				if err := json.Unmarshal([]byte(saved), &res); err != nil {
					return fmt.Errorf("purchase %s: saved response: %w", imageID, err)
				}
				res.IdempotentReplay = true
				return nil
			case !noRows(err):
				return fmt.Errorf("purchase %s: idempotency key: %w", imageID, err)
			}
		}
		var err error
		if res, err = purchaseTx(ctx, tx, userID, imageID, expectedCents); err != nil {
			return err
		}
		if idemKey != "" {
			saved, _ := json.Marshal(res)
			if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at)
				VALUES ($1, $2, $3, $4, $5)`, userID, idemKey, store.HashSecret("purchase "+imageID), string(saved), tx.now); err != nil {
				return fmt.Errorf("purchase %s: idempotency key: %w", imageID, err)
			}
		}
		return nil
	})
	return res, err
}

// purchaseTx is the purchase itself: the checks, the conditional debit,
// the ledger row and the library row, inside the caller's transaction,
// which holds the buyer's lock.
func purchaseTx(ctx context.Context, tx *Tx, userID int64, imageID string, expectedCents *int64) (store.PurchaseResult, error) {
	var res store.PurchaseResult
	if !store.ValidID(imageID) {
		return res, store.Errorf(store.ENOTFOUND, "No image has the id %q.", imageID)
	}
	// FOR SHARE: the price read here is the price charged; an update of
	// the image waits for this purchase to end.
	imgs, err := queryImages(ctx, tx, `SELECT `+imageColumns+` FROM images WHERE id = $1 FOR SHARE`, imageID)
	if err != nil {
		return res, fmt.Errorf("purchase %s: %w", imageID, err)
	}
	if len(imgs) == 0 {
		return res, store.Errorf(store.ENOTFOUND, "No image has the id %q.", imageID)
	}
	img := imgs[0]
	if img.Free() {
		return res, &store.Error{Code: store.EINVALID, Err: store.ErrNeedsImport,
			Message: fmt.Sprintf("%s is free: import it instead of buying it.", img.Alias)}
	}
	owned, err := ownsTx(ctx, tx, userID, img.ID)
	if err != nil {
		return res, fmt.Errorf("purchase %s: %w", img.ID, err)
	}
	if owned {
		res.AlreadyOwned = true
	} else {
		if expectedCents != nil && *expectedCents != img.PriceCents {
			return res, &store.Error{Code: store.ECONFLICT, Param: "expected_price",
				Err: &store.PriceChangedError{ExpectedCents: *expectedCents, PriceCents: img.PriceCents},
				Message: fmt.Sprintf("The price of %s (%s) is now $%s, not the $%s you confirmed. Nothing was charged; confirm the new price to buy it.",
					img.Alias, img.Architecture, store.FormatUSD(img.PriceCents), store.FormatUSD(*expectedCents))}
		}
		debit, err := tx.Exec(ctx, `UPDATE wallets SET balance_cents = balance_cents - $1
			WHERE user_id = $2 AND balance_cents >= $1`, img.PriceCents, userID)
		if err != nil {
			return res, fmt.Errorf("purchase %s: debit: %w", img.ID, err)
		}
		if debit.RowsAffected() == 0 {
			bal, err := balanceTx(ctx, tx, userID)
			if err != nil {
				return res, err
			}
			return res, store.Errorf(store.EFUNDS, "Not enough funds: %s costs $%s and your balance is $%s. Add funds (redeem a voucher on your wallet page), then buy again.",
				img.Alias, store.FormatUSD(img.PriceCents), store.FormatUSD(bal))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger (user_id, kind, amount_cents, image_id, memo, created_at)
			VALUES ($1, 'purchase', $2, $3, $4, $5)`, userID, -img.PriceCents, img.ID, "Bought "+img.Alias+" ("+img.Architecture+")", tx.now); err != nil {
			return res, fmt.Errorf("purchase %s: ledger: %w", img.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO library (user_id, image_id, how, price_cents, acquired_at)
			VALUES ($1, $2, 'purchase', $3, $4)`, userID, img.ID, img.PriceCents, tx.now); err != nil {
			return res, fmt.Errorf("purchase %s: library: %w", img.ID, err)
		}
		res.PricePaidCents = img.PriceCents
	}
	res.RemainingCents, err = balanceTx(ctx, tx, userID)
	return res, err
}

// Owns reports whether an image is in the user's library.
func (db *DB) Owns(ctx context.Context, userID int64, imageID string) (bool, error) {
	var owned bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM library WHERE user_id = $1 AND image_id = $2)`, userID, imageID).Scan(&owned)
	if err != nil {
		return false, fmt.Errorf("owns %s: %w", imageID, err)
	}
	return owned, nil
}

// Library returns the images a user may use, most recently acquired first.
func (db *DB) Library(ctx context.Context, userID int64) ([]store.LibraryItem, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+imageColumns+`, l.how, l.paid, l.acquired_at
		FROM images JOIN (SELECT image_id, how, price_cents AS paid, acquired_at FROM library WHERE user_id = $1) l
		ON l.image_id = images.id ORDER BY l.acquired_at DESC, image_name`, userID)
	if err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	defer rows.Close()
	items := []store.LibraryItem{}
	for rows.Next() {
		var it store.LibraryItem
		if it.Image, err = scanImage(rows, &it.How, &it.PriceCents, &it.AcquiredAt); err != nil {
			return nil, fmt.Errorf("library: %w", err)
		}
		it.AcquiredAt = it.AcquiredAt.UTC()
		items = append(items, it)
	}
	return items, rows.Err()
}

// Rate records a user's rating of an image in their library, replacing an
// earlier one, and moves the image's aggregate by the difference in the
// same transaction.
func (db *DB) Rate(ctx context.Context, userID int64, imageID string, rating int) (store.RatingSummary, error) {
	var sum store.RatingSummary
	if rating < store.MinRating || rating > store.MaxRating {
		return sum, store.Invalid("rating", "rating must be a whole number from 0 to 5")
	}
	err := db.inTx(ctx, func(tx *Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		sum, err = rateTx(ctx, tx, userID, imageID, rating)
		return err
	})
	return sum, err
}

// rateTx rates inside a transaction that holds the rater's lock, so the
// rating read here is the one replaced.
func rateTx(ctx context.Context, tx *Tx, userID int64, imageID string, rating int) (store.RatingSummary, error) {
	var sum store.RatingSummary
	if rating < store.MinRating || rating > store.MaxRating {
		return sum, store.Invalid("rating", "rating must be a whole number from 0 to 5")
	}
	img, err := findImage(ctx, tx, imageID)
	if err != nil {
		return sum, err
	}
	owned, err := ownsTx(ctx, tx, userID, img.ID)
	if err != nil {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	if !owned {
		verb := "Import"
		if !img.Free() {
			verb = "Buy"
		}
		return sum, store.Errorf(store.EFORBIDDEN, "Only people who use an image can rate it: %s %s first, then rate it.", verb, img.Alias)
	}
	var old int64
	err = tx.QueryRow(ctx, `SELECT rating FROM ratings WHERE user_id = $1 AND image_id = $2`, userID, img.ID).Scan(&old)
	switch {
	case err == nil:
		_, err = tx.Exec(ctx, `UPDATE ratings SET rating = $1, updated_at = $2 WHERE user_id = $3 AND image_id = $4`,
			rating, tx.now, userID, img.ID)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE images SET rating_sum = rating_sum + $1 WHERE id = $2`, int64(rating)-old, img.ID)
		}
	case noRows(err):
		_, err = tx.Exec(ctx, `INSERT INTO ratings (user_id, image_id, rating, updated_at) VALUES ($1, $2, $3, $4)`,
			userID, img.ID, rating, tx.now)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE images SET rating_sum = rating_sum + $1, rating_count = rating_count + 1 WHERE id = $2`,
				rating, img.ID)
		}
	}
	if err != nil {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	sum.Rating = rating
	if err := tx.QueryRow(ctx, `SELECT rating_sum, rating_count FROM images WHERE id = $1`, img.ID).
		Scan(&sum.RatingSum, &sum.RatingCount); err != nil {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	return sum, nil
}

// UserRating returns a user's rating of an image, and false when there is none.
func (db *DB) UserRating(ctx context.Context, userID int64, imageID string) (int, bool, error) {
	var r int
	err := db.pool.QueryRow(ctx, `SELECT rating FROM ratings WHERE user_id = $1 AND image_id = $2`, userID, imageID).Scan(&r)
	if noRows(err) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("user rating: %w", err)
	}
	return r, true, nil
}

// Histogram counts an image's ratings by value.
func (db *DB) Histogram(ctx context.Context, imageID string) ([store.MaxRating + 1]int64, error) {
	rows, err := db.pool.Query(ctx, viewHistogramSQL, imageID)
	if err != nil {
		return [store.MaxRating + 1]int64{}, fmt.Errorf("histogram %s: %w", imageID, err)
	}
	return collectHistogram(rows)
}

// collectHistogram reads (rating, count) rows into a histogram and
// closes rows.
func collectHistogram(rows pgx.Rows) ([store.MaxRating + 1]int64, error) {
	var h [store.MaxRating + 1]int64
	defer rows.Close()
	for rows.Next() {
		var r int
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return h, err
		}
		if r >= store.MinRating && r <= store.MaxRating {
			h[r] = n
		}
	}
	return h, rows.Err()
}

// Balance returns a user's balance in cents.
func (db *DB) Balance(ctx context.Context, userID int64) (int64, error) {
	var c int64
	err := db.pool.QueryRow(ctx, `SELECT balance_cents FROM wallets WHERE user_id = $1`, userID).Scan(&c)
	if noRows(err) {
		return 0, store.Errorf(store.ENOTFOUND, "No such wallet.")
	} else if err != nil {
		return 0, fmt.Errorf("balance: %w", err)
	}
	return c, nil
}

// Credit adds funds to a user's wallet and records it in the ledger, and
// returns the new balance.
func (db *DB) Credit(ctx context.Context, userID, cents int64, memo string) (int64, error) {
	if cents <= 0 || cents > store.MaxCreditCents {
		return 0, store.Invalid("amount", "The amount must be more than $0 and at most $%s.", store.FormatUSD(store.MaxCreditCents))
	}
	var bal int64
	err := db.inTx(ctx, func(tx *Tx) error {
		var err error
		bal, err = creditTx(ctx, tx, userID, cents, memo)
		return err
	})
	return bal, err
}

func creditTx(ctx context.Context, tx *Tx, userID, cents int64, memo string) (int64, error) {
	memo = strings.TrimSpace(memo)
	var bal int64
	err := tx.QueryRow(ctx, `UPDATE wallets SET balance_cents = balance_cents + $1 WHERE user_id = $2 RETURNING balance_cents`,
		cents, userID).Scan(&bal)
	if noRows(err) {
		return 0, store.Errorf(store.ENOTFOUND, "No such wallet.")
	} else if err != nil {
		return 0, fmt.Errorf("credit: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger (user_id, kind, amount_cents, memo, created_at)
		VALUES ($1, 'credit', $2, $3, $4)`, userID, cents, memo, tx.now); err != nil {
		return 0, fmt.Errorf("credit: %w", err)
	}
	return bal, nil
}

func balanceTx(ctx context.Context, tx *Tx, userID int64) (int64, error) {
	var c int64
	if err := tx.QueryRow(ctx, `SELECT balance_cents FROM wallets WHERE user_id = $1`, userID).Scan(&c); err != nil {
		return 0, fmt.Errorf("balance: %w", err)
	}
	return c, nil
}

// Ledger returns a user's ledger, newest first.
func (db *DB) Ledger(ctx context.Context, userID int64) ([]store.LedgerEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT l.id, l.kind, l.amount_cents, COALESCE(l.image_id, ''),
		COALESCE(i.alias, ''), COALESCE(i.architecture, ''), l.memo, l.created_at
		FROM ledger l LEFT JOIN images i ON i.id = l.image_id WHERE l.user_id = $1 ORDER BY l.id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var e store.LedgerEntry
		if err := rows.Scan(&e.ID, &e.Kind, &e.AmountCents, &e.ImageID, &e.ImageAlias, &e.ImageArch, &e.Memo, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
