package integrations_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// Integrations tell the outside world what the log says: they are fed by the engine and read the
// dossier through the store, and know neither the use cases, the read models nor the web
// (docs/architecture.md).
func TestIntegrationsDependOnTheLogOnly(t *testing.T) {
	const module = layering.Module
	for pkg, imports := range layering.Imports(t, "-deps", module+"integrations/...") {
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
