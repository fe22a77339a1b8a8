package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// newTestServer opens a fresh database file with the default catalog and
// wires the real router around it. The file is a copy of one made once for
// the package (migrated, catalog loaded): importing the catalog into every
// test's database cost about a second each, fifteen under -race.
func newTestServer(t testing.TB) (*Server, *sqlite.DB) {
	t.Helper()
	return newTestServerWith(t, nil)
}

// newTestServerWith is newTestServer with the options tuned by tune.
func newTestServerWith(t testing.TB, tune func(*sqlite.DB, *Options)) (*Server, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	copyTemplateDB(t, path)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.LoadDefaultCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := docs.Load()
	if err != nil {
		t.Fatal(err)
	}
	db.PasswordCost = bcrypt.MinCost
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := Options{
		SignupOpen:  true,
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
	}
	if tune != nil {
		tune(db, &opts)
	}
	return New(db, assets, site, logger, opts), db
}

// templateDB is the package's database with the default catalog, made on
// first use and removed by TestMain.
var templateDB struct {
	sync.Once
	dir  string
	path string
	err  error
}

// copyTemplateDB writes a copy of the template database to path. The
// template is closed (its write-ahead log folded in) before it is copied,
// so the one file is the whole database.
func copyTemplateDB(t testing.TB, path string) {
	t.Helper()
	templateDB.Do(func() {
		ctx := context.Background()
		if templateDB.dir, templateDB.err = os.MkdirTemp("", "berth-web-test-"); templateDB.err != nil {
			return
		}
		templateDB.path = filepath.Join(templateDB.dir, "template.db")
		db, err := sqlite.Open(ctx, templateDB.path)
		if err != nil {
			templateDB.err = err
			return
		}
		if _, err := db.LoadDefaultCatalog(ctx); err != nil {
			db.Close()
			templateDB.err = err
			return
		}
		templateDB.err = db.Close()
	})
	if templateDB.err != nil {
		t.Fatal(templateDB.err)
	}
	b, err := os.ReadFile(templateDB.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// do sends one request through the router.
func do(t testing.TB, s *Server, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// defaultImages reads the embedded catalog independently of the store, as
// the oracle the API's answers are checked against.
func defaultImages(t testing.TB) []store.CatalogImage {
	t.Helper()
	var f store.CatalogFile
	if err := json.Unmarshal(store.DefaultCatalog, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Images {
		if f.Images[i].ID == "" {
			f.Images[i].ID = store.ImageID(f.Images[i].Alias, f.Images[i].Architecture)
		}
	}
	return f.Images
}

func mustDoc(t testing.TB, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
