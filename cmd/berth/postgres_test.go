package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/jackc/pgx/v5/pgxpool"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/blobs"
	"github.com/berth/berth/store/oci/ocitest"
	"github.com/berth/berth/store/postgres"
	"github.com/berth/berth/store/postgres/pgtest"
)

// TestEveryCommandOnPostgres runs the operator's commands against a
// PostgreSQL database given as --db, as TestAccountCommands and
// TestCatalogExportImportIsNoOp do against a SQLite file.
func TestEveryCommandOnPostgres(t *testing.T) {
	db := pgtest.DSN(t)
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := berth(t, append(args, "--db", db)...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("berth %s = %q, %v; want %q", strings.Join(args, " "), out, err, want)
		}
		return out
	}
	must("created ops@example.com", "user", "create", "--email", "Ops@Example.com", "--password", "correct horse battery")
	if _, err := berth(t, "user", "create", "--db", db, "--email", "ops@example.com", "--password", "another password"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user create = %v", err)
	}
	if tok := must("berth_", "token", "create", "--email", "ops@example.com"); strings.Count(tok, "\n") != 1 {
		t.Errorf("token create printed %q", tok)
	}
	must("credited $12.50 to ops@example.com; balance $12.50", "wallet", "credit", "--email", "ops@example.com", "--amount", "12.5")
	must("password", "user", "password", "--email", "ops@example.com", "--password", "a brand new password")
	if codes := must("-", "voucher", "create", "--amount", "5", "--count", "3"); strings.Count(codes, "\n") < 3 {
		t.Errorf("voucher create printed %q", codes)
	}
	// An empty database: export, then import of a catalog and its export.
	if out := must(`"images": []`, "catalog", "export"); out == "" {
		t.Fatal("no export")
	}
	cat := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(cat, []byte(`{"version":1,"images":[{"alias":"debian/13","description":"Debian 13.",
		"image_name":"debian-13-amd64","architecture":"amd64","os":"debian","release":"13","serial":"20250809",
		"variant":"default","size":524288000,"price":0,"added_date":"2025-08-09T00:00:00Z","prespawn":true,
		"tags":["stable"],"based_on":"","features":[],"pull_ref":"","security":null,"docs":"# Debian"}]}`), 0o600)
	must("1 added, 0 updated, 0 unchanged", "catalog", "import", cat)
	first := must(`"debian/13"`, "catalog", "export")
	exported := filepath.Join(t.TempDir(), "export.json")
	os.WriteFile(exported, []byte(first), 0o600)
	must("0 added, 0 updated, 1 unchanged", "catalog", "import", exported)
	must("generated 40 images", "catalog", "generate", "--count", "40")
	must("Log in as demo@berth.example with password ", "demo")
	must("all checks passed", "check")
	out, err := berth(t, "backup", "--db", db, filepath.Join(t.TempDir(), "copy.db"))
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL = %q, %v; want an explanation naming pg_dump", out, err)
	}
}

// TestCheckRefusesAnEmptyPostgresDatabase: check of a database with no
// Berth schema fails and creates none.
func TestCheckRefusesAnEmptyPostgresDatabase(t *testing.T) {
	db := pgtest.DSN(t)
	if _, err := berth(t, "check", "--db", db); err == nil || !strings.Contains(err.Error(), "no Berth database") {
		t.Errorf("check of an empty schema = %v", err)
	}
	if ok, err := postgres.Initialized(context.Background(), db); ok || err != nil {
		t.Errorf("check created the schema it was asked to check (%v)", err)
	}
}

