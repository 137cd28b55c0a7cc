package eventstore_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// The event stores and their decorators store bytes under event type names; they know nothing of
// the domain (docs/architecture.md). shred, which must find applicants' data inside payloads, is
// told where by the wiring (shred.PersonalData). Tests may still build domain events as payloads.
func TestEventStoresDoNotDependOnTheDomain(t *testing.T) {
	const module = layering.Module
	for pkg, imports := range layering.Imports(t, "-deps", module+"eventstore/...") {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, imported := range imports {
			for _, forbidden := range []string{"domain", "commands", "projections", "http", "cmd"} {
				if imported == module+forbidden || strings.HasPrefix(imported, module+forbidden+"/") {
					t.Errorf("%s imports %s", pkg, imported)
				}
			}
		}
	}
}
