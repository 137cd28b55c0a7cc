package http

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/api/*.json from the examples")

// The officials' dossier response is pinned byte for byte (testdata/api/dossier.json, from a
// dossier with every field set): it is the API's own type, so neither a change of the domain's
// state nor of an event's payload may change it unnoticed. A deliberate API change updates the
// file (go test ./http -run GoldenAPI -update) and docs/api.md together.
func TestGoldenAPIDossierResponse(t *testing.T) {
	var d domain.Dossier
	fill(&d)
	d.Status, d.ResumeStatus, d.StatusAfterPayment = domain.StatusReceived, domain.StatusSupplementRequested, domain.StatusReceived // real states: allowed_actions and portal_status show
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, dossierResponseOf(d, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)))
	got := rec.Body.Bytes()
	path := filepath.Join("testdata", "api", "dossier.json")
	if *updateGolden {
		var indented bytes.Buffer
		if err := json.Indent(&indented, got, "", "\t"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, stored); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n') // json.Encoder ends each value with a newline
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("GET /api/v1/dossiers/{ref} now answers\n%s\nnot as pinned in %s\n%s", got, path, want.Bytes())
	}
}
