package timers_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// Timers act when a deadline recorded in the log passes: they are fed by the engine, read the
// dossier through the store and tell through the outbox (integrations), and know neither the use
// cases, the read models nor the web (docs/architecture.md).
func TestTimersDependOnTheLogOnly(t *testing.T) {
	const module = layering.Module
	for pkg, imports := range layering.Imports(t, "-deps", module+"timers/...") {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, imported := range imports {
			for _, forbidden := range []string{"commands", "projections", "http", "cmd"} {
				if imported == module+forbidden || strings.HasPrefix(imported, module+forbidden+"/") {
					t.Errorf("%s imports %s", pkg, imported)
				}
			}
		}
	}
}
