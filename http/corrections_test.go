package http_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/internal/logtest"
	"github.com/motcua/motcua/projections"
)

// withRepairProcedure gives the app the test catalog plus a second procedure of the Department of
// Construction, with a shorter time, that a desk could choose instead of the first.
func withRepairProcedure(t *testing.T, app *commands.App) {
	t.Helper()
	data, err := os.ReadFile("../domain/domaintest/testdata/test-catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	var catalog map[string]any
	if err := json.Unmarshal(data, &catalog); err != nil {
		t.Fatal(err)
	}
	procedures := catalog["procedures"].([]any)
	repair := map[string]any{}
	for k, v := range procedures[0].(map[string]any) {
		repair[k] = v
	}
	repair["code"], repair["name"], repair["resolution_days"] = "1.009974", "Cấp giấy phép sửa chữa, cải tạo công trình", 6
	repair["fees"] = []any{map[string]any{"name": "Lệ phí cấp giấy phép sửa chữa", "amount": 75000}}
	catalog["procedures"] = append(procedures, repair)
	data, _ = json.Marshal(catalog)
	catalogWithRepair, err := domain.ParseCatalog(data, app.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	app.SetCatalog(catalogWithRepair)
}

// TestCorrectionsEndToEnd takes corrections through the real router on both stores: bad input and
// refusals write nothing, the requester cannot approve their own, an approval and a rejection
// racing have one winner, and an approved correction shows in every read model while the history
// keeps the original — the same read models a rebuild from the log gives.
func TestCorrectionsEndToEnd(t *testing.T) {
	for _, d := range []engine.Dialect{engine.SQLite, engine.PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			x := newExportEnv(t, d)
			withRepairProcedure(t, x.app)
			runCorrectionsScenario(t, x, d)
		})
	}
}

