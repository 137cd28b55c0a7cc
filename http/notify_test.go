package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
)

// The applicant's choice of notification channels goes in with the reception and comes back with
// the dossier; without one, the dossier shows the default (e-mail and SMS for an applicant who gave
// both). A name that is no channel, or SMS without a phone, is a 400 naming applicant.notify, and
// nothing is written.
func TestNotifyChoiceThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	channels := func(code string) []string {
		got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
		var names []string
		for _, n := range got.body["applicant"].(map[string]any)["notify"].([]any) {
			names = append(names, n.(string))
		}
		return names
	}
	zalo := validReceipt()
	zalo["applicant"].(map[string]any)["notify"] = []string{"zalo"}
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, zalo), http.StatusCreated).body["code"].(string)
	if got := channels(code); !slices.Equal(got, []string{"zalo"}) {
		t.Fatalf("chose zalo, the dossier shows %v", got)
	}
	code = e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	if got := channels(code); !slices.Equal(got, []string{"email", "sms"}) {
		t.Fatalf("chose nothing, the dossier shows %v", got)
	}

	before := e.eventCount()
	for name, tc := range map[string]struct {
		notify []string
		phone  string
	}{
		"not a channel":       {notify: []string{"email", "fax"}, phone: "0912345678"},
		"sms without a phone": {notify: []string{"sms"}},
	} {
		body := validReceipt()
		applicant := body["applicant"].(map[string]any)
		applicant["notify"], applicant["phone"] = tc.notify, tc.phone
		r := e.expect(e.do("POST", "/api/v1/dossiers", reception, body), http.StatusBadRequest)
		if got := strings.Join(fieldsOf(r), ","); got != "applicant.notify" {
			t.Fatalf("%s: fields %q, want applicant.notify (%s)", name, got, r.raw)
		}
	}
	if e.eventCount() != before {
		t.Fatal("a refused choice wrote events")
	}
}
