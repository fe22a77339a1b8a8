package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// envelope is the shape of every API answer.
type envelope struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message,omitempty"`
	Data       any    `json:"data"`
}

// errorData tells a client which parameter to fix and, for an alias, the
// closest aliases that exist.
type errorData struct {
	Param       string   `json:"param"`
	Suggestions []string `json:"suggestions,omitempty"`
	// Price is the image's current price in USD, when a purchase was
	// refused because it changed.
	Price *float64 `json:"price,omitempty"`
}

func errorEnvelope(p problem) envelope {
	env := envelope{StatusCode: p.status, Message: p.message}
	if p.param != "" {
		env.Data = errorData{Param: p.param, Suggestions: p.suggestions, Price: p.price}
	}
	return env
}

// ok answers 200 with data in the envelope.
func ok(c echo.Context, message string, data any) error {
	body, err := json.Marshal(envelope{StatusCode: http.StatusOK, Message: message, Data: data})
	if err != nil {
		return fmt.Errorf("encode %s: %w", c.Request().URL.Path, err)
	}
	return sendJSON(c, body)
}

// sendJSON writes an encoded 200 envelope. Catalog reads may be cached
// by anyone (and revalidated); answers about an account never are.
func sendJSON(c echo.Context, body []byte) error { return sendJSONAnswer(c, newAnswer(body)) }

// sendJSONAnswer is sendJSON for an answer made already.
func sendJSONAnswer(c echo.Context, a *answer) error {
	if currentUser(c) != nil {
		c.Response().Header().Set("Cache-Control", "private, no-store")
	} else {
		c.Response().Header().Set("Cache-Control", "public, no-cache")
	}
	return sendAnswer(c, http.StatusOK, echo.MIMEApplicationJSON, a)
}

// imageJSON is an image as the API shows it; field names follow the contract.
type imageJSON struct {
	ID            string          `json:"id"`
	Alias         string          `json:"alias"`
	Description   string          `json:"description"`
	ImageName     string          `json:"image_name"`
	Architecture  string          `json:"architecture"`
	OS            string          `json:"os"`
	Release       string          `json:"release"`
	Serial        string          `json:"serial"`
	Variant       string          `json:"variant"`
	Size          int64           `json:"size"`
	Price         float64         `json:"price"`
	AddedDate     string          `json:"added_date"`
	AverageRating float64         `json:"average_rating"`
	RatingCount   int64           `json:"rating_count"`
	IconURL       string          `json:"icon_url"`
	Prespawn      bool            `json:"prespawn"`
	Tags          []string        `json:"tags"`
	BasedOn       string          `json:"based_on"`
	Features      []string        `json:"features"`
	PullRef       string          `json:"pull_ref"`
	Security      *securityRecord `json:"security"`
	EOLDate       *string         `json:"eol_date"`
	SupersededBy  string          `json:"superseded_by"`
	Support       string          `json:"support"`
	TagsPinned    []string        `json:"tags_pinned"`
	SourceURL     string          `json:"source_url"`
	Docs          *string         `json:"docs,omitempty"`
}

// securityRecord is an image's security record with what is judged from it
// as of now: whether the last scan is older than the server allows.
type securityRecord struct {
	*store.Security
	ScanStale bool `json:"scan_stale"`
}

func newImageJSON(img *store.Image, life views.Lifecycle) imageJSON {
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	out := imageJSON{
		ID: img.ID, Alias: img.Alias, Description: img.Description, ImageName: img.ImageName,
		Architecture: img.Architecture, OS: img.OS, Release: img.Release, Serial: img.Serial,
		Variant: img.Variant, Size: img.Size, Price: store.CentsToUSD(img.PriceCents),
		AddedDate:     img.AddedDate.UTC().Format(time.RFC3339),
		AverageRating: img.AverageRating(), RatingCount: img.RatingCount,
		IconURL:  "/api/v1/images/" + img.ID + "/icon",
		Prespawn: img.Prespawn, Tags: orEmpty(img.Tags), BasedOn: img.BasedOn,
		Features: orEmpty(img.Features), PullRef: img.PullRef,
		SupersededBy: img.SupersededBy, Support: img.Support(life.Now), TagsPinned: orEmpty(img.TagsPinned),
		SourceURL: img.SourceURL,
	}
	if img.EOLDate != "" {
		out.EOLDate = &img.EOLDate
	}
	if img.Security != nil {
		out.Security = &securityRecord{Security: img.Security, ScanStale: life.Stale(img)}
	}
	return out
}

