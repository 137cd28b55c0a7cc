package http_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/internal/layering"
)

// The faces keep their dependency rule (docs/architecture.md): the web pages and httpkit never
// import the API's package (the pages get the API as web.API), httpkit and the printable forms
// (printform) import neither face, the
// catalogue of words (l10n) imports only the domain, and the read models (projections) return
// codes, never words, and the sessions (http/session) know neither face.
func TestTheHTTPFacesKeepTheirLayers(t *testing.T) {
	const m = layering.Module
	forbidden := map[string][]string{
		m + "http/web":       {m + "http"},
		m + "http/httpkit":   {m + "http", m + "http/web", m + "l10n"},
		m + "http/printform": {m + "http", m + "http/web"},
		m + "projections":    {m + "l10n", m + "http", m + "http/web", m + "http/httpkit"},
		m + "http/session":   {m + "http", m + "http/web", m + "http/httpkit", m + "commands", m + "projections", m + "l10n"},
	}
	for pkg, imports := range layering.Imports(t, m+"http/web", m+"http/httpkit", m+"http/printform", m+"projections", m+"l10n", m+"http/session") {
		for _, imported := range imports {
			ofOurs := strings.HasPrefix(imported, m)
			if slices.Contains(forbidden[pkg], imported) || pkg == m+"l10n" && ofOurs && imported != m+"domain" {
				t.Errorf("%s imports %s", pkg, imported)
			}
		}
	}
}
