package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/berth/berth/store"
)

// FuzzParseCatalog feeds arbitrary files to the catalog parser: it must
// never panic, and whatever it accepts must be valid images that store and
// export back to a file that parses to the same images.
func FuzzParseCatalog(f *testing.F) {
	b, _ := json.Marshal(fixture())
	f.Add(b)
	f.Add([]byte(`{"version":1,"images":[]}`))
	f.Add([]byte(`{"version":1,"images":[{"alias":"a/b","description":"d","image_name":"a-b-amd64","architecture":"amd64","os":"a","release":"b","serial":"20240101","variant":"default","size":1,"price":0.005,"added_date":"2024-01-01T00:00:00Z","prespawn":false,"tags":null,"based_on":"","features":null,"pull_ref":"","security":null,"docs":""}]}`))
	f.Add([]byte(`{"version":1,"images":[{"price":-1}]}`))
	f.Add([]byte(`{"version":1,"images":[{"price":1e400}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		imgs, err := store.ParseCatalog(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, img := range imgs {
			if err := img.Validate(); err != nil {
				t.Fatalf("accepted an invalid image: %v", err)
			}
		}
		if len(imgs) == 0 || len(imgs) > 20 {
			return // storing is the slow part; a few images say enough
		}
		db := mustOpen(t)
		if _, err := db.ImportCatalog(context.Background(), bytes.NewReader(data)); err != nil {
			if c := store.ErrorCode(err); c != store.ECONFLICT && c != store.EINVALID {
				t.Fatalf("import of a parsed catalog failed: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := db.ExportCatalog(context.Background(), &out); err != nil {
			t.Fatal(err)
		}
		again, err := store.ParseCatalog(&out)
		if err != nil || len(again) != len(imgs) {
			t.Fatalf("export does not parse back: %d images, %v", len(again), err)
		}
	})
}
