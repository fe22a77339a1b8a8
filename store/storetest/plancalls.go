package storetest

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/berth/berth/store"
)

// GeneratedImage returns an image of the generated part of a catalog that
// store/synth filled (its releases carry ".b").
func GeneratedImage(t *testing.T, db store.Store) *store.Image {
	t.Helper()
	page, err := db.FindImages(context.Background(), store.Filter{OS: "debian", SortBy: "added_date", SortOrder: "desc", Page: 1, Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range page.Images {
		if strings.Contains(img.Release, ".b") {
			return img
		}
	}
	t.Fatal("no generated image among the newest debian images")
	return nil
}

// CalledOn reads the Go files and returns the names of the methods called
// on the variables named receivers inside the functions named funcs: how a
// plan test proves it calls every method of the store, so that no
// statement escapes it.
func CalledOn(t *testing.T, files, funcs, receivers []string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	called := map[string]bool{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !slices.Contains(funcs, fn.Name.Name) {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && slices.Contains(receivers, x.Name) {
							called[sel.Sel.Name] = true
						}
					}
				}
				return true
			})
		}
	}
	return called
}

// StatementsNotRun returns the SQL string literals of the Go files of the
// current directory (a backend's own code, not its tests) that no statement
// in ran contains: statements the store can run that the plan test never
// made it run. Literals joined with + to other parts are each found inside
// the statement they build. Whitespace is compared collapsed, and, when
// placeholder is not nil, what it matches (PostgreSQL's $1, since
// SuggestAliases numbers its own) as ?. Literals starting with a key of
// skip are left out (the value says why).
func StatementsNotRun(t *testing.T, ran []string, placeholder *regexp.Regexp, skip map[string]string) []string {
	t.Helper()
	norm := func(q string) string {
		q = strings.Join(strings.Fields(q), " ")
		if placeholder != nil {
			q = placeholder.ReplaceAllString(q, "?")
		}
		return q
	}
	var all strings.Builder
	for _, q := range ran {
		all.WriteString(norm(q))
		all.WriteString("\n")
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			q := norm(v)
			// SQL is written in capitals in the stores; messages are not.
			verb := strings.Fields(q + " x")[0]
			if !slices.Contains([]string{"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"}, verb) || len(q) < 12 {
				return true
			}
			for prefix := range skip {
				if strings.HasPrefix(q, prefix) {
					return true
				}
			}
			if !strings.Contains(all.String(), q) {
				missing = append(missing, fset.Position(lit.Pos()).String()+": "+q)
			}
			return true
		})
	}
	return missing
}
