package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// openAPIModel parses a description and builds its validator.
func openAPIModel(t *testing.T, spec []byte) (*v3.Document, validator.Validator) {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithRejectUndeclaredRequestBody())
	if len(errs) > 0 {
		t.Fatalf("openapi.json: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", describe(errs))
	}
	return &m.Model, v
}

func describe[E error](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n\t" + e.Error())
	}
	return b.String()
}

// apiCase is one request of the contract test and the status it must get.
type apiCase struct {
	name   string
	method string
	target string // path and query, from /api/v1
	token  string
	body   string
	header map[string]string
	want   int
	// invalid marks requests the document itself refuses (a parameter
	// out of its range, a missing token, a body it does not declare); the
	// others must pass the document's request validation.
	invalid bool
	// expired sends the request with a deadline already past (a 503).
	expired bool
	// check looks further at the answer.
	check func(t *testing.T, rec *httptest.ResponseRecorder)
}

// openAPIFixture is the state the contract cases run against.
type openAPIFixture struct {
	s                             *Server
	ada, poor, revoked, lim       string // tokens
	codes                         []string
	catalogETag, imageETag, iconE string
}

// TestOpenAPI drives every /api/v1 route through the real router, for
// success and for every error the document declares, and validates each
// request and each answer (status, headers, body) against web/openapi.json.
// It then checks that every response the document declares was produced
// by some case, so no declared error goes untested and no answer is
// undeclared.
func TestOpenAPI(t *testing.T) {
	model, v := openAPIModel(t, OpenAPI)
	s, db := newTestServer(t)
	ctx := context.Background()
	f := &openAPIFixture{s: s}
	_, f.ada = member(t, db, "ada@example.com", 50000)
	_, f.poor = member(t, db, "poor@example.com", 400)
	_, f.lim = member(t, db, "lim@example.com", 0)
	rev, revoked := member(t, db, "rev@example.com", 0)
	if _, err := db.RevokeAllTokens(ctx, rev.ID); err != nil {
		t.Fatal(err)
	}
	f.revoked = revoked
	codes, err := db.CreateVouchers(ctx, 5000, 2, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	f.codes = codes
	f.catalogETag = do(t, s, "GET", "/api/v1/images/public?os=debian", nil).Header().Get("ETag")
	f.imageETag = do(t, s, "GET", "/api/v1/images/public/"+freeImage, nil).Header().Get("ETag")
	f.iconE = do(t, s, "GET", "/api/v1/images/"+freeImage+"/icon", nil).Header().Get("ETag")
	openapiETag := do(t, s, "GET", "/api/v1/openapi.json", nil).Header().Get("ETag")
	if f.catalogETag == "" || f.imageETag == "" || f.iconE == "" || openapiETag == "" {
		t.Fatal("a GET answered without an ETag")
	}

	unknown := strings.Repeat("0", 24)
	huge := `{"rating": 4, "pad": "` + strings.Repeat("x", 2<<20) + `"}`
	etag := func(e string) map[string]string { return map[string]string{"If-None-Match": e} }
	cases := []apiCase{
		{name: "openapi", method: "GET", target: "/openapi.json", want: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if rec.Body.String() != string(OpenAPI) {
				t.Error("GET /api/v1/openapi.json is not the embedded document")
			}
		}},
		{name: "openapi 304", method: "GET", target: "/openapi.json", header: etag(openapiETag), want: 304},

		{name: "list", method: "GET", target: "/images/public?search=docker&sort_by=rating&sort_order=desc&limit=10", want: 200},
		{name: "list every filter", method: "GET", target: "/images/public?os=ubuntu&architecture=amd64&variant=standard&prespawn=true&min_price=0&max_price=100&min_rating=0&sort_by=price&sort_order=asc&page=1&limit=5", want: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if !strings.Contains(rec.Body.String(), `"images":[{`) {
					t.Errorf("no image passes every filter, so none was validated: %s", rec.Body)
				}
			}},
		{name: "list grouped by alias", method: "GET", target: "/images/public?group=alias&architecture=arm64&limit=5", want: 200},
		{name: "list lifecycle filters", method: "GET", target: "/images/public?support=supported&signed=true&max_severity=high", want: 200},
		{name: "list bad support", method: "GET", target: "/images/public?support=eol", want: 400, invalid: true},
		{name: "list bad group", method: "GET", target: "/images/public?group=os", want: 400, invalid: true},
		{name: "list by alias", method: "GET", target: "/images/public?alias=headjack/dind&architecture=arm64", want: 200},
		{name: "list alias names nothing", method: "GET", target: "/images/public?alias=ubuntu/99.04", want: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if !strings.Contains(rec.Body.String(), `"message":"No image has the alias`) {
				t.Errorf("no message for an alias that names nothing: %s", rec.Body)
			}
		}},
		{name: "list page past the end", method: "GET", target: "/images/public?page=50&limit=100", want: 200},
		{name: "list 304", method: "GET", target: "/images/public?os=debian", header: etag(f.catalogETag), want: 304},
		{name: "list negative price", method: "GET", target: "/images/public?min_price=-1", want: 400, invalid: true},
		{name: "list min above max", method: "GET", target: "/images/public?min_price=20&max_price=10", want: 400},
		{name: "list unknown sort", method: "GET", target: "/images/public?sort_by=colour", want: 400, invalid: true},
		{name: "list limit 0", method: "GET", target: "/images/public?limit=0", want: 400, invalid: true},
		{name: "list limit 101", method: "GET", target: "/images/public?limit=101", want: 400, invalid: true},
		{name: "list rating 6", method: "GET", target: "/images/public?min_rating=6", want: 400, invalid: true},
		{name: "list unknown parameter", method: "GET", target: "/images/public?arch=arm64", want: 400, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if !strings.Contains(rec.Body.String(), `"param":"arch"`) {
				t.Errorf("the unknown parameter is not named: %s", rec.Body)
			}
		}},
		{name: "list bad architecture", method: "GET", target: "/images/public?architecture=sparc", want: 400, invalid: true},
		{name: "list malformed alias", method: "GET", target: "/images/public?alias=ubuntu:24.04", want: 400, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if !strings.Contains(rec.Body.String(), `"suggestions":[`) {
				t.Errorf("no suggestions: %s", rec.Body)
			}
		}},
		{name: "list 503", method: "GET", target: "/images/public?os=fedora", expired: true, want: 503},

		{name: "image", method: "GET", target: "/images/public/" + freeImage, want: 200},
		{name: "image 304", method: "GET", target: "/images/public/" + freeImage, header: etag(f.imageETag), want: 304},
		{name: "image unknown", method: "GET", target: "/images/public/" + unknown, want: 404},
		{name: "image malformed id", method: "GET", target: "/images/public/nope", want: 404, invalid: true},
		{name: "image 503", method: "GET", target: "/images/public/" + paidImage, expired: true, want: 503},

		{name: "icon", method: "GET", target: "/images/" + freeImage + "/icon", want: 200},
		{name: "icon 304", method: "GET", target: "/images/" + freeImage + "/icon", header: etag(f.iconE), want: 304},
		{name: "icon unknown", method: "GET", target: "/images/" + unknown + "/icon", want: 404},
		{name: "icon 503", method: "GET", target: "/images/" + freeImage + "/icon", expired: true, want: 503},

		{name: "library empty", method: "GET", target: "/images/user", token: f.ada, want: 200},
		{name: "library no token", method: "GET", target: "/images/user", want: 401, invalid: true},
		{name: "library revoked token", method: "GET", target: "/images/user", token: f.revoked, want: 401},
		{name: "library 503", method: "GET", target: "/images/user", token: f.ada, expired: true, want: 503},

		{name: "import", method: "POST", target: "/images/import/" + freeImage, token: f.ada, want: 200},
		{name: "import again", method: "POST", target: "/images/import/" + freeImage, token: f.ada, want: 200},
		{name: "import paid", method: "POST", target: "/images/import/" + paidImage, token: f.ada, want: 400},
		{name: "import unknown", method: "POST", target: "/images/import/" + unknown, token: f.ada, want: 404},
		{name: "import no token", method: "POST", target: "/images/import/" + freeImage, want: 401, invalid: true},
		{name: "import revoked", method: "POST", target: "/images/import/" + freeImage, token: f.revoked, want: 401},
		{name: "import too large", method: "POST", target: "/images/import/" + freeImage, token: f.ada, body: huge, want: 413, invalid: true},
		{name: "import 503", method: "POST", target: "/images/import/" + freeImage, token: f.ada, expired: true, want: 503},

		{name: "purchase", method: "POST", target: "/images/purchase/" + paidImage, token: f.ada, header: map[string]string{"Idempotency-Key": "order-1"}, want: 200},
		{name: "purchase replayed", method: "POST", target: "/images/purchase/" + paidImage, token: f.ada, header: map[string]string{"Idempotency-Key": "order-1"}, want: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Idempotent-Replayed") != "true" {
					t.Error("no Idempotent-Replayed header on a replay")
				}
			}},
		{name: "purchase owned", method: "POST", target: "/images/purchase/" + paidImage, token: f.ada, want: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if !strings.Contains(rec.Body.String(), `"price_paid":0`) {
				t.Errorf("buying an owned image charged: %s", rec.Body)
			}
		}},
		{name: "purchase free", method: "POST", target: "/images/purchase/" + freeImage, token: f.ada, want: 400},
		{name: "purchase long key", method: "POST", target: "/images/purchase/" + cheapImage, token: f.ada, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, want: 400, invalid: true},
		{name: "purchase key reused", method: "POST", target: "/images/purchase/" + cheapImage, token: f.ada, header: map[string]string{"Idempotency-Key": "order-1"}, want: 409},
		{name: "purchase at the shown price", method: "POST", target: "/images/purchase/" + cheapImage, token: f.ada, body: `{"expected_price": 4.99}`, want: 200},
		{name: "purchase price changed", method: "POST", target: "/images/purchase/" + priceyImg, token: f.ada, body: `{"expected_price": 20}`, want: 409,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if !strings.Contains(rec.Body.String(), `"price":25`) {
					t.Errorf("a changed price without the new one: %s", rec.Body)
				}
			}},
		{name: "purchase bad body", method: "POST", target: "/images/purchase/" + priceyImg, token: f.ada, body: `{"price": 25}`, want: 400, invalid: true},
		{name: "purchase poor", method: "POST", target: "/images/purchase/" + priceyImg, token: f.poor, want: 402},
		{name: "purchase unknown", method: "POST", target: "/images/purchase/" + unknown, token: f.ada, want: 404},
		{name: "purchase no token", method: "POST", target: "/images/purchase/" + paidImage, want: 401, invalid: true},
		{name: "purchase too large", method: "POST", target: "/images/purchase/" + paidImage, token: f.ada, body: huge, want: 413, invalid: true},
		{name: "purchase 503", method: "POST", target: "/images/purchase/" + priceyImg, token: f.ada, expired: true, want: 503},

		{name: "rate", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": 4}`, want: 200},
		{name: "rate again", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": 0}`, want: 200},
		{name: "rate fraction", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": 4.5}`, want: 400, invalid: true},
		{name: "rate string", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": "4"}`, want: 400, invalid: true},
		{name: "rate 6", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": 6}`, want: 400, invalid: true},
		{name: "rate not owned", method: "POST", target: "/images/rate/" + priceyImg, token: f.ada, body: `{"rating": 5}`, want: 403},
		{name: "rate unknown", method: "POST", target: "/images/rate/" + unknown, token: f.ada, body: `{"rating": 5}`, want: 404},
		{name: "rate no token", method: "POST", target: "/images/rate/" + freeImage, body: `{"rating": 5}`, want: 401, invalid: true},
		{name: "rate too large", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: huge, want: 413, invalid: true},
		{name: "rate 503", method: "POST", target: "/images/rate/" + freeImage, token: f.ada, body: `{"rating": 3}`, expired: true, want: 503},

		{name: "library full", method: "GET", target: "/images/user", token: f.ada, want: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			if !strings.Contains(rec.Body.String(), `"acquired_via":"purchase"`) || !strings.Contains(rec.Body.String(), `"acquired_via":"import"`) {
				t.Errorf("library lacks the import and the purchase: %s", rec.Body)
			}
		}},

		{name: "balances", method: "GET", target: "/wallet/balances", token: f.ada, want: 200},
		{name: "balances no token", method: "GET", target: "/wallet/balances", want: 401, invalid: true},
		{name: "balances revoked", method: "GET", target: "/wallet/balances", token: f.revoked, want: 401},
		{name: "balances 503", method: "GET", target: "/wallet/balances", token: f.ada, expired: true, want: 503},

		{name: "redeem", method: "POST", target: "/wallet/redeem", token: f.ada, body: `{"code": "` + f.codes[0] + `"}`, want: 200},
		{name: "redeem used", method: "POST", target: "/wallet/redeem", token: f.ada, body: `{"code": "` + f.codes[0] + `"}`, want: 409},
		{name: "redeem unknown", method: "POST", target: "/wallet/redeem", token: f.ada, body: `{"code": "BERTH-0000-0000-0000-0000-0000"}`, want: 400},
		{name: "redeem no code", method: "POST", target: "/wallet/redeem", token: f.ada, body: `{}`, want: 400, invalid: true},
		{name: "redeem no token", method: "POST", target: "/wallet/redeem", body: `{"code": "` + f.codes[1] + `"}`, want: 401, invalid: true},
		{name: "redeem too large", method: "POST", target: "/wallet/redeem", token: f.ada, body: huge, want: 413, invalid: true},
		{name: "redeem 503", method: "POST", target: "/wallet/redeem", token: f.ada, body: `{"code": "` + f.codes[1] + `"}`, expired: true, want: 503},

		{name: "history", method: "GET", target: "/wallet/history", token: f.ada, want: 200, check: func(t *testing.T, rec *httptest.ResponseRecorder) {
			for _, kind := range []string{`"kind":"purchase"`, `"kind":"credit"`} {
				if !strings.Contains(rec.Body.String(), kind) {
					t.Errorf("history lacks %s: %s", kind, rec.Body)
				}
			}
		}},
		{name: "history no token", method: "GET", target: "/wallet/history", want: 401, invalid: true},
		{name: "history revoked", method: "GET", target: "/wallet/history", token: f.revoked, want: 401},
		{name: "history 503", method: "GET", target: "/wallet/history", token: f.ada, expired: true, want: 503},
	}
	// Over the limit: one call per account per hour, which lim has used.
	limited := []apiCase{
		{name: "spend the limit", method: "GET", target: "/wallet/balances", token: f.lim, want: 200},
		{name: "library 429", method: "GET", target: "/images/user", token: f.lim, want: 429},
		{name: "import 429", method: "POST", target: "/images/import/" + freeImage, token: f.lim, want: 429},
		{name: "purchase 429", method: "POST", target: "/images/purchase/" + paidImage, token: f.lim, want: 429},
		{name: "rate 429", method: "POST", target: "/images/rate/" + freeImage, token: f.lim, body: `{"rating": 1}`, want: 429},
		{name: "balances 429", method: "GET", target: "/wallet/balances", token: f.lim, want: 429},
		{name: "history 429", method: "GET", target: "/wallet/history", token: f.lim, want: 429},
		{name: "redeem 429", method: "POST", target: "/wallet/redeem", token: f.lim, body: `{"code": "` + f.codes[1] + `"}`, want: 429},
	}

	routes := docRoutes(model)
	hit := map[string]bool{}
	run := func(cases []apiCase) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec, req := contractCall(t, s, tc)
				if rec.Code != tc.want {
					t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.target, rec.Code, tc.want, rec.Body)
				}
				// The document and the server agree on which requests are bad.
				if ok, errs := v.ValidateHttpRequest(contractRequest(tc)); ok == tc.invalid {
					if tc.invalid {
						t.Errorf("the document accepts the request %s %s, which the server refuses", tc.method, tc.target)
					} else {
						t.Errorf("the document refuses the request %s %s:%s", tc.method, tc.target, describe(errs))
					}
				}
				if ok, errs := v.ValidateHttpResponse(req, rec.Result()); !ok {
					t.Errorf("the answer to %s %s (%d) breaks the document:%s\n%s", tc.method, tc.target, rec.Code, describe(errs), rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); rec.Code >= 400 && !strings.HasPrefix(ct, "application/json") {
					t.Errorf("error answered as %q", ct)
				}
				if tc.check != nil {
					tc.check(t, rec)
				}
				if op := routes.match(tc.method, tc.target); op != "" {
					hit[fmt.Sprintf("%s %d", op, rec.Code)] = true
				} else {
					t.Errorf("%s %s matches no path of the document", tc.method, tc.target)
				}
			})
		}
	}
	run(cases)
	s.limits.token = newLimiter(1, time.Hour)
	run(limited)

	// Every response the document declares was seen.
	var missing []string
	for _, r := range routes {
		for _, code := range r.statuses {
			if key := r.method + " " + r.path + " " + code; !hit[key] {
				missing = append(missing, key)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("declared responses no case produced:\n\t%s", strings.Join(missing, "\n\t"))
	}
}

// contractRequest builds one case's request; a body is read once, so the
// server and the validator each get their own.
func contractRequest(tc apiCase) *http.Request {
	var req *http.Request
	if tc.body != "" {
		req = httptest.NewRequest(tc.method, "/api/v1"+tc.target, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(tc.method, "/api/v1"+tc.target, nil)
	}
	if tc.token != "" {
		req.Header.Set("Authorization", "Bearer "+tc.token)
	}
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	return req
}

// contractCall sends a case through the router.
func contractCall(t *testing.T, s *Server, tc apiCase) (*httptest.ResponseRecorder, *http.Request) {
	t.Helper()
	req := contractRequest(tc)
	if tc.expired {
		ctx, cancel := context.WithDeadline(req.Context(), time.Now().Add(-time.Second))
		t.Cleanup(cancel)
		req = req.WithContext(ctx)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec, contractRequest(tc)
}

// docRoute is one operation of the document with its declared statuses.
type docRoute struct {
	method, path string
	re           *regexp.Regexp
	statics      int
	statuses     []string
}

type docRouteList []docRoute

// docRoutes lists the document's operations, the most specific first.
func docRoutes(m *v3.Document) docRouteList {
	var out docRouteList
	// QuoteMeta escapes the braces of {id}.
	param := regexp.MustCompile(`\\\{[^}]+\\\}`)
	for path, item := range m.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			r := docRoute{method: strings.ToUpper(method), path: path,
				re:      regexp.MustCompile("^/api/v1" + param.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$"),
				statics: strings.Count(path, "/") - strings.Count(path, "{")}
			for code := range op.Responses.Codes.KeysFromOldest() {
				r.statuses = append(r.statuses, code)
			}
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].statics > out[j].statics })
	return out
}

// match names the operation a request reaches: "GET /images/public/{id}".
func (l docRouteList) match(method, target string) string {
	path, _, _ := strings.Cut("/api/v1"+target, "?")
	for _, r := range l {
		if r.method == method && r.re.MatchString(path) {
			return r.method + " " + r.path
		}
	}
	return ""
}

// TestOpenAPICoversRoutes: every /api/v1 route registered on the router is
// in the document with the same method, and every operation of the
// document is a registered route. A route added without its description
// (or a description left behind by a removed route) fails here.
func TestOpenAPICoversRoutes(t *testing.T) {
	model, _ := openAPIModel(t, OpenAPI)
	s, _ := newTestServer(t)
	documented := map[string]bool{}
	for _, r := range docRoutes(model) {
		documented[r.method+" /api/v1"+r.path] = true
	}
	colon := regexp.MustCompile(`:([A-Za-z_]+)`)
	registered := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue // pages, and the catch-all that answers unknown API paths with a 404
		}
		registered[r.Method+" "+colon.ReplaceAllString(r.Path, "{$1}")] = true
	}
	for route := range registered {
		if !documented[route] {
			t.Errorf("%s is served but not in web/openapi.json", route)
		}
	}
	for route := range documented {
		if !registered[route] {
			t.Errorf("%s is in web/openapi.json but not served", route)
		}
	}
	if len(registered) < 11 {
		t.Errorf("only %d API routes found: %v", len(registered), registered)
	}
}

