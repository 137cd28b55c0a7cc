package http_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
)

// The applicant of the privacy tests, with data distinctive enough that finding any of it in a
// response or a table cannot be a coincidence.
var (
	privateName    = "Hoàng Thị Xuyến"
	privateID      = "038199001122"
	privatePhone   = "0977123456"
	privateEmail   = "xuyen.hoang@example.vn"
	privateAddress = "77 Phố Quỳnh Thạch, Quảng Xương"
	// personalData is what must never be shown to anyone without the right to it.
	personalData = []string{privateName, "Xuyến", privateID, privatePhone, privateEmail, "Quỳnh Thạch"}
)

func privateReceipt() map[string]any {
	receipt := validReceipt()
	receipt["applicant"] = map[string]any{"type": "citizen", "name": privateName, "id_number": privateID,
		"phone": privatePhone, "email": privateEmail, "address": privateAddress}
	return receipt
}

// processedDossier takes a dossier from receipt to returned result and rating, so every view
// has something to show; it returns the dossier code, its result code and the rating secret.
func (e *secureEnv) processedDossier() (code, resultCode, secret string) {
	e.t.Helper()
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	created := e.expect(e.do("POST", "/api/v1/dossiers", reception, privateReceipt()), http.StatusCreated)
	code, secret = created.body["code"].(string), created.body["rating_secret"].(string)
	path := "/api/v1/dossiers/" + code
	hash := strings.Repeat("ab", 32)
	for _, step := range []struct {
		token, action string
		body          any
	}{
		{reception, "transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
		{e.token("chuyenvien1", building, commands.RoleSpecialist), "appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
		{e.token("giamdoc1", building, commands.RoleSigner), "sign", map[string]any{"document_number": "12/GPXD", "document_hash": hash}},
		{e.token("giamdoc1", building, commands.RoleSigner), "result", map[string]any{}},
		{e.token("thungan1", centre, commands.RoleCashier), "fee", map[string]any{}},
		{e.token("thungan1", centre, commands.RoleCashier), "payment", map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-0001"}},
		{reception, "return", map[string]any{"channel": "direct"}},
	} {
		e.clock.Advance(30 * time.Minute)
		e.expect(e.do("POST", path+"/"+step.action, step.token, step.body), http.StatusOK)
	}
	e.expect(e.do("POST", "/api/v1/public/dossiers/"+code+"/rating", "", map[string]any{"secret": secret,
		"scores": map[string]string{"staff_attitude": "very_satisfied"}, "comment": "Cán bộ nhiệt tình"}), http.StatusOK)
	e.waitPublic(code, domain.StatusResultReturned)
	// Every read model, not only the public view: the register and the control sheet are the ones
	// that copy the applicant, and under load they may still be catching up.
	e.waitProjected()
	return code, code + "-KQ1", secret
}

// route is one method and pattern of the router.
type route struct{ method, pattern string }

func routesOf(t *testing.T, server *mhttp.Server) []route {
	t.Helper()
	var routes []route
	err := chi.Walk(server.Routes(), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, route{method, strings.ReplaceAll(pattern, "/*/", "/")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

var routeParam = regexp.MustCompile(`\{([A-Za-z_]+)(:[^}]*)?\}`)

// fill puts real values into a route's parameters: the processed dossier's code and result code,
// its receiving unit and year; any other parameter gets the dossier code.
func fill(pattern, code, resultCode string) string {
	path := routeParam.ReplaceAllStringFunc(pattern, func(param string) string {
		switch routeParam.FindStringSubmatch(param)[1] {
		case "resultCode", "result":
			return resultCode
		case "unit", "agency":
			return centre
		case "year":
			return "2026"
		case "action":
			return "transfer"
		}
		return code
	})
	return strings.TrimSuffix(path, "*")
}

// visitor is who asks: headers that identify them (none for the public).
type visitor struct {
	name    string
	headers []string
}

// fetch asks for path, giving up on streams after a moment, and returns what came back.
func (e *secureEnv) fetch(method, path string, who visitor) (int, []byte) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		body = strings.NewReader(`{}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(who.headers); i += 2 {
		req.Header.Add(who.headers[i], who.headers[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil // a stream that sent no headers yet
		}
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body) // a stream ends with the context; what it sent so far counts
	return resp.StatusCode, data
}

func leaked(data []byte) []string {
	var found []string
	for _, text := range personalData {
		if bytes.Contains(data, []byte(text)) {
			found = append(found, text)
		}
	}
	return found
}

// No route of the service — the JSON API, the public lookup and result verification, the web
// pages, the live feeds, the read models, and whatever is added later, since the router itself is
// walked — shows an applicant's identity data to the public, to the applicant holding only the
// receipt's code and secret, or to an official of another agency holding every role but inspector
// and admin.
func TestNoRouteShowsPersonalDataToOutsiders(t *testing.T) {
	e := newSecureEnv(t, nil)
	code, resultCode, secret := e.processedDossier()
	outsider := e.token("canbo-khac", land, commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner, commands.RoleCashier)
	visitors := []visitor{
		{"the public", nil},
		{"the applicant with the receipt", nil},
		{"an official of another agency", []string{"Authorization", "Bearer " + outsider, "Cookie", pageSession(t, e.url, outsider)}},
	}
	// Officials of the dossier's agency do see the data: the check itself can find it.
	if status, data := e.fetch("GET", "/api/v1/dossiers/"+code, visitor{"specialist", []string{"Authorization", "Bearer " + e.token("cv", building, commands.RoleSpecialist)}}); status != http.StatusOK || len(leaked(data)) == 0 {
		t.Fatalf("the dossier's own agency cannot see its applicant (%d): %s", status, data)
	}

	routes := routesOf(t, e.server)
	answered := map[string]int{}
	for _, r := range routes {
		for _, who := range visitors {
			path := fill(r.pattern, code, resultCode)
			if who.name == "the applicant with the receipt" {
				path += "?secret=" + secret + "&hash=" + strings.Repeat("ab", 32)
			}
			status, data := e.fetch(r.method, path, who)
			if found := leaked(data); len(found) > 0 {
				t.Errorf("%s %s shows %s %v (status %d)", r.method, path, who.name, found, status)
			}
			if who.name == "the public" {
				answered[r.method+" "+r.pattern] = status
			}
		}
	}
	t.Logf("walked %d routes as %d visitors: %v", len(routes), len(visitors), answered)
	// The walk reached real data, not only errors.
	if got := answered["GET /api/v1/public/dossiers/{code}"]; got != http.StatusOK {
		t.Fatalf("the public lookup answered %d during the walk", got)
	}
}

// The public lookup shows the name masked and nothing else of the applicant.
func TestPublicLookupMasksTheName(t *testing.T) {
	e := newSecureEnv(t, nil)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	cases := []struct {
		applicant map[string]any
		masked    string
	}{
		{map[string]any{"type": "citizen", "name": privateName, "id_number": privateID, "phone": privatePhone, "email": privateEmail, "address": privateAddress}, "H**** T** X****"},
		{map[string]any{"type": "citizen", "name": "Lò Văn Ệ", "id_number": "038000000001"}, "L* V** Ệ"},
		{map[string]any{"type": "organization", "name": "Công ty TNHH Xây dựng Hồng Hà", "id_number": "2801234567", "phone": privatePhone, "address": privateAddress}, "Công ty TNHH Xây dựng Hồng Hà"},
	}
	for _, tc := range cases {
		receipt := validReceipt()
		receipt["applicant"] = tc.applicant
		created := e.expect(e.do("POST", "/api/v1/dossiers", reception, receipt), http.StatusCreated)
		code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
		e.waitPublic(code, domain.StatusReceived)
		public := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil), http.StatusOK)
		if public.body["applicant"] != tc.masked {
			t.Errorf("applicant shown as %q, want %q", public.body["applicant"], tc.masked)
		}
		for _, field := range []string{"id_number", "phone", "email", "address"} {
			if value, ok := tc.applicant[field].(string); ok && strings.Contains(public.raw, value) {
				t.Errorf("public view shows the %s: %s", field, public.raw)
			}
		}
	}
}

// After a legal erasure, no route shows the applicant's data to anyone — not even to an inspector
// or an admin — and no table of the database holds it in clear: the events keep only ciphertext
// whose key is gone, and the read models were rebuilt from the shredded log.
func TestErasureLeavesNoPersonalDataAnywhere(t *testing.T) {
	e := newSecureEnv(t, nil)
	code, resultCode, _ := e.processedDossier()
	if found := tablesHolding(t, e.store.DB()); len(found) == 0 {
		t.Fatal("before erasure no read model holds the applicant: this test would prove nothing")
	}
	admin := e.token("quantri", "", commands.RoleAdmin)
	e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": privateID, "basis": "Đơn số 15/2026"}), http.StatusOK)
	if found := tablesHolding(t, e.store.DB()); len(found) > 0 {
		t.Fatalf("after erasure, personal data remains in %v", found)
	}
	inspector := e.token("thanhtra", centre, commands.RoleInspector, commands.RoleAdmin)
	who := visitor{"an inspector and admin", []string{"Authorization", "Bearer " + inspector, "Cookie", pageSession(t, e.url, inspector)}}
	for _, r := range routesOf(t, e.server) {
		if r.method != http.MethodGet {
			continue
		}
		path := fill(r.pattern, code, resultCode)
		if status, data := e.fetch(r.method, path, who); len(leaked(data)) > 0 {
			t.Errorf("after erasure GET %s shows %v (status %d)", path, leaked(data), status)
		}
	}
	got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, inspector, nil), http.StatusOK)
	if !strings.Contains(got.raw, "[đã xoá]") {
		t.Fatalf("the erased applicant does not read as erased: %s", got.raw)
	}
}

// tablesHolding lists the tables (and columns) of the SQLite database that hold any of the
// applicant's data in clear.
func tablesHolding(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
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
				if texts := leaked(*v.(*sql.RawBytes)); len(texts) > 0 {
					found = append(found, fmt.Sprintf("%s.%s %v", table, columns[i], texts))
				}
			}
		}
		rows.Close()
	}
	return found
}

// Public lookups are limited per client with a clear 429 problem; inventing forwarding headers
// does not give a client a fresh allowance; officials' work is not limited by the public's.
func TestPublicLookupsAreRateLimitedPerClient(t *testing.T) {
	e := newSecureEnv(t, func(cfg *mhttp.Config) { cfg.PublicRequestsPerMinute = 5 })
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	lookup := "/api/v1/public/dossiers/" + code
	for i := range 5 {
		if r := e.do("GET", lookup, "", nil); r.status == http.StatusTooManyRequests {
			t.Fatalf("request %d of 5 refused", i+1)
		}
	}
	limited := e.expect(e.do("GET", lookup, "", nil), http.StatusTooManyRequests)
	if limited.body["code"] != "rate_limited" || !strings.Contains(limited.raw, "Too many requests") || limited.header.Get("Retry-After") == "" {
		t.Fatalf("429 answer: %v %s", limited.header, limited.raw)
	}
	for _, spoof := range []string{"X-Forwarded-For", "X-Real-IP", "True-Client-IP"} {
		e.expect(e.do("GET", lookup, "", nil, spoof, "203.0.113.77"), http.StatusTooManyRequests)
	}
	// Mining the sequential codes of the day is refused the same way, found or not.
	e.expect(e.do("GET", "/api/v1/public/dossiers/000.00.00.H56-260302-0002", "", nil), http.StatusTooManyRequests)
	e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
}

// Behind a trusted reverse proxy, the client is the address the proxy forwarded: each client gets
// its own allowance, and a client's own X-Forwarded-For entries, left of the proxy's, do not count.
func TestRateLimitBehindATrustedProxy(t *testing.T) {
	e := newSecureEnv(t, func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = 2
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	lookup := "/api/v1/public/dossiers/000.00.00.H56-260302-0001"
	for _, client := range []string{"198.51.100.1", "198.51.100.2"} {
		for range 2 {
			e.expect(e.do("GET", lookup, "", nil, "X-Forwarded-For", client), http.StatusNotFound)
		}
		e.expect(e.do("GET", lookup, "", nil, "X-Forwarded-For", client), http.StatusTooManyRequests)
	}
	// The client prepends an invented address; the proxy appends the real one, which is what counts.
	e.expect(e.do("GET", lookup, "", nil, "X-Forwarded-For", "203.0.113.9, 198.51.100.1"), http.StatusTooManyRequests)
}

// Request bodies: bounded, valid UTF-8, one JSON object, every string trimmed and in NFC.
func TestRequestBodyEdgeCases(t *testing.T) {
	e := newSecureEnv(t, nil)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	withName := func(name string) string {
		return `{"procedure_code":"1.009972","channel":"direct","applicant":{"type":"citizen","name":"` + name +
			`","id_number":"038012345678"},"components":[{"name":"Đơn","copies":1}]}`
	}
	padded := func(size int) string { // a valid receipt, made exactly size bytes long with JSON whitespace
		body := withName("Nguyễn Văn An")
		return body[:len(body)-1] + strings.Repeat(" ", size-len(body)) + "}"
	}
	refused := map[string]string{
		"one byte over 64 KiB":         padded(64<<10 + 1),
		"overlong encoding of '/'":     withName("An\xc0\xaf"),
		"UTF-16 surrogate in UTF-8":    withName("An\xed\xa0\x80"),
		"truncated multi-byte letter":  withName("Nguy\xe1\xbb"),
		"lone surrogate escape":        withName(`An\ud800`),
		"two JSON objects":             withName("An") + `{}`,
		"a JSON array":                 `[` + withName("An") + `]`,
		"byte order mark":              "\ufeff" + withName("An"),
		"a number too large for int":   `{"procedure_code":"1.009972","components":[{"name":"Đơn","copies":99999999999999999999}]}`,
		"an unknown field, deep":       `{"applicant":{"type":"citizen","nickname":"An"}}`,
		"a string where a list is due": `{"components":"Đơn"}`,
	}
	for name, body := range refused {
		t.Run(name, func(t *testing.T) {
			e.t = t
			e.expect(e.do("POST", "/api/v1/dossiers", reception, body), http.StatusBadRequest)
		})
	}
	if n := e.eventCount(); n != 0 {
		t.Fatalf("refused bodies wrote %d events", n)
	}
	e.t = t
	// Exactly at the limit is accepted.
	e.expect(e.do("POST", "/api/v1/dossiers", reception, padded(64<<10)), http.StatusCreated)

	// Decomposed Vietnamese, padded with spaces, in nested objects and lists, is stored trimmed and NFC.
	body := `{"procedure_code":" 1.009972 ","channel":"direct","applicant":{"type":"citizen","name":"  Nguye\u0302\u0303n Thi\u0323 Ha\u0300 ",` +
		`"id_number":"038012345678","address":"So\u0302\u0301 5 Le\u0302 Lo\u031b\u0323i"},"components":[{"name":"Đo\u031bn đe\u0302\u0300 nghi\u0323","copies":1}]}`
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, body), http.StatusCreated).body["code"].(string)
	got := e.expect(e.do("GET", "/api/v1/dossiers/"+code, reception, nil), http.StatusOK)
	applicant := got.body["applicant"].(map[string]any)
	component := got.body["components"].([]any)[0].(map[string]any)
	for field, want := range map[string]string{"name": "Nguyễn Thị Hà", "address": "Số 5 Lê Lợi", "component": "Đơn đề nghị"} {
		value := component["name"]
		if field != "component" {
			value = applicant[field]
		}
		if value != want {
			t.Errorf("%s stored as %q (% x), want %q", field, value, value, want)
		}
	}
}

// An erased applicant reads on the public face as erased, not as a masked "[** x***".
func TestPublicLookupOfAnErasedApplicant(t *testing.T) {
	e := newSecureEnv(t, nil)
	created := e.expect(e.do("POST", "/api/v1/dossiers", e.token("tiepnhan1", centre, commands.RoleReception), privateReceipt()), http.StatusCreated)
	code, secret := created.body["code"].(string), created.body["rating_secret"].(string)
	e.waitPublic(code, domain.StatusReceived)
	e.expect(e.do("POST", "/api/v1/admin/erasures", e.token("quantri", "", commands.RoleAdmin), map[string]any{"id_number": privateID, "basis": "Đơn số 15/2026"}), http.StatusOK)
	e.waitProjected()
	if public := e.expect(e.do("GET", "/api/v1/public/dossiers/"+code+"?secret="+secret, "", nil), http.StatusOK); public.body["applicant"] != domain.ErasedName {
		t.Fatalf("public view after erasure: %s", public.raw)
	}
}

// A complaint's sender is personal data as much as an applicant: sealed in the stored events (and
// never named in their clear metadata), read by officials in clear, and erasable by the complaint's
// lookup code — one key per complaint, so erasing one sender leaves the others.
func TestComplaintSendersAreSealedAndErasable(t *testing.T) {
	e := newSecureEnv(t, nil)
	send := func(submitter map[string]any) string {
		t.Helper()
		sent := e.expect(e.do("POST", "/api/v1/public/feedback", "", map[string]any{"kind": "complaint", "agency": centre,
			"subject": "Chậm trả kết quả", "content": "Hồ sơ quá hạn chưa có thư xin lỗi", "submitter": submitter}), http.StatusCreated)
		return sent.body["lookup_code"].(string)
	}
	erased := send(map[string]any{"name": privateName, "phone": privatePhone, "email": privateEmail})
	const otherName = "Phạm Văn Khải"
	other := send(map[string]any{"name": otherName, "phone": "0911222333"})

	stored, err := e.shredded.Unwrap().ReadAll(context.Background(), eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range stored {
		for _, clear := range []string{privateName, privatePhone, privateEmail, otherName} {
			if strings.Contains(string(ev.Data), clear) || strings.Contains(ev.Metadata.Actor.Name, clear) {
				t.Errorf("the stored %s holds %q in clear", ev.Type, clear)
			}
		}
	}
	inspector := e.token("thanhtra", centre, commands.RoleInspector, commands.RoleAdmin)
	read := func(code string) string {
		t.Helper()
		return e.expect(e.do("GET", "/api/v1/feedback/"+code, inspector, nil), http.StatusOK).raw
	}
	if got := read(erased); !strings.Contains(got, privateName) || !strings.Contains(got, privatePhone) {
		t.Fatalf("officials read the sender sealed: %s", got)
	}

	admin := e.token("quantri", "", commands.RoleAdmin)
	bad := e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"id_number": privateID, "feedback_code": erased, "basis": "Đơn số 16/2026"}), http.StatusBadRequest)
	if !strings.Contains(bad.raw, `"feedback_code"`) {
		t.Errorf("two subjects at once: %s", bad.raw)
	}
	e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"feedback_code": "PAKN-1", "basis": "Đơn số 16/2026"}), http.StatusBadRequest)
	e.expect(e.do("POST", "/api/v1/admin/erasures", admin, map[string]any{"feedback_code": erased, "basis": "Đơn số 16/2026"}), http.StatusOK)
	if got := read(erased); strings.Contains(got, privateName) || strings.Contains(got, privatePhone) || !strings.Contains(got, domain.ErasedName) {
		t.Fatalf("the erased sender reads: %s", got)
	}
	if got := read(other); !strings.Contains(got, otherName) {
		t.Fatalf("erasing one sender erased another: %s", got)
	}
	// Nothing of the erased sender anywhere: not in a read model, not in the events' metadata.
	if found := tablesHolding(t, e.store.DB()); len(found) > 0 {
		t.Fatalf("after erasure, personal data remains in %v", found)
	}
}
