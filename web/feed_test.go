package web

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/sqlite"
)

// parsedFeed is an Atom document read back with encoding/xml, every
// element RFC 4287 requires or this feed relies on as a list, so a test
// can count them.
type parsedFeed struct {
	XMLName xml.Name      `xml:"feed"`
	NS      string        `xml:"xmlns,attr"`
	IDs     []string      `xml:"id"`
	Titles  []string      `xml:"title"`
	Updated []string      `xml:"updated"`
	Authors []parsedName  `xml:"author"`
	Links   []parsedLink  `xml:"link"`
	Entries []parsedEntry `xml:"entry"`
}

type parsedName struct {
	Names []string `xml:"name"`
}

type parsedLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
	Href string `xml:"href,attr"`
}

type parsedEntry struct {
	IDs       []string     `xml:"id"`
	Titles    []string     `xml:"title"`
	Updated   []string     `xml:"updated"`
	Published []string     `xml:"published"`
	Authors   []parsedName `xml:"author"`
	Links     []parsedLink `xml:"link"`
	Contents  []string     `xml:"content"`
	Summaries []string     `xml:"summary"`
}

// checkAtom parses an Atom document and fails on anything RFC 4287
// requires that it lacks: the namespace; in the feed exactly one id,
// title and updated (a date-time), an author (as its entries have none)
// and a self link; in each entry exactly one id, title and updated, at
// most one published and summary, and an alternate link as it has no
// content; and entry ids that are unique and absolute URIs.
func checkAtom(t *testing.T, what string, body []byte) parsedFeed {
	t.Helper()
	var f parsedFeed
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatalf("%s: not XML: %v\n%s", what, err, body)
	}
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" {
		t.Errorf("%s: root element in namespace %q", what, f.XMLName.Space)
	}
	dateTime := func(where, s string) {
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("%s: %s %q is not an RFC 3339 date-time", what, where, s)
		}
	}
	uri := func(where, s string) {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			t.Errorf("%s: %s %q is not an absolute IRI", what, where, s)
		}
	}
	if len(f.IDs) != 1 || len(f.Titles) != 1 || len(f.Updated) != 1 {
		t.Fatalf("%s: feed has %d ids, %d titles, %d updated; RFC 4287 wants one each", what, len(f.IDs), len(f.Titles), len(f.Updated))
	}
	uri("feed id", f.IDs[0])
	dateTime("feed updated", f.Updated[0])
	if len(f.Authors) == 0 || len(f.Authors[0].Names) != 1 || f.Authors[0].Names[0] == "" {
		t.Errorf("%s: the feed has no author with a name, and its entries have none", what)
	}
	self := false
	for _, l := range f.Links {
		uri("link", l.Href)
		self = self || l.Rel == "self"
	}
	if !self {
		t.Errorf("%s: no self link", what)
	}
	seen := map[string]bool{}
	for i, e := range f.Entries {
		if len(e.IDs) != 1 || len(e.Titles) != 1 || len(e.Updated) != 1 || len(e.Published) > 1 || len(e.Summaries) > 1 {
			t.Fatalf("%s: entry %d has %d ids, %d titles, %d updated, %d published, %d summaries", what, i, len(e.IDs), len(e.Titles), len(e.Updated), len(e.Published), len(e.Summaries))
		}
		uri("entry id", e.IDs[0])
		dateTime("entry updated", e.Updated[0])
		if seen[e.IDs[0]] {
			t.Errorf("%s: entry id %s twice", what, e.IDs[0])
		}
		seen[e.IDs[0]] = true
		alternate := false
		for _, l := range e.Links {
			uri("entry link", l.Href)
			alternate = alternate || l.Rel == "alternate"
		}
		if len(e.Contents) == 0 && !alternate {
			t.Errorf("%s: entry %s has neither content nor an alternate link", what, e.IDs[0])
		}
		if strings.TrimSpace(e.Titles[0]) == "" {
			t.Errorf("%s: entry %s has an empty title", what, e.IDs[0])
		}
	}
	return f
}

