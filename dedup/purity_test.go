package dedup

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPackageIsPure holds the package to its contract: no I/O, no clock,
// no randomness. It parses the non-test sources and rejects forbidden
// imports and calls. (The test itself may read files.)
func TestPackageIsPure(t *testing.T) {
	forbiddenImports := map[string]bool{
		"net": true, "net/http": true, "os": true, "os/exec": true, "io/ioutil": true, "io/fs": true,
		"syscall": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true, "log": true,
		"log/slog": true, "unsafe": true, "runtime": true, "sync": true, "context": true, "path/filepath": true,
	}
	forbiddenCalls := map[string]bool{"time.Now": true, "time.Since": true, "time.Until": true, "time.Sleep": true,
		"time.After": true, "time.Tick": true, "time.NewTimer": true, "time.NewTicker": true, "time.Local": true, "time.LoadLocation": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		timeName := "time"
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "time" && imp.Name != nil {
				timeName = imp.Name.Name // catch an aliased clock too
			}
			if forbiddenImports[path] {
				t.Errorf("%s imports %s: dedup must stay pure", name, path)
			}
			if strings.HasPrefix(path, "github.com/") && path != "github.com/proxmox-backup-exporter/proxmox-backup-exporter/proxmox" {
				t.Errorf("%s imports %s: only the proxmox models are allowed", name, path)
			}
		}
		full, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(full, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && forbiddenCalls["time."+sel.Sel.Name] {
				t.Errorf("%s: uses %s.%s (%s): dedup gets no clock", name, id.Name, sel.Sel.Name, fset.Position(sel.Pos()))
			}
			return true
		})
		checked++
	}
	if checked < 7 {
		t.Errorf("checked only %d source files; is the test running in the package directory?", checked)
	}
}
