package http_test

import (
	"net/http"
	"testing"

	"github.com/motcua/motcua/commands"
)

// A postal dossier's channel reads the same in the register's CSV as on the dossier page: both take
// the words from the one catalogue (l10n). The register used to say "Bưu chính công ích" where the
// pages said "Qua dịch vụ bưu chính công ích".
func TestRegisterCSVAndPagesNameTheChannelAlike(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	receipt := validReceipt()
	receipt["channel"] = "postal"
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, receipt), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	const postal = "Qua dịch vụ bưu chính công ích"
	e.signIn(reception)
	e.get("/can-bo/ho-so/"+code).expect(t, http.StatusOK, "<dd>"+postal+"</dd>")
	r := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", inspector, nil, "Accept", "text/csv"), http.StatusOK)
	records := csvOf(t, r.raw)
	if len(records) != 2 || records[1][1] != code {
		t.Fatalf("register CSV: %q", records)
	}
	if got := records[1][7]; got != postal {
		t.Errorf("register CSV names the postal channel %q, the pages %q", got, postal)
	}
}
