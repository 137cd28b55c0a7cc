package http_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/motcua/motcua/commands"
)

// The officials' web forms do not pass the JSON decoder: the commands refuse hostile text for them,
// and the page shows the error next to the field, with nothing written.
func TestOfficialsFormsRefuseHostileText(t *testing.T) {
	e := newPagesEnv(t)
	csrf := e.signIn(e.token("tn", centre, commands.RoleReception))
	form := url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
		"applicant.name": {"Trần\x00Thị Bình"}, "applicant.id_number": {"038098765432"}, "components": {"Đơn đề nghị | 1"}}
	e.post("/can-bo/tiep-nhan", form).expect(t, http.StatusBadRequest, `id="receive-applicant.name-error"`, "U&#43;0000 at character 5")
	if n := e.eventCount(); n != 0 {
		t.Fatalf("a refused receipt wrote %d events", n)
	}
	form.Set("applicant.name", "Trần Thị Bình")
	receipt := e.post("/can-bo/tiep-nhan", form).expect(t, http.StatusOK)
	code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(receipt.body)[1]
	before := e.eventCount()
	e.post("/can-bo/ho-so/"+code+"/withdraw", url.Values{"csrf": {csrf}, "reason": {"Rút\u202e hồ sơ"}}).
		expect(t, http.StatusBadRequest, `id="withdraw-reason-error"`, "U&#43;202E")
	if e.eventCount() != before {
		t.Fatal("a refused withdrawal wrote events")
	}
}
