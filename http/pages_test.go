package http_test

import (
	"crypto/ed25519"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// pagesEnv serves the real router over a real SQLite file with every read model running, and a
// browser-like client that keeps cookies and does not follow redirects.
type pagesEnv struct {
	*env
	client *http.Client
}

func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	e := buildEnv(t, envOptions{projections: projections.All(), configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
		cfg.PublicRequestsPerMinute = 10000
	}})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &pagesEnv{env: e, client: client}
}

// testWriter sends the server's error log to the test's log, so a failing page says why.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type page struct {
	status   int
	location string
	body     string
}

func (e *pagesEnv) get(path string) page {
	e.t.Helper()
	resp, err := e.client.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	return readPage(e.t, resp)
}

func (e *pagesEnv) post(path string, form url.Values) page {
	e.t.Helper()
	resp, err := e.client.PostForm(e.url+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	return readPage(e.t, resp)
}

func readPage(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(data)}
}

func (p page) expect(t *testing.T, status int, texts ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", p.status, status, p.location, p.body)
	}
	for _, text := range texts {
		if !strings.Contains(p.body, text) {
			t.Fatalf("page lacks %q:\n%s", text, p.body)
		}
	}
	return p
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *pagesEnv) signIn(token string) string {
	e.t.Helper()
	e.post("/can-bo/dang-nhap", url.Values{"token": {token}}).expect(e.t, http.StatusSeeOther)
	m := csrfField.FindStringSubmatch(e.get("/can-bo").expect(e.t, http.StatusOK).body)
	if m == nil {
		e.t.Fatal("no CSRF token on the work queue page")
	}
	return m[1]
}

func TestPublicLookupPageSaysWhatIsWrongWithACode(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	receipt := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code, secret := receipt.body["code"].(string), receipt.body["rating_secret"].(string)
	e.waitProjected()
	tests := []struct {
		name   string
		path   string
		status int
		want   []string
		absent []string
	}{
		{"form", "/tra-cuu", http.StatusOK, []string{`<label for="ma">Mã hồ sơ</label>`}, nil},
		{"malformed", "/tra-cuu/abc", http.StatusBadRequest, []string{"Mã hồ sơ không đúng định dạng", `aria-invalid="true"`}, nil},
		{"unknown", "/tra-cuu/000.00.00.H56-260302-0999", http.StatusNotFound, []string{"Không tìm thấy hồ sơ có mã này"}, nil},
		// The code alone shows progress only: not whose dossier it is, nor what it is about.
		{"found", "/tra-cuu/" + code, http.StatusOK,
			[]string{"Đã tiếp nhận", "Trong hạn", "data-live-status", "/api/v1/public/dossiers/" + code + "/events"},
			[]string{"N***", "Cấp giấy phép xây dựng mới", "Nguyễn Văn An", "038012345678", "0912345678", "an@example.vn", "Lê Lợi"}},
		// The receipt's QR code (the secret) shows the applicant their own dossier, name masked.
		{"found with the receipt's secret", "/tra-cuu/" + code + "?secret=" + secret, http.StatusOK,
			[]string{"Đã tiếp nhận", "Cấp giấy phép xây dựng mới", "N***** V** A*"},
			[]string{"Nguyễn Văn An", "038012345678", "0912345678", "an@example.vn", "Lê Lợi"}},
		{"wrong secret", "/tra-cuu/" + code + "?secret=WRONGSECRET", http.StatusForbidden,
			[]string{"Mã bí mật không khớp", "Đã tiếp nhận"}, []string{"N***", "Cấp giấy phép xây dựng mới"}},
		{"in English", "/tra-cuu/" + code + "?lang=en", http.StatusOK, []string{`<html lang="en">`, "Received", "Appointment date"}, nil},
		{"live fragment", "/tra-cuu/" + code + "?fragment=status", http.StatusOK, []string{"Đã tiếp nhận"}, []string{"<html"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil) // each case a fresh visitor: the language cookie must not carry over
			e.client.Jar = jar
			p := e.get(tt.path).expect(t, tt.status, tt.want...)
			for _, text := range tt.absent {
				if strings.Contains(p.body, text) {
					t.Errorf("page shows %q", text)
				}
			}
		})
	}
	// The search form's ?ma= lands on the dossier's own address.
	if p := e.get("/tra-cuu?ma=" + url.QueryEscape(code)); p.status != http.StatusSeeOther || p.location != "/tra-cuu/"+code {
		t.Errorf("search redirect = %d %q", p.status, p.location)
	}
}

