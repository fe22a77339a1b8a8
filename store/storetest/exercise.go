package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// notInternal returns a check that fails t on an internal error only:
// refusals the store maps to a client error are expected.
func notInternal(t *testing.T) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil && store.ErrorCode(err) == store.EINTERNAL {
			t.Fatal(err)
		}
	}
}

// Operator is a store with the dump berth migrate-to reads.
type Operator interface {
	store.Store
	Dump(ctx context.Context, put func(t store.DumpTable, rows [][]any) error) error
}

// Operate runs the operator's commands once on db, for a backend's plan
// test: an import that updates an image (a new build, so a serial event)
// and adds one, the listing after it (which starts a rebuild), an export,
// a dump and the invariant check. Each backend's
// TestPlanTestCallsEveryStoreMethod reads its calls on db too.
func Operate(t *testing.T, db Operator) {
	t.Helper()
	ctx := context.Background()
	must := notInternal(t)
	gen := GeneratedImage(t, db)
	changed := store.CatalogImageOf(gen)
	changed.Description += " (edited)"
	changed.Serial = time.Now().UTC().Format("20060102") // a new build: a serial event
	added := store.CatalogImageOf(gen)
	added.ID, added.Alias, added.ImageName, added.Variant = "", gen.OS+"/"+gen.Release+"-plan", gen.ImageName+"-plan", "plan"
	cat, err := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{changed, added}})
	must(err)
	if res, err := db.ImportCatalog(ctx, bytes.NewReader(cat)); err != nil {
		t.Fatalf("import: %v", err)
	} else {
		t.Logf("import: %+v", res)
	}
	// The import reshaped the catalog: the next listing starts a rebuild.
	_, err = db.FindImages(ctx, store.Filter{})
	must(err)
	must(db.ExportCatalog(ctx, io.Discard))
	// berth migrate-to reads every table (its statements are full scans).
	must(db.Dump(ctx, func(store.DumpTable, [][]any) error { return nil }))
	_, err = db.Check(ctx)
	must(err)
}

// FindFunc answers a listing: a backend's FindImages, or its SQL path
// alone.
type FindFunc func(context.Context, store.Filter) (store.ImagePage, error)

