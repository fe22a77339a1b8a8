package storetest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// lifeNow is the instant the lifecycle cases judge support at.
var lifeNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// lifecycleFixture is Fixture with end-of-life dates, signatures and scans:
// debian ended yesterday, ubuntu amd64 ends within the 90-day window (and
// its arm64 build on the window's last day), the minimal image later, the
// rest have no known end.
func lifecycleFixture() store.CatalogFile {
	f := Fixture()
	scan := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range f.Images {
		ci := &f.Images[i]
		switch ci.ImageName {
		case debian:
			ci.EOLDate = "2026-05-31"
			ci.SupersededBy = "debian/14"
		case ubuntu:
			ci.EOLDate = "2026-06-02"
			ci.Security = &store.Security{Signed: true, Signature: "cosign", Scanner: "trivy",
				LastScan: scan, SBOMURL: "https://example.com/sbom.json"}
		case ubuntuA:
			ci.EOLDate = "2026-08-30" // today + 90 days: still ending
			ci.Security = &store.Security{Signed: true, LastScan: scan, Findings: store.Findings{Low: 2}}
		case minimal:
			ci.EOLDate = "2026-08-31" // the day after the window
			ci.TagsPinned = []string{"base-v1.0.0"}
			ci.SourceURL = "https://example.com/src"
			ci.Security = &store.Security{LastScan: scan, Findings: store.Findings{High: 1, Low: 3}}
		case postgres:
			ci.Security = &store.Security{Signed: false, LastScan: scan, Findings: store.Findings{Critical: 1}}
		case gpu:
			// Signed but never scanned.
			ci.Security = &store.Security{Signed: true}
		}
	}
	return f
}

// findAt lists with a query string, judging support at lifeNow.
func findAt(t testing.TB, s store.Store, query string) store.ImagePage {
	t.Helper()
	q, err := parseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.ParseFilter(q)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	f.Now = lifeNow
	p, err := s.FindImages(ctx, f)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return p
}

func wantNamesAt(t testing.TB, s store.Store, query string, want ...string) {
	t.Helper()
	p := findAt(t, s, query)
	if got := names(p); !slices.Equal(got, want) || p.Total != len(want) {
		t.Errorf("%s:\n got %s (total %d)\nwant %s", query, strings.Join(got, " "), p.Total, strings.Join(want, " "))
	}
}

