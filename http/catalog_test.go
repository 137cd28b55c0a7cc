package http_test

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
)

const catalogPermit = "1.009972"

// permitWithFee is the test catalog's permit as the API shows it, with its fee set to amount.
func permitWithFee(t *testing.T, e *env, token string, amount int) map[string]any {
	t.Helper()
	got := e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit, token, nil), http.StatusOK).body
	p := got["procedure"].(map[string]any)
	p["fees"] = []any{map[string]any{"name": "Lệ phí cấp giấy phép xây dựng", "amount": amount}}
	return p
}

// The catalog through the real router: an admin amends a procedure's fee from a date of effect;
// the catalog as of a date answers which fee applied; a dossier received before keeps its fee when
// assessed after, one received after pays the new one; a second amendment of the same version is
// 409 and bad input is 400 naming the field, neither writing anything; inspectors read the
// procedure's history (who, when, basis) page by page, through the API and the page; the national
// database's list is compared in a dry run that writes nothing, then applied at the revision it
// was compared with.
func TestCatalogHistoryThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.token("quantri", "", commands.RoleAdmin)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)
	desk := e.token("tiepnhan1", centre, commands.RoleReception)

	before := e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
	history := func() float64 {
		return e.expect(e.do("GET", "/api/v1/catalog/history", inspector, nil), http.StatusOK).body["total"].(float64)
	}
	seeded := history()

	amend := func(token string, terms map[string]any, amount int) response {
		body := map[string]any{"procedure": permitWithFee(t, e, token, amount)}
		for k, v := range terms {
			body[k] = v
		}
		return e.do("POST", "/api/v1/catalog/procedures", token, body)
	}
	terms := map[string]any{"basis": "Quyết định 812/QĐ-UBND ngày 03/3/2026 của Chủ tịch UBND tỉnh", "effective_from": "2026-03-05", "revision": 1}
	for _, bad := range []struct {
		drop, field string
		value       any
	}{{"basis", "basis", ""}, {"", "effective_from", "05/03/2026"}, {"", "body", "x"}} {
		body := map[string]any{}
		for k, v := range terms {
			body[k] = v
		}
		switch {
		case bad.field == "body":
			body["revison"] = 1 // misspelt
		case bad.drop != "":
			body[bad.drop] = bad.value
		default:
			body[bad.field] = bad.value
		}
		r := e.expect(amend(admin, body, 300000), http.StatusBadRequest)
		if fields := fieldsOf(r); !slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, bad.field) || f == "revison" }) {
			t.Errorf("bad %s: fields at fault %v", bad.field, fields)
		}
	}
	e.expect(amend(desk, terms, 300000), http.StatusForbidden)
	if got := history(); got != seeded {
		t.Fatalf("refused changes wrote to the catalog: %v changes, want %v", got, seeded)
	}

	done := e.expect(amend(admin, terms, 300000), http.StatusOK).body
	if done["revision"].(float64) != 2 || done["event"] != "catalog.procedure_published.v1" {
		t.Fatalf("amendment answered %v", done)
	}
	e.expect(amend(admin, terms, 350000), http.StatusConflict) // the version at revision 1 is replaced

	feeOn := func(day string) float64 {
		p := e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit+"?at="+day, inspector, nil), http.StatusOK).body["procedure"].(map[string]any)
		return p["fees"].([]any)[0].(map[string]any)["amount"].(float64)
	}
	if feeOn("2026-03-04") != 150000 || feeOn("2026-03-05") != 300000 {
		t.Fatalf("fees on 4 and 5 March: %v, %v; want 150000 then 300000", feeOn("2026-03-04"), feeOn("2026-03-05"))
	}
	e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit+"?at=5/3/2026", inspector, nil), http.StatusBadRequest)

	e.clock.Advance(3*24*time.Hour + time.Hour) // Thursday 5 March, 09:00
	after := e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
	for code, want := range map[string]float64{before: 150000, after: 300000} {
		got := e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/fee", desk, map[string]any{}), http.StatusOK)
		d := e.expect(e.do("GET", "/api/v1/dossiers/"+code, desk, nil), http.StatusOK).body
		if d["fees_due"].(float64) != want {
			t.Errorf("%s owes %v after the assessment (%s), want %v", code, d["fees_due"], got.raw, want)
		}
	}

	// The procedure's history, newest first, a version a page.
	var versions []map[string]any
	for after, pages := "", 0; ; pages++ {
		if pages > 3 {
			t.Fatal("the history's pages do not end")
		}
		page := e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit+"/history?limit=1&after="+url.QueryEscape(after), inspector, nil), http.StatusOK).body
		for _, item := range page["items"].([]any) {
			versions = append(versions, item.(map[string]any))
		}
		if after, _ = page["next"].(string); after == "" {
			break
		}
	}
	if len(versions) != 2 || versions[0]["revision"].(float64) != 2 || versions[1]["revision"].(float64) != 1 {
		t.Fatalf("history of %s: %v", catalogPermit, versions)
	}
	latest := versions[0]
	if latest["change"].(map[string]any)["basis"] != terms["basis"] || latest["recorded_by"].(map[string]any)["name"] != "Cán bộ quantri" || latest["replaces"].(float64) != 1 {
		t.Errorf("the amendment's version: %v", latest)
	}
	for _, path := range []string{"/api/v1/catalog/history", "/api/v1/catalog/agencies", "/api/v1/catalog/procedures"} {
		seen := map[string]bool{}
		total := 0.0
		for after, pages := "", 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: the pages do not end", path)
			}
			page := e.expect(e.do("GET", path+"?limit=2&after="+url.QueryEscape(after), inspector, nil), http.StatusOK).body
			items := page["items"].([]any)
			if len(items) > 2 {
				t.Errorf("%s: a page of limit 2 holds %d items", path, len(items))
			}
			for _, item := range items {
				key, _ := json.Marshal(item)
				if seen[string(key)] {
					t.Errorf("%s: %s listed twice", path, key)
				}
				seen[string(key)] = true
			}
			total = page["total"].(float64)
			if after, _ = page["next"].(string); after == "" {
				break
			}
		}
		if int(total) != len(seen) {
			t.Errorf("%s: the pages list %d items, the total says %v", path, len(seen), total)
		}
		for _, query := range []string{"limit=0", "limit=501", "after=%25%25"} {
			e.expect(e.do("GET", path+"?"+query, inspector, nil), http.StatusBadRequest)
		}
	}

	// The page shows the same history to the inspector.
	inspectorSession := pageSession(t, e.url, inspector)
	page := e.do("GET", "/can-bo/danh-muc/"+catalogPermit+"/lich-su", "", nil, "Cookie", inspectorSession)
	if page.status != http.StatusOK || !strings.Contains(page.raw, "Quyết định 812/QĐ-UBND") || !strings.Contains(page.raw, "300.000") {
		t.Errorf("the history page answers %d without the amendment: %.500s", page.status, page.raw)
	}
	list := e.do("GET", "/can-bo/danh-muc?ngay=2026-03-04", "", nil, "Cookie", inspectorSession)
	if list.status != http.StatusOK || !strings.Contains(list.raw, "150.000") {
		t.Errorf("the catalog page of 4 March answers %d without the old fee: %.500s", list.status, list.raw)
	}

	// The national database's list: a dry run, then applied at the revision it answered.
	export := `{"error_code":0,"result":[{"MaTTHC":"1.009972","TenTTHC":"Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
	  "MaLinhVuc":"XD","TenLinhVuc":"Hoạt động xây dựng","ThoiHanGiaiQuyet":{"SoLuong":5,"DonViTinh":"ngay_lam_viec"},
	  "PhiLePhi":[{"TenPhiLePhi":"Lệ phí cấp giấy phép xây dựng","MucPhi":400000}],"MucDo":"mot_phan"},
	 {"MaTTHC":"1.099999","TenTTHC":"Thủ tục mới","ThoiHanGiaiQuyet":{"SoLuong":3,"DonViTinh":"ngay_lam_viec"},"MucDo":""}]}`
	dry := e.expect(e.do("POST", "/api/v1/catalog/import", admin, export), http.StatusOK).body
	if dry["dry_run"] != true || dry["revision"].(float64) != 2 || len(dry["changed"].([]any)) != 1 || len(dry["added"].([]any)) != 1 {
		t.Fatalf("dry run answered %v", dry)
	}
	if got := history(); got != seeded+1 {
		t.Fatalf("the dry run wrote: %v changes, want %v", got, seeded+1)
	}
	e.expect(e.do("POST", "/api/v1/catalog/import?dry_run=false&revision=2&effective_from=2026-03-05", admin, export), http.StatusBadRequest)
	e.expect(e.do("POST", "/api/v1/catalog/import?dry_run=false&revision=1&effective_from=2026-03-05&basis=QĐ+900", admin, export), http.StatusConflict)
	e.expect(e.do("POST", "/api/v1/catalog/import", admin, `{"result":[{"MaTTHC":""}]}`), http.StatusBadRequest)
	applied := e.expect(e.do("POST", "/api/v1/catalog/import?dry_run=false&revision=2&effective_from=2026-03-05&basis=QĐ+900", admin, export), http.StatusOK).body
	if applied["result"].(map[string]any)["revision"].(float64) != 3 || feeOn("2026-03-06") != 400000 {
		t.Fatalf("import applied: %v; fee now %v", applied, feeOn("2026-03-06"))
	}

	// An admin amends through the history page's form (its CSRF token from the page), then withdraws.
	adminSession := pageSession(t, e.url, admin)
	adminPage := e.do("GET", "/can-bo/danh-muc/"+catalogPermit+"/lich-su", "", nil, "Cookie", adminSession)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(adminPage.raw)
	if adminPage.status != http.StatusOK || csrf == nil || !strings.Contains(adminPage.raw, `name="revision" value="3"`) {
		t.Fatalf("the admin's history page (%d) has no amendment form at revision 3: %.500s", adminPage.status, adminPage.raw)
	}
	procedure, _ := json.Marshal(permitWithFee(t, e, admin, 500000))
	submit := func(form url.Values) int {
		form.Set("csrf", csrf[1])
		req, _ := http.NewRequest("POST", e.url+"/can-bo/danh-muc/"+catalogPermit, strings.NewReader(form.Encode()))
		req.Header.Set("Cookie", adminSession)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := url.Values{"revision": {"3"}, "basis": {"QĐ 950/QĐ-UBND"}, "effective_from": {"2026-03-05"}, "procedure": {string(procedure)}, "change": {"amend"}}
	// A refused edit comes back on the form, the admin's JSON kept, the field at fault named.
	badEdit := strings.Replace(string(procedure), `"unit":"PQLXD"`, `"unit":"P.KHONG-CO"`, 1)
	refused := url.Values{"csrf": {csrf[1]}, "revision": {"3"}, "basis": {"QĐ 950/QĐ-UBND"}, "effective_from": {"2026-03-05"}, "procedure": {badEdit}, "change": {"amend"}}
	if status, page := postForm(t, e, adminSession, "/can-bo/danh-muc/"+catalogPermit, refused); status != http.StatusBadRequest ||
		!strings.Contains(page, `id="amend-procedure-error"`) || !strings.Contains(page, "procedure.workflow[1].unit") || !strings.Contains(page, "P.KHONG-CO") {
		t.Errorf("a bad edit answered %d without the form, its JSON and the field at fault: %.3000s", status, page)
	}
	if status, page := postForm(t, e, adminSession, "/can-bo/danh-muc/"+catalogPermit, url.Values{"csrf": {csrf[1]}, "revision": {"3"},
		"basis": {"QĐ 950"}, "effective_from": {"2026-03-05"}, "procedure": {"{not json"}, "change": {"amend"}}); status != http.StatusBadRequest || !strings.Contains(page, "{not json") {
		t.Errorf("an edit that is not JSON answered %d without the form as posted: %.2000s", status, page)
	}
	if status := submit(form); status != http.StatusSeeOther || feeOn("2026-03-06") != 500000 {
		t.Fatalf("the page's amendment answered %d; fee now %v", status, feeOn("2026-03-06"))
	}
	if status := submit(form); status != http.StatusConflict {
		t.Errorf("the same form again answered %d, want 409 (its version is replaced)", status)
	}
	form.Set("revision", "4")
	form.Set("change", "withdraw")
	if status := submit(form); status != http.StatusSeeOther {
		t.Fatalf("the page's withdrawal answered %d", status)
	}
	e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit+"?at=2026-03-06", inspector, nil), http.StatusNotFound)
	e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusBadRequest) // no longer received

	// The withdrawn procedure's form starts from its last content, so the admin publishes it again
	// from its page as it was, with a new decision, rather than retyping it.
	withdrawn := e.do("GET", "/can-bo/danh-muc/"+catalogPermit+"/lich-su", "", nil, "Cookie", adminSession)
	kept := regexp.MustCompile(`(?s)<textarea[^>]*name="procedure"[^>]*>(.*?)</textarea>`).FindStringSubmatch(withdrawn.raw)
	if withdrawn.status != http.StatusOK || kept == nil || !strings.Contains(kept[1], catalogPermit) ||
		!strings.Contains(withdrawn.raw, `name="revision" value="5"`) {
		t.Fatalf("the withdrawn procedure's page (%d) does not offer its last content at revision 5: %.3000s", withdrawn.status, withdrawn.raw)
	}
	form = url.Values{"revision": {"5"}, "basis": {"QĐ 990/QĐ-UBND"}, "effective_from": {"2026-03-09"},
		"procedure": {html.UnescapeString(kept[1])}, "change": {"amend"}}
	if status := submit(form); status != http.StatusSeeOther || feeOn("2026-03-10") != 500000 {
		t.Fatalf("publishing the withdrawn procedure again from its page answered %d; fee then %v", status, feeOn("2026-03-10"))
	}
	e.expect(e.do("GET", "/api/v1/catalog/procedures/"+catalogPermit+"?at=2026-03-06", inspector, nil), http.StatusNotFound)
}

