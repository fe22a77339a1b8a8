package sqlite

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// fieldEdit changes one field of a catalog image, so a test can import
// that change alone.
type fieldEdit struct {
	field string // the Image field, as imageFieldPaths names it
	edit  func(ci *store.CatalogImage)
}

// notEditedByImport are the Image fields a catalog import cannot change:
// the id names the image (a new id is a new image), and ratings are not
// part of catalog files (TestListIndexAgreesWithSQL rates images instead).
var notEditedByImport = []string{"ID", "RatingSum", "RatingCount"}

// imageFieldEdits returns one edit per editable field of an image. The
// security parts expect an image with security; "Security" comes after
// them and removes it.
func imageFieldEdits() []fieldEdit {
	sec := func(ci *store.CatalogImage) *store.Security {
		s := *ci.Security // a copy: the caller's image keeps its own
		ci.Security = &s
		return &s
	}
	return []fieldEdit{
		{"Alias", func(ci *store.CatalogImage) { ci.Alias += "-edited" }},
		{"Description", func(ci *store.CatalogImage) { ci.Description += " Edited." }},
		{"ImageName", func(ci *store.CatalogImage) { ci.ImageName += "-edited" }},
		{"Architecture", func(ci *store.CatalogImage) { // the alias is the edited one, free on every architecture
			ci.Architecture = store.Architectures[(slices.Index(store.Architectures, ci.Architecture)+1)%len(store.Architectures)]
		}},
		{"OS", func(ci *store.CatalogImage) { ci.OS = "editedos" }},
		{"Release", func(ci *store.CatalogImage) { ci.Release += ".1" }},
		{"Serial", func(ci *store.CatalogImage) { ci.Serial = "20991231" }},
		{"Variant", func(ci *store.CatalogImage) { ci.Variant = "edited" }},
		{"Size", func(ci *store.CatalogImage) { ci.Size += 12345 }},
		{"PriceCents", func(ci *store.CatalogImage) { ci.Price += 1.25 }},
		{"AddedDate", func(ci *store.CatalogImage) { ci.AddedDate = ci.AddedDate.Add(-36 * time.Hour) }},
		{"Prespawn", func(ci *store.CatalogImage) { ci.Prespawn = !ci.Prespawn }},
		{"Tags", func(ci *store.CatalogImage) { ci.Tags = append(slices.Clone(ci.Tags), "edited") }},
		{"BasedOn", func(ci *store.CatalogImage) { ci.BasedOn = "edited/base" }},
		{"Features", func(ci *store.CatalogImage) { ci.Features = append(slices.Clone(ci.Features), "Edited feature") }},
		{"PullRef", func(ci *store.CatalogImage) { ci.PullRef += "-edited" }},
		{"Security.Signed", func(ci *store.CatalogImage) { s := sec(ci); s.Signed = !s.Signed }},
		{"Security.SBOM", func(ci *store.CatalogImage) { s := sec(ci); s.SBOM += "-edited" }},
		{"Security.LastScan", func(ci *store.CatalogImage) { s := sec(ci); s.LastScan = s.LastScan.Add(24 * time.Hour) }},
		{"Security.Findings.Critical", func(ci *store.CatalogImage) { sec(ci).Findings.Critical += 3 }},
		{"Security.Findings.High", func(ci *store.CatalogImage) { sec(ci).Findings.High += 3 }},
		{"Security.Findings.Medium", func(ci *store.CatalogImage) { sec(ci).Findings.Medium += 3 }},
		{"Security.Findings.Low", func(ci *store.CatalogImage) { sec(ci).Findings.Low += 3 }},
		{"Security.Scanner", func(ci *store.CatalogImage) { s := sec(ci); s.Scanner += " edited" }},
		{"Security.Signature", func(ci *store.CatalogImage) { s := sec(ci); s.Signature += "; identity ^edited$" }},
		{"Security.SBOMURL", func(ci *store.CatalogImage) { s := sec(ci); s.SBOMURL = "https://example.com/edited.spdx.json" }},
		{"Security.ReportURL", func(ci *store.CatalogImage) { s := sec(ci); s.ReportURL = "https://example.com/edited-scan.json" }},
		{"Security", func(ci *store.CatalogImage) { ci.Security = nil }},
		{"Docs", func(ci *store.CatalogImage) { ci.Docs += "\n\nEdited." }},
		{"EOLDate", func(ci *store.CatalogImage) { ci.EOLDate = nextDate(ci.EOLDate) }},
		{"SupersededBy", func(ci *store.CatalogImage) { ci.SupersededBy = "edited/successor" }},
		{"TagsPinned", func(ci *store.CatalogImage) { ci.TagsPinned = append(slices.Clone(ci.TagsPinned), "edited-v1.0.0") }},
		{"SourceURL", func(ci *store.CatalogImage) { ci.SourceURL = "https://example.com/edited/Dockerfile" }},
	}
}