var lifecycleCases = []Case{
	{"LifecycleFilters", func(t *testing.T, open Opener) {
		s := open(t, nil)
		MustImport(t, s, lifecycleFixture())
		wantNamesAt(t, s, "support=ended&sort_by=name", debian)
		wantNamesAt(t, s, "support=ending&sort_by=name", ubuntu, ubuntuA)
		wantNamesAt(t, s, "support=supported&sort_by=name", alpine, postgres, gpu, lamp, minimal)
		wantNamesAt(t, s, "signed=true&sort_by=name", gpu, ubuntu, ubuntuA)
		wantNamesAt(t, s, "signed=false&sort_by=name", alpine, debian, postgres, lamp, minimal)
		// Unscanned images never pass max_severity.
		wantNamesAt(t, s, "max_severity=none&sort_by=name", ubuntu)
		wantNamesAt(t, s, "max_severity=low&sort_by=name", ubuntu, ubuntuA)
		wantNamesAt(t, s, "max_severity=high&sort_by=name", ubuntu, ubuntuA, minimal)
		wantNamesAt(t, s, "max_severity=critical&sort_by=name", postgres, ubuntu, ubuntuA, minimal)
		wantNamesAt(t, s, "support=ending&signed=true&max_severity=none", ubuntu)
		wantNamesAt(t, s, "os=ubuntu&support=supported", minimal)
		// A day later ubuntu amd64 has ended.
		q, _ := parseQuery("support=ended&sort_by=name")
		f, _ := store.ParseFilter(q)
		f.Now = lifeNow.Add(24 * time.Hour)
		p, err := s.FindImages(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p); !slices.Equal(got, []string{debian, ubuntu}) {
			t.Errorf("ended a day later: %v", got)
		}
	}},
	{"LifecycleFieldsRoundTrip", func(t *testing.T, open Opener) {
		s := open(t, nil)
		MustImport(t, s, lifecycleFixture())
		img, err := s.FindImage(ctx, MinimalID)
		if err != nil {
			t.Fatal(err)
		}
		if img.EOLDate != "2026-08-31" || img.SourceURL != "https://example.com/src" ||
			!slices.Equal(img.TagsPinned, []string{"base-v1.0.0"}) || img.Security == nil || img.Security.Findings.High != 1 {
			t.Errorf("minimal image read back as %+v (security %+v)", img, img.Security)
		}
		img, err = s.FindImage(ctx, UbuntuID)
		if err != nil {
			t.Fatal(err)
		}
		if sec := img.Security; sec == nil || sec.Scanner != "trivy" || sec.Signature != "cosign" || sec.SBOMURL != "https://example.com/sbom.json" {
			t.Errorf("ubuntu security read back as %+v", img.Security)
		}
		deb, err := s.FindImage(ctx, DebianID)
		if err != nil {
			t.Fatal(err)
		}
		if deb.SupersededBy != "debian/14" {
			t.Errorf("superseded_by %q", deb.SupersededBy)
		}
		// The export carries them, and importing it again changes nothing.
		var buf bytes.Buffer
		if err := s.ExportCatalog(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"eol_date": "2026-08-31"`, `"superseded_by": "debian/14"`, `"base-v1.0.0"`,
			`"source_url": "https://example.com/src"`, `"scanner": "trivy"`, `"sbom_url": "https://example.com/sbom.json"`} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("export lacks %s", want)
			}
		}
		res, err := s.ImportCatalog(ctx, bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if res.Added+res.Updated != 0 {
			t.Errorf("re-importing the export: %+v", res)
		}
	}},
	{"FeedEventsAfterImport", func(t *testing.T, open Opener) {
		clock := NewClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
		s := open(t, clock.Now)
		f := Fixture()
		MustImport(t, s, f)
		evs, err := s.FeedEvents(ctx, store.Filter{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(f.Images) {
			t.Fatalf("%d events after the first import, want %d", len(evs), len(f.Images))
		}
		for _, e := range evs {
			if e.Kind != store.EventAdded || e.Image == nil || !e.At.Equal(e.Image.AddedDate) {
				t.Errorf("first import: event %+v", e)
			}
		}
		// A new serial of ubuntu amd64 and a new scan of debian.
		clock.Advance(time.Hour)
		for i := range f.Images {
			switch f.Images[i].ImageName {
			case ubuntu:
				f.Images[i].Serial = "20260601"
			case debian:
				f.Images[i].Security = &store.Security{LastScan: clock.Now(), Findings: store.Findings{Low: 1}}
			}
		}
		MustImport(t, s, f)
		evs, err = s.FeedEvents(ctx, store.Filter{OS: "ubuntu"}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 4 || evs[0].Kind != store.EventSerial || evs[0].Image.ID != UbuntuID ||
			evs[0].Serial != "20260601" || !evs[0].At.Equal(clock.Now()) {
			t.Fatalf("ubuntu feed after a new serial: %+v", evs)
		}
		if evs[0].Seq <= evs[1].Seq {
			t.Errorf("events not newest first: %d then %d", evs[0].Seq, evs[1].Seq)
		}
		// The catalog feed has no security events; a library feed does.
		evs, err = s.FeedEvents(ctx, store.Filter{OS: "debian"}, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == store.EventSecurity {
				t.Errorf("catalog feed holds a security event: %+v", e)
			}
		}
		u := MustUser(t, s, "feed@example.com", 0)
		for _, id := range []string{DebianID, UbuntuID} {
			if err := s.Import(ctx, u.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		lib, err := s.LibraryEvents(ctx, u.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range lib {
			kinds = append(kinds, e.Kind+" "+e.Image.ImageName)
		}
		if want := []string{"security " + debian, "serial " + ubuntu}; !slices.Equal(kinds, want) {
			t.Errorf("library events %v, want %v", kinds, want)
		}
		if lim, err := s.FeedEvents(ctx, store.Filter{}, 2); err != nil || len(lim) != 2 {
			t.Errorf("limit 2: %d events, %v", len(lim), err)
		}
	}},
	{"FeedKeys", func(t *testing.T, open Opener) {
		s := open(t, nil)
		u := MustUser(t, s, "keys@example.com", 0)
		if at, err := s.FeedKeyCreated(ctx, u.ID); err != nil || at != nil {
			t.Fatalf("no key yet: %v, %v", at, err)
		}
		k1, err := s.CreateFeedKey(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.UserByFeedKey(ctx, k1); err != nil || got.ID != u.ID || got.Email != u.Email {
			t.Fatalf("user by key: %+v, %v", got, err)
		}
		if at, err := s.FeedKeyCreated(ctx, u.ID); err != nil || at == nil {
			t.Fatalf("key made: %v, %v", at, err)
		}
		k2, err := s.CreateFeedKey(ctx, u.ID)
		if err != nil || k2 == k1 {
			t.Fatalf("second key %q, %v", k2, err)
		}
		if _, err := s.UserByFeedKey(ctx, k1); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("replaced key: %v", err)
		}
		if err := s.RevokeFeedKey(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByFeedKey(ctx, k2); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("revoked key: %v", err)
		}
		if _, err := s.UserByFeedKey(ctx, "nonsense"); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("malformed key: %v", err)
		}
	}},
	{"BuildRoundTrip", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		digest := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
		build := func(imageID string, layer byte) store.Build {
			m := store.Blob{Digest: digest('a' + layer), Size: 300, MediaType: "application/vnd.oci.image.manifest.v1+json", Role: store.RoleManifest}
			return store.Build{ImageID: imageID, Kind: store.ContentOCI, Manifest: m, Blobs: []store.Blob{
				m,
				{Digest: digest('e'), Size: 100, MediaType: "application/vnd.oci.image.config.v1+json", Role: store.RoleConfig},
				{Digest: digest('0' + layer), Size: 5000, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Role: store.RoleLayer},
			}}
		}
		if _, err := s.FindBuild(ctx, UbuntuID, store.ContentOCI); store.ErrorCode(err) != store.ENOTFOUND {
			t.Fatalf("no build yet: %v", err)
		}
		for _, b := range []store.Build{build(UbuntuID, 1), build(UbuntuArm, 2)} {
			if err := s.RecordBuild(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.FindBuild(ctx, UbuntuID, store.ContentOCI)
		if err != nil {
			t.Fatal(err)
		}
		want := build(UbuntuID, 1)
		if got.Manifest != want.Manifest || len(got.Blobs) != 3 || got.LoadedAt.IsZero() {
			t.Fatalf("build read back as %+v", got)
		}
		roles := map[string]string{}
		for _, bl := range got.Blobs {
			roles[bl.Role] = bl.Digest
		}
		if roles[store.RoleLayer] != digest('1') || roles[store.RoleConfig] != digest('e') {
			t.Errorf("blobs %+v", got.Blobs)
		}
		// Replacing a build drops the old blobs.
		if err := s.RecordBuild(ctx, build(UbuntuID, 3)); err != nil {
			t.Fatal(err)
		}
		builds, imgs, err := s.AliasBuilds(ctx, "ubuntu/24.04", store.ContentOCI)
		if err != nil {
			t.Fatal(err)
		}
		if len(builds) != 2 || len(imgs) != 2 || builds[0].Image.Architecture != "amd64" ||
			builds[0].Build.Manifest.Digest != digest('d') || builds[1].Image.Architecture != "arm64" {
			t.Fatalf("alias builds %+v", builds)
		}
		if b, imgs, err := s.AliasBuilds(ctx, "nope/1", store.ContentOCI); err != nil || len(b) != 0 || len(imgs) != 0 {
			t.Errorf("unknown alias: %v %v %v", b, imgs, err)
		}
		kb, err := s.KindBuilds(ctx, store.ContentOCI)
		if err != nil || len(kb) != 2 || kb[0].Image.ID != UbuntuID || kb[1].Image.ID != UbuntuArm {
			t.Errorf("kind builds %+v, %v", kb, err)
		}
		if kb, err := s.KindBuilds(ctx, store.ContentIncus); err != nil || len(kb) != 0 {
			t.Errorf("incus builds %+v, %v", kb, err)
		}
		refs, err := s.ReferencedBlobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for _, r := range refs {
			ds = append(ds, r.Digest)
		}
		// The config is shared and listed once; the replaced build's layer
		// and manifest are gone.
		if want := []string{digest('2'), digest('3'), digest('c'), digest('d'), digest('e')}; !slices.Equal(ds, want) {
			t.Errorf("referenced blobs %v, want %v", ds, want)
		}
		bad := build(UbuntuID, 1)
		bad.Manifest.Digest = "md5:abc"
		if err := s.RecordBuild(ctx, bad); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("bad digest: %v", err)
		}
		if err := s.RecordBuild(ctx, build(store.ImageID("nope/1", "amd64"), 1)); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("unknown image: %v", err)
		}
		// Pulls.
		u := MustUser(t, s, "puller@example.com", 0)
		if err := s.RecordPull(ctx, u.ID, UbuntuID); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordPull(ctx, u.ID, UbuntuID); err != nil {
			t.Fatal(err)
		}
		last, err := s.LastPulls(ctx, u.ID)
		if err != nil || len(last) != 1 || last[UbuntuID].IsZero() {
			t.Errorf("last pulls %v, %v", last, err)
		}
	}},
	{"PullKeys", func(t *testing.T, open Opener) {
		s := open(t, nil)
		u := MustUser(t, s, "pk@example.com", 0)
		other := MustUser(t, s, "other@example.com", 0)
		secret, k, err := s.CreatePullKey(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, store.PullKeyPrefix) || k.Hint != secret[len(secret)-4:] || k.ID == 0 {
			t.Fatalf("key %q %+v", secret, k)
		}
		if got, err := s.UserByPullKey(ctx, secret); err != nil || got.ID != u.ID {
			t.Fatalf("user by pull key: %+v %v", got, err)
		}
		secret2, k2, err := s.CreatePullKey(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := s.PullKeys(ctx, u.ID)
		if err != nil || len(keys) != 2 || keys[0].ID != k2.ID || keys[1].ID != k.ID || keys[0].RevokedAt != nil {
			t.Fatalf("pull keys %+v %v", keys, err)
		}
		if err := s.RevokePullKey(ctx, other.ID, k.ID); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("revoking another's key: %v", err)
		}
		if err := s.RevokePullKey(ctx, u.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserByPullKey(ctx, secret); store.ErrorCode(err) != store.EUNAUTHORIZED {
			t.Errorf("revoked key: %v", err)
		}
		if got, err := s.UserByPullKey(ctx, secret2); err != nil || got.ID != u.ID {
			t.Errorf("live key: %v", err)
		}
		keys, _ = s.PullKeys(ctx, u.ID)
		if len(keys) != 2 || keys[1].RevokedAt == nil {
			t.Errorf("after revoking: %+v", keys)
		}
		// At most 20 live keys.
		for range 19 {
			if _, _, err := s.CreatePullKey(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.CreatePullKey(ctx, u.ID); store.ErrorCode(err) != store.ECONFLICT {
			t.Errorf("21st live key: %v", err)
		}
	}},
	{"GroupedListing", func(t *testing.T, open Opener) {
		s := openFixture(t, open)
		p := find(t, s, "group=alias&sort_by=name")
		if !p.Grouped || p.Total != 7 || p.BuildTotal != 8 || len(p.Builds) != 7 {
			t.Fatalf("grouped: total %d builds %d entries %d grouped %v", p.Total, p.BuildTotal, len(p.Builds), p.Grouped)
		}
		if got, want := names(p), []string{alpine, debian, postgres, gpu, lamp, ubuntu, minimal}; !slices.Equal(got, want) {
			t.Errorf("grouped names %v, want %v", got, want)
		}
		for i, bs := range p.Builds {
			if len(bs) == 0 || bs[0].ID != p.Images[i].ID {
				t.Errorf("entry %d: builds %v", i, bs)
			}
		}
		if bs := p.Builds[5]; len(bs) != 2 || bs[1].ID != UbuntuArm {
			t.Errorf("ubuntu/24.04 builds %v", bs)
		}
		// The filter chooses the builds: arm64 alone stands for ubuntu.
		p = find(t, s, "group=alias&architecture=arm64&sort_by=name")
		if got := names(p); !slices.Equal(got, []string{lamp, ubuntuA}) || p.Total != 2 || p.BuildTotal != 2 {
			t.Errorf("arm64 grouped %v total %d/%d", got, p.Total, p.BuildTotal)
		}
		p = find(t, s, "group=alias&sort_by=size&sort_order=desc&limit=2&page=2")
		if got := names(p); !slices.Equal(got, []string{lamp, postgres}) || p.Total != 7 {
			t.Errorf("page 2 by size: %v (total %d)", got, p.Total)
		}
		p = find(t, s, "group=alias&os=gentoo")
		if !p.Grouped || p.Total != 0 || len(p.Images) != 0 {
			t.Errorf("empty grouped listing: %+v", p)
		}
	}},
}
