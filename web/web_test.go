package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/docs"
	"github.com/berth/berth/static"
	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// newTestServer opens a fresh database file with the default catalog and
// wires the real router around it.
func newTestServer(t testing.TB) (*Server, *sqlite.DB) {
	t.Helper()
	return newTestServerWith(t, nil)
}

// newTestServerWith is newTestServer with the options tuned by tune.
func newTestServerWith(t testing.TB, tune func(*sqlite.DB, *Options)) (*Server, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "berth.db"))
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
