package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

var libraryCases = []Case{
	{"ImportAndPurchase", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		u := MustUser(t, s, "ada@example.com", 2000) // $20
		if err := s.Import(ctx, u.ID, UbuntuID); err != nil {
			t.Fatal(err)
		}
		if err := s.Import(ctx, u.ID, UbuntuID); err != nil {
			t.Errorf("importing again = %v", err)
		}
		if err := s.Import(ctx, u.ID, PostgresID); !errors.Is(err, store.ErrNeedsPurchase) || store.ErrorCode(err) != store.EINVALID {
			t.Errorf("importing a paid image = %v", err)
		}
		if _, err := s.Purchase(ctx, u.ID, DebianID, ""); !errors.Is(err, store.ErrNeedsImport) {
			t.Errorf("buying a free image = %v", err)
		}
		if _, err := s.Purchase(ctx, u.ID, "0123456789abcdef01234567", ""); !store.IsNotFound(err) {
			t.Errorf("buying nothing = %v", err)
		}
		res, err := s.Purchase(ctx, u.ID, PostgresID, "")
		if err != nil || res.PricePaidCents != 1500 || res.RemainingCents != 500 || res.AlreadyOwned {
			t.Fatalf("purchase = %+v, %v", res, err)
		}
		res, err = s.Purchase(ctx, u.ID, PostgresID, "")
		if err != nil || res.PricePaidCents != 0 || res.RemainingCents != 500 || !res.AlreadyOwned {
			t.Errorf("buying again = %+v, %v", res, err)
		}
		if _, err := s.Purchase(ctx, u.ID, GPUID, ""); store.ErrorCode(err) != store.EFUNDS {
			t.Errorf("buying without the money = %v", err)
		}
		if bal, _ := s.Balance(ctx, u.ID); bal != 500 {
			t.Errorf("balance %d after a refused purchase", bal)
		}
		if owns, _ := s.Owns(ctx, u.ID, GPUID); owns {
			t.Error("owns what it could not pay for")
		}
		if owns, _ := s.Owns(ctx, u.ID, PostgresID); !owns {
			t.Error("does not own what it bought")
		}
		lib, err := s.Library(ctx, u.ID)
		if err != nil || len(lib) != 2 {
			t.Fatalf("library %+v, %v", lib, err)
		}
		byID := map[string]store.LibraryItem{}
		for _, it := range lib {
			byID[it.Image.ID] = it
		}
		if it := byID[PostgresID]; it.How != store.AcquiredPurchase || it.PriceCents != 1500 || it.AcquiredAt.IsZero() {
			t.Errorf("bought item %+v", it)
		}
		if it := byID[UbuntuID]; it.How != store.AcquiredImport || it.PriceCents != 0 || it.Image.Docs == "" {
			t.Errorf("imported item %+v", it)
		}
		ledger, err := s.Ledger(ctx, u.ID)
		if err != nil || len(ledger) != 2 {
			t.Fatalf("ledger %+v, %v", ledger, err)
		}
		if e := ledger[0]; e.Kind != "purchase" || e.AmountCents != -1500 || e.ImageID != PostgresID ||
			e.ImageAlias != "debian/13-postgres" || e.ImageArch != "amd64" {
			t.Errorf("newest ledger row %+v", e)
		}
		if e := ledger[1]; e.Kind != "credit" || e.AmountCents != 2000 || e.Memo != "test funds" {
			t.Errorf("oldest ledger row %+v", e)
		}
		if _, err := s.Credit(ctx, u.ID, 0, ""); store.ErrorParam(err) != "amount" {
			t.Errorf("zero credit = %v", err)
		}
		if _, err := s.Credit(ctx, u.ID+1000, 100, ""); !store.IsNotFound(err) {
			t.Errorf("credit nobody = %v", err)
		}
		if bal, err := s.Credit(ctx, u.ID, 250, " top-up "); bal != 750 || err != nil {
			t.Errorf("credit = %d, %v", bal, err)
		}
		MustCheck(t, s)
	}},
	{"PurchaseIdempotencyKey", func(t *testing.T, open Opener) {
		clock := NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		s := open(t, clock.Now)
		MustImport(t, s, Fixture())
		u := MustUser(t, s, "ada@example.com", 5000)
		first, err := s.Purchase(ctx, u.ID, PostgresID, "key-1")
		if err != nil || first.PricePaidCents != 1500 {
			t.Fatalf("%+v %v", first, err)
		}
		again, err := s.Purchase(ctx, u.ID, PostgresID, "key-1")
		if err != nil || !again.IdempotentReplay || again.PricePaidCents != 1500 || again.RemainingCents != 3500 {
			t.Errorf("replay = %+v, %v", again, err)
		}
		if _, err := s.Purchase(ctx, u.ID, GPUID, "key-1"); store.ErrorCode(err) != store.ECONFLICT || store.ErrorParam(err) != "Idempotency-Key" {
			t.Errorf("key reused for another image = %v", err)
		}
		if _, err := s.Purchase(ctx, u.ID, GPUID, string(make([]byte, 256))); store.ErrorParam(err) != "Idempotency-Key" {
			t.Errorf("long key = %v", err)
		}
		// Another person's key of the same name is theirs.
		bob := MustUser(t, s, "bob@example.com", 5000)
		if res, err := s.Purchase(ctx, bob.ID, GPUID, "key-1"); err != nil || res.PricePaidCents != 2500 || res.IdempotentReplay {
			t.Errorf("bob's key-1 = %+v, %v", res, err)
		}
		// After a day the key is forgotten: the same request now finds
		// the image owned.
		clock.Advance(25 * time.Hour)
		late, err := s.Purchase(ctx, u.ID, PostgresID, "key-1")
		if err != nil || late.IdempotentReplay || !late.AlreadyOwned || late.PricePaidCents != 0 {
			t.Errorf("after a day = %+v, %v", late, err)
		}
		if bal, _ := s.Balance(ctx, u.ID); bal != 3500 {
			t.Errorf("balance %d", bal)
		}
		MustCheck(t, s)
	}},
	{"PurchaseAtPrice", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		u := MustUser(t, s, "ada@example.com", 5000)
		_, err := s.PurchaseAtPrice(ctx, u.ID, PostgresID, "", 1000)
		var changed *store.PriceChangedError
		if store.ErrorCode(err) != store.ECONFLICT || store.ErrorParam(err) != "expected_price" || !errors.As(err, &changed) ||
			changed.PriceCents != 1500 || changed.ExpectedCents != 1000 {
			t.Fatalf("buying at a price no longer asked = %v", err)
		}
		if bal, _ := s.Balance(ctx, u.ID); bal != 5000 {
			t.Errorf("balance %d after a refused price", bal)
		}
		res, err := s.PurchaseAtPrice(ctx, u.ID, PostgresID, "k", 1500)
		if err != nil || res.PricePaidCents != 1500 || res.RemainingCents != 3500 {
			t.Fatalf("buying at the price = %+v, %v", res, err)
		}
		// A replay answers as before whatever the price; owned costs nothing.
		if res, err := s.PurchaseAtPrice(ctx, u.ID, PostgresID, "k", 999); err != nil || !res.IdempotentReplay {
			t.Errorf("replay = %+v, %v", res, err)
		}
		if res, err := s.PurchaseAtPrice(ctx, u.ID, PostgresID, "", 999); err != nil || !res.AlreadyOwned || res.PricePaidCents != 0 {
			t.Errorf("owned = %+v, %v", res, err)
		}
		// A re-priced image: the old confirmation charges nothing.
		f := Fixture()
		f.Images[6].Price = 30 // fedora/42-gpu, was $25
		MustImport(t, s, f)
		if _, err := s.PurchaseAtPrice(ctx, u.ID, GPUID, "", 2500); !errors.As(err, &changed) || changed.PriceCents != 3000 {
			t.Errorf("buying at the old price = %v", err)
		}
		if res, err := s.PurchaseAtPrice(ctx, u.ID, GPUID, "", 3000); err != nil || res.PricePaidCents != 3000 {
			t.Errorf("buying at the new price = %+v, %v", res, err)
		}
		MustCheck(t, s)
	}},
	{"ConcurrentPurchases", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		u := MustUser(t, s, "ada@example.com", 3000) // $30: $15 + $4.99, or $25 + $4.99, never all three
		images := []string{PostgresID, GPUID, LampID}
		type outcome struct {
			image string
			res   store.PurchaseResult
			err   error
		}
		results := make(chan outcome, 32)
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := images[i%len(images)]
				res, err := s.Purchase(ctx, u.ID, id, "")
				results <- outcome{id, res, err}
			}()
		}
		wg.Wait()
		close(results)
		charged := map[string]int64{}
		for o := range results {
			switch {
			case o.err == nil && o.res.PricePaidCents > 0:
				if charged[o.image] != 0 {
					t.Errorf("%s charged twice", o.image)
				}
				charged[o.image] = o.res.PricePaidCents
			case o.err == nil: // already owned: free
			case store.ErrorCode(o.err) == store.EFUNDS:
			default:
				t.Errorf("purchase of %s: %v", o.image, o.err)
			}
		}
		var spent int64
		for _, c := range charged {
			spent += c
		}
		if bal, _ := s.Balance(ctx, u.ID); bal != 3000-spent || len(charged) != 2 {
			t.Errorf("balance %d after spending %d of 3000 on %v", bal, spent, charged)
		}
		ledger, _ := s.Ledger(ctx, u.ID)
		purchases := 0
		for _, e := range ledger {
			if e.Kind == "purchase" {
				purchases++
				if charged[e.ImageID] != -e.AmountCents {
					t.Errorf("ledger row %+v has no matching successful answer", e)
				}
			}
		}
		if purchases != len(charged) {
			t.Errorf("%d purchase rows for %d charged answers", purchases, len(charged))
		}
		MustCheck(t, s)
	}},
	{"ConcurrentPurchasesWithOneKey", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		u := MustUser(t, s, "ada@example.com", 10000)
		var wg sync.WaitGroup
		var mu sync.Mutex
		paid, replays := 0, 0
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.Purchase(ctx, u.ID, GPUID, "retry-me")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("purchase: %v", err)
				case res.IdempotentReplay && res.PricePaidCents == 2500:
					replays++
				case !res.IdempotentReplay && res.PricePaidCents == 2500:
					paid++
				default:
					t.Errorf("answer %+v", res)
				}
			}()
		}
		wg.Wait()
		if bal, _ := s.Balance(ctx, u.ID); paid != 1 || replays != 11 || bal != 7500 {
			t.Errorf("%d paid, %d replays, balance %d", paid, replays, bal)
		}
		MustCheck(t, s)
	}},
	{"Ratings", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		ada, bob := MustUser(t, s, "ada@example.com", 5000), MustUser(t, s, "bob@example.com", 0)
		if _, err := s.Rate(ctx, ada.ID, UbuntuID, 4); store.ErrorCode(err) != store.EFORBIDDEN {
			t.Errorf("rating an image not owned = %v", err)
		}
		if _, err := s.Rate(ctx, ada.ID, PostgresID, 4); store.ErrorCode(err) != store.EFORBIDDEN {
			t.Errorf("rating a paid image not bought = %v", err)
		}
		s.Import(ctx, ada.ID, UbuntuID)
		for _, bad := range []int{-1, 6} {
			if _, err := s.Rate(ctx, ada.ID, UbuntuID, bad); store.ErrorParam(err) != "rating" {
				t.Errorf("rating %d = %v", bad, err)
			}
		}
		if _, err := s.Rate(ctx, ada.ID, "0123456789abcdef01234567", 3); !store.IsNotFound(err) {
			t.Errorf("rating nothing = %v", err)
		}
		sum, err := s.Rate(ctx, ada.ID, UbuntuID, 4)
		if err != nil || sum.Rating != 4 || sum.RatingSum != 4 || sum.RatingCount != 1 {
			t.Errorf("first rating = %+v, %v", sum, err)
		}
		sum, err = s.Rate(ctx, ada.ID, UbuntuID, 2)
		if err != nil || sum.RatingSum != 2 || sum.RatingCount != 1 {
			t.Errorf("re-rating = %+v, %v", sum, err)
		}
		s.Import(ctx, bob.ID, UbuntuID)
		if sum, _ = s.Rate(ctx, bob.ID, UbuntuID, 0); sum.RatingSum != 2 || sum.RatingCount != 2 {
			t.Errorf("a zero rating = %+v", sum)
		}
		if _, err := s.Purchase(ctx, ada.ID, PostgresID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Rate(ctx, ada.ID, PostgresID, 5); err != nil {
			t.Errorf("rating what was bought = %v", err)
		}
		if r, ok, err := s.UserRating(ctx, ada.ID, UbuntuID); r != 2 || !ok || err != nil {
			t.Errorf("UserRating = %d %v %v", r, ok, err)
		}
		if _, ok, _ := s.UserRating(ctx, bob.ID, PostgresID); ok {
			t.Error("bob has a rating he never gave")
		}
		h, err := s.Histogram(ctx, UbuntuID)
		if err != nil || h != [store.MaxRating + 1]int64{1, 0, 1, 0, 0, 0} {
			t.Errorf("histogram %v, %v", h, err)
		}
		img, _ := s.FindImage(ctx, UbuntuID)
		if img.RatingSum != 2 || img.RatingCount != 2 || img.AverageRating() != 1 {
			t.Errorf("image aggregate %d/%d", img.RatingSum, img.RatingCount)
		}
		MustCheck(t, s)
	}},
	{"ConcurrentRatings", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		var users []*store.User
		for _, e := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com"} {
			u := MustUser(t, s, e, 0)
			if err := s.Import(ctx, u.ID, DebianID); err != nil {
				t.Fatal(err)
			}
			users = append(users, u)
		}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Rate(ctx, users[i%len(users)].ID, DebianID, i%6); err != nil {
					t.Errorf("rate: %v", err)
				}
			}()
		}
		wg.Wait()
		img, _ := s.FindImage(ctx, DebianID)
		if img.RatingCount != 4 {
			t.Errorf("%d ratings from 4 people", img.RatingCount)
		}
		MustCheck(t, s)
	}},
	{"DemoAndCheck", func(t *testing.T, open Opener) {
		s := open(t, nil)
		if _, err := s.LoadDefaultCatalog(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := s.SeedDemo(ctx)
		if err != nil || !res.Created || res.Ratings == 0 || res.Password == "" || res.BalanceCents != 50000 {
			t.Fatalf("demo = %+v, %v", res, err)
		}
		if _, err := s.Authenticate(ctx, res.Email, res.Password); err != nil {
			t.Errorf("demo log-in: %v", err)
		}
		if again, err := s.SeedDemo(ctx); err != nil || again.Created {
			t.Errorf("second demo = %+v, %v", again, err)
		}
		MustCheck(t, s)
		if err := s.Ping(ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
	}},
}
