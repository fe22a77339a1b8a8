package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/berth/berth/store"
	"golang.org/x/crypto/bcrypt"
)

// Demo account settings.
const (
	DemoEmail        = "demo@berth.example"
	demoBalanceCents = 50_000 // $500
	demoRaters       = 48
)

// SeedDemo makes a fresh install look lived-in: a funded demo account to
// log in with, and demo people who imported or bought images and rated
// them. Everything goes through the same rules as real use (import, paid
// purchases, ratings of owned images only), in one transaction, from a
// fixed random seed so every demo looks the same. It does nothing when the
// demo account exists already.
func (db *DB) SeedDemo(ctx context.Context) (store.DemoResult, error) {
	res := store.DemoResult{Email: DemoEmail}
	if _, err := db.FindUserByEmail(ctx, DemoEmail); err == nil {
		return res, nil
	} else if !store.IsNotFound(err) {
		return res, err
	}
	res.Password = store.NewSecret(10)
	demoHash, err := bcrypt.GenerateFromPassword([]byte(res.Password), db.passwordCost())
	if err != nil {
		return res, err
	}
	// The raters cannot log in: their password is random and thrown away.
	raterHash, err := bcrypt.GenerateFromPassword([]byte(store.NewSecret(16)), db.passwordCost())
	if err != nil {
		return res, err
	}
	imgs, err := queryImages(ctx, db.pool, `SELECT /* full scan: once, when the demo is seeded */ `+imageColumns+` FROM images ORDER BY id`)
	if err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}

	rated := map[string]bool{}
	err = db.inTx(ctx, func(tx *Tx) error {
		clear(rated)
		res.Ratings = 0
		demo, err := createUserTx(ctx, tx, DemoEmail, demoHash)
		if err != nil {
			return err
		}
		if res.BalanceCents, err = creditTx(ctx, tx, demo.ID, demoBalanceCents, "Demo funds"); err != nil {
			return err
		}
		raters := make([]int64, demoRaters)
		for i := range raters {
			u, err := createUserTx(ctx, tx, fmt.Sprintf("rater%02d@demo.berth.example", i+1), raterHash)
			if err != nil {
				return err
			}
			if _, err := creditTx(ctx, tx, u.ID, 20_000, "Demo funds"); err != nil {
				return err
			}
			raters[i] = u.ID
		}
		rng := rand.New(rand.NewPCG(20231109, 84))
		for _, img := range imgs {
			// Popular, standard images draw more users; each image has its own
			// quality around which its ratings scatter.
			users := rng.IntN(demoRaters / 3)
			if img.Prespawn {
				users += demoRaters / 3
			}
			if img.Variant == store.DefaultVariant {
				users += rng.IntN(demoRaters / 4)
			}
			quality := 3.2 + rng.Float64()*1.6
			for _, k := range rng.Perm(demoRaters)[:min(users, demoRaters)] {
				uid := raters[k]
				if img.Free() {
					err = importTx(ctx, tx, uid, img.ID)
				} else {
					_, err = purchaseTx(ctx, tx, uid, img.ID, nil)
				}
				if store.ErrorCode(err) == store.EFUNDS {
					continue // this rater spent their demo money already
				} else if err != nil {
					return err
				}
				stars := int(math.Round(quality + rng.NormFloat64()*0.9))
				if _, err := rateTx(ctx, tx, uid, img.ID, max(store.MinRating, min(store.MaxRating, stars))); err != nil {
					return err
				}
				res.Ratings++
				rated[img.ID] = true
			}
		}
		return nil
	})
	if err != nil {
		return store.DemoResult{Email: DemoEmail}, err
	}
	res.Created, res.Raters, res.Images = true, demoRaters, len(rated)
	return res, nil
}
