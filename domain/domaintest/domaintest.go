// Package domaintest holds the domain's fixtures for the tests of every package: one procedure
// catalog (a province's one-stop centre, two departments and their procedures) and the golden stored
// payload of every event, so a test anywhere in the module loads them without a path relative to
// its own folder.
package domaintest

import (
	_ "embed"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/internal/golden"
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

// CatalogPath is the file Catalog parses, for a test that starts `motcua serve` beside an App of
// its own: the catalog is kept in the log, seeded by serve from its file, and every App reads it
// from there, so both must start from the same file.
func CatalogPath(tb testing.TB) string {
	tb.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("domaintest: cannot tell where the test catalog is")
	}
	return filepath.Join(filepath.Dir(self), "testdata", "test-catalog.json")
}

// GoldenEvents returns the pinned stored payload of every dossier event type and version, compact,
// by wire name: the files domain's golden test keeps in domain/testdata/events. They are found from
// this file's own place, so the test that asks needs no path to them.
func GoldenEvents(tb testing.TB) map[string][]byte {
	tb.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("domaintest: cannot tell where the golden payloads are")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "testdata", "events")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("domaintest: no golden payloads in %s: %v", dir, err)
	}
	payloads := make(map[string][]byte, len(files))
	for _, file := range files {
		payloads[strings.TrimSuffix(filepath.Base(file), ".json")] = golden.Read(tb, file)
	}
	return payloads
}
