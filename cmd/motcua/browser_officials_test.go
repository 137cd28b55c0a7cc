package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An official signs in through the identity provider (serve --demo's, a real OpenID Connect
// provider: discovery, code flow with PKCE), receives a dossier and transfers it, then signs out —
// through the provider's end of session — and the pages ask for a sign-in again. The events name
// the official the provider vouched for.
func TestBrowserOfficialSignsInThroughTheIdentityProvider(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)

	b.open("/can-bo")
	b.expectText("main h1", "Cán bộ đăng nhập")
	b.run("go to the identity provider", chromedp.Click(css(`#signin-provider a.button`)), chromedp.WaitVisible(css(`form button[type=submit]`)))
	b.expectText(".note", "mô phỏng")
	// The provider lists the demo's officials to motcua's officials' client, and no citizen.
	if people := b.text("body"); strings.Contains(people, "Số định danh") || !strings.Contains(people, "000.00.00.H56") {
		t.Fatalf("the provider's sign-in page for officials lists:\n%s", people)
	}
	b.screenshot("official-idp", false)
	b.run("choose the centre's reception official",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=subject][value="demo-1-reception"]').form.requestSubmit()`),
		chromedp.WaitVisible(css("#queue-summary")))
	b.expectText("h1", "Hồ sơ cần xử lý")
	b.expectText(".whoami", "Tiếp nhận")

	b.open("/can-bo/tiep-nhan")
	b.run("receive",
		chromedp.SetValue(css(`[name=procedure_code]`), "2.001610"),
		chromedp.SetValue(css(`[name="applicant.name"]`), "Trịnh Văn Tuấn"),
		chromedp.SetValue(css(`[name="applicant.id_number"]`), "038190054321"),
		chromedp.SetValue(css(`[name="applicant.phone"]`), "0912 000 111"),
		chromedp.SetValue(css(`[name="applicant.address"]`), "Số 9, phường Hạc Thành, tỉnh Thanh Hóa"),
		chromedp.SetValue(css(`[name=components]`), "Giấy đề nghị đăng ký doanh nghiệp | 1"),
		chromedp.Click(css(`form.card button[type=submit]`)), chromedp.WaitVisible(css("#receipt-code")))
	code := b.text("#receipt-code")
	b.open("/can-bo/ho-so/" + code)
	b.act("transfer", nil, "#done")
	b.expectText(".status-line", "Đang giải quyết")
	b.screenshot("official-signed-in-through-idp", false)

	b.signOut()
	b.open("/can-bo/ho-so/" + code)
	b.expectText("main h1", "Cán bộ đăng nhập")

	// Both events name the official the provider signed in.
	req, _ := http.NewRequest(http.MethodGet, demo.url+"/api/v1/dossiers/"+code+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+demo.tokens["demo-inspector"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var history struct {
		Events []struct {
			Type  string `json:"type"`
			Actor struct {
				ID string `json:"id"`
			} `json:"actor"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&history); err != nil || resp.StatusCode != http.StatusOK || len(history.Events) != 2 {
		t.Fatalf("the dossier's history: %d, %v, %+v", resp.StatusCode, err, history)
	}
	for _, e := range history.Events {
		if e.Actor.ID != "demo-1-reception" {
			t.Errorf("%s was recorded as %q, want the official signed in at the provider", e.Type, e.Actor.ID)
		}
	}
}

// An official signs in with a local account on the embedded default (SQLite, nothing else
// installed): a wrong password is refused with a message and no session, the right one opens the
// work queue, and signing out ends the session.
func TestBrowserOfficialSignsInWithALocalAccount(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)

	b.open("/can-bo/dang-nhap")
	b.run("sign in with a wrong password",
		chromedp.SetValue(css("#login"), "demo-2-head"),
		chromedp.SetValue(css("#password"), "not the password at all"),
		chromedp.Click(css(`#signin-password button[type=submit]`)),
		chromedp.WaitVisible(css("#signin-error")))
	b.expectText("#signin-error", "mật khẩu không đúng")
	if login := value(b, "read the login kept", chromedp.Value(css("#login"))); login != "demo-2-head" {
		t.Errorf("the form kept the login %q", login)
	}
	b.open("/can-bo")
	b.expectText("main h1", "Cán bộ đăng nhập")

	b.signInWithPassword("demo-2-head", demo.passwords["demo-2-head"])
	b.expectText("h1", "Hồ sơ cần xử lý")
	b.expectText(".whoami", "Trưởng phòng")
	b.screenshot("official-signed-in-with-password", false)
	b.signOut()
	b.open("/can-bo")
	b.expectText("main h1", "Cán bộ đăng nhập")
}
