package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/internal/logtest"
)

func (e *env) token(id string, agency string, roles ...commands.Role) string {
	e.t.Helper()
	tok, err := mhttp.MintToken(e.key, commands.Caller{ID: id, Name: "Cán bộ " + id, Roles: roles, Agency: agency}, 30*24*time.Hour, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		reader = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.url+path, reader)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (e *env) expect(r response, status int) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
		e.t.Fatalf("error with content type %q, want application/problem+json", r.header.Get("Content-Type"))
	}
	return r
}

func (e *env) eventCount() int {
	e.t.Helper()
	events, err := e.store.ReadAll(context.Background(), eventstore.Start, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(events)
}

// waitPublic polls the public lookup until the dossier shows status (the read model is eventually consistent).
func (e *env) waitPublic(code string, status domain.Status) response {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.do("GET", "/api/v1/public/dossiers/"+code, "", nil)
		if r.status == http.StatusOK && r.body["status"] == string(status) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("public status of %s never became %s; last: %d %s", code, status, r.status, r.raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitProjected waits until every read model has applied everything recorded so far.
func (e *env) waitProjected() {
	e.t.Helper()
	last := logtest.Settled(e.t, e.store)
	if len(last) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.engine.WaitFor(ctx, last[len(last)-1].Position); err != nil {
		e.t.Fatal(err)
	}
}

func fieldsOf(r response) []string {
	var fields []string
	errs, _ := r.body["errors"].([]any)
	for _, fe := range errs {
		fields = append(fields, fe.(map[string]any)["field"].(string))
	}
	return fields
}

func validReceipt() map[string]any {
	return map[string]any{
		"procedure_code": "1.009972",
		"channel":        "direct",
		"applicant": map[string]any{
			"type": "citizen", "name": "Nguyễn Văn An", "id_number": "038012345678",
			"phone": "0912345678", "email": "an@example.vn", "address": "12 Lê Lợi, Thanh Hóa",
		},
		"components": []map[string]any{{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1}, {"name": "Bản vẽ thiết kế", "copies": 2}},
	}
}

func TestDossierLifecycleEndToEnd(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cashier := e.token("thungan1", centre, commands.RoleCashier)
	specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
	head := e.token("truongphong1", building, commands.RoleHead)
	signer := e.token("giamdoc1", building, commands.RoleSigner)
	inspector := e.token("thanhtra1", land, commands.RoleInspector)
	outsider := e.token("canbo-khac", land, commands.RoleHead, commands.RoleSpecialist)

	// Receipt at the desk.
	received := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code := received.body["code"].(string)
	if !regexp.MustCompile(`^000\.00\.00\.H56-260302-0001$`).MatchString(code) {
		t.Fatalf("code %q, want the centre's first dossier of 2 March 2026", code)
	}
	wantAppointment := e.cal.AppointmentFrom(e.clock.Now(), 5)
	if got, _ := time.Parse(time.RFC3339, received.body["appointment_date"].(string)); !got.Equal(wantAppointment) {
		t.Fatalf("appointment %v, want %v", got, wantAppointment)
	}
	secret := received.body["rating_secret"].(string)
	if received.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", received.header.Get("ETag"))
	}
	path := "/api/v1/dossiers/" + code

	// The public sees the dossier without identity data.
	public := e.waitPublic(code, domain.StatusReceived)
	for _, secretText := range []string{"038012345678", "0912345678", "an@example.vn", "Lê Lợi", "Nguyễn Văn An"} {
		if strings.Contains(public.raw, secretText) {
			t.Fatalf("public view leaks %q: %s", secretText, public.raw)
		}
	}
	if _, named := public.body["applicant"]; named || public.body["portal_status"] != float64(2) {
		t.Fatalf("public view: %s", public.raw)
	}
	// The receipt's secret shows the applicant their own dossier, name masked.
	own := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil), http.StatusOK)
	if own.body["applicant"] != "N***** V** A*" || own.body["procedure_code"] != "1.009972" {
		t.Fatalf("public view with the receipt's secret: %s", own.raw)
	}

	// Officials of the dossier's agencies read it; another agency's official may not.
	got := e.expect(e.do("GET", path, specialist, nil), http.StatusOK)
	if got.header.Get("ETag") != `"1"` || got.body["applicant"].(map[string]any)["id_number"] != "038012345678" {
		t.Fatalf("official view: %v %s", got.header, got.raw)
	}
	e.expect(e.do("GET", path, outsider, nil), http.StatusForbidden)
	e.expect(e.do("GET", path, "", nil), http.StatusUnauthorized)

	// Transfer to the department; a stale If-Match is refused and writes nothing.
	before := e.eventCount()
	transfer := map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}
	e.expect(e.do("POST", path+"/transfer", reception, transfer, "If-Match", `"7"`), http.StatusPreconditionFailed)
	if e.eventCount() != before {
		t.Fatal("a stale If-Match wrote events")
	}
	e.clock.Advance(time.Hour)
	moved := e.expect(e.do("POST", path+"/transfer", reception, transfer, "If-Match", `"1"`), http.StatusOK)
	if moved.header.Get("ETag") != `"2"` || moved.body["status"] != "processing" {
		t.Fatalf("transfer: %s", moved.raw)
	}

	// The wrong role is refused; an invalid transition is a conflict. Neither writes.
	before = e.eventCount()
	hash := strings.Repeat("ab", 32)
	e.expect(e.do("POST", path+"/sign", specialist, map[string]any{"document_number": "12/GPXD", "document_hash": hash}), http.StatusForbidden)
	conflict := e.expect(e.do("POST", path+"/sign", signer, map[string]any{"document_number": "12/GPXD", "document_hash": hash}), http.StatusConflict)
	if !strings.Contains(conflict.body["detail"].(string), "not been appraised") {
		t.Fatalf("conflict detail: %s", conflict.raw)
	}
	e.expect(e.do("POST", path+"/return", reception, map[string]any{"channel": "direct"}), http.StatusConflict)
	e.expect(e.do("POST", path+"/appraise", outsider, map[string]any{"conclusion": "approve", "opinion": "ok"}), http.StatusForbidden)
	e.expect(e.do("POST", path+"/frobnicate", reception, map[string]any{}), http.StatusNotFound)
	if e.eventCount() != before {
		t.Fatal("refused actions wrote events")
	}

	// Through the process to the result.
	e.clock.Advance(3 * time.Hour)
	e.expect(e.do("POST", path+"/appraise", specialist, map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện cấp phép"}), http.StatusOK)
	e.expect(e.do("POST", path+"/transfer", head, map[string]any{"to_unit": "BGD", "step": "Trình ký"}), http.StatusOK)
	e.expect(e.do("POST", path+"/sign", signer, map[string]any{"document_number": "12/GPXD", "document_hash": hash, "signer_title": "Phó Giám đốc"}), http.StatusOK)
	result := e.expect(e.do("POST", path+"/result", signer, map[string]any{}), http.StatusOK)
	if result.body["status"] != "result_ready" {
		t.Fatalf("result: %s", result.raw)
	}
	e.expect(e.do("POST", path+"/fee", cashier, map[string]any{}), http.StatusOK)
	e.expect(e.do("POST", path+"/return", reception, map[string]any{"channel": "direct"}), http.StatusConflict) // unpaid
	e.expect(e.do("POST", path+"/payment", cashier, map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-0001"}), http.StatusOK)
	e.clock.Advance(time.Hour)
	returned := e.expect(e.do("POST", path+"/return", reception, map[string]any{"channel": "direct"}), http.StatusOK)
	if returned.body["status"] != "result_returned" {
		t.Fatalf("return: %s", returned.raw)
	}
	public = e.waitPublic(code, domain.StatusResultReturned)
	if public.body["late"] != false || public.body["portal_status"] != float64(10) {
		t.Fatalf("public view after return: %s", public.raw)
	}

	// Rating needs the receipt's secret, once.
	rating := map[string]any{"secret": "WRONGSECRET", "scores": map[string]string{"staff_attitude": "very_satisfied", "total_time": "satisfied"}}
	e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", rating), http.StatusForbidden)
	rating["secret"] = secret
	e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", rating), http.StatusOK)
	e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", rating), http.StatusConflict)

	// Inspectors read the full history with its metadata.
	history := e.expect(e.do("GET", path+"/events", inspector, nil), http.StatusOK)
	events := history.body["events"].([]any)
	wantTypes := []string{domain.TypeReceived, domain.TypeTransferred, domain.TypeAppraised, domain.TypeTransferred, domain.TypeSigned,
		domain.TypeResultReady, domain.TypeFeeAssessed, domain.TypePaid, domain.TypeResultReturned, domain.TypeRated}
	if len(events) != len(wantTypes) {
		t.Fatalf("%d events, want %d: %s", len(events), len(wantTypes), history.raw)
	}
	for i, ev := range events {
		m := ev.(map[string]any)
		if m["type"] != wantTypes[i] || m["version"] != float64(i+1) {
			t.Fatalf("event %d: %v", i, m)
		}
	}
	first := events[0].(map[string]any)
	if actor := first["actor"].(map[string]any); actor["id"] != "tiepnhan1" || actor["role"] != "reception" || actor["agency"] != centre {
		t.Fatalf("receipt actor: %v", actor)
	}
	e.expect(e.do("GET", path+"/events", outsider, nil), http.StatusForbidden)
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cases := []struct {
		name   string
		body   any
		fields []string
	}{
		{"not JSON", `{"procedure_code":`, []string{"body"}},
		{"unknown field", `{"procedure_code":"1.009972","colour":"red"}`, []string{"colour"}},
		{"wrong type", `{"procedure_code":42}`, []string{"procedure_code"}},
		{"invalid UTF-8", "{\"procedure_code\":\"\xff\xfe\"}", []string{"body"}},
		{"unknown procedure", func() any { b := validReceipt(); b["procedure_code"] = "9.999999"; return b }(), []string{"procedure_code"}},
		{"missing applicant data", func() any {
			b := validReceipt()
			b["channel"] = "fax"
			b["applicant"] = map[string]any{"type": "alien", "name": "", "id_number": "12"}
			b["components"] = []map[string]any{{"name": "", "copies": 0}}
			return b
		}(), []string{"channel", "applicant.type", "applicant.name", "applicant.id_number", "components[0].name", "components[0].copies"}},
		{"too large", `{"procedure_code":"` + strings.Repeat("x", 70_000) + `"}`, []string{"body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.expect(e.do("POST", "/api/v1/dossiers", reception, tc.body), http.StatusBadRequest)
			got := strings.Join(fieldsOf(r), ",")
			for _, f := range tc.fields {
				if !strings.Contains(","+got+",", ","+f+",") {
					t.Errorf("fields %v, want %s among them (%s)", got, f, r.raw)
				}
			}
		})
	}
	if n := e.eventCount(); n != 0 {
		t.Fatalf("bad input wrote %d events", n)
	}

	// Action input is checked the same way.
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	before := e.eventCount()
	r := e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/supplement-request", reception, map[string]any{"missing_items": []string{}, "reason": ""}), http.StatusBadRequest)
	if got := strings.Join(fieldsOf(r), ","); got != "missing_items,reason" {
		t.Fatalf("fields %q", got)
	}
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/transfer", reception, map[string]any{"to_unit": "PQLXD"}, "If-Match", "yesterday"), http.StatusBadRequest)
	if e.eventCount() != before {
		t.Fatal("bad action input wrote events")
	}
	e.expect(e.do("GET", "/api/v1/public/dossiers/not-a-code", "", nil), http.StatusBadRequest)
	e.expect(e.do("GET", "/api/v1/public/dossiers/000.00.00.H56-260302-0999", "", nil), http.StatusNotFound)
	e.expect(e.do("GET", "/api/v1/dossiers/000.00.00.H56-260302-0999", reception, nil), http.StatusNotFound)
}

func TestVietnameseInputIsStoredNFC(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	body := validReceipt()
	decomposed := "Nguye\u0302\u0303n Thi\u0323 Ha\u0300" // "Nguyễn Thị Hà" typed with combining marks
	body["applicant"].(map[string]any)["name"] = decomposed
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, body), http.StatusCreated).body["code"].(string)
	got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
	if name := got.body["applicant"].(map[string]any)["name"]; name != "Nguyễn Thị Hà" {
		t.Fatalf("name %q (%x), want NFC", name, name)
	}
}

func TestConcurrentConflictingActionsOneWins(t *testing.T) {
	e := newEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	// Ten desks try to refuse… no: ten officials withdraw the same dossier at once. One wins; the
	// others find it already withdrawn (409).
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.do("POST", "/api/v1/dossiers/"+code+"/withdraw", reception, map[string]any{"reason": "Người nộp rút hồ sơ"}).status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d withdrawals succeeded, want exactly 1 (%v)", won, statuses)
	}
}
