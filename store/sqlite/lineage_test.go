package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

func TestFindLineage(t *testing.T) {
	db := mustDefault(t)
	ctx := context.Background()
	tests := []struct{ alias, arch, want string }{
		{"headjack/base", "amd64", "headjack/base@amd64(headjack/systemd@amd64(headjack/dind@amd64))"},
		{"headjack/systemd", "arm64", "headjack/base@arm64(headjack/systemd@arm64(headjack/dind@arm64))"},
		{"headjack/dind", "amd64", "headjack/base@amd64(headjack/systemd@amd64(headjack/dind@amd64))"},
		{"ubuntu/24.04", "amd64", "ubuntu/24.04@amd64(ubuntu/24.04-k3s@amd64 ubuntu/24.04-lamp@amd64 ubuntu/24.04-nodejs@amd64)"},
		{"ubuntu/24.04-lamp", "arm64", "ubuntu/24.04@arm64(ubuntu/24.04-lamp@arm64)"},
		{"ubuntu/24.04-minimal", "amd64", ""},
	}
	for _, tt := range tests {
		img, err := db.FindImageByAlias(ctx, tt.alias, tt.arch)
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.FindLineage(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if got := lineageString(n); got != tt.want {
			t.Errorf("%s@%s: %s, want %s", tt.alias, tt.arch, got, tt.want)
		}
	}

	t.Run("Cycle", func(t *testing.T) {
		db := mustOpen(t)
		f := fixture()
		a := f.Images[0] // ubuntu/24.04 amd64
		b := f.Images[2] // ubuntu/24.04-minimal amd64
		a.BasedOn, b.BasedOn = b.Alias, a.Alias
		mustImport(t, db, store.CatalogFile{Version: 1, Images: []store.CatalogImage{a, b}})
		img, err := db.FindImageByAlias(ctx, a.Alias, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.FindLineage(ctx, img)
		if err != nil || n == nil {
			t.Fatalf("%v %v", n, err)
		}
		if got := lineageString(n); strings.Count(got, "ubuntu/24.04@") != 1 || strings.Count(got, "minimal") != 1 {
			t.Errorf("cycle drawn as %s", got)
		}
	})
}

// lineageString draws a tree as alias(child child) for comparison.
func lineageString(n *store.LineageNode) string {
	if n == nil {
		return ""
	}
	s := n.Image.Alias + "@" + n.Image.Architecture
	if len(n.Children) > 0 {
		var kids []string
		for _, c := range n.Children {
			kids = append(kids, lineageString(c))
		}
		s += "(" + strings.Join(kids, " ") + ")"
	}
	return s
}

func TestVariantOrder(t *testing.T) {
	db := mustDefault(t)
	ctx := context.Background()
	for alias, want := range map[string]string{
		"ubuntu/24.04":  "default minimal cloud desktop k3s lamp nodejs",
		"headjack/base": "base systemd dind",
		"alpine/3.19":   "default minimal cloud nginx-proxy nodejs redis",
	} {
		img, err := db.FindImageByAlias(ctx, alias, "amd64")
		if err != nil {
			t.Fatal(err)
		}
		sib, err := db.FindSiblings(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(store.VariantOrder(sib), " "); got != want {
			t.Errorf("%s: variants %q, want %q", alias, got, want)
		}
	}
}
