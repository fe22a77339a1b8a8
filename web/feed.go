package web

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// Atom (RFC 4287) documents, as encoding/xml writes them.
type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Subtitle  string      `xml:"subtitle,omitempty"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Summary    string         `xml:"summary"`
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// feedEpoch is the updated date of a feed with no entries: RFC 4287 wants
// one, and a fixed one keeps an empty feed's ETag from changing.
var feedEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// feedSite is what entry ids and links are made from: the address the
// client used (scheme and host) and the host alone, without its port, as
// the authority of tag: URIs (RFC 4151).
type feedSite struct {
	base, authority string
}

func (s *Server) feedSite(c echo.Context) feedSite {
	r := c.Request()
	scheme := "http"
	if s.isSecure(r) {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	authority := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		authority = h
	}
	authority = strings.Trim(strings.ToLower(authority), "[]")
	return feedSite{base: scheme + "://" + host, authority: authority}
}

// entryID is an event's stable id: the image and the event's number, under
// the server's host and the event's date.
func (fs feedSite) entryID(e store.ImageEvent) string {
	return fmt.Sprintf("tag:%s,%s:image/%s/event/%d", fs.authority, e.At.UTC().Format(store.DateLayout), e.Image.ID, e.Seq)
}

// entryTitle names what happened to which image.
func entryTitle(e store.ImageEvent) string {
	name := e.Image.Alias + " (" + e.Image.Architecture + ")"
	switch e.Kind {
	case store.EventAdded:
		return "New image: " + name
	case store.EventSerial:
		return name + ": new build " + e.Serial
	default:
		return name + ": security change"
	}
}

// atomDocument writes events as a feed with the given id, title and links.
func atomDocument(fs feedSite, id, title, subtitle, self, alternate string, events []store.ImageEvent) ([]byte, error) {
	f := atomFeed{ID: id, Title: title, Subtitle: subtitle, Updated: feedEpoch.Format(time.RFC3339),
		Author: atomPerson{Name: "Berth"}, Generator: "Berth",
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}}}
	if alternate != "" {
		f.Links = append(f.Links, atomLink{Rel: "alternate", Type: "text/html", Href: alternate})
	}
	var latest time.Time
	for _, e := range events {
		at := e.At.UTC().Format(time.RFC3339)
		if e.At.After(latest) {
			latest = e.At
			f.Updated = at
		}
		f.Entries = append(f.Entries, atomEntry{
			ID: fs.entryID(e), Title: entryTitle(e), Updated: at, Published: at,
			Links:      []atomLink{{Rel: "alternate", Type: "text/html", Href: fs.base + "/images/" + e.Image.ID}},
			Summary:    e.Summary,
			Categories: []atomCategory{{Term: e.Kind}, {Term: e.Image.OS}, {Term: e.Image.Architecture}},
		})
	}
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode feed: %w", err)
	}
	return append([]byte(xml.Header), append(body, '\n')...), nil
}

// feedType is the media type of Atom documents.
const feedType = "application/atom+xml; charset=utf-8"

// handleCatalogFeed is GET /feed.atom?<catalog query>: the latest new
// images and new builds of the images the query matches, as Atom. Sort
// and page parameters are accepted, as the page's URL carries them, and
// ignored. Answers are cached like listings, by query and generation.
func (s *Server) handleCatalogFeed(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := store.ParseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	f.Now = s.now()
	f.SortBy, f.SortOrder, f.Page, f.Limit = "", "", 0, 0
	query := f.Query().Encode()
	gen, err := s.store.Generation(ctx)
	if err != nil {
		return err
	}
	fs := s.feedSite(c)
	a, err := s.cached(ctx, "feed|"+fs.base+"|"+query, gen, encodingFor(c), func() ([]byte, error) {
		events, err := s.store.FeedEvents(ctx, f, store.FeedLimit)
		if err != nil {
			return nil, err
		}
		qs := ""
		if query != "" {
			qs = "?" + query
		}
		title := "Berth: new images and builds"
		if chips := feedFilterText(f); chips != "" {
			title += " (" + chips + ")"
		}
		return atomDocument(fs, "tag:"+fs.authority+",2024:feed/catalog"+qs, title,
			"New images and new builds of the images in the catalog that match this query.",
			fs.base+"/feed.atom"+qs, fs.base+"/"+qs, events)
	})
	if err != nil {
		return err
	}
	// Everyone gets the same document; readers revalidate with the ETag
	// sendAnswer sets, and get 304 while nothing changed.
	c.Response().Header().Set("Cache-Control", "public, no-cache")
	return sendAnswer(c, http.StatusOK, feedType, a)
}

// feedFilterText names a feed's filters for its title, as the query has
// them: os=debian, architecture=arm64.
func feedFilterText(f store.Filter) string {
	var parts []string
	for _, p := range store.QueryParams() {
		if v := f.Param(p); v != "" {
			parts = append(parts, p+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// handlePersonalFeed is GET /feeds/{key}.atom: the latest new builds and
// security changes of the images in the key owner's library. The key is
// the credential, as feed readers send no cookies; it is revoked or
// replaced on /account.
func (s *Server) handlePersonalFeed(c echo.Context) error {
	ctx := c.Request().Context()
	key, ok := strings.CutSuffix(c.Param("key"), ".atom")
	if !ok {
		return store.Errorf(store.ENOTFOUND, "Feed addresses end in .atom; copy yours again from your account page.")
	}
	u, err := s.store.UserByFeedKey(ctx, key)
	if err != nil {
		return err
	}
	events, err := s.store.LibraryEvents(ctx, u.ID, store.FeedLimit)
	if err != nil {
		return err
	}
	fs := s.feedSite(c)
	body, err := atomDocument(fs, "tag:"+fs.authority+",2024:feed/library/"+strconv.FormatInt(u.ID, 10),
		"Berth: your library", "New builds and security changes of the images in your library.",
		fs.base+"/feeds/"+key+".atom", fs.base+"/library", events)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	return send(c, http.StatusOK, feedType, body)
}
