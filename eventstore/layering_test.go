package eventstore_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The event stores and their decorators store bytes under event type names; they know nothing of
// the domain (docs/architecture.md). shred, which must find applicants' data inside payloads, is
// told where by the wiring (shred.PersonalData). Tests may still build domain events as payloads.
func TestEventStoresDoNotDependOnTheDomain(t *testing.T) {
	const module = "github.com/motcua/motcua/"
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"eventstore/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], module) {
			continue
		}
		for _, imported := range fields[1:] {
			for _, forbidden := range []string{"domain", "commands", "projections", "http", "cmd"} {
				if imported == module+forbidden || strings.HasPrefix(imported, module+forbidden+"/") {
					t.Errorf("%s imports %s", fields[0], imported)
				}
			}
		}
	}
}
