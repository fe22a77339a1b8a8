package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/berth/berth/store"
)

func TestImageByAliasSuggestions(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name, path    string
		heading, want string   // heading and a phrase of the reason
		first         []string // the suggestion links must start with these aliases
	}{
		{"Unknown", "/images/by-alias/ubuntu/25.04", "No image by that alias", `No image has the alias "ubuntu/25.04"`,
			[]string{"ubuntu/24.04", "ubuntu/22.04"}},
		{"Colon", "/images/by-alias/ubuntu:24.04", "That is not an alias", "registry tag", []string{"ubuntu/24.04"}},
		{"EncodedColon", "/images/by-alias/ubuntu%3A24.04", "That is not an alias", "registry tag", []string{"ubuntu/24.04"}},
		{"Hyphen", "/images/by-alias/ubuntu-24.04", "That is not an alias", "hyphen", []string{"ubuntu/24.04"}},
		{"NoRelease", "/images/by-alias/ubuntu", "That is not an alias", "no release", []string{"ubuntu/24.04", "ubuntu/22.04"}},
		{"KeepsArchitecture", "/images/by-alias/ubuntu:24.04?architecture=arm64", "That is not an alias", "registry tag", []string{"ubuntu/24.04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, s, http.MethodGet, tt.path, nil)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d", rec.Code)
			}
			doc := mustDoc(t, rec)
			if h := strings.TrimSpace(doc.Find("h1").Text()); h != tt.heading {
				t.Errorf("h1 %q", h)
			}
			reason := doc.Find("#alias-reason").Text()
			if !strings.Contains(reason, tt.want) || (tt.heading == "That is not an alias" && !strings.Contains(reason, "os/release or os/release-variant")) {
				t.Errorf("reason %q", reason)
			}
			links := doc.Find(".suggestions a")
			for i, alias := range tt.first {
				a := links.Eq(i)
				href, _ := a.Attr("href")
				want := "/images/by-alias/" + alias
				if u, _ := url.Parse(tt.path); u.Query().Get("architecture") != "" {
					want += "?architecture=" + u.Query().Get("architecture")
				}
				if a.Text() != alias || href != want {
					t.Errorf("suggestion %d: %q %s, want %s", i, a.Text(), href, want)
				}
			}
			// Every suggestion really leads to an image.
			links.Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				if rec := do(t, s, http.MethodGet, href, nil); rec.Code != http.StatusSeeOther {
					t.Errorf("suggestion %s = %d", href, rec.Code)
				}
			})
			if doc.Find(`.alias-format a[href="/docs/variants-and-families#aliases"]`).Length() != 1 {
				t.Error("no link to the alias docs")
			}
		})
	}
	t.Run("OtherArchitecture", func(t *testing.T) {
		rec := do(t, s, http.MethodGet, "/images/by-alias/ubuntu/24.04-desktop?architecture=arm64", nil)
		doc := mustDoc(t, rec)
		if rec.Code != 404 || !strings.Contains(doc.Find("#alias-reason").Text(), "not built for arm64") {
			t.Fatalf("%d %q", rec.Code, doc.Find("#alias-reason").Text())
		}
		if href, _ := doc.Find(".alias-archs a").Attr("href"); href != "/images/by-alias/ubuntu/24.04-desktop?architecture=amd64" {
			t.Errorf("architecture link %q", href)
		}
	})
	t.Run("NothingClose", func(t *testing.T) {
		doc := mustDoc(t, do(t, s, http.MethodGet, "/images/by-alias/zzzz/qqqq", nil))
		if doc.Find(".suggestions").Length() != 0 || !strings.Contains(doc.Text(), "No alias in the catalog is close") {
			t.Error("suggested aliases for nonsense")
		}
	})
	t.Run("Escaped", func(t *testing.T) {
		body := do(t, s, http.MethodGet, "/images/by-alias/%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil).Body.String()
		if strings.Contains(body, "<script>alert") {
			t.Error("the alias is echoed unescaped")
		}
	})
}

func TestAPIAliasLookup(t *testing.T) {
	s, _ := newTestServer(t)
	get := func(t *testing.T, query string) (int, map[string]any) {
		t.Helper()
		rec := do(t, s, http.MethodGet, "/api/v1/images/public?"+query, nil)
		var env map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		return rec.Code, env
	}
	t.Run("OK", func(t *testing.T) {
		code, env := get(t, "alias=ubuntu/24.04-minimal")
		data := env["data"].(map[string]any)
		imgs := data["images"].([]any)
		if code != 200 || len(imgs) != 2 {
			t.Fatalf("%d, %d images", code, len(imgs))
		}
		for _, im := range imgs {
			if im.(map[string]any)["alias"] != "ubuntu/24.04-minimal" {
				t.Errorf("image %v", im)
			}
		}
		if _, ok := env["message"]; ok {
			t.Errorf("message on a found alias: %v", env["message"])
		}
	})
	for _, bad := range []string{"ubuntu:24.04", "ubuntu-24.04", "ubuntu"} {
		t.Run("WrongFormat "+bad, func(t *testing.T) {
			code, env := get(t, "alias="+url.QueryEscape(bad))
			msg, _ := env["message"].(string)
			if code != 400 || env["statusCode"] != float64(400) {
				t.Fatalf("status %d", code)
			}
			if !strings.Contains(msg, "os/release or os/release-variant") || !strings.Contains(msg, "Closest aliases: ubuntu/24.04") {
				t.Errorf("message %q", msg)
			}
			data := env["data"].(map[string]any)
			sugg, _ := data["suggestions"].([]any)
			if data["param"] != "alias" || len(sugg) == 0 || sugg[0] != "ubuntu/24.04" {
				t.Errorf("data %v", data)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		code, env := get(t, "alias=ubuntu/25.04")
		msg, _ := env["message"].(string)
		if code != 200 || env["data"].(map[string]any)["pagination"].(map[string]any)["total"] != float64(0) {
			t.Fatalf("%d %v", code, env)
		}
		if !strings.Contains(msg, `No image has the alias "ubuntu/25.04"`) || !strings.Contains(msg, "ubuntu/24.04") {
			t.Errorf("message %q", msg)
		}
	})
	t.Run("OtherArchitecture", func(t *testing.T) {
		_, env := get(t, "alias=ubuntu/24.04-desktop&architecture=arm64")
		if msg, _ := env["message"].(string); !strings.Contains(msg, "not built for arm64") {
			t.Errorf("message %q", msg)
		}
	})
	t.Run("OtherFilterExcludes", func(t *testing.T) {
		// The alias exists; another filter leaves nothing. No alias advice then.
		_, env := get(t, "alias=ubuntu/24.04&min_price=100")
		if _, ok := env["message"]; ok {
			t.Errorf("message %v", env["message"])
		}
	})
	_ = store.MaxSuggestions
}
