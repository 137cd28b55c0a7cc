package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// Text that a spreadsheet would run as a formula reaches a CSV export as text: prefixed with a
// single quote (OWASP's CSV-injection guidance), whatever column it is in.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	e := buildEnv(t, envOptions{projections: []engine.Consumer{projections.PublicStatusView{}, projections.ProcessControlView{}}})
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	receipt := validReceipt()
	applicant := receipt["applicant"].(map[string]any)
	applicant["name"] = `=HYPERLINK("http://evil.example","Bấm")`
	applicant["address"] = "@SUM(1+1)*cmd|' /C calc'!A0"
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, receipt), http.StatusCreated).body["code"].(string)
	e.waitPublic(code, "received")
	var row []string
	deadline := 100
	for ; deadline > 0; deadline-- {
		r := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", inspector, nil, "Accept", "text/csv"), http.StatusOK)
		if records := csvOf(t, r.raw); len(records) == 2 {
			row = records[1]
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if row == nil {
		t.Fatal("the register never showed the dossier")
	}
	if row[4] != `'=HYPERLINK("http://evil.example","Bấm")` || row[5] != "'@SUM(1+1)*cmd|' /C calc'!A0" {
		t.Fatalf("name %q, address %q: want them prefixed with a single quote", row[4], row[5])
	}
	if row[1] != code {
		t.Fatalf("code %q changed", row[1])
	}
}