// nextDate is the day after a DateLayout date, or a fixed date for "".
func nextDate(d string) string {
	t, err := time.Parse(store.DateLayout, d)
	if err != nil {
		return "2027-01-15"
	}
	return t.AddDate(0, 0, 1).Format(store.DateLayout)
}

// imageFieldPaths names every field of Image, and every field of the
// structs it holds (Security, Findings), as Security.Findings.High.
func imageFieldPaths() []string {
	var paths []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			path, ft := prefix+f.Name, f.Type
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
				walk(path+".", ft) // a struct is its fields
				continue
			}
			paths = append(paths, path)
			if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				walk(path+".", ft.Elem()) // and a pointer one is there or not, too
			}
		}
	}
	walk("", reflect.TypeFor[store.Image]())
	return paths
}

// TestEveryImageFieldHasAnEdit makes a new field of Image fail until the
// listing tests edit it (imageFieldEdits), so no field can be left out of
// what keeps listings fresh.
func TestEveryImageFieldHasAnEdit(t *testing.T) {
	edits := map[string]bool{}
	for _, e := range imageFieldEdits() {
		edits[e.field] = true
	}
	for _, path := range imageFieldPaths() {
		if !edits[path] && !slices.Contains(notEditedByImport, path) {
			t.Errorf("Image field %s has no edit in imageFieldEdits: add one, so listings are checked to follow it", path)
		}
		delete(edits, path)
	}
	for field := range edits {
		t.Errorf("imageFieldEdits edits %s, which Image does not have", field)
	}
}

// TestOnlyRatingChangesAreFollowedInPlace changes each stored column of an
// image in turn: every one but the ratings must mark the change reshaped,
// so the listing index rebuilds rather than keep the old values. A column
// added without being compared by the trigger (migration 010) fails here.
func TestOnlyRatingChangesAreFollowedInPlace(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	f := fixture()
	f.Images = f.Images[:1]
	mustImport(t, db, f)
	// A different value for each column: by default one more, or an "x"
	// appended; these columns' checks need their own.
	special := map[string]string{
		"id":           "'ffffffffffffffffffffffff'",
		"architecture": "CASE architecture WHEN 'armhf' THEN 'arm64' ELSE 'armhf' END",
		"prespawn":     "1 - prespawn",
		"security":     `COALESCE(security, '{}') || ' '`,
	}
	rows, err := db.read.QueryContext(ctx, `SELECT name, type, hidden FROM pragma_table_xinfo('images')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ name, typ string }
	var columns []column
	for rows.Next() {
		var c column
		var hidden int
		if err := rows.Scan(&c.name, &c.typ, &hidden); err != nil {
			t.Fatal(err)
		}
		if hidden == 0 { // generated columns follow the others
			columns = append(columns, c)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(columns) < 20 {
		t.Fatalf("only %d columns: %v", len(columns), columns)
	}
	for _, c := range columns {
		to := special[c.name]
		switch {
		case to != "":
		case strings.HasPrefix(strings.ToUpper(c.typ), "INT"):
			to = c.name + " + 1"
		default:
			to = c.name + " || 'x'"
		}
		var before, after any
		read := func(into *any) {
			if err := db.read.QueryRowContext(ctx, `SELECT `+c.name+` FROM images`).Scan(into); err != nil {
				t.Fatal(err)
			}
		}
		read(&before)
		if _, err := db.write.ExecContext(ctx, `UPDATE images SET `+c.name+` = `+to); err != nil {
			t.Fatalf("changing %s (%s): %v: give it a value of its own in special", c.name, to, err)
		}
		read(&after)
		if reflect.DeepEqual(before, after) {
			t.Fatalf("%s = %s left it at %v", c.name, to, before)
		}
		var reshaped int
		if err := db.read.QueryRowContext(ctx, `SELECT reshaped FROM image_changes ORDER BY generation DESC LIMIT 1`).Scan(&reshaped); err != nil {
			t.Fatal(err)
		}
		rating := c.name == "rating_sum" || c.name == "rating_count"
		if rating && reshaped != 0 {
			t.Errorf("a change of %s, a rating, rebuilds the listing index", c.name)
		}
		if !rating && reshaped != 1 {
			t.Errorf("a change of %s alone is followed in place: listings would keep its old value", c.name)
		}
	}
}
