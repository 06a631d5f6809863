package layout

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/certsleuth/certsleuth"

// rules: a package (relative to the module) and the module packages it
// must not import, directly or through another package. A rule ending in
// "/" forbids every package under it. See docs/layout.md for the stages.
var rules = []struct {
	pkg    string
	forbid []string
	why    string
}{
	{"match", []string{"record", "certs", "exchange", "analysis", "report", "proxy", "capture", "probe", "lab", "cmd/", "internal/"},
		"match is name matching alone: no I/O, usable by other programs, imports nothing of certsleuth"},
	{"exchange", []string{"analysis", "report", "proxy", "capture", "probe", "lab", "cmd/"},
		"exchange is Exchange knowledge (parsing and data) that analysis uses, not the other way round"},
	{"analysis", []string{"report", "proxy", "capture", "probe", "lab", "cmd/"},
		"analysis judges, attributes and aggregates observations; producers feed it and reports render it"},
	{"report", []string{"proxy", "capture", "probe", "lab", "cmd/"},
		"report renders what analysis concluded; the proxy, the lab and the CLI call it, not the other way round"},
	{"record", []string{"match", "exchange", "analysis", "report"},
		"the record is what producers write and analysis reads: it comes before any judging"},
	{"certs", []string{"match", "exchange", "analysis", "report"},
		"certs loads and mints certificates for every stage; it judges nothing"},
	{"capture", []string{"match", "exchange", "analysis", "report"},
		"capture produces observations; it judges nothing"},
	{"probe", []string{"match", "exchange", "analysis", "report"},
		"probe produces observations; it judges nothing"},
}

// listed is what `go list -json` says of one package.
type listed struct {
	ImportPath string
	Imports    []string
	Error      *struct{ Err string }
}

// TestImportDirection fails when a package imports a later stage (or one
// its rule forbids), for each target OS: the path of imports that breaks
// the rule is printed. It reads the sources with go/build rather than
// running `go list`, so that `go test` caches its result only as long as
// no source file or folder of the module changes.
func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			imports := moduleImports(t, root, goos)
			for _, r := range rules {
				from := module + "/" + r.pkg
				if _, ok := imports[from]; !ok {
					t.Errorf("rule for %s: no such package in the module (moved? update the rule and docs/layout.md)", r.pkg)
					continue
				}
				for _, path := range reachable(imports, from) {
					to := path[len(path)-1]
					for _, f := range r.forbid {
						if forbidden(to, f) {
							t.Errorf("%s imports %s (%s): %s", r.pkg, strings.TrimPrefix(to, module+"/"),
								strings.ReplaceAll(strings.Join(path, " -> "), module+"/", ""), r.why)
						}
					}
				}
			}
		})
	}
}

// forbidden reports whether module package to is ruled out by f.
func forbidden(to, f string) bool {
	rel, ok := strings.CutPrefix(to, module+"/")
	if !ok {
		return false
	}
	if strings.HasSuffix(f, "/") {
		return strings.HasPrefix(rel+"/", f)
	}
	return rel == f
}

// moduleImports returns the direct imports (test files left out) of every
// package under root, as they build for goos with cgo off (certsleuth
// builds with CGO_ENABLED=0). Folders the go command ignores (testdata,
// names starting with . or _) are skipped.
func moduleImports(t *testing.T, root, goos string) map[string][]string {
	t.Helper()
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH, ctxt.CgoEnabled = goos, "amd64", false
	imports := map[string][]string{}
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if n := d.Name(); dir != root && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
			return filepath.SkipDir
		}
		p, err := ctxt.ImportDir(dir, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read package in %s for %s: %w", dir, goos, err)
		}
		rel, _ := filepath.Rel(root, dir)
		imports[path.Join(module, filepath.ToSlash(rel))] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) == 0 {
		t.Fatalf("no packages under %s for %s", root, goos)
	}
	return imports
}

// reachable returns, for every module package from reaches through
// imports, one shortest path to it (from first).
func reachable(imports map[string][]string, from string) [][]string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	var out [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, q := range imports[p] {
			if _, seen := prev[q]; seen || !strings.HasPrefix(q, module+"/") {
				continue
			}
			prev[q] = p
			queue = append(queue, q)
			path := []string{q}
			for x := p; x != ""; x = prev[x] {
				path = append([]string{x}, path...)
			}
			out = append(out, path)
		}
	}
	return out
}
