package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestListedRowRoundTrip(t *testing.T) {
	db := generatedCatalog(t, 300, 4)
	ctx := context.Background()
	page, err := db.findImagesSQL(ctx, parse(t, "limit=100&sort_by=name"))
	if err != nil {
		t.Fatal(err)
	}
	images := page.Images
	// And the shapes the catalog does not have: nil and empty lists, no
	// security, times with an offset or out of nanoseconds' range.
	odd := *images[0]
	odd.Tags, odd.Features, odd.Security = nil, []string{}, nil
	odd.AddedDate = time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("", 2*3600))
	far := *images[1]
	far.AddedDate = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	far.Description = ""
	images = append(images, &odd, &far)
	for _, img := range images {
		b := encodeRow(img)
		got, err := decodeRow(b)
		if err != nil {
			t.Fatalf("%s: %v", img.ID, err)
		}
		got.RatingSum, got.RatingCount, got.Docs = img.RatingSum, img.RatingCount, img.Docs
		if !reflect.DeepEqual(got, img) {
			t.Fatalf("%s: decoded\n%#v\nwant\n%#v", img.ID, got, img)
		}
		if !got.AddedDate.Equal(img.AddedDate) || got.AddedDate.Location().String() != img.AddedDate.Location().String() {
			t.Fatalf("%s: added %v, want %v", img.ID, got.AddedDate, img.AddedDate)
		}
		// Every cut of the bytes is an error, never a panic.
		for cut := range len(b) {
			if _, err := decodeRow(b[:cut]); err == nil {
				t.Fatalf("%s: %d of %d bytes decoded without error", img.ID, cut, len(b))
			}
		}
	}
}
