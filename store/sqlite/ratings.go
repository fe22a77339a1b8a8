package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth/berth/store"
)

// Rate records a user's rating of an image in their library, replacing an
// earlier one, and moves the image's aggregate by the difference in the same
// transaction, so the aggregate always equals the rows.
func (db *DB) Rate(ctx context.Context, userID int64, imageID string, rating int) (store.RatingSummary, error) {
	var sum store.RatingSummary
	if rating < store.MinRating || rating > store.MaxRating {
		return sum, store.Invalid("rating", "rating must be a whole number from 0 to 5")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return sum, err
	}
	defer tx.Rollback()
	if sum, err = rateTx(ctx, tx, userID, imageID, rating); err != nil {
		return sum, err
	}
	return sum, tx.Commit()
}

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
	var old sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT rating FROM ratings WHERE user_id = ? AND image_id = ?`, userID, img.ID).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	now := tx.now.Format(time.RFC3339)
	if old.Valid {
		_, err = tx.ExecContext(ctx, `UPDATE ratings SET rating = ?, updated_at = ? WHERE user_id = ? AND image_id = ?`,
			rating, now, userID, img.ID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE images SET rating_sum = rating_sum + ? WHERE id = ?`, int64(rating)-old.Int64, img.ID)
		}
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO ratings (user_id, image_id, rating, updated_at) VALUES (?, ?, ?, ?)`,
			userID, img.ID, rating, now)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE images SET rating_sum = rating_sum + ?, rating_count = rating_count + 1 WHERE id = ?`,
				rating, img.ID)
		}
	}
	if err != nil {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	sum.Rating = rating
	if err := tx.QueryRowContext(ctx, `SELECT rating_sum, rating_count FROM images WHERE id = ?`, img.ID).
		Scan(&sum.RatingSum, &sum.RatingCount); err != nil {
		return sum, fmt.Errorf("rate %s: %w", img.ID, err)
	}
	return sum, nil
}

// UserRating returns a user's rating of an image, and false when there is none.
func (db *DB) UserRating(ctx context.Context, userID int64, imageID string) (int, bool, error) {
	var r int
	err := db.read.QueryRowContext(ctx, `SELECT rating FROM ratings WHERE user_id = ? AND image_id = ?`, userID, imageID).Scan(&r)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("user rating: %w", err)
	}
	return r, true, nil
}

// Histogram counts an image's ratings by value: index i holds how many
// people gave i stars.
func (db *DB) Histogram(ctx context.Context, imageID string) ([store.MaxRating + 1]int64, error) {
	var h [store.MaxRating + 1]int64
	rows, err := db.read.QueryContext(ctx, `SELECT rating, COUNT(*) FROM ratings WHERE image_id = ? GROUP BY rating`, imageID)
	if err != nil {
		return h, fmt.Errorf("histogram %s: %w", imageID, err)
	}
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