func entryIDs(f parsedFeed) []string {
	var out []string
	for _, e := range f.Entries {
		out = append(out, e.IDs[0])
	}
	return out
}

// getFeed fetches a feed, with If-None-Match when etag is given.
func getFeed(t *testing.T, s *Server, path, etag string) (status int, body []byte, newETag string) {
	t.Helper()
	h := http.Header{}
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	rec := do(t, s, http.MethodGet, path, h)
	if rec.Code == http.StatusOK && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("%s: content type %q", path, rec.Header().Get("Content-Type"))
	}
	return rec.Code, rec.Body.Bytes(), rec.Header().Get("ETag")
}

// reimport imports the default catalog's image alias on arch with edit
// applied.
func reimport(t *testing.T, db *sqlite.DB, alias, arch string, edit func(ci *store.CatalogImage)) {
	t.Helper()
	for _, ci := range defaultImages(t) {
		if ci.Alias == alias && ci.Architecture == arch {
			edit(&ci)
			b, _ := json.Marshal(store.CatalogFile{Version: store.CatalogVersion, Images: []store.CatalogImage{ci}})
			if res, err := db.ImportCatalog(context.Background(), bytes.NewReader(b)); err != nil || res.Updated != 1 {
				t.Fatalf("import %s: %+v %v", alias, res, err)
			}
			return
		}
	}
	t.Fatalf("no %s (%s) in the default catalog", alias, arch)
}

// TestCatalogFeeds reads feeds of several queries, checks each is valid
// Atom and answers 304 while unchanged, then imports a new build of one
// image: exactly the feeds whose query matches it (as the list API says)
// gain one entry, and the others still answer 304.
func TestCatalogFeeds(t *testing.T) {
	s, db, _ := newClockedServer(t, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), nil)
	queries := []string{"", "os=debian", "os=alpine", "architecture=arm64", "architecture=amd64", "os=debian&architecture=arm64",
		"search=trixie", "search=alpine", "variant=minimal", "support=supported", "support=ended", "signed=true",
		"max_severity=medium", "max_severity=none", "min_price=5", "os=debian&sort_by=name&page=2"}
	etags := map[string]string{}
	before := map[string][]string{}
	for _, q := range queries {
		path := "/feed.atom?" + q
		status, body, etag := getFeed(t, s, path, "")
		if status != http.StatusOK || etag == "" {
			t.Fatalf("%s: %d, ETag %q", path, status, etag)
		}
		f := checkAtom(t, path, body)
		etags[q], before[q] = etag, entryIDs(f)
		if q == "" && len(f.Entries) != store.FeedLimit {
			t.Errorf("the whole catalog's feed has %d entries, want %d", len(f.Entries), store.FeedLimit)
		}
		if status, body, _ := getFeed(t, s, path, etag); status != http.StatusNotModified || len(body) != 0 {
			t.Errorf("%s again with its ETag: %d and %d bytes, want 304 and none", path, status, len(body))
		}
	}
	// A bad filter is refused as on the catalog page.
	if rec := do(t, s, http.MethodGet, "/feed.atom?support=forever", nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "support") {
		t.Errorf("bad support in a feed query: %d", rec.Code)
	}

	reimport(t, db, "debian/13", "arm64", func(ci *store.CatalogImage) { ci.Serial = "20251101" })
	id := store.ImageID("debian/13", "arm64")
	changed := 0
	for _, q := range queries {
		path := "/feed.atom?" + q
		// The list API says whether the query matches the image: the
		// query narrowed to its alias lists it or not.
		// (Feeds ignore sort and page, so the oracle drops them.)
		oq, _ := url.ParseQuery(q)
		oq.Del("page")
		oq.Del("sort_by")
		oq.Set("alias", "debian/13")
		oq.Set("limit", "100")
		oracle := getList(t, s, oq.Encode())
		matches := slices.Contains(listedAliases(oracle), "debian/13|arm64")
		status, body, _ := getFeed(t, s, path, etags[q])
		if !matches {
			if status != http.StatusNotModified {
				t.Errorf("%s does not match debian/13 arm64, yet changed (%d)", path, status)
			}
			continue
		}
		changed++
		if status != http.StatusOK {
			t.Fatalf("%s matches debian/13 arm64 but answers %d", path, status)
		}
		f := checkAtom(t, path, body)
		var added []parsedEntry
		for _, e := range f.Entries {
			if !slices.Contains(before[q], e.IDs[0]) {
				added = append(added, e)
			}
		}
		if len(added) != 1 {
			t.Fatalf("%s gained %d entries, want 1", path, len(added))
		}
		e := added[0]
		if e.Titles[0] != "debian/13 (arm64): new build 20251101" || e.IDs[0] != f.Entries[0].IDs[0] ||
			!strings.HasSuffix(e.Links[0].Href, "/images/"+id) || !strings.Contains(e.IDs[0], "image/"+id+"/") {
			t.Errorf("%s: new entry %+v", path, e)
		}
		if f.Updated[0] != e.Updated[0] {
			t.Errorf("%s: feed updated %s, newest entry %s", path, f.Updated[0], e.Updated[0])
		}
		if f.Entries[len(f.Entries)-1].Updated[0] >= e.Updated[0] {
			t.Errorf("%s: an image added with the catalog is dated %s, not its added_date", path, f.Entries[len(f.Entries)-1].Updated[0])
		}
	}
	if changed < 5 || changed == len(queries) {
		t.Errorf("%d of %d feeds matched: the queries do not tell matching from not", changed, len(queries))
	}
	// Entry ids stay put: the same feed read again lists the same ids.
	_, b1, _ := getFeed(t, s, "/feed.atom?os=debian", "")
	_, b2, _ := getFeed(t, s, "/feed.atom?os=debian", "")
	if !slices.Equal(entryIDs(checkAtom(t, "again", b1)), entryIDs(checkAtom(t, "again", b2))) {
		t.Error("entry ids change between reads")
	}
}

