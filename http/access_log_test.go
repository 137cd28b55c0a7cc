package http_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// accessLogKey keys the tests' blind index of applicants.
var accessLogKey = []byte("motcua-test-access-log-index-key")

// newAccessLog is the access log as motcua serve wires it, dated by the test's clock.
func newAccessLog(t *testing.T, db *sql.DB, dialect engine.Dialect, clock *testClock) *accesslog.Log {
	t.Helper()
	log, err := accesslog.New(db, dialect, accessLogKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return log.WithClock(clock.Now)
}

// accessEntries reads the access log through the API as an inspector: the newest entries first
// (at most 500) and the total the query selects.
func (e *env) accessEntries(query string) ([]map[string]any, int) {
	e.t.Helper()
	inspector := e.token("thanhtra-dpo", land, commands.RoleInspector)
	body := e.expect(e.do("GET", withQuery("/api/v1/access-log", "limit=500&"+query), inspector, nil), http.StatusOK).body
	var items []map[string]any
	for _, item := range body["items"].([]any) {
		items = append(items, item.(map[string]any))
	}
	return items, int(body["total"].(float64))
}

// TestEveryReadOfAnApplicantsDataIsRecordedOnce (issue 16, who read whose data): through the real
// router on SQLite, every API route and page that shows an official a dossier's applicant records
// exactly one entry per read, naming the official (id, roles, agency), the dossier or the list
// with its filter, and the route; the public lookup, a refused read and the pages without
// applicants record nothing; and no read changes the dossier.
func TestEveryReadOfAnApplicantsDataIsRecordedOnce(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	inspector := e.token("thanhtra1", land, commands.RoleInspector)
	outsider := e.token("canbo-khac", land, commands.RoleHead, commands.RoleSpecialist)
	receipt := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body
	code, id := receipt["code"].(string), receipt["id"].(string)
	e.waitProjected()
	e.signIn(inspector) // the pages below are the inspector's
	eventsBefore := e.eventCount()
	if _, total := e.accessEntries(""); total != 0 {
		t.Fatalf("a receipt recorded %d reads", total)
	}

	type read struct {
		name, token, path, accept string // token "": the signed-in inspector's page
		route                     string
		official, agency, role    string
		list, filter              string // a list of many; "" for the dossier
	}
	asReception := func(r read) read { r.official, r.agency, r.role = "tiepnhan1", centre, "reception"; return r }
	asInspector := func(r read) read { r.official, r.agency, r.role = "thanhtra1", land, "inspector"; return r }
	reads := []read{
		asReception(read{name: "the dossier's JSON", token: reception, path: "/api/v1/dossiers/" + code, route: "GET /api/v1/dossiers/{ref}"}),
		asInspector(read{name: "its history", token: inspector, path: "/api/v1/dossiers/" + id + "/events", route: "GET /api/v1/dossiers/{ref}/events"}),
		asReception(read{name: "its control sheet", token: reception, path: "/api/v1/dossiers/" + code + "/control-sheet", route: "GET /api/v1/dossiers/{ref}/control-sheet"}),
		asReception(read{name: "the register", token: reception, path: "/api/v1/registers/" + centre + "/2026?limit=20", route: "GET /api/v1/registers/{unit}/{year}",
			list: "register", filter: "limit=20&unit=" + url.QueryEscape(centre) + "&year=2026&format=json"}),
		asReception(read{name: "the register's CSV", token: reception, path: "/api/v1/registers/" + centre + "/2026", accept: "text/csv",
			route: "GET /api/v1/registers/{unit}/{year}", list: "register", filter: "unit=" + url.QueryEscape(centre) + "&year=2026&format=csv"}),
		asReception(read{name: "the work queue", token: reception, path: "/api/v1/work-queue?status=received", route: "GET /api/v1/work-queue",
			list: "work_queue", filter: "status=received"}),
		asInspector(read{name: "the dossier page", path: "/can-bo/ho-so/" + code, route: "GET /can-bo/ho-so/{code}"}),
		asInspector(read{name: "the history page", path: "/can-bo/ho-so/" + code + "/lich-su", route: "GET /can-bo/ho-so/{code}/lich-su"}),
		asInspector(read{name: "the printed receipt", path: "/can-bo/ho-so/" + code + "/in/01", route: "GET /can-bo/ho-so/{code}/in/{form}"}),
		asInspector(read{name: "the printed control sheet", path: "/can-bo/ho-so/" + code + "/in/phieu-kiem-soat", route: "GET /can-bo/ho-so/{code}/in/{form}"}),
		asInspector(read{name: "the receipt's PDF", path: "/can-bo/ho-so/" + code + "/in/01?format=pdf", route: "GET /can-bo/ho-so/{code}/in/{form}"}),
		asInspector(read{name: "the control sheet's PDF", path: "/can-bo/ho-so/" + code + "/in/phieu-kiem-soat?format=pdf", route: "GET /can-bo/ho-so/{code}/in/{form}"}),
		asReception(read{name: "the register's PDF", token: reception, path: "/api/v1/registers/" + centre + "/2026", accept: "application/pdf",
			route: "GET /api/v1/registers/{unit}/{year}", list: "register", filter: "unit=" + url.QueryEscape(centre) + "&year=2026&format=pdf"}),
		asInspector(read{name: "the work queue page", path: "/can-bo?pham-vi=involved", route: "GET /can-bo", list: "work_queue", filter: "pham-vi=involved"}),
	}
	dossierReads := 0
	for _, r := range reads {
		_, before := e.accessEntries("")
		if r.token != "" {
			headers := []string{}
			if r.accept != "" {
				headers = append(headers, "Accept", r.accept)
			}
			resp := e.expect(e.do("GET", r.path, r.token, nil, headers...), http.StatusOK)
			if r.list == "" && !strings.Contains(resp.raw, "Nguyễn Văn An") {
				t.Fatalf("%s does not show the applicant: the test reads nothing personal", r.name)
			}
		} else {
			e.get(r.path).expect(t, http.StatusOK)
		}
		entries, after := e.accessEntries("")
		if after != before+1 {
			t.Errorf("%s: %d entries recorded, want 1", r.name, after-before)
			continue
		}
		got := entries[0]
		roles, _ := got["roles"].([]any)
		if got["official_id"] != r.official || got["agency"] != r.agency || len(roles) != 1 || roles[0] != r.role || got["route"] != r.route {
			t.Errorf("%s: recorded %v, want %s (%s, %s) through %s", r.name, got, r.official, r.role, r.agency, r.route)
		}
		if r.list == "" {
			dossierReads++
			if got["dossier_id"] != id || got["dossier_code"] != code || got["list"] != nil {
				t.Errorf("%s: recorded %v, want dossier %s (%s)", r.name, got, code, id)
			}
		} else if got["list"] != r.list || got["filter"] != r.filter || got["dossier_id"] != nil {
			t.Errorf("%s: recorded list %v with filter %q, want %s with %q", r.name, got["list"], got["filter"], r.list, r.filter)
		}
	}

	// Reads that show no applicant, or show nothing, record nothing.
	_, before := e.accessEntries("")
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code, "", nil), http.StatusOK)
	e.get("/tra-cuu/"+code).expect(t, http.StatusOK)
	e.expect(e.do("GET", "/api/v1/dossiers/"+code, outsider, nil), http.StatusForbidden)
	e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/control-sheet", outsider, nil), http.StatusForbidden)
	e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026", outsider, nil), http.StatusForbidden)
	e.expect(e.do("GET", "/api/v1/dashboards/late", reception, nil), http.StatusOK)
	e.expect(e.do("GET", "/api/v1/dossiers/"+code+"/verification", inspector, nil), http.StatusOK)
	e.get("/can-bo").expect(t, http.StatusOK) // the inspector's queue in figures, one line per agency
	if _, after := e.accessEntries(""); after != before {
		t.Errorf("reads without an applicant recorded %d entries", after-before)
	}

	// Per dossier and per applicant ("who looked at my data"): the single-dossier reads.
	if _, n := e.accessEntries("dossier=" + code); n != dossierReads {
		t.Errorf("the dossier's reads: %d, want %d", n, dossierReads)
	}
	if _, n := e.accessEntries("dossier=" + id); n != dossierReads {
		t.Errorf("the dossier's reads by its id: %d, want %d", n, dossierReads)
	}
	if _, n := e.accessEntries("applicant=038012345678"); n != dossierReads {
		t.Errorf("the applicant's reads: %d, want %d", n, dossierReads)
	}
	if _, n := e.accessEntries("applicant=001099000111"); n != 0 {
		t.Errorf("another person's reads: %d, want 0", n)
	}
	// Reading changed no dossier: no event was appended.
	if after := e.eventCount(); after != eventsBefore {
		t.Errorf("reads appended %d events", after-eventsBefore)
	}
	// The inspectors' page shows the log; a reception official is refused it, page and API.
	e.get("/can-bo/thanh-tra/nhat-ky-truy-cap?ho-so="+code).expect(t, http.StatusOK, "GET /can-bo/ho-so/{code}", "tiepnhan1", code)
	e.get("/can-bo/thanh-tra/nhat-ky-truy-cap?nguoi-nop=abc").expect(t, http.StatusBadRequest)
	e.signIn(reception)
	e.get("/can-bo/thanh-tra/nhat-ky-truy-cap").expect(t, http.StatusForbidden)
}