// TestServeOnPostgresNeedsASharedSessionKey: serve refuses to start on
// PostgreSQL without BERTH_SESSION_KEY (instances must share it), and
// serves with one.
func TestServeOnPostgresNeedsASharedSessionKey(t *testing.T) {
	db := pgtest.DSN(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"BERTH_DB": db, "BERTH_ADDR": addr}
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BERTH_SESSION_KEY") {
		t.Fatalf("serve without a session key = %v", err)
	}
	env["BERTH_SESSION_KEY"] = strings.Repeat("ab", 32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, &logs)
	}()
	var resp *http.Response
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err = http.Get("http://" + addr + "/api/v1/images/public?limit=1&search=ubuntu")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var body struct {
		Data struct{ Pagination struct{ Total int } }
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || body.Data.Pagination.Total < 5 {
		t.Errorf("search on PostgreSQL: total %d, %v", body.Data.Pagination.Total, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// TestMigrateToPostgres copies a lived-in SQLite Berth (accounts, tokens,
// a session, vouchers, demo purchases and ratings, a generated catalog)
// into PostgreSQL: every row compares equal, check passes on both, the
// same log-ins, tokens and sessions work there, new accounts get new ids,
// and a second copy into the same database is refused.
func TestMigrateToPostgres(t *testing.T) {
	ctx := context.Background()
	lite := filepath.Join(t.TempDir(), "berth.db")
	dsn := pgtest.DSN(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := berth(t, append(args, "--db", lite)...)
		if err != nil {
			t.Fatalf("berth %v: %q %v", args, out, err)
		}
		return out
	}
	run("user", "create", "--email", "ops@example.com", "--password", "correct horse battery")
	token := strings.TrimSpace(run("token", "create", "--email", "ops@example.com"))
	run("wallet", "credit", "--email", "ops@example.com", "--amount", "20")
	run("voucher", "create", "--amount", "5", "--count", "2")
	demo := run("demo")
	run("catalog", "generate", "--count", "25")
	src, err := openStore(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := src.FindUserByEmail(ctx, "ops@example.com")
	if err := src.SaveSession(ctx, "a-session-id", store.SessionRecord{UserID: ops.ID, Data: "{}", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Feeds, pull keys and loaded content travel too.
	feedKey, err := src.CreateFeedKey(ctx, ops.ID)
	if err != nil {
		t.Fatal(err)
	}
	pullKey, pk, err := src.CreatePullKey(ctx, ops.ID)
	if err != nil {
		t.Fatal(err)
	}
	debian := store.ImageID("debian/13", "amd64")
	bs, err := blobs.Open(blobs.DefaultDir(lite))
	if err != nil {
		t.Fatal(err)
	}
	put := func(content string) string {
		d, err := bs.PutBytes([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	manifest := store.Blob{Digest: put("{}"), Size: 2, MediaType: "application/vnd.oci.image.manifest.v1+json", Role: store.RoleManifest}
	build := store.Build{ImageID: debian, Kind: store.ContentOCI, Manifest: manifest, Blobs: []store.Blob{manifest,
		{Digest: put("a layer"), Size: 7, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Role: store.RoleLayer}}}
	if err := src.RecordBuild(ctx, build); err != nil {
		t.Fatal(err)
	}
	if err := src.RecordPull(ctx, ops.ID, debian); err != nil {
		t.Fatal(err)
	}
	srcEvents, err := src.FeedEvents(ctx, store.Filter{}, 1000)
	if err != nil || len(srcEvents) == 0 {
		t.Fatalf("feed events on the source: %d, %v", len(srcEvents), err)
	}
	var srcExport strings.Builder
	src.ExportCatalog(ctx, &srcExport)
	src.Close()

	out := run("migrate-to", dsn)
	if !strings.Contains(out, "every row compared equal") || !strings.Contains(out, "berth check passes on both") {
		t.Fatalf("migrate-to printed %q", out)
	}
	// The copy has the planner's statistics: PostgreSQL's autovacuum may
	// be off or not yet round, and without them alias lookups on a copied
	// 100k catalog took a hundred times longer.
	conn, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"images", "users", "library", "ledger", "ratings"} {
		var analyzed bool
		if err := conn.QueryRow(ctx, `SELECT COALESCE(last_analyze, last_autoanalyze) IS NOT NULL
			FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = $1`, table).Scan(&analyzed); err != nil || !analyzed {
			t.Errorf("%s on the copy has no statistics (%v)", table, err)
		}
	}
	conn.Close()
	// The blobs stay in their directory, which the copy is pointed at.
	if out, err := berth(t, "check", "--db", dsn, "--deep", "--blobs", blobs.DefaultDir(lite)); err != nil {
		t.Errorf("check on the copy: %v\n%s", err, out)
	}
	dst, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if u, err := dst.UserByToken(ctx, token); err != nil || u.Email != "ops@example.com" {
		t.Errorf("the token on the copy: %v %v", u, err)
	}
	if rec, err := dst.LoadSession(ctx, "a-session-id"); err != nil || rec.UserID != ops.ID {
		t.Errorf("the session on the copy: %v %v", rec, err)
	}
	pw := demo[strings.Index(demo, "password ")+len("password "):]
	pw = strings.Fields(pw)[0]
	if _, err := dst.Authenticate(ctx, "demo@berth.example", pw); err != nil {
		t.Errorf("the demo log-in on the copy: %v", err)
	}
	if bal, _ := dst.Balance(ctx, ops.ID); bal != 2000 {
		t.Errorf("balance on the copy: %d", bal)
	}
	var dstExport strings.Builder
	dst.ExportCatalog(ctx, &dstExport)
	if dstExport.String() != srcExport.String() {
		t.Error("the catalog exports of the source and the copy differ")
	}
	// New rows get new ids: the sequences continue after the copied ones.
	u, err := dst.CreateUser(ctx, "new@example.com", "correct horse battery")
	if err != nil || u.ID <= ops.ID {
		t.Errorf("a new account on the copy: %v %v", u, err)
	}
	if _, _, err := dst.CreateToken(ctx, u.ID, "new"); err != nil {
		t.Errorf("a new token on the copy: %v", err)
	}
	if _, err := dst.Credit(ctx, u.ID, 100, "new"); err != nil {
		t.Errorf("a new ledger row on the copy: %v", err)
	}
	if u, err := dst.UserByFeedKey(ctx, feedKey); err != nil || u.ID != ops.ID {
		t.Errorf("the feed key on the copy: %v %v", u, err)
	}
	if u, err := dst.UserByPullKey(ctx, pullKey); err != nil || u.ID != ops.ID {
		t.Errorf("the pull key on the copy: %v %v", u, err)
	}
	if b, err := dst.FindBuild(ctx, debian, store.ContentOCI); err != nil || b.Manifest != manifest || len(b.Blobs) != 2 {
		t.Errorf("the build on the copy: %+v %v", b, err)
	}
	if pulls, err := dst.LastPulls(ctx, ops.ID); err != nil || pulls[debian].IsZero() {
		t.Errorf("the pulls on the copy: %v %v", pulls, err)
	}
	dstEvents, err := dst.FeedEvents(ctx, store.Filter{}, 1000)
	if err != nil || len(dstEvents) != len(srcEvents) || dstEvents[0].Seq != srcEvents[0].Seq || !dstEvents[0].At.Equal(srcEvents[0].At) {
		t.Errorf("feed events on the copy: %d (first %+v), the source had %d (first %+v); %v",
			len(dstEvents), dstEvents[0], len(srcEvents), srcEvents[0], err)
	}
	if _, k, err := dst.CreatePullKey(ctx, ops.ID); err != nil || k.ID <= pk.ID {
		t.Errorf("a new pull key on the copy: %+v %v", k, err)
	}
	if _, err := berth(t, "migrate-to", dsn, "--db", lite); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a second migrate-to into the copy = %v", err)
	}
}

// TestImageLoadAndCheckOnPostgres: on PostgreSQL, image load records the
// build with its blobs in --blobs, and check verifies the blobs the
// builds reference as it does on SQLite: a shallow check sees a missing
// blob, a deep one a corrupted one.
func TestImageLoadAndCheckOnPostgres(t *testing.T) {
	db := pgtest.DSN(t)
	blobDir := filepath.Join(t.TempDir(), "blobs")
	cat := filepath.Join(t.TempDir(), "catalog.json")
	os.WriteFile(cat, []byte(`{"version":1,"images":[{"alias":"debian/13","description":"Debian 13.",
		"image_name":"debian-13-amd64","architecture":"amd64","os":"debian","release":"13","serial":"20250809",
		"variant":"default","size":524288000,"price":0,"added_date":"2025-08-09T00:00:00Z","prespawn":true,
		"tags":["stable"],"based_on":"","features":[],"pull_ref":"","security":null,"docs":"# Debian"}]}`), 0o600)
	if out, err := berth(t, "catalog", "import", "--db", db, cat); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	saved := filepath.Join(t.TempDir(), "saved.tar")
	ocitest.WriteDockerSave(t, saved, "example.com/debian:13", ocitest.Image(t, "amd64", 2, 4096))
	out, err := berth(t, "image", "load", "--db", db, "--blobs", blobDir, "--alias", "debian/13", "--architecture", "amd64", saved)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	pg, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	b, err := pg.FindBuild(context.Background(), store.ImageID("debian/13", "amd64"), store.ContentOCI)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, b.Manifest.Digest) || len(b.Blobs) != 4 {
		t.Fatalf("load printed %q; recorded %+v", out, b)
	}
	if out, err := berth(t, "check", "--db", db, "--blobs", blobDir, "--deep"); err != nil || !strings.Contains(out, "all checks passed") {
		t.Fatalf("check after the load: %v\n%s", err, out)
	}
	bs, _ := blobs.Open(blobDir)
	var layer store.Blob
	for _, bl := range b.Blobs {
		if bl.Role == store.RoleLayer {
			layer = bl
		}
	}
	p, _ := bs.Path(layer.Digest)
	orig, _ := os.ReadFile(p)
	corrupt := append([]byte{}, orig...)
	corrupt[len(corrupt)/2] ^= 0xff
	os.WriteFile(p, corrupt, 0o600)
	if out, err := berth(t, "check", "--db", db, "--blobs", blobDir, "--deep"); err == nil || !strings.Contains(out, layer.Digest) {
		t.Errorf("deep check of a corrupted blob: %v\n%s", err, out)
	}
	os.Remove(p)
	if out, err := berth(t, "check", "--db", db, "--blobs", blobDir); err == nil || !strings.Contains(out, "missing") {
		t.Errorf("check of a missing blob: %v\n%s", err, out)
	}
}
