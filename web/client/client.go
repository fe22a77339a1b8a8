// Package client is a Go client of Berth's JSON API (/api/v1), as described
// by web/openapi.json. The berth command's client commands (berth images,
// library, wallet, login) use it to talk to any Berth server over HTTP.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one Berth server. The zero value is not usable: use New.
type Client struct {
	base  *url.URL // the server's root, e.g. http://localhost:8080
	token string
	http  *http.Client
}

// New returns a client of the server at baseURL (scheme and host, and a
// path prefix when Berth is served below one). token may be empty for the
// catalog calls, which need none.
func New(baseURL, token string) (*Client, error) {
	u, err := ParseServerURL(baseURL)
	if err != nil {
		return nil, err
	}
	return &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// ParseServerURL checks a server address: http or https with a host.
// A bare host:port is taken as http.
func ParseServerURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no server address: give one such as http://localhost:8080")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not a server address: use one such as http://localhost:8080", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// BaseURL is the server's address as the client uses it.
func (c *Client) BaseURL() string { return c.base.String() }

// Error is a refusal by the server: its status and the message of its
// envelope, meant for people, and the parameter at fault when it names one.
type Error struct {
	Status  int
	Message string
	Param   string
}

func (e *Error) Error() string { return e.Message }

// envelope is the shape of every answer.
type envelope struct {
	StatusCode int             `json:"statusCode"`
	Message    string          `json:"message"`
	Data       json.RawMessage `json:"data"`
}

// Security is an image's supply-chain record.
type Security struct {
	Signed   bool     `json:"signed"`
	SBOM     string   `json:"sbom"`
	LastScan string   `json:"last_scan"`
	Findings Findings `json:"findings"`
	// The supply-chain facts the catalog may have, and whether the last
	// scan is older than the server allows.
	Scanner   string `json:"scanner,omitempty"`
	Signature string `json:"signature,omitempty"`
	SBOMURL   string `json:"sbom_url,omitempty"`
	ReportURL string `json:"report_url,omitempty"`
	ScanStale bool   `json:"scan_stale"`
}

// Findings counts the last scan's vulnerabilities by severity.
type Findings struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
}

// Image is an image as the API shows it.
type Image struct {
	ID            string    `json:"id"`
	Alias         string    `json:"alias"`
	Description   string    `json:"description"`
	ImageName     string    `json:"image_name"`
	Architecture  string    `json:"architecture"`
	OS            string    `json:"os"`
	Release       string    `json:"release"`
	Serial        string    `json:"serial"`
	Variant       string    `json:"variant"`
	Size          int64     `json:"size"`
	Price         float64   `json:"price"`
	AddedDate     string    `json:"added_date"`
	AverageRating float64   `json:"average_rating"`
	RatingCount   int64     `json:"rating_count"`
	IconURL       string    `json:"icon_url"`
	Prespawn      bool      `json:"prespawn"`
	Tags          []string  `json:"tags"`
	BasedOn       string    `json:"based_on"`
	Features      []string  `json:"features"`
	PullRef       string    `json:"pull_ref"`
	Security      *Security `json:"security"`
	// Lifecycle: when upstream support ends (nil: unknown), the successor,
	// and the support state judged from it (supported, ending, ended).
	EOLDate      *string  `json:"eol_date"`
	SupersededBy string   `json:"superseded_by"`
	Support      string   `json:"support"`
	TagsPinned   []string `json:"tags_pinned"`
	SourceURL    string   `json:"source_url"`
	Docs         string   `json:"docs,omitempty"`
}

// Pagination says where a page is in the whole list.
type Pagination struct {
	Page        int  `json:"page"`
	Limit       int  `json:"limit"`
	Total       int  `json:"total"`
	Pages       int  `json:"pages"`
	TotalCapped bool `json:"total_capped,omitempty"`
}

// ImageList is one page of a catalog listing. Message is the server's
// note, e.g. when an alias names nothing.
type ImageList struct {
	Images     []Image    `json:"images"`
	Pagination Pagination `json:"pagination"`
	Message    string     `json:"-"`
}

// LibraryImage is an image in the caller's library.
type LibraryImage struct {
	Image
	AcquiredVia string  `json:"acquired_via"`
	AcquiredAt  string  `json:"acquired_at"`
	PricePaid   float64 `json:"price_paid"`
}

// Purchase is the result of buying an image.
type Purchase struct {
	PricePaid        float64 `json:"price_paid"`
	RemainingBalance float64 `json:"remaining_balance"`
	Message          string  `json:"-"`
}

// Rating is the result of rating an image.
type Rating struct {
	Rating        int     `json:"rating"`
	AverageRating float64 `json:"average_rating"`
	RatingCount   int64   `json:"rating_count"`
}

