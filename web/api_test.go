package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

type listResponse struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Data       struct {
		Images     []map[string]any `json:"images"`
		Pagination struct {
			Page, Limit, Total, Pages int
		} `json:"pagination"`
	} `json:"data"`
}

func getList(t *testing.T, s *Server, query string) listResponse {
	t.Helper()
	rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+query, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", query, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var r listResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 200 {
		t.Fatalf("statusCode = %d", r.StatusCode)
	}
	return r
}

func TestAPIListFilters(t *testing.T) {
	s, _ := newTestServer(t)
	all := defaultImages(t)
	has := func(tags []string, w string) bool { return slices.Contains(tags, w) }
	tests := []struct {
		query string
		match func(store.CatalogImage) bool
	}{
		{"os=debian", func(i store.CatalogImage) bool { return i.OS == "debian" }},
		{"os=ubuntu&architecture=arm64", func(i store.CatalogImage) bool { return i.OS == "ubuntu" && i.Architecture == "arm64" }},
		{"architecture=armhf", func(i store.CatalogImage) bool { return i.Architecture == "armhf" }},
		{"variant=minimal", func(i store.CatalogImage) bool { return i.Variant == "minimal" }},
		{"variant=standard&os=alpine", func(i store.CatalogImage) bool { return i.Variant == "default" && i.OS == "alpine" }},
		{"variant=dind", func(i store.CatalogImage) bool { return i.Variant == "dind" }},
		{"prespawn=true", func(i store.CatalogImage) bool { return i.Prespawn }},
		{"prespawn=false&os=fedora", func(i store.CatalogImage) bool { return !i.Prespawn && i.OS == "fedora" }},
		{"min_price=0&max_price=0", func(i store.CatalogImage) bool { return i.Price == 0 }},
		{"min_price=0&max_price=10", func(i store.CatalogImage) bool { return i.Price <= 10 }},
		{"min_price=25", func(i store.CatalogImage) bool { return i.Price >= 25 }},
		{"min_price=5&max_price=15", func(i store.CatalogImage) bool { return i.Price >= 5 && i.Price <= 15 }},
		{"min_rating=0", func(store.CatalogImage) bool { return true }},
		{"min_rating=0.1", func(store.CatalogImage) bool { return false }}, // nobody has rated yet
		{"search=postgres", func(i store.CatalogImage) bool {
			return strings.Contains(strings.ToLower(i.ImageName+" "+i.Alias+" "+i.Description), "postgres") || has(i.Tags, "postgres")
		}},
		{"alias=ubuntu/24.04", func(i store.CatalogImage) bool { return i.Alias == "ubuntu/24.04" }},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var want []string
			for _, img := range all {
				if tt.match(img) {
					want = append(want, img.ID)
				}
			}
			r := getList(t, s, tt.query+"&limit=100")
			var got []string
			for _, img := range r.Data.Images {
				got = append(got, img["id"].(string))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %d images, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
			if r.Data.Pagination.Total != len(want) {
				t.Errorf("total = %d, want %d", r.Data.Pagination.Total, len(want))
			}
		})
	}
}

func TestAPIListSortAndPages(t *testing.T) {
	s, _ := newTestServer(t)
	total := len(defaultImages(t))
	num := func(m map[string]any, k string) float64 { return m[k].(float64) }
	str := func(m map[string]any, k string) string { return m[k].(string) }
	tests := []struct {
		query string
		less  func(a, b map[string]any) bool // a must not come after b
	}{
		{"sort_by=price&sort_order=asc", func(a, b map[string]any) bool { return num(a, "price") <= num(b, "price") }},
		{"sort_by=price&sort_order=desc", func(a, b map[string]any) bool { return num(a, "price") >= num(b, "price") }},
		{"sort_by=size", func(a, b map[string]any) bool { return num(a, "size") <= num(b, "size") }},
		{"sort_by=size&sort_order=desc", func(a, b map[string]any) bool { return num(a, "size") >= num(b, "size") }},
		{"sort_by=name", func(a, b map[string]any) bool { return str(a, "image_name") <= str(b, "image_name") }},
		{"sort_by=name&sort_order=desc", func(a, b map[string]any) bool { return str(a, "image_name") >= str(b, "image_name") }},
		{"sort_by=added_date", func(a, b map[string]any) bool { return str(a, "added_date") >= str(b, "added_date") }},
		{"sort_by=added_date&sort_order=asc", func(a, b map[string]any) bool { return str(a, "added_date") <= str(b, "added_date") }},
		{"sort_by=rating", func(a, b map[string]any) bool { return num(a, "average_rating") >= num(b, "average_rating") }},
		{"sort_by=popularity", func(a, b map[string]any) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			// Walk every page of 7 and check the order holds across page breaks.
			var seen []map[string]any
			ids := map[string]bool{}
			for page := 1; ; page++ {
				r := getList(t, s, tt.query+"&limit=7&page="+strconv.Itoa(page))
				p := r.Data.Pagination
				if p.Page != page || p.Limit != 7 || p.Total != total || p.Pages != (total+6)/7 {
					t.Fatalf("pagination = %+v", p)
				}
				if len(r.Data.Images) == 0 {
					break
				}
				seen = append(seen, r.Data.Images...)
			}
			if len(seen) != total {
				t.Fatalf("walked %d images, want %d", len(seen), total)
			}
			for i, img := range seen {
				if ids[str(img, "id")] {
					t.Fatalf("image %s seen twice", str(img, "id"))
				}
				ids[str(img, "id")] = true
				if i > 0 && !tt.less(seen[i-1], img) {
					t.Fatalf("out of order at %d: %v then %v", i, seen[i-1]["image_name"], img["image_name"])
				}
			}
		})
	}
	t.Run("DefaultLimit", func(t *testing.T) {
		r := getList(t, s, "")
		if len(r.Data.Images) != 20 || r.Data.Pagination.Limit != 20 || r.Data.Pagination.Page != 1 {
			t.Errorf("got %d images, pagination %+v", len(r.Data.Images), r.Data.Pagination)
		}
	})
	t.Run("PastTheEnd", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/api/v1/images/public?page=99", nil)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"images":[]`) {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
}

