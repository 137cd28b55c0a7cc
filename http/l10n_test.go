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

// The control sheet stores the desk's own steps as codes: the printed sheet names them in the
// page's language, Vietnamese as before or English. The satisfaction page names the QĐ 766
// indicators it cannot compute the same way.
func TestControlSheetAndIndicatorsSpeakThePagesLanguage(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitProjected()
	e.signIn(reception)
	sheet := "/can-bo/ho-so/" + code + "/in/phieu-kiem-soat"
	e.get(sheet).expect(t, http.StatusOK, `<span class="small">Tiếp nhận hồ sơ</span>`)
	e.get(sheet+"?lang=en").expect(t, http.StatusOK, `<html lang="en">`, `<span class="small">Reception</span>`)
	e.signIn(inspector)
	e.get("/can-bo/thong-ke/hai-long?lang=vi").expect(t, http.StatusOK, "<strong>Cung cấp dịch vụ công trực tuyến toàn trình / một phần; thủ tục có thanh toán trực tuyến</strong>",
		// Complaints are recorded now: their share and the group 5 indicators are computed, not listed as missing.
		"<dt>Tỷ lệ hồ sơ có phản ánh, kiến nghị</dt>", "<dt>5.3 Tỷ lệ phản ánh, kiến nghị được trả lời đúng hạn</dt>")
	e.get("/can-bo/thong-ke/hai-long?lang=en").expect(t, http.StatusOK, "<strong>Full or partial online public services; procedures with online payment</strong>",
		"<dt>Share of dossiers with complaints or petitions</dt>", "<dt>5.3 Feedback answered on time</dt>")
}