type paginationJSON struct {
	Page  int `json:"page"`
	Limit int `json:"limit"`
	Total int `json:"total"`
	Pages int `json:"pages"`
	// TotalCapped says total stopped counting at store.CountCap matches.
	TotalCapped bool `json:"total_capped,omitempty"`
	// Builds counts the builds that pass the filter, in a grouped listing
	// (group=alias), where total counts aliases.
	Builds *int `json:"builds,omitempty"`
}

type imageListJSON struct {
	Images     []any          `json:"images"`
	Pagination paginationJSON `json:"pagination"`
}

// aliasJSON is one entry of a grouped listing (group=alias): the alias's
// first build by architecture, with every build of it that passes the
// filter, their architectures and their price range.
type aliasJSON struct {
	imageJSON
	Architectures []string    `json:"architectures"`
	MinPrice      float64     `json:"min_price"`
	MaxPrice      float64     `json:"max_price"`
	Builds        []imageJSON `json:"builds"`
}

func newAliasJSON(first *store.Image, builds []*store.Image, life views.Lifecycle) aliasJSON {
	out := aliasJSON{imageJSON: newImageJSON(first, life), Architectures: []string{}, Builds: []imageJSON{},
		MinPrice: store.CentsToUSD(first.PriceCents), MaxPrice: store.CentsToUSD(first.PriceCents)}
	for _, b := range builds {
		out.Architectures = append(out.Architectures, b.Architecture)
		out.Builds = append(out.Builds, newImageJSON(b, life))
		out.MinPrice = min(out.MinPrice, store.CentsToUSD(b.PriceCents))
		out.MaxPrice = max(out.MaxPrice, store.CentsToUSD(b.PriceCents))
	}
	return out
}

// handleAPIListImages is GET /api/v1/images/public. Answers are cached by
// canonical query until the catalog changes. A malformed alias is a 400
// whose message names the format and the closest aliases; an alias that
// names nothing gives an empty list with a message saying so.
func (s *Server) handleAPIListImages(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := store.ParseFilter(c.QueryParams())
	life := s.life()
	f.Now = life.Now
	if store.ErrorParam(err) == "alias" && textOnly(c.QueryParams()["alias"]) {
		err = s.store.ExplainAlias(ctx, strings.ToLower(strings.TrimSpace(c.QueryParam("alias"))), "")
	}
	if err != nil {
		return err
	}
	gen, err := s.store.Generation(ctx)
	if err != nil {
		return err
	}
	list, err := s.cached(ctx, "api|"+f.Query().Encode(), gen, encodingFor(c), func() ([]byte, error) {
		page, err := s.store.FindImages(ctx, f)
		if err != nil {
			return nil, err
		}
		message := ""
		if f.Alias != "" && page.Total == 0 {
			switch err := s.store.ExplainAlias(ctx, f.Alias, f.Architecture); store.ErrorCode(err) {
			case store.EINTERNAL:
				return nil, err
			case store.ENOTFOUND:
				message = store.ErrorMessage(err)
			}
		}
		out := imageListJSON{
			Images:     make([]any, len(page.Images)),
			Pagination: paginationJSON{Page: page.Page, Limit: page.Limit, Total: page.Total, Pages: page.Pages(), TotalCapped: page.Capped},
		}
		for i, img := range page.Images {
			if page.Grouped {
				out.Images[i] = newAliasJSON(img, page.Builds[i], life)
			} else {
				out.Images[i] = newImageJSON(img, life)
			}
		}
		if page.Grouped {
			out.Pagination.Builds = &page.BuildTotal
		}
		return json.Marshal(envelope{StatusCode: http.StatusOK, Message: message, Data: out})
	})
	if err != nil {
		return err
	}
	return sendJSONAnswer(c, list)
}

// handleAPIGetImage is GET /api/v1/images/public/{id}; it adds the docs body.
func (s *Server) handleAPIGetImage(c echo.Context) error {
	img, err := s.store.FindImage(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	out := newImageJSON(img, s.life())
	out.Docs = &img.Docs
	return ok(c, "", out)
}
