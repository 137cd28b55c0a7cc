package domain_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// The domain is pure (docs/architecture.md): it and its calendar import no I/O package, the
// calendar nothing else of ours, and the domain only the calendar.
func TestTheDomainIsPure(t *testing.T) {
	const module = layering.Module
	allowedOfOurs := map[string][]string{module + "domain": {module + "domain/calendar"}, module + "domain/calendar": nil}
	io := []string{"os", "os/exec", "net", "net/http", "database/sql", "io/fs", "log", "log/slog"}
	for pkg, imports := range layering.Imports(t, module+"domain", module+"domain/calendar") {
		for _, imported := range imports {
			switch {
			case strings.HasPrefix(imported, module) && !slices.Contains(allowedOfOurs[pkg], imported):
				t.Errorf("%s imports %s", pkg, imported)
			case slices.Contains(io, imported):
				t.Errorf("%s imports %s, an I/O package", pkg, imported)
			}
		}
	}
}
