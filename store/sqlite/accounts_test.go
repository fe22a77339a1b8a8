package sqlite

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
	"golang.org/x/crypto/bcrypt"
)

func mustOpenCatalog(t testing.TB) *DB {
	t.Helper()
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	mustImport(t, db, fixture())
	return db
}

func mustUser(t testing.TB, db *DB, email string, cents int64) *store.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), email, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if cents > 0 {
		if _, err := db.Credit(context.Background(), u.ID, cents, "test funds"); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func mustCheck(t testing.TB, db *DB) {
	t.Helper()
	problems, err := db.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error("invariant broken: " + p)
	}
}

var (
	freeID     = store.ImageID("ubuntu/24.04", "amd64")
	postgresID = store.ImageID("debian/13-postgres", "amd64") // $15
	gpuID      = store.ImageID("fedora/42-gpu", "amd64")      // $25
	lampID     = store.ImageID("rockylinux/9-lamp", "arm64")  // $4.99
)

func TestUsers(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "  Ada@Example.COM ", 0)
	if u.Email != "ada@example.com" {
		t.Errorf("email stored as %q", u.Email)
	}
	if _, err := db.CreateUser(ctx, "ADA@example.com", "another password"); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("duplicate email = %v", err)
	}
	for _, tt := range []struct{ email, password, param string }{
		{"", "long enough", "email"},
		{"not-an-email", "long enough", "email"},
		{"a@b", "long enough", "email"},
		{"Ada <ada@x.org>", "long enough", "email"},
		{"bob@example.com", "short", "password"},
		{"bob@example.com", string(make([]byte, 73)), "password"},
	} {
		if _, err := db.CreateUser(ctx, tt.email, tt.password); store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != tt.param {
			t.Errorf("CreateUser(%q, %q) = %v, want invalid %s", tt.email, tt.password, err, tt.param)
		}
	}
	if got, err := db.Authenticate(ctx, "ADA@example.com ", "correct horse battery"); err != nil || got.ID != u.ID {
		t.Errorf("Authenticate = %v, %v", got, err)
	}
	for _, tt := range [][2]string{{"ada@example.com", "wrong password"}, {"nobody@example.com", "correct horse battery"}} {
		if _, err := db.Authenticate(ctx, tt[0], tt[1]); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("Authenticate(%q, %q) = %v", tt[0], tt[1], err)
		}
	}
	if bal, err := db.Balance(ctx, u.ID); err != nil || bal != 0 {
		t.Errorf("new wallet balance = %d, %v", bal, err)
	}
}

