package http_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/motcua/motcua/commands"
)

// pageForm is a page read through the router with the CSRF token of its forms.
type pageForm struct {
	status int
	raw    string
	csrf   string
}

func openPage(t *testing.T, e *env, cookie, path string) pageForm {
	t.Helper()
	p := e.do("GET", path, "", nil, "Cookie", cookie)
	f := pageForm{status: p.status, raw: p.raw}
	if m := csrfField.FindStringSubmatch(p.raw); m != nil {
		f.csrf = m[1]
	}
	return f
}

// postPage posts a page's form without following the redirect, and answers the status and page.
func postForm(t *testing.T, e *env, cookie, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p := readPage(t, resp)
	return p.status, p.body
}

// The agencies' pages through the real router: inspectors read the agencies in force and each
// agency's history but have no form, and their post is refused; an admin publishes a new agency,
// amends it, withdraws it — each with its decision and date of effect; a bad departments line, a
// code that is not a QCVN 102 identifier, a missing basis and a replaced version are shown as
// errors next to the input they name (400, 409) and write nothing; withdrawing an agency a
// procedure names is refused naming that procedure; a post without the CSRF token is refused. The
// list and the history are paged with the keyset contract.
func TestAgenciesPages(t *testing.T) {
	e := newEnv(t)
	admin := e.token("quantri", "", commands.RoleAdmin)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	inspectorSession := pageSession(t, e.url, inspector)
	adminSession := pageSession(t, e.url, admin)
	changes := func() float64 {
		return e.expect(e.do("GET", "/api/v1/catalog/history", inspector, nil), http.StatusOK).body["total"].(float64)
	}
	const newAgency = "000.00.77.H56"
	agencyInForce := func(code string) bool {
		return e.do("GET", "/api/v1/catalog/agencies/"+code+"/history", inspector, nil).status == http.StatusOK &&
			strings.Contains(e.do("GET", "/api/v1/catalog/agencies?limit=500", inspector, nil).raw, `"code":"`+code+`"`)
	}

	// The inspector reads, page by page; no form is offered and a post is refused.
	list := openPage(t, e, inspectorSession, "/can-bo/danh-muc/co-quan?limit=2")
	if list.status != http.StatusOK || !strings.Contains(list.raw, "Sở Xây dựng tỉnh Thanh Hóa") || strings.Contains(list.raw, `id="publish-agency"`) {
		t.Fatalf("the inspector's agencies page (%d) does not list the agencies, or offers the publish form: %.800s", list.status, list.raw)
	}
	next := regexp.MustCompile(`href="(/can-bo/danh-muc/co-quan\?[^"]*after=[^"]+)" rel="next"`).FindStringSubmatch(list.raw)
	if next == nil || strings.Contains(list.raw, "000.00.10.H56") {
		t.Fatalf("the first page of two agencies has no next page, or holds the third: %.2000s", list.raw)
	}
	second := openPage(t, e, inspectorSession, html.UnescapeString(next[1]))
	if second.status != http.StatusOK || !strings.Contains(second.raw, "000.00.10.H56") || strings.Contains(second.raw, "000.00.06.H56/lich-su") {
		t.Fatalf("the second page (%d) does not hold the third agency alone: %.2000s", second.status, second.raw)
	}
	if bad := e.do("GET", "/can-bo/danh-muc/co-quan?limit=0", "", nil, "Cookie", inspectorSession); bad.status != http.StatusBadRequest {
		t.Errorf("a limit of 0 answered %d, want 400", bad.status)
	}
	seeded := changes()
	publish := url.Values{"revision": {"0"}, "basis": {"Quyết định 1500/QĐ-UBND ngày 02/3/2026 của Chủ tịch UBND tỉnh"},
		"effective_from": {"2026-03-02"}, "code": {newAgency}, "name": {"Ủy ban nhân dân xã Đông Tiến"},
		"departments": {"VP | Văn phòng HĐND và UBND xã\nPKT | Phòng Kinh tế"}, "change": {"publish"}}
	withCSRF := func(form url.Values, csrf string) url.Values {
		out := url.Values{}
		for k, v := range form {
			out[k] = v
		}
		out.Set("csrf", csrf)
		return out
	}
	if status, _ := postForm(t, e, inspectorSession, "/can-bo/danh-muc/co-quan", withCSRF(publish, list.csrf)); status != http.StatusForbidden {
		t.Errorf("the inspector's publication answered %d, want 403", status)
	}

	// The admin's form: a post without the CSRF token, then refusals shown next to their input.
	adminList := openPage(t, e, adminSession, "/can-bo/danh-muc/co-quan")
	if adminList.status != http.StatusOK || !strings.Contains(adminList.raw, `id="publish-agency"`) || adminList.csrf == "" {
		t.Fatalf("the admin's agencies page (%d) has no publish form: %.800s", adminList.status, adminList.raw)
	}
	if status, _ := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan", publish); status != http.StatusForbidden {
		t.Errorf("a publication without the CSRF token answered %d, want 403", status)
	}
	for _, bad := range []struct {
		input, value, want string
	}{
		{"departments", "VP Văn phòng", `id="publish-departments-error"`},
		{"code", "SXD", `id="publish-code-error"`},
		{"basis", "", `id="publish-basis-error"`},
		{"name", "", `id="publish-name-error"`},
	} {
		form := withCSRF(publish, adminList.csrf)
		form.Set(bad.input, bad.value)
		status, page := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan", form)
		if status != http.StatusBadRequest || !strings.Contains(page, bad.want) || !strings.Contains(page, `id="publish-`+bad.input+`" name="`+bad.input+`"`) {
			t.Errorf("bad %s answered %d without its error next to the input: %.3000s", bad.input, status, page)
		}
		if bad.input != "basis" && !strings.Contains(page, "Quyết định 1500") {
			t.Errorf("bad %s: the form is not refilled with what was posted", bad.input)
		}
	}
	if got := changes(); got != seeded {
		t.Fatalf("refused publications wrote to the catalog: %v changes, want %v", got, seeded)
	}

	// Published, it has a history page with an amendment form at its revision.
	status, _ := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan", withCSRF(publish, adminList.csrf))
	if status != http.StatusSeeOther || !agencyInForce(newAgency) {
		t.Fatalf("the publication answered %d; agency in the catalog: %v", status, agencyInForce(newAgency))
	}
	history := openPage(t, e, adminSession, "/can-bo/danh-muc/co-quan/"+newAgency+"/lich-su")
	revision := regexp.MustCompile(`name="revision" value="(\d+)"`).FindStringSubmatch(history.raw)
	if history.status != http.StatusOK || revision == nil || !strings.Contains(history.raw, "PKT | Phòng Kinh tế") {
		t.Fatalf("the new agency's history page (%d) has no amendment form filled with it: %.2000s", history.status, history.raw)
	}
	amend := withCSRF(publish, history.csrf)
	amend.Set("revision", revision[1])
	amend.Set("basis", "Quyết định 1600/QĐ-UBND ngày 10/3/2026")
	amend.Set("departments", "VP | Văn phòng HĐND và UBND xã\nPKT | Phòng Kinh tế\nPVH | Phòng Văn hóa - Xã hội")
	amend.Set("change", "amend")
	if status, _ := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan/"+newAgency, amend); status != http.StatusSeeOther {
		t.Fatalf("the amendment answered %d", status)
	}
	got := e.expect(e.do("GET", "/api/v1/catalog/agencies/"+newAgency+"/history", inspector, nil), http.StatusOK).body
	latest := got["items"].([]any)[0].(map[string]any)
	if got["total"].(float64) != 2 || len(latest["agency"].(map[string]any)["departments"].([]any)) != 3 ||
		latest["change"].(map[string]any)["basis"] != "Quyết định 1600/QĐ-UBND ngày 10/3/2026" {
		t.Fatalf("after the amendment the history is %v", got)
	}
	// The same form again names a replaced version: 409, shown on the form, nothing written.
	before := changes()
	status, page := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan/"+newAgency, amend)
	if status != http.StatusConflict || !strings.Contains(page, `class="problem"`) || !strings.Contains(page, `id="amend-agency"`) {
		t.Errorf("the replaced version's amendment answered %d without the form and its problem: %.2000s", status, page)
	}
	// Withdrawing the agency the test catalog's procedure names is refused naming the procedure.
	seat := openPage(t, e, adminSession, "/can-bo/danh-muc/co-quan/000.00.06.H56/lich-su")
	seatRevision := regexp.MustCompile(`name="revision" value="(\d+)"`).FindStringSubmatch(seat.raw)
	withdraw := url.Values{"csrf": {seat.csrf}, "revision": {seatRevision[1]}, "basis": {"QĐ 1700/QĐ-UBND"}, "effective_from": {"2026-03-05"}, "change": {"withdraw"}}
	status, page = postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan/000.00.06.H56", withdraw)
	if status != http.StatusBadRequest || !strings.Contains(page, "procedures["+catalogPermit+"].competent_agency") {
		t.Errorf("withdrawing the permit's agency answered %d without naming the procedure: %.2000s", status, page)
	}
	if got := changes(); got != before {
		t.Fatalf("refused changes wrote to the catalog: %v changes, want %v", got, before)
	}

	// The inspector sees the history, a version a page; the admin withdraws the new agency.
	first := openPage(t, e, inspectorSession, "/can-bo/danh-muc/co-quan/"+newAgency+"/lich-su?limit=1")
	older := regexp.MustCompile(`href="([^"]*lich-su\?after=[^"]+)" rel="next"`).FindStringSubmatch(first.raw)
	if first.status != http.StatusOK || !strings.Contains(first.raw, "Quyết định 1600/QĐ-UBND") || older == nil || strings.Contains(first.raw, `id="amend-agency"`) {
		t.Fatalf("the inspector's history page (%d) lacks the amendment, the next page, or offers a form: %.2000s", first.status, first.raw)
	}
	if p := openPage(t, e, inspectorSession, html.UnescapeString(older[1])); !strings.Contains(p.raw, "Quyết định 1500/QĐ-UBND") || strings.Contains(p.raw, "Quyết định 1600/QĐ-UBND") {
		t.Errorf("the history's second page does not hold the first version alone: %.2000s", p.raw)
	}
	current := openPage(t, e, adminSession, "/can-bo/danh-muc/co-quan/"+newAgency+"/lich-su")
	withdraw = url.Values{"csrf": {current.csrf}, "revision": {regexp.MustCompile(`name="revision" value="(\d+)"`).FindStringSubmatch(current.raw)[1]},
		"basis": {"QĐ 1800/QĐ-UBND"}, "effective_from": {"2026-03-02"}, "change": {"withdraw"}}
	if status, _ := postForm(t, e, adminSession, "/can-bo/danh-muc/co-quan/"+newAgency, withdraw); status != http.StatusSeeOther {
		t.Fatalf("the withdrawal answered %d", status)
	}
	if agencyInForce(newAgency) {
		t.Errorf("the withdrawn agency is still listed in force")
	}
	if p := openPage(t, e, inspectorSession, "/can-bo/danh-muc/co-quan/"+newAgency+"/lich-su"); !strings.Contains(p.raw, "Bãi bỏ cơ quan khỏi danh mục") {
		t.Errorf("the history does not show the withdrawal: %.2000s", p.raw)
	}
}