func TestAPIBadParameters(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct{ query, param string }{
		{"min_price=-5", "min_price"},
		{"max_price=-1", "max_price"},
		{"min_price=20&max_price=10", "min_price"},
		{"min_price=cheap", "min_price"},
		{"sort_by=stars", "sort_by"},
		{"sort_order=sideways", "sort_order"},
		{"min_rating=7", "min_rating"},
		{"min_rating=-0.5", "min_rating"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=abc", "limit"},
		{"page=0", "page"},
		{"page=x", "page"},
		{"architecture=mips", "architecture"},
		{"prespawn=sometimes", "prespawn"},
		{"support=eol", "support"},
		{"signed=maybe", "signed"},
		{"max_severity=severe", "max_severity"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+tt.query, nil)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", rec.Code)
			}
			var env struct {
				StatusCode int
				Message    string
				Data       struct{ Param string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatal(err)
			}
			if env.StatusCode != 400 || env.Data.Param != tt.param || !strings.Contains(env.Message, tt.param) {
				t.Errorf("envelope = %+v, want one naming %s", env, tt.param)
			}
		})
	}
}

func TestAPIGetImage(t *testing.T) {
	s, _ := newTestServer(t)
	id := store.ImageID("headjack/dind", "arm64")
	rec := do(t, s, http.MethodGet, "/api/v1/images/public/"+id, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var env struct {
		StatusCode int            `json:"statusCode"`
		Data       map[string]any `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "alias", "description", "image_name", "architecture", "os", "release",
		"serial", "variant", "size", "price", "added_date", "average_rating", "rating_count", "icon_url",
		"prespawn", "tags", "based_on", "features", "pull_ref", "security", "docs"} {
		if _, ok := env.Data[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
	d := env.Data
	if d["id"] != id || d["alias"] != "headjack/dind" || d["architecture"] != "arm64" || d["variant"] != "dind" ||
		d["based_on"] != "headjack/systemd" || d["icon_url"] != "/api/v1/images/"+id+"/icon" {
		t.Errorf("unexpected data %v", d)
	}
	if _, ok := d["price"].(float64); !ok {
		t.Errorf("price %v is not a number", d["price"])
	}
	if sec, ok := d["security"].(map[string]any); !ok || sec["signed"] != true {
		t.Errorf("security = %v", d["security"])
	}

	for _, bad := range []string{"ffffffffffffffffffffffff", "not-an-id", "FE31394388C0B04D713EC1B7"} {
		rec := do(t, s, http.MethodGet, "/api/v1/images/public/"+bad, nil)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"statusCode":404`) {
			t.Errorf("GET %s = %d %s", bad, rec.Code, rec.Body)
		}
	}
}

func TestIcon(t *testing.T) {
	s, _ := newTestServer(t)
	icons := map[string]string{}
	for _, alias := range []string{"debian/13", "ubuntu/24.04", "alpine/3.19", "fedora/42", "centos/9", "rockylinux/9"} {
		id := store.ImageID(alias, "amd64")
		rec := do(t, s, http.MethodGet, "/api/v1/images/"+id+"/icon", nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s icon: %d %q", alias, rec.Code, rec.Header().Get("Content-Type"))
		}
		if !strings.Contains(rec.Header().Get("Cache-Control"), "max-age") || rec.Header().Get("ETag") == "" {
			t.Errorf("%s icon lacks caching headers: %v", alias, rec.Header())
		}
		icons[rec.Body.String()] = alias
		again := do(t, s, http.MethodGet, "/api/v1/images/"+id+"/icon", http.Header{"If-None-Match": {rec.Header().Get("ETag")}})
		if again.Code != http.StatusNotModified {
			t.Errorf("%s icon with matching ETag = %d, want 304", alias, again.Code)
		}
	}
	if len(icons) != 6 {
		t.Errorf("%d distinct icons for 6 systems", len(icons))
	}
	if rec := do(t, s, http.MethodGet, "/api/v1/images/ffffffffffffffffffffffff/icon", nil); rec.Code != 404 {
		t.Errorf("unknown icon = %d", rec.Code)
	}
}

func TestAPIUnknownPathIsEnvelope(t *testing.T) {
	s, _ := newTestServer(t)
	rec := do(t, s, http.MethodGet, "/api/v1/nothing/here", nil)
	if rec.Code != 404 || !strings.HasPrefix(rec.Body.String(), `{"statusCode":404`) {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}