func TestOfficialsPagesShowTheAPIsFieldErrorsAndMoveTheDossier(t *testing.T) {
	e := newPagesEnv(t)
	if p := e.get("/can-bo"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/can-bo/dang-nhap") {
		t.Fatalf("signed-out work queue = %d %q, want a redirect to sign in", p.status, p.location)
	}
	e.post("/can-bo/dang-nhap", url.Values{"token": {"not-a-token"}}).expect(t, http.StatusUnauthorized, "Mã đăng nhập không hợp lệ")

	reception := e.token("tn", centre, commands.RoleReception)
	csrf := e.signIn(reception)
	// Receiving through the page: the API's field errors come back next to the inputs.
	bad := url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
		"applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"12"}, "components": {""}}
	e.post("/can-bo/tiep-nhan", bad).expect(t, http.StatusBadRequest, `id="receive-applicant.id_number-error"`, "must be a citizen ID", "components")
	good := url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
		"applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"038098765432"}, "components": {"Đơn đề nghị | 1\nBản vẽ thiết kế | 2"}}
	receipt := e.post("/can-bo/tiep-nhan", good).expect(t, http.StatusOK, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "data:image/png;base64,", `id="rating-secret"`)
	code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(receipt.body)[1]

	// A form without the session's CSRF token is refused and changes nothing.
	e.post("/can-bo/ho-so/"+code+"/withdraw", url.Values{"reason": {"x"}}).expect(t, http.StatusForbidden)
	// An empty supplement request: the API's 400 names the fields, shown inline in the open form.
	e.post("/can-bo/ho-so/"+code+"/supplement-request", url.Values{"csrf": {csrf}}).
		expect(t, http.StatusBadRequest, `<details class="action" id="act-supplement-request" open>`, `id="supplement-request-reason-error"`)
	e.clock.Advance(time.Hour)
	// A stale version is the API's 412, shown as a problem.
	e.post("/can-bo/ho-so/"+code+"/transfer", url.Values{"csrf": {csrf}, "version": {"7"}, "step": {"Thẩm định hồ sơ"}, "to_unit": {"PQLXD"}}).
		expect(t, http.StatusPreconditionFailed, "Hồ sơ đã thay đổi")
	moved := e.post("/can-bo/ho-so/"+code+"/transfer", url.Values{"csrf": {csrf}, "version": {"1"}, "step": {"Thẩm định hồ sơ"}, "to_unit": {"PQLXD"}})
	if moved.status != http.StatusSeeOther || moved.location != "/can-bo/ho-so/"+code+"?da-lam=transfer" {
		t.Fatalf("transfer = %d %q", moved.status, moved.location)
	}
	e.get(moved.location).expect(t, http.StatusOK, "Đã thực hiện: Chuyển xử lý.", "Đang giải quyết", "PQLXD", "(1.009972, 5 ngày làm việc)")

	// The deciding agency's specialist sees it in the work queue.
	e.waitProjected()
	e.signIn(e.token("cv", building, commands.RoleSpecialist))
	e.get("/can-bo").expect(t, http.StatusOK, `data-code="`+code+`"`, "Thẩm định", "Hạn của bước")

	// Inspectors read the timeline and the state as of a moment before the transfer.
	e.signIn(e.token("tt", "", commands.RoleInspector))
	e.get("/can-bo/ho-so/"+code+"/lich-su").expect(t, http.StatusOK, "dossier.transferred.v1", "Cán bộ tn", "<ins>processing</ins>", "Lịch sử toàn vẹn")
	e.get("/can-bo/ho-so/"+code+"/lich-su?luc=2026-03-02T08:00").expect(t, http.StatusOK, `id="as-of-state"`, "Trạng thái sau 1 sự kiện đầu tiên", "Đã tiếp nhận")
}