// TestTheAccessLogIsPagedQueriedAndGuarded: on SQLite and PostgreSQL, through the real router,
// the log of one dossier and of one applicant is paged with the keyset contract; bad parameters
// are 400 naming the field; only inspectors read it (403 for every other role, admins included);
// the database refuses to change or delete an entry; and reads leave the dossier's version alone.
func TestTheAccessLogIsPagedQueriedAndGuarded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *backendEnv) {
		reception := e.token("tiepnhan1", centre, commands.RoleReception)
		specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
		codeA := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
		other := validReceipt()
		other["applicant"] = map[string]any{"type": "citizen", "name": "Trần Thị Bình", "id_number": "001099000111"}
		codeB := e.expect(e.do("POST", "/api/v1/dossiers", reception, other), http.StatusCreated).body["code"].(string)
		version := e.expect(e.do("GET", "/api/v1/dossiers/"+codeA, reception, nil), http.StatusOK).header.Get("ETag")
		for i := range 4 {
			path := "/api/v1/dossiers/" + codeA
			if i%2 == 1 {
				path += "/events"
			}
			if r := e.expect(e.do("GET", path, specialist, nil), http.StatusOK); r.header.Get("ETag") != version {
				t.Fatalf("a read moved the dossier from version %s to %s", version, r.header.Get("ETag"))
			}
		}
		e.expect(e.do("GET", "/api/v1/dossiers/"+codeB, specialist, nil), http.StatusOK)
		e.expect(e.do("GET", "/api/v1/dossiers/"+codeB+"/events", reception, nil), http.StatusOK)

		inspector := e.token("thanhtra1", "", commands.RoleInspector)
		walk := func(query string) (codes []string, officials []string, total int) {
			after, seqs := "", []float64{}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("%s: the pages do not end", query)
				}
				body := e.expect(e.do("GET", "/api/v1/access-log?limit=2&"+query+"&after="+url.QueryEscape(after), inspector, nil), http.StatusOK).body
				total = int(body["total"].(float64))
				for _, item := range body["items"].([]any) {
					entry := item.(map[string]any)
					codes = append(codes, entry["dossier_code"].(string))
					officials = append(officials, entry["official_id"].(string))
					seqs = append(seqs, entry["seq"].(float64))
				}
				if after, _ = body["next"].(string); after == "" {
					break
				}
			}
			if !slices.IsSortedFunc(seqs, func(a, b float64) int { return int(b - a) }) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
				t.Errorf("%s: not newest first without repeats: %v", query, seqs)
			}
			return codes, officials, total
		}
		// Dossier A: its 5 reads (one by reception for the version, four by the specialist), newest first.
		codes, officials, total := walk("dossier=" + url.QueryEscape(codeA))
		if len(codes) != 5 || total != 5 || strings.Join(officials, " ") != "chuyenvien1 chuyenvien1 chuyenvien1 chuyenvien1 tiepnhan1" {
			t.Errorf("dossier A: %v by %v (total %d)", codes, officials, total)
		}
		// Applicant B, by identity number: the two reads of B's dossier.
		codes, officials, total = walk("applicant=001099000111")
		if strings.Join(codes, " ") != codeB+" "+codeB || total != 2 || strings.Join(officials, " ") != "tiepnhan1 chuyenvien1" {
			t.Errorf("applicant B: %v by %v (total %d)", codes, officials, total)
		}
		if codes, _, total = walk(""); len(codes) != 7 || total != 7 {
			t.Errorf("the whole log: %d entries (total %d), want 7", len(codes), total)
		}

		for query, field := range map[string]string{"applicant=abc": "applicant", "applicant=03801234567x": "applicant", "limit=0": "limit",
			"limit=501": "limit", "after=" + projections.Cursor{"forged"}.Encode(): "after", "after=%25%25": "after"} {
			r := e.expect(e.do("GET", "/api/v1/access-log?"+query, inspector, nil), http.StatusBadRequest)
			if fields := fieldsOf(r); !slices.Contains(fields, field) {
				t.Errorf("?%s: fields at fault %v, want %s", query, fields, field)
			}
		}
		e.expect(e.do("GET", "/api/v1/access-log?dossier=000.00.00.H56-260302-0999", inspector, nil), http.StatusNotFound)
		for name, token := range map[string]string{
			"reception": reception, "specialist": specialist,
			"head, signer and cashier": e.token("lanhdao", building, commands.RoleHead, commands.RoleSigner, commands.RoleCashier),
			"admin":                    e.token("quantri", "", commands.RoleAdmin),
		} {
			if r := e.do("GET", "/api/v1/access-log?dossier="+codeA, token, nil); r.status != http.StatusForbidden {
				t.Errorf("%s read the access log: %d", name, r.status)
			}
		}
		e.expect(e.do("GET", "/api/v1/access-log", "", nil), http.StatusUnauthorized)

		// The database refuses to change or remove an entry.
		for _, stmt := range []string{`UPDATE access_log SET official_id = 'someone-else'`, `DELETE FROM access_log`} {
			if _, err := e.readDB.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want refused", stmt, err)
			}
		}
		if _, _, total = walk("dossier=" + url.QueryEscape(codeA)); total != 5 {
			t.Errorf("after the refused statements dossier A has %d entries", total)
		}
	})
}

