// Package domaintest holds the domain's fixtures for the tests of every package: one procedure
// catalog (a province's one-stop centre, two departments and their procedures), embedded so a test
// anywhere in the module loads it without a path relative to its own folder.
package domaintest

import (
	_ "embed"
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

//go:embed testdata/test-catalog.json
var catalogFile []byte

// Catalog returns the test catalog checked against cal, failing tb if it does not parse.
func Catalog(tb testing.TB, cal *calendar.Calendar) *domain.Catalog {
	tb.Helper()
	catalog, err := domain.ParseCatalog(catalogFile, cal)
	if err != nil {
		tb.Fatalf("domaintest: the test catalog does not parse: %v", err)
	}
	return catalog
}
