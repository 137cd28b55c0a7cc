package accesslog_test

import (
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// The access log is written by the edge (http) and knows neither the edge, the use cases, the
// consumers of the log of events nor the words: it takes the page contract of the lists and the
// SQL dialect the wiring names, nothing more (docs/architecture.md).
func TestTheAccessLogKnowsNeitherTheEdgeNorTheUseCases(t *testing.T) {
	const module = layering.Module
	for pkg, imports := range layering.Imports(t, "-deps", module+"accesslog/...") {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, imported := range imports {
			for _, forbidden := range []string{"commands", "http", "integrations", "timers", "l10n", "cmd"} {
				if imported == module+forbidden || strings.HasPrefix(imported, module+forbidden+"/") {
					t.Errorf("%s imports %s", pkg, imported)
				}
			}
		}
	}
}
