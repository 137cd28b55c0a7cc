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
	var full domain.Dossier
	fill(&full)
	full.Status, full.ResumeStatus, full.StatusAfterPayment = domain.StatusReceived, domain.StatusSupplementRequested, domain.StatusReceived // real states: allowed_actions and portal_status show
	// A dossier just filed online: no code, no parts, no fees — what absent members look like.
	submitted := domain.Dossier{ID: "0b5e6a3c-1f2d-4e5f-8a9b-0c1d2e3f4a5b", Version: 1, Status: domain.StatusSubmitted,
		Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "038012345678"}}
	for name, d := range map[string]domain.Dossier{"dossier.json": full, "dossier-submitted.json": submitted} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, 200, dossierResponseOf(d, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)))
			checkGoldenAPI(t, name, rec.Body.Bytes())
		})
	}
}

// checkGoldenAPI compares a response body with its pinned copy in testdata/api.
func checkGoldenAPI(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "api", name)
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
		t.Fatalf("the API now answers\n%s\nnot as pinned in %s\n%s", got, path, want.Bytes())
	}
}