// TestAnErasedApplicantsAccessRecordsRemain: erasing an applicant destroys their data, not the
// record of who read it; what was read before stays findable by their number, and a read after
// the erasure is recorded against the dossier (the erased number gives no index).
func TestAnErasedApplicantsAccessRecordsRemain(t *testing.T) {
	e := newSecureEnv(t, nil)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
	admin := e.token("quantri", "", commands.RoleAdmin)
	e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": "038012345678", "basis": "Đơn yêu cầu xoá dữ liệu ngày 02/3/2026"}), http.StatusOK)
	if r := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK); strings.Contains(r.raw, "Nguyễn Văn An") {
		t.Fatal("the erased applicant is still shown")
	}
	if entries, n := e.accessEntries("applicant=038012345678"); n != 1 || entries[0]["dossier_code"] != code {
		t.Errorf("the erased applicant's reads: %d %v, want the one before the erasure", n, entries)
	}
	if _, n := e.accessEntries("dossier=" + code); n != 2 {
		t.Errorf("the dossier's reads: %d, want 2", n)
	}
}

// TestAReadThatCannotBeRecordedShowsNothing: when the access log cannot be written the route
// answers an error instead of the applicant's data.
func TestAReadThatCannotBeRecordedShowsNothing(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.signIn(reception)
	if _, err := e.store.DB().Exec(`ALTER TABLE access_log RENAME TO access_log_gone`); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/v1/dossiers/"+code, reception, nil); r.status != http.StatusInternalServerError || strings.Contains(r.raw, "Nguyễn Văn An") {
		t.Errorf("API: %d %s", r.status, r.raw)
	}
	if p := e.get("/can-bo/ho-so/" + code); p.status != http.StatusInternalServerError || strings.Contains(p.body, "Nguyễn Văn An") {
		t.Errorf("page: %d", p.status)
	}
	if p := e.get("/can-bo/ho-so/" + code + "/in/01"); p.status != http.StatusInternalServerError || strings.Contains(p.body, "Nguyễn Văn An") {
		t.Errorf("printed receipt: %d", p.status)
	}
}

