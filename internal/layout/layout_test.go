package layout

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
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
// the rule is printed.
func TestImportDirection(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			imports := goList(t, root, goos)
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

// goList returns the module packages' direct imports for goos, as
// `go list` sees them with cgo off (certsleuth builds with CGO_ENABLED=0).
func goList(t *testing.T, root, goos string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Error", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
	cmd.Stderr = new(strings.Builder)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s for %s: %v\n%s", root, goos, err, cmd.Stderr)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s (%s): %s", p.ImportPath, goos, p.Error.Err)
		}
		imports[p.ImportPath] = p.Imports
	}
	if len(imports) == 0 {
		t.Fatalf("go list in %s for %s listed no packages", root, goos)
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