func runCorrectionsScenario(t *testing.T, x *exportEnv, d engine.Dialect) {
	e := x.env
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	deskHead := e.token("truongbp1", centre, commands.RoleHead)
	deskHead2 := e.token("truongbp2", centre, commands.RoleHead)
	deskSigner := e.token("phogiamdoc1", centre, commands.RoleSigner)
	buildingHead := e.token("truongphong1", building, commands.RoleHead)
	admin := e.token("quantri", "", commands.RoleAdmin)
	inspector := e.token("thanhtra1", "", commands.RoleInspector)

	created := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
	path := "/api/v1/dossiers/" + code
	e.expect(e.do("POST", path+"/transfer", reception, map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}), http.StatusOK)
	e.clock.Advance(time.Hour)

	nameChange := map[string]any{"field": "applicant.name", "old": "Nguyễn Văn An", "new": "Nguyễn Văn Ân"}
	phoneChange := map[string]any{"field": "applicant.phone", "old": "0912345678", "new": "0912345687"}
	unitChange := map[string]any{"field": "transfer.to_unit", "old": "PQLXD", "new": "BGD"}
	request := func(changes ...map[string]any) map[string]any {
		return map[string]any{"changes": changes, "reason": "Nhập sai so với căn cước"}
	}

	// Bad input: a 400 naming the field, nothing written.
	before := len(logtest.Settled(t, x.events))
	for _, bad := range []struct {
		body  any
		field string
	}{
		{request(map[string]any{"field": "code", "old": code, "new": "X"}), "changes[0].field"},
		{request(map[string]any{"field": "applicant.name", "old": "Nguyễn Văn Am", "new": "Nguyễn Văn Ân"}), "changes[0].old"},
		{request(nameChange, nameChange), "changes[1].field"},
		{map[string]any{"changes": []any{nameChange}}, "reason"},
		{map[string]any{"changes": []any{nameChange}, "reason": "x", "extra": 1}, "extra"},
	} {
		r := e.expect(e.do("POST", path+"/corrections", reception, bad.body), http.StatusBadRequest)
		if !slices.Contains(fieldsOf(r), bad.field) {
			t.Errorf("%v: fields at fault %v, want %s", bad.body, fieldsOf(r), bad.field)
		}
	}
	e.expect(e.do("POST", path+"/corrections", admin, request(nameChange)), http.StatusForbidden)
	e.expect(e.do("POST", path+"/corrections/x/approve", deskHead, nil), http.StatusBadRequest)
	if after := len(logtest.Settled(t, x.events)); after != before {
		t.Fatalf("refused requests wrote %d events", after-before)
	}

	// The head requests; they may not approve their own, nor may another agency or a desk official.
	e.expect(e.do("POST", path+"/corrections", deskHead, request(nameChange, phoneChange, unitChange)), http.StatusOK)
	e.expect(e.do("POST", path+"/corrections", reception, request(map[string]any{"field": "applicant.email", "old": "an@example.vn", "new": "an2@example.vn"})),
		http.StatusConflict)
	self := e.expect(e.do("POST", path+"/corrections/1/approve", deskHead, nil), http.StatusForbidden)
	if !strings.Contains(self.raw, "may not approve") {
		t.Errorf("self-approval refused without saying why: %s", self.raw)
	}
	e.expect(e.do("POST", path+"/corrections/1/approve", buildingHead, nil), http.StatusForbidden)
	e.expect(e.do("POST", path+"/corrections/1/approve", reception, nil), http.StatusForbidden)
	e.expect(e.do("POST", path+"/corrections/2/approve", deskHead2, nil), http.StatusConflict)

	// The pending list: the centre's heads see it, the department's do not, inspectors see all.
	x.sync()
	pending := e.expect(e.do("GET", "/api/v1/corrections", deskHead2, nil), http.StatusOK)
	if items := pending.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["code"] != code ||
		strings.Contains(pending.raw, "Nguyễn Văn Ân") || pending.body["total"] != float64(1) {
		t.Fatalf("pending corrections of the centre: %s", pending.raw)
	}
	if r := e.expect(e.do("GET", "/api/v1/corrections", buildingHead, nil), http.StatusOK); r.body["total"] != float64(0) {
		t.Errorf("the department sees the centre's corrections: %s", r.raw)
	}
	if r := e.expect(e.do("GET", "/api/v1/corrections?agency="+centre, inspector, nil), http.StatusOK); r.body["total"] != float64(1) {
		t.Errorf("the inspector does not see the centre's correction: %s", r.raw)
	}
	e.expect(e.do("GET", "/api/v1/corrections?state=maybe", deskHead2, nil), http.StatusBadRequest)
	e.expect(e.do("GET", "/api/v1/corrections?limit=0", deskHead2, nil), http.StatusBadRequest)

	// An approval and a rejection at once: one wins, the other finds nothing pending (409).
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, act := range []struct {
		token, path string
		body        any
	}{{deskHead2, "approve", nil}, {deskSigner, "reject", map[string]any{"reason": "Đúng như đã nhập"}}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do("POST", path+"/corrections/1/"+act.path, act.token, act.body).status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusConflict {
		t.Fatalf("approve and reject racing answered %v, want one 200 and one 409", statuses)
	}
	// Whatever won, correction 2 is approved now, so the read models can be checked.
	if got := e.expect(e.do("GET", path, deskHead2, nil), http.StatusOK); got.body["corrections"].(map[string]any)["approved"] != float64(1) {
		e.expect(e.do("POST", path+"/corrections", deskHead, request(nameChange, phoneChange, unitChange)), http.StatusOK)
		e.expect(e.do("POST", path+"/corrections/2/approve", deskSigner, nil), http.StatusOK)
	}
	x.sync()

	dossier := e.expect(e.do("GET", path, deskHead2, nil), http.StatusOK)
	if !strings.Contains(dossier.raw, "Nguyễn Văn Ân") || !strings.Contains(dossier.raw, "0912345687") || dossier.body["code"] != code {
		t.Errorf("the dossier does not read corrected: %s", dossier.raw)
	}
	history := e.expect(e.do("GET", path+"/events", deskHead2, nil), http.StatusOK)
	if !strings.Contains(history.raw, `"Nguyễn Văn An"`) || !strings.Contains(history.raw, domain.TypeCorrectionApproved) {
		t.Errorf("the history lost the original or the correction: %s", history.raw)
	}
	sheet := e.expect(e.do("GET", path+"/control-sheet", deskHead2, nil), http.StatusOK)
	var control projections.ControlSheet
	if err := json.Unmarshal([]byte(sheet.raw), &control); err != nil {
		t.Fatal(err)
	}
	if control.ApplicantName != "Nguyễn Văn Ân" || len(control.Handovers) != 2 || !control.Handovers[0].Corrected ||
		!control.Handovers[1].Corrected || control.Handovers[1].To.Unit != "BGD" || control.Code != code {
		t.Errorf("control sheet after the correction: %s", sheet.raw)
	}
	if got := history.body["events"].([]any); got[0].(map[string]any)["corrected_by"] == nil || got[1].(map[string]any)["corrected_by"] == nil ||
		got[2].(map[string]any)["corrected_by"] != nil {
		t.Errorf("the history does not mark the receipt and the transfer as corrected: %s", history.raw)
	}
	// The pages mark the same rows: the sheet's two, the timeline's receipt and transfer.
	cookie := []string{"Cookie", pageSession(t, e.url, inspector)}
	page := e.do("GET", "/can-bo/ho-so/"+code+"/in/phieu-kiem-soat", "", nil, cookie...)
	if page.status != http.StatusOK || strings.Count(page.raw, `class="badge corrected"`) != 2 || !strings.Contains(page.raw, "BGD") {
		t.Errorf("control sheet page (%d) does not mark the two corrected rows", page.status)
	}
	// The dossier page offers no form it cannot submit: corrections go through the API.
	page = e.do("GET", "/can-bo/ho-so/"+code, "", nil, "Cookie", pageSession(t, e.url, deskHead2))
	if page.status != http.StatusOK || strings.Contains(page.raw, `id="act-correction`) || !strings.Contains(page.raw, `id="act-suspend"`) {
		t.Errorf("dossier page (%d) offers a correction form, or no form at all", page.status)
	}
	page = e.do("GET", "/can-bo/ho-so/"+code+"/lich-su", "", nil, cookie...)
	if page.status != http.StatusOK || strings.Count(page.raw, `class="event corrected"`) != 2 || !strings.Contains(page.raw, "Phê duyệt đính chính thông tin") {
		t.Errorf("timeline page (%d) does not mark the two corrected events", page.status)
	}
	queue := e.expect(e.do("GET", "/api/v1/work-queue?agency="+centre, inspector, nil), http.StatusOK)
	if !strings.Contains(queue.raw, `"BGD"`) || strings.Contains(queue.raw, `"PQLXD"`) || !strings.Contains(queue.raw, "Nguyễn Văn Ân") {
		t.Errorf("work queue after the correction: %s", queue.raw)
	}
	year := fmt.Sprint(e.clock.Now().In(domain.VietnamTime).Year())
	register := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/"+year, inspector, nil), http.StatusOK)
	if !strings.Contains(register.raw, "Nguyễn Văn Ân") || !strings.Contains(register.raw, "0912345687") || !strings.Contains(register.raw, `"transferred_to":"BGD"`) {
		t.Errorf("register after the correction: %s", register.raw)
	}
	public := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil), http.StatusOK)
	if public.body["applicant"] != "N***** V** Â*" || public.body["current_unit"] != "BGD" {
		t.Errorf("public lookup after the correction: %s", public.raw)
	}

	// A procedure chosen wrongly: corrected to the 6-day one, the dates follow.
	created2 := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code2, secret2 := created2.body["code"].(string), created2.body["rating_secret"].(string)
	path2 := "/api/v1/dossiers/" + code2
	first := e.expect(e.do("GET", path2, reception, nil), http.StatusOK).body["appointment_date"].(string)
	e.expect(e.do("POST", path2+"/corrections", reception, request(map[string]any{"field": "procedure_code", "old": "1.009972", "new": "1.009975"})),
		http.StatusBadRequest)
	e.expect(e.do("POST", path2+"/corrections", reception, request(map[string]any{"field": "procedure_code", "old": "1.009972", "new": "1.009974"})),
		http.StatusOK)
	approved := e.expect(e.do("POST", path2+"/corrections/1/approve", deskHead, nil), http.StatusOK)
	receivedAt := e.clock.Now()
	want := domain.DefaultRuleBook().At(receivedAt).Appointment(e.cal, domain.ResolutionTime{Days: 6}, receivedAt)
	if got, _ := time.Parse(time.RFC3339, approved.body["appointment_date"].(string)); !got.Equal(want) || approved.body["appointment_date"] == first {
		t.Errorf("appointment after the procedure correction = %v, want %v (was %s)", approved.body["appointment_date"], want, first)
	}
	x.sync()
	lookup := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code2+"?secret="+secret2, "", nil), http.StatusOK)
	if lookup.body["procedure_code"] != "1.009974" {
		t.Errorf("public lookup shows procedure %v", lookup.body["procedure_code"])
	}
	if got, _ := time.Parse(time.RFC3339, lookup.body["appointment_date"].(string)); !got.Equal(want) {
		t.Errorf("public lookup shows appointment %v, want %v", lookup.body["appointment_date"], want)
	}
	// The late dashboard's "due soon" list holds it with its corrected procedure and dates.
	dueSoon := e.expect(e.do("GET", "/api/v1/dashboards/late/due_soon?due_within_days=10&limit=500", inspector, nil), http.StatusOK)
	found := false
	for _, item := range dueSoon.body["items"].([]any) {
		row := item.(map[string]any)
		if row["code"] != code2 {
			continue
		}
		found = true
		due, _ := time.Parse(time.RFC3339, fmt.Sprint(row["appointment_date"]))
		if row["procedure_code"] != "1.009974" || !due.Equal(want) {
			t.Errorf("late dashboard row after the procedure correction: %v", row)
		}
	}
	if !found {
		t.Errorf("the late dashboard's due-soon list lacks %s: %s", code2, dueSoon.raw)
	}
	if r := e.expect(e.do("GET", "/api/v1/corrections?state=all", deskHead, nil), http.StatusOK); r.body["total"].(float64) < 2 {
		t.Errorf("every correction of the centre: %s", r.raw)
	}

	// II.06a: both dossiers count under the procedure they were received with; judged on 9 March,
	// the first (5 days, due 9 March 08:00) is overdue, the corrected one (6 days, due 10 March) is not.
	e.clock.Advance(9 * 24 * time.Hour)
	report := e.expect(e.do("GET", "/api/v1/reports/resolution?from=2026-03-01&to=2026-03-09", inspector, nil), http.StatusOK)
	total := report.body["total"].(map[string]any)
	if total["in_progress_total"] != float64(2) || total["in_progress_overdue"] != float64(1) || total["in_progress_within_time"] != float64(1) ||
		!strings.Contains(report.raw, `"1.009972"`) || strings.Contains(report.raw, `"1.009974"`) {
		t.Errorf("II.06a after the procedure correction: %s", report.raw)
	}

	// A rebuild from the log gives the same read models.
	before2 := readModelSnapshot(t, x, d)
	if _, err := (&engine.Rebuilder{Store: x.events, DB: x.db, Dialect: d, Consumers: projections.All(), Logger: slog.New(slog.DiscardHandler)}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := readModelSnapshot(t, x, d); after != before2 {
		t.Errorf("a rebuild changed the read models:\nbefore %s\nafter  %s", before2, after)
	}
}