func TestRatingFormPostsToTheRatingAPI(t *testing.T) {
	e := newPagesEnv(t)
	reception := e.token("tn", centre, commands.RoleReception)
	receipt := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	code, secret := receipt.body["code"].(string), receipt.body["rating_secret"].(string)
	e.waitProjected()
	e.get("/tra-cuu/"+code+"?secret="+secret).expect(t, http.StatusOK, "Bạn có thể đánh giá sau khi nhận kết quả")

	admin := e.token("qt", "", commands.RoleAdmin)
	for _, step := range []struct {
		action string
		body   map[string]any
	}{
		{"transfer", map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ"}},
		{"appraise", map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện"}},
		{"sign", map[string]any{"document_number": "12/GPXD", "document_hash": strings.Repeat("ab", 32)}},
		{"result", map[string]any{}},
		{"fee", map[string]any{}},
		{"payment", map[string]any{"amount": 150000, "channel": "cash", "receipt_number": "BL-1"}},
		{"return", map[string]any{"channel": "direct"}},
	} {
		e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/"+step.action, admin, step.body), http.StatusOK)
	}
	e.waitProjected()
	form := url.Values{"secret": {secret}}
	for _, c := range domain.Criteria {
		form.Set("scores."+string(c), string(domain.VerySatisfied))
	}
	wrong := url.Values{"secret": {"WRONGSECRET"}}
	for k, v := range form {
		if k != "secret" {
			wrong[k] = v
		}
	}
	e.post("/tra-cuu/"+code+"/danh-gia", wrong).expect(t, http.StatusForbidden, "Mã bí mật không khớp")
	form.Set("scores.staff_attitude", "superb")
	e.post("/tra-cuu/"+code+"/danh-gia", form).expect(t, http.StatusBadRequest, "staff_attitude")
	form.Set("scores.staff_attitude", string(domain.Satisfied))
	e.post("/tra-cuu/"+code+"/danh-gia", form).expect(t, http.StatusOK, "Cảm ơn bạn đã đánh giá")
	e.get("/xac-thuc/"+code+"-KQ1?hash="+strings.Repeat("ab", 32)).expect(t, http.StatusOK, "12/GPXD", "đúng là văn bản đã được ký")
	e.get("/xac-thuc/"+code+"-KQ1?hash="+strings.Repeat("cd", 32)).expect(t, http.StatusOK, "KHÔNG khớp")
	e.get("/xac-thuc/"+code+"-KQ9").expect(t, http.StatusNotFound)
}

// TestLateDashboardPageShowsTheStatutoryDueDate checks that an apologised dossier past its
// statutory due date is listed late on the officials' dashboard, against that date, with the new
// date promised to the applicant beside it; and that the CSV carries both.
func TestLateDashboardPageShowsTheStatutoryDueDate(t *testing.T) {
	e := newPagesEnv(t)
	desk := e.token("tn", centre, commands.RoleReception)
	head := e.token("tp", building, commands.RoleHead)
	// Monday 2 March 2026, 08:00: received, due Monday 9 March 08:00; the head apologises at once
	// and promises three more working days.
	code := e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+code+"/apology", head, map[string]any{"reason": "Chờ xác minh", "extra_working_days": 3}), http.StatusOK)
	// Tuesday 10 March 10:00: past the due date, before the promised one.
	e.clock.Advance(8*24*time.Hour + 2*time.Hour)
	e.waitProjected()
	e.signIn(head)
	e.get("/can-bo/thong-ke/tre-han").expect(t, http.StatusOK, "Hạn giải quyết theo quy định", code, "08:00 ngày 09/03/2026", "Ngày hẹn trả kết quả: 08:00 ngày 12/03/2026")
	csv := e.get("/can-bo/thong-ke/tre-han.csv").expect(t, http.StatusOK, "Hạn giải quyết theo quy định", code)
	if !strings.Contains(csv.body, ",2026-03-09 08:00,2026-03-12 08:00,") {
		t.Errorf("the CSV lacks the due date or the promised one:\n%s", csv.body)
	}
}

