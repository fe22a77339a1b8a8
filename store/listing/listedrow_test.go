package listing

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
)

// collector is a synth.Loader that keeps the images it is given.
type collector struct{ images []*store.Image }

func (c *collector) BulkAdd(_ context.Context, _ []string, fill func(int, func(*synth.Build) error) error) (int, error) {
	err := fill(0, func(b *synth.Build) error {
		img := b.Image
		c.images = append(c.images, &img)
		return nil
	})
	return len(c.images), err
}

func TestListedRowRoundTrip(t *testing.T) {
	var c collector
	if _, err := synth.Generate(context.Background(), &c, 300, 4); err != nil {
		t.Fatal(err)
	}
	images := c.images
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

// TestListedRowKeepsEveryField gives each field of an image a value of its
// own, found by reflection, and checks the encoding kept for listings
// (encodeRow) gives it back: a field added to Image but not to the
// encoding fails here.
func TestListedRowKeepsEveryField(t *testing.T) {
	img := &store.Image{}
	n := 0
	var fill func(v reflect.Value, path string)
	fill = func(v reflect.Value, path string) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+v.Type().Field(i).Name
			n++
			switch f.Kind() {
			case reflect.String:
				f.SetString(fmt.Sprintf("%s-%d", name, n))
			case reflect.Int, reflect.Int64:
				f.SetInt(int64(1000 + n))
			case reflect.Bool:
				f.SetBool(true)
			case reflect.Slice:
				f.Set(reflect.ValueOf([]string{name, fmt.Sprint(n)}))
			case reflect.Pointer:
				f.Set(reflect.New(f.Type().Elem()))
				fill(f.Elem(), name+".")
			case reflect.Struct:
				if f.Type() == reflect.TypeFor[time.Time]() {
					f.Set(reflect.ValueOf(time.Date(2025, 1, 1, 0, 0, n, 0, time.UTC)))
				} else {
					fill(f, name+".")
				}
			default:
				t.Fatalf("%s: no test value for a %s", name, f.Kind())
			}
		}
	}
	fill(reflect.ValueOf(img).Elem(), "")
	got, err := decodeRow(encodeRow(img))
	if err != nil {
		t.Fatal(err)
	}
	// Listings leave docs out and take ratings from the index.
	want := *img
	want.Docs, want.RatingSum, want.RatingCount = "", 0, 0
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", *got, want)
	}
}