// TestCatalogPageLinksItsFeed: the catalog page's head names the feed of
// its query (filters only), and so does a visible link.
func TestCatalogPageLinksItsFeed(t *testing.T) {
	s, _ := newTestServer(t)
	doc := mustDoc(t, do(t, s, http.MethodGet, "/?os=debian&sort_by=name&page=2&limit=10", nil))
	href, ok := doc.Find(`head link[rel=alternate][type="application/atom+xml"]`).Attr("href")
	if !ok || href != "/feed.atom?os=debian" {
		t.Errorf("alternate link %q", href)
	}
	if v, _ := doc.Find("a.feed-link").Attr("href"); v != href {
		t.Errorf("visible feed link %q", v)
	}
	if rec := do(t, s, http.MethodGet, href, nil); rec.Code != http.StatusOK {
		t.Errorf("the linked feed answers %d", rec.Code)
	}
}

// TestPersonalFeed: a feed address made on /account lists new builds and
// security changes of the images in the owner's library, and nothing of
// other images; replacing or revoking the address stops the old one.
func TestPersonalFeed(t *testing.T) {
	s, db, _ := newClockedServer(t, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), nil)
	b := newBrowserClient(t, s)
	b.signUp("ada@example.com")
	_, doc := b.get("/account")
	if doc.Find("#personal-feed").Length() == 0 {
		t.Fatal("no personal feed section on /account")
	}
	// The POST answers with a redirect to the page that shows the address
	// once: reloading that page neither shows it again nor replaces it.
	res, _ := b.post("/account/feed", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account#feed-h" {
		t.Fatalf("make a feed address = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, doc = b.get("/account")
	feedURL := strings.TrimSpace(doc.Find("#new-feed-url").Text())
	u, err := url.Parse(feedURL)
	if err != nil || !strings.HasPrefix(u.Path, "/feeds/"+store.FeedKeyPrefix) || !strings.HasSuffix(u.Path, ".atom") {
		t.Fatalf("feed address %q", feedURL)
	}
	path := u.Path
	if _, again := b.get("/account"); again.Find("#new-feed-url").Length() != 0 || strings.Contains(again.Text(), path) {
		t.Error("a reload of the account page shows the feed address again")
	}
	status, body, etag := getFeed(t, s, path, "")
	if status != http.StatusOK || len(checkAtom(t, "empty library", body).Entries) != 0 {
		t.Fatalf("a new feed: %d, %s", status, body)
	}
	if rec := do(t, s, http.MethodGet, path, nil); !strings.Contains(rec.Header().Get("Cache-Control"), "private") {
		t.Errorf("personal feed Cache-Control %q", rec.Header().Get("Cache-Control"))
	}

	user, err := db.FindUserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	owned := store.ImageID("alpine/3.19", "amd64")
	if err := db.Import(context.Background(), user.ID, owned); err != nil {
		t.Fatal(err)
	}
	// Changes of an image not owned, and of the owned image's text, are
	// not in the feed.
	reimport(t, db, "debian/13", "amd64", func(ci *store.CatalogImage) { ci.Serial = "20251101" })
	reimport(t, db, "alpine/3.19", "amd64", func(ci *store.CatalogImage) { ci.Description += " Edited." })
	if status, _, _ := getFeed(t, s, path, etag); status != http.StatusNotModified {
		t.Errorf("changes outside the library changed the personal feed (%d)", status)
	}
	reimport(t, db, "alpine/3.19", "amd64", func(ci *store.CatalogImage) {
		ci.Serial = "20251101"
		ci.Description += " Edited."
	})
	reimport(t, db, "alpine/3.19", "amd64", func(ci *store.CatalogImage) {
		ci.Serial = "20251101"
		ci.Description += " Edited."
		ci.Security.Findings.High = 2
		ci.Security.LastScan = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	})
	status, body, _ = getFeed(t, s, path, etag)
	if status != http.StatusOK {
		t.Fatalf("personal feed after changes: %d", status)
	}
	f := checkAtom(t, "personal", body)
	var titles []string
	for _, e := range f.Entries {
		titles = append(titles, e.Titles[0])
	}
	want := []string{"alpine/3.19 (amd64): security change", "alpine/3.19 (amd64): new build 20251101"}
	if !slices.Equal(titles, want) {
		t.Errorf("personal feed entries %q, want %q", titles, want)
	}
	if len(f.Entries) == 2 && !strings.Contains(f.Entries[0].Summaries[0], "2 high") {
		t.Errorf("security entry summary %q", f.Entries[0].Summaries[0])
	}

	// Replacing the address stops the old one; revoking stops the new.
	_, doc = b.get("/account")
	b.post("/account/feed", url.Values{"_csrf": {csrfFrom(t, doc)}})
	_, doc = b.get("/account")
	next, _ := url.Parse(strings.TrimSpace(doc.Find("#new-feed-url").Text()))
	if status, _, _ := getFeed(t, s, path, ""); status != http.StatusNotFound {
		t.Errorf("the replaced feed address answers %d", status)
	}
	if status, _, _ := getFeed(t, s, next.Path, ""); status != http.StatusOK {
		t.Errorf("the new feed address answers %d", status)
	}
	_, doc = b.get("/account")
	b.post("/account/feed/revoke", url.Values{"_csrf": {csrfFrom(t, doc)}})
	if status, _, _ := getFeed(t, s, next.Path, ""); status != http.StatusNotFound {
		t.Errorf("the revoked feed address answers %d", status)
	}
	if status, _, _ := getFeed(t, s, "/feeds/"+store.FeedKeyPrefix+"nonsense.atom", ""); status != http.StatusNotFound {
		t.Errorf("a made-up feed address answers %d", status)
	}
}
