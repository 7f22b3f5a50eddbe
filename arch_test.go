package main

// The import-direction test that STYLE.md ("Which package may import
// which") promises. Imports point only downward:
//
//	main → cli → web → handlers → {change, views, auditlog} → {auth, webhook} → {db, sysctl, static}
//
// A package may import packages of its own top-level folder and of lower
// layers, never of its own layer's other folders or of a higher one: so
// sysctl and db import neither each other nor anything above them,
// nothing but a command (package main) imports cli, and nothing but cli
// and commands imports web. views may
// import db for its value types, but it never holds or calls a database
// handle: a handler gathers the data, a view renders it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "portpanel"

// layers ranks each top-level folder; a package may import a folder of a
// strictly lower rank. A new folder must be placed here on purpose.
var layers = map[string]int{
	"":         7, // the root: the command; nothing may import it
	"cli":      6,
	"web":      5,
	"handlers": 4,
	"agent":    4, // the agent process: change, sysctl, db, agentapi; never handlers or web
	"change":   3,
	"auditlog": 3, // reads db, sends to syslog; handlers report its counts
	"views":    3,
	"auth":     2,
	"webhook":  2, // imports only db; handlers and cli use it
	"fleet":    2, // control plane of fleet mode: imports db and agentapi
	"db":       1,
	"sysctl":   1,
	"static":   1,
	"agentapi": 1, // the agent wire: JSON types and signatures, stdlib only
	"internal": 0, // test helpers that import nothing of portpanel
	"bench":    7, // commands only (checked as package main)
}

// goPackage is the part of `go list -json` this test reads.
type goPackage struct {
	ImportPath   string
	Name         string
	Dir          string
	GoFiles      []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Export       string
}

func TestImportDirection(t *testing.T) {
	for _, p := range goList(t, "./...") {
		for _, v := range importViolations(p) {
			t.Error(v)
		}
	}
}

// importViolations lists p's imports that point up or sideways, its
// tests' included.
func importViolations(p goPackage) []string {
	var out []string
	check := func(imports []string, what string) {
		for _, q := range imports {
			if why := forbidden(p, q); why != "" {
				out = append(out, fmt.Sprintf("%s%s imports %s: %s", p.ImportPath, what, q, why))
			}
		}
	}
	check(p.Imports, "")
	for _, q := range p.Imports {
		if strings.HasPrefix(q, module+"/internal/") && folder(p.ImportPath) != "internal" {
			out = append(out, fmt.Sprintf("%s imports %s: internal/ holds test helpers, only tests import it", p.ImportPath, q))
		}
	}
	check(p.TestImports, " (tests)")
	check(p.XTestImports, " (tests)")
	return out
}

// forbidden says why p must not import q, or "" if it may.
func forbidden(p goPackage, q string) string {
	if q == p.ImportPath || (q != module && !strings.HasPrefix(q, module+"/")) {
		return "" // its own tests, or outside portpanel
	}
	if q == module {
		return "nothing imports the root package: it is the command"
	}
	from, to := folder(p.ImportPath), folder(q)
	lp, okp := layers[from]
	lq, okq := layers[to]
	switch {
	case !okp || !okq:
		return fmt.Sprintf("place the top-level folder %q or %q in arch_test.go's layers first", from, to)
	case p.Name == "main":
		return "" // commands sit on top of everything
	case from == to:
		return "" // within one folder (change and change/fault)
	case to == "cli":
		return "only commands (package main) import cli"
	case lq >= lp:
		return fmt.Sprintf("%s/ must not import %s/: imports point only downward (see STYLE.md)", from, to)
	}
	return ""
}

