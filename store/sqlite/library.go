package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/berth/berth/store"
)

func ownsTx(ctx context.Context, tx *Tx, userID int64, imageID string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM library WHERE user_id = ? AND image_id = ?`, userID, imageID).Scan(&n)
	return n > 0, err
}

// Import adds a free image to a user's library. Importing an image already
// there changes nothing and succeeds.
func (db *DB) Import(ctx context.Context, userID int64, imageID string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := importTx(ctx, tx, userID, imageID); err != nil {
		return err
	}
	return tx.Commit()
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO library (user_id, image_id, how, price_cents, acquired_at)
		VALUES (?, ?, 'import', 0, ?) ON CONFLICT DO NOTHING`, userID, img.ID, tx.now.Format(time.RFC3339)); err != nil {
		return fmt.Errorf("import %s: %w", img.ID, err)
	}
	return nil
}

// Purchase buys a paid image from the user's wallet, all in one immediate
// transaction: the debit only happens when the balance covers the price,
// and the ledger row and the library row land with it or not at all. An
// image already owned costs nothing. With an idempotency key, a retried
// request returns the first result instead of acting again.
func (db *DB) Purchase(ctx context.Context, userID int64, imageID, idemKey string) (store.PurchaseResult, error) {
	return db.purchase(ctx, userID, imageID, idemKey, nil)
}

// PurchaseAtPrice is Purchase that charges only the price the buyer
// confirmed: the price is compared inside the purchase's transaction, so a
// catalog import between the confirmation and the debit cannot slip a new
// price in. A replayed Idempotency-Key answers as before, whatever the
// price: the purchase it names is done.
func (db *DB) PurchaseAtPrice(ctx context.Context, userID int64, imageID, idemKey string, expectedCents int64) (store.PurchaseResult, error) {
	return db.purchase(ctx, userID, imageID, idemKey, &expectedCents)
}

func (db *DB) purchase(ctx context.Context, userID int64, imageID, idemKey string, expectedCents *int64) (store.PurchaseResult, error) {
	var res store.PurchaseResult
	if len(idemKey) > 255 {
		return res, store.Invalid("Idempotency-Key", "An Idempotency-Key must be at most 255 characters.")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()

	if idemKey != "" {
		// Keys are kept for a day, which covers any sensible retry; older
		// ones are forgotten before the lookup, so they never answer.
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`,
			tx.now.Add(-24*time.Hour).Format(time.RFC3339)); err != nil {
			return res, fmt.Errorf("purchase: sweep idempotency keys: %w", err)
		}
		var reqHash, saved string
		err := tx.QueryRowContext(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE user_id = ? AND key = ?`,
			userID, idemKey).Scan(&reqHash, &saved)
		switch {
		case err == nil && reqHash != store.HashSecret("purchase "+imageID):
			return res, &store.Error{Code: store.ECONFLICT, Param: "Idempotency-Key",
				Message: "This Idempotency-Key was already used for a different request; use a new key."}
		case err == nil:
			if err := json.Unmarshal([]byte(saved), &res); err != nil {
				return res, fmt.Errorf("purchase %s: saved response: %w", imageID, err)
			}
			res.IdempotentReplay = true
			return res, nil
		case !errors.Is(err, sql.ErrNoRows):
			return res, fmt.Errorf("purchase %s: idempotency key: %w", imageID, err)
		}
	}

	res, err = purchaseTx(ctx, tx, userID, imageID, expectedCents)
	if err != nil {
		return res, err
	}
	if idemKey != "" {
		saved, _ := json.Marshal(res)
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at)
			VALUES (?, ?, ?, ?, ?)`, userID, idemKey, store.HashSecret("purchase "+imageID), string(saved), tx.now.Format(time.RFC3339)); err != nil {
			return res, fmt.Errorf("purchase %s: idempotency key: %w", imageID, err)
		}
	}
	return res, tx.Commit()
}

// purchaseTx is the purchase itself: the checks, the conditional debit,
// the ledger row and the library row, inside the caller's transaction.
func purchaseTx(ctx context.Context, tx *Tx, userID int64, imageID string, expectedCents *int64) (store.PurchaseResult, error) {
	var res store.PurchaseResult
	img, err := findImage(ctx, tx, imageID)
	if err != nil {
		return res, err
	}
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
		debit, err := tx.ExecContext(ctx, `UPDATE wallets SET balance_cents = balance_cents - ?
			WHERE user_id = ? AND balance_cents >= ?`, img.PriceCents, userID, img.PriceCents)
		if err != nil {
			return res, fmt.Errorf("purchase %s: debit: %w", img.ID, err)
		}
		if n, _ := debit.RowsAffected(); n == 0 {
			bal, err := balanceTx(ctx, tx, userID)
			if err != nil {
				return res, err
			}
			return res, store.Errorf(store.EFUNDS, "Not enough funds: %s costs $%s and your balance is $%s. Add funds (redeem a voucher on your wallet page), then buy again.",
				img.Alias, store.FormatUSD(img.PriceCents), store.FormatUSD(bal))
		}
		now := tx.now.Format(time.RFC3339)
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger (user_id, kind, amount_cents, image_id, memo, created_at)
			VALUES (?, 'purchase', ?, ?, ?, ?)`, userID, -img.PriceCents, img.ID, "Bought "+img.Alias+" ("+img.Architecture+")", now); err != nil {
			return res, fmt.Errorf("purchase %s: ledger: %w", img.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO library (user_id, image_id, how, price_cents, acquired_at)
			VALUES (?, ?, 'purchase', ?, ?)`, userID, img.ID, img.PriceCents, now); err != nil {
			return res, fmt.Errorf("purchase %s: library: %w", img.ID, err)
		}
		res.PricePaidCents = img.PriceCents
	}
	res.RemainingCents, err = balanceTx(ctx, tx, userID)
	return res, err
}

// Owns reports whether an image is in the user's library.
func (db *DB) Owns(ctx context.Context, userID int64, imageID string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM library WHERE user_id = ? AND image_id = ?`, userID, imageID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("owns %s: %w", imageID, err)
	}
	return n > 0, nil
}

// Library returns the images a user may use, most recently acquired first.
func (db *DB) Library(ctx context.Context, userID int64) ([]store.LibraryItem, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+imageColumns+`, l.how, l.paid, l.acquired_at, r.rating
		FROM images JOIN (SELECT image_id, how, price_cents AS paid, acquired_at FROM library WHERE user_id = ?) l
		ON l.image_id = images.id LEFT JOIN ratings r ON r.user_id = ? AND r.image_id = images.id
		ORDER BY l.acquired_at DESC, image_name`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	defer rows.Close()
	items := []store.LibraryItem{}
	for rows.Next() {
		var it store.LibraryItem
		var acquired string
		var rating sql.NullInt64
		if it.Image, err = scanImage(rows, &it.How, &it.PriceCents, &acquired, &rating); err != nil {
			return nil, fmt.Errorf("library: %w", err)
		}
		it.Rating, it.Rated = int(rating.Int64), rating.Valid
		it.AcquiredAt, _ = time.Parse(time.RFC3339, acquired)
		items = append(items, it)
	}
	return items, rows.Err()
}