// An official shown a feedback's sender (name and contacts), through the API or its page, is
// recorded once per read under the feedback's id and lookup code, and the inspectors find those
// reads by the lookup code; the public follow-up, which shows no sender, records nothing.
func TestEveryReadOfAFeedbacksSenderIsRecorded(t *testing.T) {
	e := newPagesEnv(t)
	inspector := e.token("thanhtra1", land, commands.RoleInspector)
	sent := e.expect(e.do("POST", "/api/v1/public/feedback", "", map[string]any{"kind": "petition", "agency": centre,
		"subject": "Thủ tục rườm rà", "content": "Đề nghị bỏ bản sao chứng thực", "submitter": map[string]any{"name": "Nguyễn Văn An", "phone": "0912345678"}}), http.StatusCreated)
	code, _ := sent.body["lookup_code"].(string)
	e.expect(e.do("GET", "/api/v1/public/feedback/"+code, "", nil), http.StatusOK)
	e.get("/phan-anh/"+code).expect(t, http.StatusOK)
	if _, n := e.accessEntries(""); n != 0 {
		t.Fatalf("the public follow-up recorded %d reads", n)
	}
	shown := e.expect(e.do("GET", "/api/v1/feedback/"+code, inspector, nil), http.StatusOK)
	if !strings.Contains(shown.raw, "0912345678") {
		t.Fatalf("the officials' view does not show the sender: the test reads nothing personal: %s", shown.raw)
	}
	id, _ := shown.body["id"].(string)
	e.signIn(inspector)
	e.get("/can-bo/phan-anh/"+code).expect(t, http.StatusOK, "Nguyễn Văn An")
	entries, n := e.accessEntries("dossier=" + code)
	if n != 2 {
		t.Fatalf("the feedback's reads: %d, want 2 (API and page): %v", n, entries)
	}
	routes := map[any]bool{}
	for _, got := range entries {
		if got["dossier_id"] != id || got["dossier_code"] != code || got["official_id"] != "thanhtra1" {
			t.Errorf("recorded %v, want feedback %s (%s) read by thanhtra1", got, code, id)
		}
		routes[got["route"]] = true
	}
	if !routes["GET /api/v1/feedback/{ref}"] || !routes["GET /can-bo/phan-anh/{code}"] {
		t.Errorf("routes recorded %v", routes)
	}
}