// folder is the top-level folder of a portpanel import path ("" for the
// root).
func folder(path string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// TestViewsDoNotQuery type-checks views/ and fails if any expression in it
// is a database handle: a view that holds one could query. Importing db
// for its value types (db.Change) is fine.
func TestViewsDoNotQuery(t *testing.T) {
	for _, v := range viewsHandles(t, module+"/views") {
		t.Error(v)
	}
}

// dbHandles are the types through which code can query the database.
var dbHandles = map[string]bool{
	module + "/db.DB": true,
	"database/sql.DB": true, "database/sql.Tx": true, "database/sql.Conn": true, "database/sql.Stmt": true,
}

// viewsHandles type-checks the package pkg (from compiled export data of
// its imports) and lists every use of a database handle in it.
func viewsHandles(t *testing.T, pkg string) []string {
	t.Helper()
	exports := map[string]string{}
	var target goPackage
	for _, p := range goList(t, "-export", "-deps", pkg) {
		exports[p.ImportPath] = p.Export
		if p.ImportPath == pkg {
			target = p
		}
	}
	var out []string
	for _, q := range target.Imports {
		if q == "database/sql" || strings.HasPrefix(q, "database/sql/") || strings.Contains(q, "sqlite") {
			out = append(out, fmt.Sprintf("%s imports %s: views render data a handler gathered, they do not query", pkg, q))
		}
	}

	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range target.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(target.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	if _, err := (&types.Config{Importer: imp}).Check(pkg, fset, files, info); err != nil {
		t.Fatalf("type-check %s: %v", pkg, err)
	}
	for expr, tv := range info.Types {
		if name := handle(tv.Type); name != "" {
			out = append(out, fmt.Sprintf("%s: %s is a %s: views render data a handler gathered, they do not query", fset.Position(expr.Pos()), types.ExprString(expr), name))
		}
	}
	slices.Sort(out)
	return out
}

// handle names the database handle typ is (or points to), or "".
func handle(typ types.Type) string {
	if p, ok := typ.(*types.Pointer); ok {
		typ = p.Elem()
	}
	n, ok := typ.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return ""
	}
	if name := n.Obj().Pkg().Path() + "." + n.Obj().Name(); dbHandles[name] {
		return name
	}
	return ""
}

// goList runs `go list -json args...` and decodes its packages.
func goList(t *testing.T, args ...string) []goPackage {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(goCmd, append([]string{"list", "-json"}, args...)...)
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var out []goPackage
	for dec := json.NewDecoder(bytes.NewReader(stdout)); ; {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode go list %v: %v", args, err)
		}
		out = append(out, p)
	}
}

// TestForbiddenRefusesUpwardImports holds the rule itself to known cases, so
// that TestImportDirection cannot pass by refusing nothing.
func TestForbiddenRefusesUpwardImports(t *testing.T) {
	pkg := func(dir string) goPackage { return goPackage{ImportPath: module + "/" + dir, Name: path.Base(dir)} }
	cases := []struct {
		from, to string
		refused  bool
	}{
		{"db", "change", true},
		{"sysctl", "db", true},
		{"db", "sysctl", true},
		{"views", "handlers", true},
		{"handlers", "cli", true},
		{"change", "views", true},
		{"auditlog", "change", true},
		{"auditlog", "handlers", true},
		{"handlers", "auditlog", false},
		{"auditlog", "db", false},
		{"web", "", true},
		{"change", "db", false},
		{"handlers", "views", false},
		{"change/fault", "change", false},
		{"web", "auth", false},
	}
	for _, c := range cases {
		to := module
		if c.to != "" {
			to += "/" + c.to
		}
		if why := forbidden(pkg(c.from), to); (why != "") != c.refused {
			t.Errorf("%s importing %s: refused %v (%q), want %v", c.from, to, why != "", why, c.refused)
		}
	}
	internal := importViolations(goPackage{ImportPath: module + "/web", Name: "web", Imports: []string{module + "/internal/testclock"}})
	if len(internal) == 0 {
		t.Error("web's own code importing internal/testclock is not refused")
	}
	if v := importViolations(goPackage{ImportPath: module + "/web", Name: "web", TestImports: []string{module + "/internal/testclock"}}); len(v) != 0 {
		t.Errorf("web's tests importing internal/testclock is refused: %v", v)
	}
}
