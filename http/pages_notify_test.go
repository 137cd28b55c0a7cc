package http_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/motcua/motcua/commands"
)

// The reception form asks which channels the applicant wants: Zalo ticked without a phone number
// comes back with the API's error beside the boxes and the box still ticked; with the number, the
// dossier records Zalo only. "No notifications" alone records an empty choice.
func TestReceptionFormRecordsTheApplicantsChannels(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	csrf := e.signIn(reception)
	form := func(notify ...string) url.Values {
		return url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
			"applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"038098765432"}, "applicant.notify": notify,
			"components": {"Đơn đề nghị | 1\nBản vẽ thiết kế | 2"}}
	}
	e.post("/can-bo/tiep-nhan", form("zalo")).expect(t, http.StatusBadRequest, "zalo needs the applicant&#39;s phone number",
		`name="applicant.notify" value="zalo" checked`)
	channels := func(values url.Values) []string {
		receipt := e.post("/can-bo/tiep-nhan", values).expect(t, http.StatusOK, "Giấy tiếp nhận hồ sơ")
		code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(receipt.body)[1]
		got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
		names := []string{}
		for _, n := range got.body["applicant"].(map[string]any)["notify"].([]any) {
			names = append(names, n.(string))
		}
		return names
	}
	withPhone := form("zalo")
	withPhone.Set("applicant.phone", "0912 345 678")
	if got := channels(withPhone); !slices.Equal(got, []string{"zalo"}) {
		t.Fatalf("ticked Zalo, the dossier records %v", got)
	}
	none := form("none")
	none.Set("applicant.phone", "0912 345 678")
	if got := channels(none); len(got) != 0 {
		t.Fatalf("ticked no notifications, the dossier records %v", got)
	}
	untouched := form()
	untouched.Set("applicant.phone", "0912 345 678")
	if got := channels(untouched); !slices.Equal(got, []string{"sms"}) {
		t.Fatalf("ticked nothing with a phone, the dossier records %v, want the default sms", got)
	}
}
