package http_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
)

// TestApologyAndPaymentBoundsOverHTTP: an apology's new date beyond the procedure's own time, or
// given as a billion working days, and a payment receipt entered twice are 400 problems naming the
// field, and write nothing.
func TestApologyAndPaymentBoundsOverHTTP(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cashier := e.token("thungan1", centre, commands.RoleCashier)
	head := e.token("truongphong1", building, commands.RoleHead)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	path := "/api/v1/dossiers/" + code
	before := e.eventCount()
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"reason": "Chậm", "extra_working_days": 1_000_000_000}, "extra_working_days"},
		{map[string]any{"reason": "Chậm", "extra_working_days": 6}, "extra_working_days"},
		{map[string]any{"reason": "Chậm", "new_appointment_date": "9999-12-31T08:00:00+07:00"}, "new_appointment_date"},
		{map[string]any{"reason": "Chậm", "new_appointment_date": "2026-03-15T09:00:00+07:00"}, "new_appointment_date"}, // a Sunday, within the bound
		{map[string]any{"reason": "Chậm", "new_appointment_date": "2026-03-10T08:00:00+07:00", "extra_working_days": 1}, "extra_working_days"},
	} {
		r := e.expect(e.do("POST", path+"/apology", head, tc.body), http.StatusBadRequest)
		if got := strings.Join(fieldsOf(r), ","); got != tc.field {
			t.Errorf("apology %v: fields %q, want %q (%s)", tc.body, got, tc.field, r.raw)
		}
	}
	if e.eventCount() != before {
		t.Fatal("a refused apology wrote events")
	}

	e.expect(e.do("POST", path+"/fee", cashier, map[string]any{}), http.StatusOK)
	e.expect(e.do("POST", path+"/payment", cashier, map[string]any{"amount": 50000, "channel": "cash", "receipt_number": "BL-0001"}), http.StatusOK)
	before = e.eventCount()
	r := e.expect(e.do("POST", path+"/payment", cashier, map[string]any{"amount": 50000, "channel": "cash", "receipt_number": "BL-0001"}), http.StatusBadRequest)
	if got := strings.Join(fieldsOf(r), ","); got != "receipt_number" {
		t.Errorf("second payment with the same receipt: fields %q (%s)", got, r.raw)
	}
	if e.eventCount() != before {
		t.Fatal("a repeated receipt wrote events")
	}
}

// TestActionFormNumbersThatAreNotJSON: "NaN" and "Inf" parse as floats but cannot be sent as JSON;
// the form passes them on as text and the API names the field, instead of failing with a 500.
func TestActionFormNumbersThatAreNotJSON(t *testing.T) {
	e := newPagesEnv(t)
	csrf := e.signIn(e.token("tn", centre, commands.RoleReception))
	good := url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
		"applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"038098765432"}, "components": {"Đơn đề nghị | 1"}}
	receipt := e.post("/can-bo/tiep-nhan", good).expect(t, http.StatusOK, `id="receipt-code"`)
	code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(receipt.body)[1]
	for _, hours := range []string{"NaN", "Inf", "-Inf"} {
		e.post("/can-bo/ho-so/"+code+"/transfer", url.Values{"csrf": {csrf}, "step": {"Bổ sung"}, "to_unit": {"PQLXD"}, "allotted_hours": {hours}}).
			expect(t, http.StatusBadRequest, `id="transfer-allotted_hours-error"`)
	}
}