// TestLateDashboardPageShowsOnePageWithANextLink receives more overdue dossiers than a page holds:
// the dashboard page lists the first page with a "next page" link, the link lists the rest alone,
// each dossier once, with no further link; CSV exports every one.
func TestLateDashboardPageShowsOnePageWithANextLink(t *testing.T) {
	e := newPagesEnv(t)
	desk := e.token("tn", centre, commands.RoleReception)
	head := e.token("tp", building, commands.RoleHead)
	var codes []string
	for range projections.DefaultPageSize + 2 {
		codes = append(codes, e.expect(e.do("POST", "/api/v1/dossiers", desk, validReceipt()), http.StatusCreated).body["code"].(string))
	}
	// Past their due date (Monday 9 March 08:00).
	e.clock.Advance(8*24*time.Hour + 2*time.Hour)
	e.waitProjected()
	e.signIn(head)
	first := e.get("/can-bo/thong-ke/tre-han").expect(t, http.StatusOK, "Trang sau")
	link := regexp.MustCompile(`<a rel="next" href="([^"]+)">`).FindStringSubmatch(first.body)
	if link == nil {
		t.Fatal("no next-page link")
	}
	second := e.get(html.UnescapeString(link[1])).expect(t, http.StatusOK)
	if strings.Contains(second.body, `rel="next"`) {
		t.Error("the last page links to another")
	}
	listed := func(body string) int {
		return strings.Count(body, `<td data-label="Mã hồ sơ"><a href="/can-bo/ho-so/`)
	}
	if listed(first.body) != projections.DefaultPageSize || listed(second.body) != 2 {
		t.Errorf("pages list %d then %d dossiers, want %d then 2", listed(first.body), listed(second.body), projections.DefaultPageSize)
	}
	for _, code := range codes {
		if n := strings.Count(first.body+second.body, `href="/can-bo/ho-so/`+code+`"`); n != 1 {
			t.Errorf("dossier %s listed %d times over the two pages", code, n)
		}
	}
	e.get("/can-bo/thong-ke/tre-han?danh-sach=open_overdue&after=garbage").expect(t, http.StatusBadRequest)
	csv := e.get("/can-bo/thong-ke/tre-han.csv").expect(t, http.StatusOK)
	for _, code := range codes {
		if !strings.Contains(csv.body, code) {
			t.Errorf("the CSV lacks %s", code)
		}
	}
}

// A form served by one node is accepted by another node of the same deployment (and after a
// restart): its CSRF token depends on the session only, which every node reads from the database.
func TestAFormServedByOneNodeIsAcceptedByAnother(t *testing.T) {
	e := newPagesEnv(t)
	csrf := e.signIn(e.token("tn", centre, commands.RoleReception))
	other := httptest.NewServer(mhttp.NewServer(mhttp.Config{App: e.app, ReadDB: e.store.DB(),
		Tokens: mhttp.TokenVerifier{Key: e.key.Public().(ed25519.PublicKey)}}))
	defer other.Close()
	base, _ := url.Parse(e.url)
	otherURL, _ := url.Parse(other.URL)
	e.client.Jar.SetCookies(otherURL, e.client.Jar.Cookies(base))
	form := url.Values{"csrf": {csrf}, "procedure_code": {"1.009972"}, "channel": {"direct"}, "applicant.type": {"citizen"},
		"applicant.name": {"Trần Thị Bình"}, "applicant.id_number": {"038098765432"}, "components": {"Đơn đề nghị | 1"}}
	resp, err := e.client.PostForm(other.URL+"/can-bo/tiep-nhan", form)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp).expect(t, http.StatusOK, "Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
	// A made-up token is still refused there.
	form.Set("csrf", strings.Repeat("A", len(csrf)))
	resp, err = e.client.PostForm(other.URL+"/can-bo/tiep-nhan", form)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp).expect(t, http.StatusForbidden)
}
