package domain_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The domain is pure (docs/architecture.md): it and its calendar import no I/O package, the
// calendar nothing else of ours, and the domain only the calendar.
func TestTheDomainIsPure(t *testing.T) {
	const module = "github.com/motcua/motcua/"
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"domain", module+"domain/calendar").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowedOfOurs := map[string][]string{module + "domain": {module + "domain/calendar"}, module + "domain/calendar": nil}
	io := []string{"os", "os/exec", "net", "net/http", "database/sql", "io/fs", "log", "log/slog"}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := fields[0]
		for _, imported := range fields[1:] {
			switch {
			case strings.HasPrefix(imported, module) && !slices.Contains(allowedOfOurs[pkg], imported):
				t.Errorf("%s imports %s", pkg, imported)
			case slices.Contains(io, imported):
				t.Errorf("%s imports %s, an I/O package", pkg, imported)
			}
		}
	}
}