// Exercise calls every store.Store method a request can reach, the way
// requests do, so that a backend's plan test (TestEveryStatementUsesIndexes
// in store/sqlite and store/postgres) sees every statement the backend
// sends for them. find answers the listings; gen is a generated image, with
// no family and thousands of neighbours in alias order. Refusals the store
// maps to a client error are expected; only internal errors fail t.
// Each backend's TestPlanTestCallsEveryStoreMethod reads this function's
// calls on db, so they must stay calls on a variable named db.
func Exercise(t *testing.T, db store.Store, find FindFunc, gen *store.Image) {
	t.Helper()
	ctx := context.Background()
	must := notInternal(t)
	queries := []string{"", "os=ubuntu", "architecture=arm64", "variant=minimal", "prespawn=true", "min_price=5&max_price=15",
		"min_rating=4", "alias=ubuntu/24.04", "alias=ubuntu/24.04&search=ubuntu", "search=docker", "search=docker&os=debian", "search=redis&sort_by=price", "page=3&limit=7",
		"search=ubuntu", "search=ubuntu&sort_by=name", "search=lts+minimal", "search=24.04", "search=zzzz", "page=90&limit=100",
		"support=ended", "support=ending", "support=supported", "support=supported&os=debian", "signed=true", "signed=false",
		"max_severity=high", "max_severity=none&sort_by=name", "signed=true&max_severity=medium&support=supported&search=docker"}
	for _, k := range store.SortKeys {
		queries = append(queries, "sort_by="+k, "sort_by="+k+"&sort_order=asc", "os=alpine&sort_by="+k)
	}
	for _, raw := range queries {
		q, _ := url.ParseQuery(raw)
		f, err := store.ParseFilter(q)
		must(err)
		_, err = find(ctx, f)
		must(err)
		f.Group = store.GroupAlias
		_, err = find(ctx, f)
		must(err)
	}
	// Alias lookups stay with SQL whether or not the index is built.
	_, err := db.FindImages(ctx, store.Filter{Alias: "debian/13"})
	must(err)
	for _, raw := range []string{"", "os=debian", "search=docker&architecture=arm64", "support=ended&signed=true", "alias=debian/13"} {
		q, _ := url.ParseQuery(raw)
		f, err := store.ParseFilter(q)
		must(err)
		_, err = db.FeedEvents(ctx, f, store.FeedLimit)
		must(err)
	}
	img, err := db.FindImageByAlias(ctx, "headjack/systemd", "amd64")
	must(err)
	_, err = db.FindImageByAlias(ctx, "headjack/systemd", "")
	must(err)
	_, err = db.FindImage(ctx, img.ID)
	must(err)
	_, err = db.FindSiblings(ctx, img)
	must(err)
	_, err = db.FindLineage(ctx, img)
	must(err)
	_, err = db.FindImageView(ctx, img.ID)
	must(err)
	_, err = db.FindFacets(ctx)
	must(err)
	_, err = db.Histogram(ctx, img.ID)
	must(err)
	_, err = db.Generation(ctx)
	must(err)
	// Every member of the family, on each architecture: a root with
	// descendants, a middle and a leaf of the recursive lineage.
	for _, a := range []string{"headjack/base", "headjack/systemd", "headjack/dind"} {
		for _, arch := range []string{"amd64", "arm64"} {
			m, err := db.FindImageByAlias(ctx, a, arch)
			must(err)
			if m != nil {
				_, err = db.FindLineage(ctx, m)
				must(err)
				_, err = db.FindImageView(ctx, m.ID)
				must(err)
				_, err = db.FindSiblings(ctx, m)
				must(err)
			}
		}
	}
	// A generated image: no family, thousands of neighbours in alias order.
	_, err = db.FindImage(ctx, gen.ID)
	must(err)
	_, err = db.FindSiblings(ctx, gen)
	must(err)
	_, err = db.FindLineage(ctx, gen)
	must(err)
	_, err = db.FindImageView(ctx, gen.ID)
	must(err)
	_, err = db.Histogram(ctx, gen.ID)
	must(err)
	typo := []byte(gen.Alias)
	typo[1], typo[2] = typo[2], typo[1]
	// Hits and misses: respellings, wrong formats, image names and pull
	// references where an alias belongs, other architectures.
	for _, a := range []string{"ubuntu/24.04", "ubuntu:24.04", "ubunto/24.04", "ubuntu", "debian-13", "nothing/here",
		"ubuntu-24.04-amd64", "Ubuntu 24.04", gen.Alias, string(typo), gen.ImageName, gen.Alias + "x", "ghcr.io/gilmanlab/headjack:base",
		"headjack/dind", "headjack/dindd", strings.Repeat("z", 300)} {
		for _, arch := range []string{"", "arm64", "armhf"} {
			_, err = db.ResolveAlias(ctx, a, arch)
			must(err)
			must(db.ExplainAlias(ctx, a, arch))
			_, err = db.SuggestAliases(ctx, a, arch, store.MaxSuggestions)
			must(err)
		}
	}
	_, err = db.CountImages(ctx)
	must(err)
	must(db.Ping(ctx))

	email := fmt.Sprintf("plan%d@example.com", time.Now().UnixNano())
	u, err := db.CreateUser(ctx, email, "correct horse battery")
	must(err)
	_, err = db.Authenticate(ctx, email, "correct horse battery")
	must(err)
	_, err = db.Authenticate(ctx, "nobody-"+email, "correct horse battery")
	must(err)
	_, err = db.FindUser(ctx, u.ID)
	must(err)
	_, err = db.FindUserByEmail(ctx, email)
	must(err)
	secret, tok, err := db.CreateToken(ctx, u.ID, "plan")
	must(err)
	_, err = db.UserByToken(ctx, secret)
	must(err)
	_, err = db.Tokens(ctx, u.ID)
	must(err)
	must(db.RevokeToken(ctx, u.ID, tok.ID))
	_, err = db.Credit(ctx, u.ID, 10000, "plan")
	must(err)
	free, err := db.FindImageByAlias(ctx, "debian/13", "amd64")
	must(err)
	paid, err := db.FindImageByAlias(ctx, "ubuntu/24.04-k3s", "amd64")
	must(err)
	must(db.Import(ctx, u.ID, free.ID))
	_, err = db.Purchase(ctx, u.ID, paid.ID, "plan-key-"+email)
	must(err)
	_, err = db.Purchase(ctx, u.ID, paid.ID, "plan-key-"+email)
	must(err)
	_, err = db.Owns(ctx, u.ID, paid.ID)
	must(err)
	_, err = db.Library(ctx, u.ID)
	must(err)
	_, err = db.Rate(ctx, u.ID, free.ID, 4)
	must(err)
	_, err = db.Rate(ctx, u.ID, free.ID, 2) // a rating replaced
	must(err)
	// A listing after a rating: the index catches up through the change log.
	_, err = find(ctx, store.Filter{SortBy: store.SortRating})
	must(err)
	must(db.Import(ctx, u.ID, paid.ID)) // refused: it is paid
	must(db.Import(ctx, u.ID, free.ID)) // owned already
	_, _, err = db.UserRating(ctx, u.ID, free.ID)
	must(err)
	_, err = db.Balance(ctx, u.ID)
	must(err)
	_, err = db.Ledger(ctx, u.ID)
	must(err)
	_, err = db.LibraryEvents(ctx, u.ID, store.FeedLimit)
	must(err)
	key, err := db.CreateFeedKey(ctx, u.ID)
	must(err)
	_, err = db.UserByFeedKey(ctx, key)
	must(err)
	_, err = db.FeedKeyCreated(ctx, u.ID)
	must(err)
	must(db.RevokeFeedKey(ctx, u.ID))
	sid := store.NewSecret(16)
	must(db.SaveSession(ctx, sid, store.SessionRecord{UserID: u.ID, Data: "{}", ExpiresAt: time.Now().Add(time.Hour)}))
	_, err = db.LoadSession(ctx, sid)
	must(err)
	_, err = db.CountSessions(ctx, u.ID)
	must(err)
	_, err = db.DeleteOtherSessions(ctx, u.ID, sid)
	must(err)
	must(db.DeleteSession(ctx, sid))
	// Someone who cannot afford an image, and the limits of an account.
	poor, err := db.CreateUser(ctx, "poor-"+email, "correct horse battery")
	must(err)
	_, err = db.Purchase(ctx, poor.ID, paid.ID, "")
	must(err)
	_, err = db.PurchaseAtPrice(ctx, poor.ID, paid.ID, "", paid.PriceCents+1) // a changed price
	must(err)
	must(db.SetPassword(ctx, u.ID, "another horse battery"))
	_, err = db.RevokeAllTokens(ctx, u.ID)
	must(err)
	codes, err := db.CreateVouchers(ctx, 500, 1, time.Time{})
	must(err)
	_, err = db.RedeemVoucher(ctx, u.ID, codes[0])
	must(err)
	_, err = db.RedeemVoucher(ctx, u.ID, codes[0])
	must(err)

	// Content: a recorded build, what the registry and gc read, pulls.
	d := "sha256:" + strings.Repeat("ab", 32)
	must(db.RecordBuild(ctx, store.Build{ImageID: free.ID, Kind: store.ContentOCI,
		Manifest: store.Blob{Digest: d, Size: 10, MediaType: "application/vnd.oci.image.manifest.v1+json"},
		Blobs:    []store.Blob{{Digest: d, Size: 10, MediaType: "m", Role: store.RoleManifest}}}))
	_, err = db.FindBuild(ctx, free.ID, store.ContentOCI)
	must(err)
	_, _, err = db.AliasBuilds(ctx, free.Alias, store.ContentOCI)
	must(err)
	_, err = db.KindBuilds(ctx, store.ContentOCI)
	must(err)
	_, err = db.ReferencedBlobs(ctx)
	must(err)
	must(db.RecordPull(ctx, u.ID, free.ID))
	_, err = db.LastPulls(ctx, u.ID)
	must(err)
	key, pk, err := db.CreatePullKey(ctx, u.ID)
	must(err)
	_, err = db.UserByPullKey(ctx, key)
	must(err)
	_, err = db.PullKeys(ctx, u.ID)
	must(err)
	must(db.RevokePullKey(ctx, u.ID, pk.ID))
}