// Balance is the amount of one currency in the wallet.
type Balance struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`
}

// LedgerEntry is one change of the wallet's balance.
type LedgerEntry struct {
	ID           int64   `json:"id"`
	Kind         string  `json:"kind"`
	Amount       float64 `json:"amount"`
	Currency     string  `json:"currency"`
	ImageID      string  `json:"image_id,omitempty"`
	Alias        string  `json:"alias,omitempty"`
	Architecture string  `json:"architecture,omitempty"`
	Memo         string  `json:"memo"`
	CreatedAt    string  `json:"created_at"`
}

// ListImages is GET /api/v1/images/public with the query as given (os,
// architecture, search, sort_by, page, limit...); the server checks it.
func (c *Client) ListImages(ctx context.Context, q url.Values) (*ImageList, error) {
	var out ImageList
	msg, err := c.do(ctx, http.MethodGet, "/api/v1/images/public", q, nil, &out)
	if err != nil {
		return nil, err
	}
	out.Message = msg
	return &out, nil
}

// ListImagesRaw is ListImages returning the answer's data as sent.
func (c *Client) ListImagesRaw(ctx context.Context, q url.Values) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/images/public", q, nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// Image is GET /api/v1/images/public/{id}: one image with its docs.
func (c *Client) Image(ctx context.Context, id string) (*Image, error) {
	var out Image
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/images/public/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Library is GET /api/v1/images/user.
func (c *Client) Library(ctx context.Context) ([]LibraryImage, error) {
	var out struct {
		Images []LibraryImage `json:"images"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/images/user", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Images, nil
}

// Import is POST /api/v1/images/import/{id}; it returns the server's message.
func (c *Client) Import(ctx context.Context, id string) (string, error) {
	return c.do(ctx, http.MethodPost, "/api/v1/images/import/"+url.PathEscape(id), nil, nil, nil)
}

// Purchase is POST /api/v1/images/purchase/{id}. A non-empty idemKey is
// sent as Idempotency-Key, so a retry cannot charge twice; a non-nil
// expectedPrice (USD) is the only price the server may charge.
func (c *Client) Purchase(ctx context.Context, id, idemKey string, expectedPrice *float64) (*Purchase, error) {
	var out Purchase
	h := http.Header{}
	if idemKey != "" {
		h.Set("Idempotency-Key", idemKey)
	}
	var body any
	if expectedPrice != nil {
		body = map[string]float64{"expected_price": *expectedPrice}
	}
	msg, err := c.doHeader(ctx, http.MethodPost, "/api/v1/images/purchase/"+url.PathEscape(id), nil, body, h, &out)
	if err != nil {
		return nil, err
	}
	out.Message = msg
	return &out, nil
}

// Rate is POST /api/v1/images/rate/{id} with {"rating": n}.
func (c *Client) Rate(ctx context.Context, id string, rating int) (*Rating, error) {
	var out Rating
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/images/rate/"+url.PathEscape(id), nil, map[string]int{"rating": rating}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Balances is GET /api/v1/wallet/balances.
func (c *Client) Balances(ctx context.Context) ([]Balance, error) {
	var out struct {
		Balances []Balance `json:"balances"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/wallet/balances", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Balances, nil
}

// History is GET /api/v1/wallet/history, newest first.
func (c *Client) History(ctx context.Context) ([]LedgerEntry, error) {
	var out struct {
		History []LedgerEntry `json:"history"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/wallet/history", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.History, nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) (string, error) {
	return c.doHeader(ctx, method, path, q, body, nil, out)
}

// doHeader sends one call and decodes the envelope: data into out on
// success, an *Error with the server's message otherwise.
func (c *Client) doHeader(ctx context.Context, method, path string, q url.Values, body any, h http.Header, out any) (string, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return "", err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("cannot reach the Berth server at %s: %w", c.base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", fmt.Errorf("read the answer of %s: %w", c.base, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.StatusCode == 0 {
		return "", &Error{Status: resp.StatusCode,
			Message: fmt.Sprintf("%s did not answer like a Berth server (HTTP %d %s)", c.base, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode, Message: env.Message}
		var d struct {
			Param string `json:"param"`
		}
		if json.Unmarshal(env.Data, &d) == nil {
			e.Param = d.Param
		}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return "", e
	}
	if out != nil {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = env.Data
		} else if err := json.Unmarshal(env.Data, out); err != nil {
			return "", fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
		}
	}
	return env.Message, nil
}

// unwrapURLError drops net/http's "Get \"http://...\":" prefix, which
// repeats the address the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