// readModelSnapshot is every read model table's rows, sorted, as one text.
func readModelSnapshot(t *testing.T, x *exportEnv, d engine.Dialect) string {
	t.Helper()
	x.sync()
	var out strings.Builder
	db := x.db
	for _, c := range projections.All() {
		for _, table := range c.Tables() {
			rows, err := db.Query(`SELECT * FROM ` + table)
			if err != nil {
				t.Fatal(err)
			}
			columns, _ := rows.Columns()
			var lines []string
			for rows.Next() {
				values := make([]any, len(columns))
				for i := range values {
					values[i] = new(sql.NullString)
				}
				if err := rows.Scan(values...); err != nil {
					t.Fatal(err)
				}
				var line []string
				for _, v := range values {
					line = append(line, v.(*sql.NullString).String)
				}
				lines = append(lines, strings.Join(line, "|"))
			}
			rows.Close()
			slices.Sort(lines)
			fmt.Fprintf(&out, "%s(%d): %s\n", table, len(lines), strings.Join(lines, "\n"))
		}
	}
	return out.String()
}

// A correction of the applicant's data is sealed under their shredding key like the receipt: the
// log never holds the corrected values in clear, and an erasure leaves them nowhere.
func TestErasureCoversCorrectedPersonalData(t *testing.T) {
	e := newSecureEnv(t, nil)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	head := e.token("truongbp1", centre, commands.RoleHead)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, privateReceipt()), http.StatusCreated).body["code"].(string)
	newPhone, newAddress := "0977999888", "79 Phố Quỳnh Thạch, Quảng Xương"
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/corrections", reception, map[string]any{"reason": "Nhập sai số nhà và số điện thoại",
		"changes": []any{
			map[string]any{"field": "applicant.phone", "old": privatePhone, "new": newPhone},
			map[string]any{"field": "applicant.address", "old": privateAddress, "new": newAddress},
		}}), http.StatusOK)
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/corrections/1/approve", head, nil), http.StatusOK)
	e.waitProjected()
	corrected := []string{newPhone, "79 Phố"}
	if found := holding(t, e.store.DB(), corrected, "events"); len(found) > 0 {
		t.Fatalf("the log holds the corrected values in clear: %v", found)
	}
	if found := holding(t, e.store.DB(), corrected, ""); len(found) == 0 {
		t.Fatal("no read model holds the corrected values: this test would prove nothing")
	}
	if got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, head, nil), http.StatusOK); !strings.Contains(got.raw, newPhone) {
		t.Fatalf("the dossier does not read corrected: %s", got.raw)
	}

	admin := e.token("quantri", "", commands.RoleAdmin)
	e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": privateID, "basis": "Đơn số 16/2026"}), http.StatusOK)
	if found := holding(t, e.store.DB(), corrected, ""); len(found) > 0 {
		t.Errorf("after erasure the corrected values remain in %v", found)
	}
	if found := tablesHolding(t, e.store.DB()); len(found) > 0 {
		t.Errorf("after erasure, personal data remains in %v", found)
	}
	history := e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/events", head, nil), http.StatusOK)
	if strings.Contains(history.raw, newPhone) || strings.Contains(history.raw, privatePhone) || !strings.Contains(history.raw, domain.TypeCorrectionApproved) {
		t.Errorf("after erasure the history shows: %s", history.raw)
	}
}

// holding lists the tables and columns of the SQLite database holding any of needles in clear: the
// table named only, or every table when only is "".
func holding(t *testing.T, db *sql.DB, needles []string, only string) []string {
	t.Helper()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if only == "" || name == only {
			tables = append(tables, name)
		}
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		columns, _ := rows.Columns()
		values := make([]any, len(columns))
		for i := range values {
			values[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(values...); err != nil {
				t.Fatal(err)
			}
			for i, v := range values {
				for _, needle := range needles {
					if strings.Contains(string(*v.(*sql.RawBytes)), needle) {
						found = append(found, table+"."+columns[i])
					}
				}
			}
		}
		rows.Close()
	}
	return found
}