// On SQLite and PostgreSQL: two admins amend the same version at once — one wins, the other is
// 409 — and the fee amended applies to the dossier received after it, not to the one before.
func TestCatalogAmendmentOnBothStores(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			admin := x.token("quantri", "", commands.RoleAdmin)
			desk := x.token("tiepnhan1", centre, commands.RoleReception)
			before := x.expect(x.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i := range statuses {
				body := map[string]any{"procedure": permitWithFee(t, x.env, admin, 200000+100000*i), "basis": "QĐ 812/QĐ-UBND",
					"effective_from": "2026-03-02", "revision": 1}
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = x.do("POST", "/api/v1/catalog/procedures", admin, body).status
				}()
			}
			wg.Wait()
			slices.Sort(statuses)
			if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict {
				t.Fatalf("two amendments of revision 1 answered %v, want one 200 and one 409", statuses)
			}
			current := x.expect(x.do("GET", "/api/v1/catalog/procedures/"+catalogPermit, desk, nil), http.StatusOK).body["procedure"].(map[string]any)
			winner := current["fees"].([]any)[0].(map[string]any)["amount"].(float64)
			if winner != 200000 && winner != 300000 {
				t.Fatalf("the catalog's fee is %v, neither amendment's", winner)
			}
			after := x.expect(x.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
			for code, want := range map[string]float64{before: 150000, after: winner} {
				x.expect(x.do("POST", "/api/v1/dossiers/"+code+"/fee", desk, map[string]any{}), http.StatusOK)
				if got := x.expect(x.do("GET", "/api/v1/dossiers/"+code, desk, nil), http.StatusOK).body["fees_due"].(float64); got != want {
					t.Errorf("%s owes %v, want %v", code, got, want)
				}
			}
		})
	}
}