func TestTokens(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	ada, bob := mustUser(t, db, "ada@example.com", 0), mustUser(t, db, "bob@example.com", 0)
	secret, tok, err := db.CreateToken(ctx, ada.ID, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := db.UserByToken(ctx, secret); err != nil || u.ID != ada.ID {
		t.Fatalf("UserByToken = %v, %v", u, err)
	}
	var stored int
	db.read.QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE hash = ? OR hint = ?`, secret, secret).Scan(&stored)
	if stored != 0 {
		t.Error("the token secret is stored in clear")
	}
	if err := db.RevokeToken(ctx, bob.ID, tok.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("bob revoking ada's token = %v", err)
	}
	if _, err := db.UserByToken(ctx, secret); err != nil {
		t.Error("token died after a refused revoke")
	}
	if err := db.RevokeToken(ctx, ada.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{secret, "", "berth_nope", "Bearer " + secret} {
		if _, err := db.UserByToken(ctx, bad); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("UserByToken(%q) = %v", bad, err)
		}
	}
	list, _ := db.Tokens(ctx, ada.ID)
	if len(list) != 1 || list[0].RevokedAt == nil || list[0].Name != "laptop" {
		t.Errorf("tokens = %+v", list)
	}
}

func TestImportAndPurchase(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 2000) // $20

	if err := db.Import(ctx, u.ID, freeID); err != nil {
		t.Fatal(err)
	}
	if err := db.Import(ctx, u.ID, freeID); err != nil {
		t.Errorf("second import = %v, want success", err)
	}
	if err := db.Import(ctx, u.ID, postgresID); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("import of a paid image = %v", err)
	}
	if _, err := db.Purchase(ctx, u.ID, freeID, ""); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("purchase of a free image = %v", err)
	}
	if _, err := db.Purchase(ctx, u.ID, "ffffffffffffffffffffffff", ""); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("purchase of an unknown image = %v", err)
	}
	res, err := db.Purchase(ctx, u.ID, postgresID, "")
	if err != nil || res.PricePaidCents != 1500 || res.RemainingCents != 500 || res.AlreadyOwned {
		t.Fatalf("purchase = %+v, %v", res, err)
	}
	res, err = db.Purchase(ctx, u.ID, postgresID, "")
	if err != nil || res.PricePaidCents != 0 || res.RemainingCents != 500 || !res.AlreadyOwned {
		t.Errorf("second purchase = %+v, %v", res, err)
	}
	_, err = db.Purchase(ctx, u.ID, gpuID, "")
	if store.ErrorCode(err) != store.EFUNDS {
		t.Errorf("purchase beyond the balance = %v", err)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 500 {
		t.Errorf("balance after a refused purchase = %d", bal)
	}
	lib, err := db.Library(ctx, u.ID)
	if err != nil || len(lib) != 2 {
		t.Fatalf("library = %v, %v", lib, err)
	}
	how := map[string]string{}
	for _, it := range lib {
		how[it.Image.ID] = fmt.Sprintf("%s %d", it.How, it.PriceCents)
	}
	if how[freeID] != "import 0" || how[postgresID] != "purchase 1500" {
		t.Errorf("library = %v", how)
	}
	ledger, _ := db.Ledger(ctx, u.ID)
	if len(ledger) != 2 || ledger[0].AmountCents != -1500 || ledger[0].ImageAlias != "debian/13-postgres" || ledger[1].AmountCents != 2000 {
		t.Errorf("ledger = %+v", ledger)
	}
	mustCheck(t, db)
}

func TestPurchaseIdempotencyKey(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 2000)
	first, err := db.Purchase(ctx, u.ID, lampID, "key-1")
	if err != nil || first.PricePaidCents != 499 {
		t.Fatalf("first = %+v, %v", first, err)
	}
	again, err := db.Purchase(ctx, u.ID, lampID, "key-1")
	if err != nil || !again.IdempotentReplay || again.PricePaidCents != 499 || again.RemainingCents != first.RemainingCents {
		t.Errorf("replay = %+v, %v; want the first answer again", again, err)
	}
	if _, err := db.Purchase(ctx, u.ID, postgresID, "key-1"); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("key reused for another image = %v", err)
	}
	if bal, _ := db.Balance(ctx, u.ID); bal != 2000-499 {
		t.Errorf("balance = %d, want one charge", bal)
	}
	mustCheck(t, db)
}

// TestConcurrentPurchases runs 32 buyers at once against one wallet that
// covers only some of their purchases: nothing overdraws, nothing is
// charged twice, and every success matches a ledger row.
func TestConcurrentPurchases(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 3000) // $30: covers $15 + $4.99, or $25 + $4.99, not all three
	images := []string{postgresID, gpuID, lampID}

	type outcome struct {
		image string
		res   store.PurchaseResult
		err   error
	}
	results := make(chan outcome, 32)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := images[i%len(images)]
			res, err := db.Purchase(ctx, u.ID, id, "")
			results <- outcome{id, res, err}
		}(i)
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
	bal, _ := db.Balance(ctx, u.ID)
	if bal < 0 || bal != 3000-spent {
		t.Errorf("balance %d after spending %d of 3000", bal, spent)
	}
	if len(charged) < 1 || spent > 3000 {
		t.Errorf("charged %v", charged)
	}
	ledger, _ := db.Ledger(ctx, u.ID)
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
	mustCheck(t, db)
}

func TestRatings(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	ada, bob := mustUser(t, db, "ada@example.com", 0), mustUser(t, db, "bob@example.com", 0)
	if _, err := db.Rate(ctx, ada.ID, freeID, 4); store.ErrorCode(err) != store.EFORBIDDEN {
		t.Errorf("rating an image not in the library = %v", err)
	}
	for _, u := range []*store.User{ada, bob} {
		if err := db.Import(ctx, u.ID, freeID); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []int{-1, 6} {
		if _, err := db.Rate(ctx, ada.ID, freeID, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("Rate(%d) = %v", bad, err)
		}
	}
	steps := []struct {
		user        *store.User
		rating      int
		sum, count  int64
		wantAverage float64
	}{
		{ada, 4, 4, 1, 4.0},
		{bob, 0, 4, 2, 2.0}, // 0 is a rating
		{ada, 5, 5, 2, 2.5}, // re-rating replaces
		{bob, 2, 7, 2, 3.5},
	}
	for _, s := range steps {
		got, err := db.Rate(ctx, s.user.ID, freeID, s.rating)
		if err != nil {
			t.Fatal(err)
		}
		if got.RatingSum != s.sum || got.RatingCount != s.count || got.Average() != s.wantAverage {
			t.Errorf("after %s rates %d: %+v (avg %v), want %d/%d avg %v", s.user.Email, s.rating, got, got.Average(), s.sum, s.count, s.wantAverage)
		}
		mustCheck(t, db)
	}
	img, _ := db.FindImage(ctx, freeID)
	if img.AverageRating() != 3.5 || img.RatingCount != 2 {
		t.Errorf("image aggregate %v/%d", img.AverageRating(), img.RatingCount)
	}
	h, _ := db.Histogram(ctx, freeID)
	if h != [6]int64{0, 0, 1, 0, 0, 1} {
		t.Errorf("histogram %v", h)
	}
	if r, ok, _ := db.UserRating(ctx, ada.ID, freeID); !ok || r != 5 {
		t.Errorf("ada's rating %d %v", r, ok)
	}
}

func TestSessionsStore(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 0)
	exp := db.Now().Add(3600e9)
	for _, id := range []string{"one", "two", "three"} {
		if err := db.SaveSession(ctx, id, store.SessionRecord{UserID: u.ID, Data: `{"k":"` + id + `"}`, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if rec, err := db.LoadSession(ctx, "two"); err != nil || rec.UserID != u.ID || rec.Data != `{"k":"two"}` {
		t.Errorf("LoadSession = %+v, %v", rec, err)
	}
	if n, err := db.DeleteOtherSessions(ctx, u.ID, "two"); err != nil || n != 2 {
		t.Errorf("DeleteOtherSessions = %d, %v", n, err)
	}
	if _, err := db.LoadSession(ctx, "one"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("ended session still loads: %v", err)
	}
	db.SaveSession(ctx, "old", store.SessionRecord{Data: "{}", ExpiresAt: db.Now().Add(-1e9)})
	if _, err := db.LoadSession(ctx, "old"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("expired session loads: %v", err)
	}
}

func TestSeedDemo(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Ratings < 200 || res.Images < 40 || res.Password == "" {
		t.Errorf("demo = %+v", res)
	}
	if u, err := db.Authenticate(ctx, DemoEmail, res.Password); err != nil {
		t.Errorf("demo log-in: %v", err)
	} else if bal, _ := db.Balance(ctx, u.ID); bal != demoBalanceCents {
		t.Errorf("demo balance %d", bal)
	}
	var rows int
	db.read.QueryRow(`SELECT COUNT(*) FROM ratings`).Scan(&rows)
	if rows != res.Ratings {
		t.Errorf("%d rating rows, demo reported %d", rows, res.Ratings)
	}
	mustCheck(t, db)
	again, err := db.SeedDemo(ctx)
	if err != nil || again.Created {
		t.Errorf("second demo = %+v, %v", again, err)
	}
}

func TestCheckFindsViolations(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 2000)
	if _, err := db.Purchase(ctx, u.ID, postgresID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rate(ctx, u.ID, postgresID, 4); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, db)
	for _, breakIt := range []string{
		`UPDATE wallets SET balance_cents = balance_cents + 1`,
		`UPDATE images SET rating_sum = rating_sum + 1 WHERE id = '` + postgresID + `'`,
		`DELETE FROM library`,
	} {
		if _, err := db.write.Exec(breakIt); err != nil {
			t.Fatal(err)
		}
		problems, err := db.Check(ctx)
		if err != nil || len(problems) == 0 {
			t.Errorf("after %q: %v, %v", breakIt, problems, err)
		}
	}
}

func TestGenerateCatalog(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	n, err := synth.Generate(ctx, db, 2500, 7)
	if err != nil || n != 2500 {
		t.Fatalf("generate = %d, %v", n, err)
	}
	if c, _ := db.CountImages(ctx); c != 2500 {
		t.Errorf("%d images stored", c)
	}
	mustCheck(t, db)
	// Generated images are searchable and filterable like real ones, and
	// some carry ratings.
	for _, q := range []string{"search=ubuntu&architecture=arm64", "variant=minimal", "min_rating=1", "min_price=5", "search=postgres"} {
		if p := find(t, db, q); p.Total == 0 {
			t.Errorf("nothing for %s", q)
		}
	}
	// The same seed gives the same images; another seed adds new ones.
	other := mustOpen(t)
	other.PasswordCost = bcrypt.MinCost
	synth.Generate(ctx, other, 2500, 7)
	a, b := find(t, db, "sort_by=name&limit=5"), find(t, other, "sort_by=name&limit=5")
	if !equal(names(a), names(b)) {
		t.Errorf("same seed, different catalogs: %v vs %v", names(a), names(b))
	}
	if _, err := synth.Generate(ctx, db, 100, 8); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, db)
}

func TestCountCap(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	if _, err := synth.Generate(context.Background(), db, store.CountCap+50, 3); err != nil {
		t.Fatal(err)
	}
	p := find(t, db, "limit=100")
	if !p.Capped || p.Total != store.CountCap || len(p.Images) != 100 {
		t.Errorf("broad listing: total %d capped %v, %d images", p.Total, p.Capped, len(p.Images))
	}
	if p := find(t, db, "os=headjack"); p.Capped || p.Total == 0 || p.Total >= store.CountCap {
		t.Errorf("narrow listing: total %d capped %v", p.Total, p.Capped)
	}
}

func TestIdempotencyKeysExpire(t *testing.T) {
	db := mustOpenCatalog(t)
	ctx := context.Background()
	u := mustUser(t, db, "ada@example.com", 5000)
	if _, err := db.Purchase(ctx, u.ID, lampID, "k"); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Now().UTC().Add(25 * time.Hour) }
	res, err := db.Purchase(ctx, u.ID, postgresID, "k")
	if err != nil || res.IdempotentReplay || res.PricePaidCents != 1500 {
		t.Errorf("a day-old key = %+v, %v; want it forgotten", res, err)
	}
}

func TestGenerateTwiceWithOneSeed(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	for i := 0; i < 2; i++ {
		if _, err := synth.Generate(context.Background(), db, 300, 5); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if n, _ := db.CountImages(context.Background()); n != 600 {
		t.Errorf("%d images", n)
	}
}

// TestBroadMatchesWalkTheSortIndex checks that the index walk used for
// broad matches returns exactly the page that sorting every match would.
func TestBroadMatchesWalkTheSortIndex(t *testing.T) {
	db := mustOpen(t)
	db.PasswordCost = bcrypt.MinCost
	ctx := context.Background()
	if _, err := synth.Generate(ctx, db, 9000, 11); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"sort_by=name", "architecture=amd64&sort_by=price&page=3", "max_price=0&sort_by=size&sort_order=desc",
		"prespawn=false&sort_by=added_date&page=2", "search=ubuntu&sort_by=name", "min_rating=0&sort_by=rating&page=4", "sort_by=popularity&page=7"} {
		p := find(t, db, raw)
		if p.Total <= broadMatch {
			t.Fatalf("%s matches only %d: not a broad match", raw, p.Total)
		}
		v, _ := url.ParseQuery(raw)
		f, _ := store.ParseFilter(v)
		from, fa := filterFrom(f)
		where, wa := filterWhere(f)
		want, err := queryStrings(ctx, db.read, `SELECT id FROM `+from+where+` ORDER BY `+orderBy(f.Sort(), f.Order())+
			` LIMIT ? OFFSET ?`, append(append(fa, wa...), f.PageLimit(), f.Offset())...)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, img := range p.Images {
			got = append(got, img.ID)
		}
		if !equal(got, want) {
			t.Errorf("%s: walked page differs from the sorted one", raw)
		}
	}
}
