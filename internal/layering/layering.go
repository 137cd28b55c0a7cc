// Package layering lets a test check a package's dependency rule (docs/architecture.md): it lists
// what packages import, as the go command sees them.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is the import path prefix of motcua's own packages.
const Module = "github.com/motcua/motcua/"

// Imports maps each package go list names for args (package patterns, and flags such as -deps) to
// the packages it imports directly. The test is skipped where the go command is not on PATH.
func Imports(t testing.TB, args ...string) map[string][]string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	list := append([]string{"list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, args...)
	out, err := exec.Command(goTool, list...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		if fields := strings.Fields(line); len(fields) > 0 {
			imports[fields[0]] = fields[1:]
		}
	}
	return imports
}