// The import through the router reads a workbook laid out as the national database's record of a
// procedure is labelled (the time written out, the executing agency and level read and left): the
// dry run answers the one difference the sheet makes — the permit's time — and keeps the fees,
// documents and online level the sheet has no column for; nothing is written.
func TestCatalogImportReadsAWorkbookLabelledAsTheNationalRecord(t *testing.T) {
	e := newEnv(t)
	admin := e.token("quantri", "", commands.RoleAdmin)
	book := excelize.NewFile()
	defer book.Close()
	for i, row := range [][]any{
		{"STT", "Mã thủ tục", "Tên thủ tục", "Cấp thực hiện", "Lĩnh vực", "Thời hạn giải quyết", "Cơ quan thực hiện"},
		{1, catalogPermit, "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II", "Cấp Tỉnh", "Hoạt động xây dựng", "7 Ngày làm việc", "Sở Xây dựng"},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := book.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var data bytes.Buffer
	if err := book.Write(&data); err != nil {
		t.Fatal(err)
	}
	before := e.expect(e.do("GET", "/api/v1/catalog/history", admin, nil), http.StatusOK).body["total"]
	dry := e.expect(e.do("POST", "/api/v1/catalog/import", admin, data.String(),
		"Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), http.StatusOK).body
	changed := dry["changed"].([]any)
	if len(changed) != 1 {
		t.Fatalf("dry run answered %v, want the permit changed", dry)
	}
	changes := changed[0].(map[string]any)["changes"].([]any)
	if len(changes) != 1 || changes[0].(map[string]any)["field"] != "resolution_time" || changes[0].(map[string]any)["new"] != "7 ngày làm việc" {
		t.Fatalf("the permit's changes %v, want its time only (5 → 7 working days)", changes)
	}
	if after := e.expect(e.do("GET", "/api/v1/catalog/history", admin, nil), http.StatusOK).body["total"]; after != before {
		t.Fatalf("the dry run wrote: %v changes, then %v", before, after)
	}
}