// TestOpenAPICatchesDrift: the validation above is not vacuous. A document
// that lacks a field the server sends, declares a field the server does not
// send, or omits an error status the server answers with, fails against the
// same real answers.
func TestOpenAPICatchesDrift(t *testing.T) {
	s, db := newTestServer(t)
	_, poor := member(t, db, "poor@example.com", 100)
	var spec map[string]any
	if err := json.Unmarshal(OpenAPI, &spec); err != nil {
		t.Fatal(err)
	}
	schemas := spec["components"].(map[string]any)["schemas"].(map[string]any)
	paths := spec["paths"].(map[string]any)
	mutations := []struct {
		name   string
		mutate func()
		tc     apiCase
	}{
		{"an image field the document does not know", func() {
			delete(schemas["ImageFields"].(map[string]any)["properties"].(map[string]any), "pull_ref")
			req := schemas["ImageFields"].(map[string]any)["required"].([]any)
			schemas["ImageFields"].(map[string]any)["required"] = slices.DeleteFunc(req, func(v any) bool { return v == "pull_ref" })
		}, apiCase{method: "GET", target: "/images/public?limit=2", want: 200}},
		{"a pagination field the server does not send", func() {
			p := schemas["Pagination"].(map[string]any)
			p["properties"].(map[string]any)["next"] = map[string]any{"type": "integer"}
			p["required"] = append(p["required"].([]any), "next")
		}, apiCase{method: "GET", target: "/images/public?limit=2", want: 200}},
		{"an undeclared error status", func() {
			delete(paths["/images/purchase/{id}"].(map[string]any)["post"].(map[string]any)["responses"].(map[string]any), "402")
		}, apiCase{method: "POST", target: "/images/purchase/" + priceyImg, token: poor, want: 402}},
		{"an error envelope without param", func() {
			schemas["ErrorData"].(map[string]any)["properties"] = map[string]any{"suggestions": map[string]any{"type": "array"}}
			schemas["ErrorData"].(map[string]any)["required"] = []any{}
		}, apiCase{method: "GET", target: "/images/public?min_price=-1", want: 400}},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			// Each mutation starts from the real document.
			if err := json.Unmarshal(OpenAPI, &spec); err != nil {
				t.Fatal(err)
			}
			schemas = spec["components"].(map[string]any)["schemas"].(map[string]any)
			paths = spec["paths"].(map[string]any)
			m.mutate()
			mutated, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			_, v := openAPIModel(t, mutated)
			rec, req := contractCall(t, s, m.tc)
			if rec.Code != m.tc.want {
				t.Fatalf("status %d, want %d", rec.Code, m.tc.want)
			}
			if ok, _ := v.ValidateHttpResponse(req, rec.Result()); ok {
				t.Errorf("the drifted document still accepts %s %s", m.tc.method, m.tc.target)
			}
			// The real document accepts the same answer.
			_, real := openAPIModel(t, OpenAPI)
			if ok, errs := real.ValidateHttpResponse(req, rec.Result()); !ok {
				t.Errorf("the real document refuses it:%s", describe(errs))
			}
		})
	}
}
