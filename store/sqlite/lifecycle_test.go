package sqlite

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// TestSupportMovesWithTheClock gives one image an eol_date and moves a
// fixed clock across it: the image goes from supported to ending (90 days
// before) to ended (on the date), and at each step the support filter
// lists it under its state alone, through SQL and through the listing
// index alike; an image with no eol_date stays supported throughout.
func TestSupportMovesWithTheClock(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	f := fixture()
	f.Images[3].EOLDate = "2027-03-31"     // debian/13 amd64
	f.Images[3].SupersededBy = "debian/14" // an alias, existing or not
	f.Images[5].EOLDate = "2025-11-01"     // alpine/3.19, long ended
	mustImport(t, db, f)
	debian := store.ImageID("debian/13", "amd64")
	img, err := db.FindImage(ctx, debian)
	if err != nil {
		t.Fatal(err)
	}
	if img.EOLDate != "2027-03-31" || img.SupersededBy != "debian/14" {
		t.Fatalf("stored eol_date %q, superseded_by %q", img.EOLDate, img.SupersededBy)
	}
	x, err := db.buildListIndexNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), store.SupportSupported},    // 120 days before
		{time.Date(2026, 12, 30, 23, 59, 0, 0, time.UTC), store.SupportSupported}, // 91 days before: not yet
		{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), store.SupportEnding},      // 90 days before
		{time.Date(2027, 3, 30, 23, 0, 0, 0, time.UTC), store.SupportEnding},      // the day before
		{time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), store.SupportEnded},        // the day itself
		{time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), store.SupportEnded},
	}
	for _, st := range steps {
		if got := img.Support(st.now); got != st.want {
			t.Errorf("at %s debian/13 is %s, want %s", st.now, got, st.want)
		}
		for _, state := range store.SupportStates {
			fl, err := store.ParseFilter(url.Values{"support": {state}, "limit": {"100"}})
			if err != nil {
				t.Fatal(err)
			}
			fl.Now = st.now
			sqlPage, err := db.findImagesSQL(ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			sameListing(t, "support="+state+" at "+st.now.String(), sqlPage, db, x, fl)
			listed := slices.Contains(ids(sqlPage), debian)
			if listed != (state == st.want) {
				t.Errorf("at %s support=%s lists debian/13: %v, want %v", st.now, state, listed, state == st.want)
			}
			for _, listedImg := range sqlPage.Images {
				if got := listedImg.Support(st.now); got != state {
					t.Errorf("at %s support=%s lists %s, which is %s", st.now, state, listedImg.Alias, got)
				}
			}
			// Every image is in exactly one state: the three lists add up.
			if state == store.SupportSupported && !slices.Contains(ids(sqlPage), store.ImageID("ubuntu/24.04", "amd64")) {
				t.Errorf("at %s an image with no eol_date is not supported", st.now)
			}
		}
	}
}

// TestSignedAndSeverityFilters checks signed= and max_severity= against
// each image's own security record, through SQL and the listing index.
func TestSignedAndSeverityFilters(t *testing.T) {
	db := mustOpen(t)
	f := fixture()
	scan := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	f.Images[0].Security = &store.Security{Signed: true, SBOM: "SPDX", LastScan: scan, Findings: store.Findings{Medium: 2}}
	f.Images[1].Security = &store.Security{Signed: true, LastScan: scan, Findings: store.Findings{Critical: 1, Low: 3}, Scanner: "Trivy 0.58"}
	f.Images[2].Security = &store.Security{Signed: false, LastScan: scan}
	f.Images[3].Security = &store.Security{Signed: true} // signed, never scanned
	f.Images[4].Security = &store.Security{LastScan: scan, Findings: store.Findings{High: 1}}
	mustImport(t, db, f)
	all := find(t, db, "limit=100")
	for _, q := range []string{"signed=true", "signed=false"} {
		got := find(t, db, q+"&limit=100")
		want := 0
		for _, img := range all.Images {
			if img.Signed() == (q == "signed=true") {
				want++
			}
		}
		if got.Total != want {
			t.Errorf("%s lists %d images, want %d", q, got.Total, want)
		}
	}
	for rank, sev := range store.Severities {
		got := find(t, db, "max_severity="+sev+"&limit=100")
		var want []string
		for _, img := range all.Images {
			if img.WorstSeverity() <= rank {
				want = append(want, img.ID)
			}
		}
		if !sameSet(ids(got), want) {
			t.Errorf("max_severity=%s lists %v, want %v", sev, names(got), want)
		}
	}
	if got := find(t, db, "max_severity=critical&limit=100"); got.Total != 4 {
		t.Errorf("max_severity=critical lists %d images: the unscanned ones must be left out", got.Total)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestImportRecordsFeedEvents: an import records an added event for a new
// image, a serial event for a new build and a security event for a new
// scan, and nothing for an unchanged image or a change of its text.
func TestImportRecordsFeedEvents(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	f := fixture()
	mustImport(t, db, f)
	events := func() []store.ImageEvent {
		t.Helper()
		ev, err := db.FeedEvents(ctx, store.Filter{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if n := len(events()); n != len(f.Images) {
		t.Fatalf("%d events after importing %d images", n, len(f.Images))
	}
	mustImport(t, db, f) // unchanged
	f.Images[0].Description += " Edited."
	mustImport(t, db, f) // text only
	if n := len(events()); n != len(f.Images) {
		t.Fatalf("%d events after imports that added no build", n)
	}
	f.Images[0].Serial = "20240301"
	f.Images[0].Security = &store.Security{LastScan: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Findings: store.Findings{High: 1}}
	mustImport(t, db, f)
	ev := events()
	if len(ev) != len(f.Images)+1 || ev[0].Kind != store.EventSerial || ev[0].Serial != "20240301" || ev[0].Image.Serial != "20240301" {
		t.Fatalf("latest event %+v of %d", ev[0], len(ev))
	}
	u, err := db.CreateUser(ctx, "feed@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Import(ctx, u.ID, ev[0].Image.ID); err != nil {
		t.Fatal(err)
	}
	lib, err := db.LibraryEvents(ctx, u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(lib) != 2 || lib[0].Kind != store.EventSecurity || lib[1].Kind != store.EventSerial || !strings.Contains(lib[0].Summary, "1 high") {
		t.Errorf("library events %+v", lib)
	}
}
