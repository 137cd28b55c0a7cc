package http_test

import (
	"bytes"
	"image/png"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// poppler finds a poppler-utils program (pdftotext, pdftoppm), or skips the test outside CI when
// there is none; scripts/ensure-poppler.sh installs it.
func poppler(t *testing.T, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no %s found: scripts/ensure-poppler.sh installs poppler-utils", name)
	}
	t.Skipf("no %s found; run scripts/ensure-poppler.sh", name)
	return ""
}

// pdfOf fetches a form as the signed-in official and checks it is served as a PDF file with a safe
// name.
func (e *pagesEnv) pdfOf(path string) []byte {
	e.t.Helper()
	resp, err := e.client.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		e.t.Fatalf("GET %s: %d %s:\n%.500s", path, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	checkPDFHeaders(e.t, path, resp.Header, data)
	return data
}

func checkPDFHeaders(t *testing.T, path string, h http.Header, data []byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("GET %s: not a PDF: %.40q", path, data)
	}
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9._-]+\.pdf$`).MatchString(params["filename"]) {
		t.Errorf("GET %s: Content-Disposition %q is not a safe file name", path, h.Get("Content-Disposition"))
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: no nosniff", path)
	}
}

// keepPDF writes a form to the folder MOTCUA_PDF_OUT names, when it is set, to look at.
func keepPDF(t *testing.T, name string, data []byte) {
	dir := os.Getenv("MOTCUA_PDF_OUT")
	if dir == "" {
		return
	}
	name = regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(strings.TrimPrefix(name, "/can-bo/ho-so/"), "_")
	if err := os.WriteFile(filepath.Join(dir, name+".pdf"), data, 0o644); err != nil {
		t.Error(err)
	}
}

// pdfText reads a PDF back with pdftotext, its lines joined by single spaces (a sentence may wrap).
func pdfText(t *testing.T, data []byte) string {
	t.Helper()
	cmd := exec.Command(poppler(t, "pdftotext"), "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// expectText checks the read-back text is NFC and holds each of want, diacritics intact.
func expectText(t *testing.T, what, text string, want ...string) {
	t.Helper()
	if !norm.NFC.IsNormalString(text) {
		t.Errorf("%s: the text read back is not NFC", what)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q; read back:\n%s", what, w, text)
		}
	}
}

// pdfQR renders the PDF's first page with pdftoppm and decodes the QR code on it as a phone would:
// from several distances. One rendering alone is not enough: at 200 dpi a module of 0.78 mm falls
// on 6.15 pixels, and for an unlucky symbol the decoder's sampling grid then misreads enough modules
// that Reed–Solomon gives up (or a data pattern passes for a finder pattern), while the same page at
// 150 or 300 dpi reads — as a phone's next frame would.
func pdfQR(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	var failures []string
	for _, dpi := range []string{"200", "300", "150"} {
		page := filepath.Join(dir, "page"+dpi)
		cmd := exec.Command(poppler(t, "pdftoppm"), "-r", dpi, "-png", "-gray", "-f", "1", "-l", "1", "-singlefile", "-", page)
		cmd.Stdin = bytes.NewReader(data)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		file, err := os.Open(page + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(file)
		file.Close()
		if err != nil {
			t.Fatal(err)
		}
		bitmap, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			t.Fatal(err)
		}
		result, err := qrcode.NewQRCodeReader().Decode(bitmap, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
		if err == nil {
			return result.GetText()
		}
		failures = append(failures, dpi+" dpi: "+err.Error())
	}
	t.Fatalf("no QR code could be read from the rendered page: %s", strings.Join(failures, "; "))
	return ""
}

// TestFormsAsPDFReadBack (issue 17, forms as PDF): through the real router on SQLite, every form
// of TT 01/2018 / TT 03/2025 a dossier's history calls for — receipt, supplement request, refusal,
// apology, notice of stopping, process-control sheet, register — and the paper copy of its result
// are served as PDF beside their print view; read back with pdftotext, each says in intact,
// NFC Vietnamese what the view shows, under the national motto; the receipt's QR code, decoded from
// the rendered page, is the lookup link the HTML view prints, and the paper copy's is the result's
// check.
func TestFormsAsPDFReadBack(t *testing.T) {
	poppler(t, "pdftotext")
	poppler(t, "pdftoppm")
	e := newPagesEnv(t)
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	specialist := e.token("chuyenvien1", building, commands.RoleSpecialist)
	head := e.token("truongphong1", building, commands.RoleHead)
	signer := e.token("giamdoc1", building, commands.RoleSigner)

	// Dossier A goes the whole way: received, apologised for, stopped and resumed, resolved.
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	path := "/api/v1/dossiers/" + code
	e.expect(e.do("POST", path+"/apology", head, map[string]any{"reason": "Chờ xác minh thực địa", "extra_working_days": 3}), http.StatusOK)
	e.clock.Advance(time.Hour)
	e.expect(e.do("POST", path+"/suspend", head, map[string]any{"reason": "Chờ ý kiến của cơ quan thuế"}), http.StatusOK)
	e.clock.Advance(time.Hour)
	e.expect(e.do("POST", path+"/resume", head, map[string]any{}), http.StatusOK)
	e.expect(e.do("POST", path+"/transfer", reception, map[string]any{"to_unit": "PQLXD", "step": "Thẩm định hồ sơ", "to_official_id": "chuyenvien1"}), http.StatusOK)
	e.clock.Advance(2 * time.Hour)
	e.expect(e.do("POST", path+"/appraise", specialist, map[string]any{"conclusion": "approve", "opinion": "Đủ điều kiện cấp phép"}), http.StatusOK)
	e.expect(e.do("POST", path+"/transfer", head, map[string]any{"to_unit": "BGD", "step": "Trình ký"}), http.StatusOK)
	e.expect(e.do("POST", path+"/sign", signer, map[string]any{"document_number": "12/GPXD", "document_hash": strings.Repeat("ab", 32), "signer_title": "Phó Giám đốc"}), http.StatusOK)
	e.expect(e.do("POST", path+"/result", signer, map[string]any{}), http.StatusOK)
	// Dossier B: asked for more; dossier C: submitted online and refused at reception (no code).
	other := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+other+"/supplement-request", reception,
		map[string]any{"missing_items": []string{"Bản vẽ mặt bằng có chữ ký của chủ đầu tư"}, "reason": "Thiếu bản vẽ"}), http.StatusOK)
	online := validReceipt()
	online["channel"] = "online"
	refused := e.expect(e.do("POST", "/api/v1/dossiers", reception, online), http.StatusCreated).body["id"].(string)
	e.expect(e.do("POST", "/api/v1/dossiers/"+refused+"/refuse", reception, map[string]any{"reason": "Không thuộc thẩm quyền của Sở"}), http.StatusOK)
	e.waitProjected()
	e.signIn(reception)

	motto := []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"}
	// The dossier page offers each form its history calls for, with its PDF.
	dossierPage := e.get("/can-bo/ho-so/"+code).expect(t, http.StatusOK)
	for _, form := range []string{"01", "04", "05", "chuyen-doi"} {
		if !strings.Contains(dossierPage.body, "/can-bo/ho-so/"+code+"/in/"+form+"?format=pdf") {
			t.Errorf("the dossier page offers no PDF of form %s", form)
		}
	}
	// The new print views say what their PDF says.
	e.get("/can-bo/ho-so/"+code+"/in/05").expect(t, http.StatusOK, "Thông báo dừng giải quyết hồ sơ", "Chờ ý kiến của cơ quan thuế")
	e.get("/can-bo/ho-so/"+code+"/in/chuyen-doi").expect(t, http.StatusOK, code+"-KQ1", "12/GPXD", "Phó Giám đốc",
		`data-qr-url="`+httpkit.ResultURL(e.url, code+"-KQ1")+`"`)

	forms := []struct {
		name, path string
		want       []string
	}{
		{"receipt (01)", "/can-bo/ho-so/" + code + "/in/01", []string{"Mẫu số 01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Mã hồ sơ: " + code,
			"Nguyễn Văn An", "12 Lê Lợi, Thanh Hóa", "Cấp giấy phép xây dựng mới", "Đơn đề nghị cấp giấy phép xây dựng — 1 bản", "Bản vẽ thiết kế — 2 bản",
			"Thời gian trả kết quả: 08:00 ngày 09/03/2026", "Người nộp hồ sơ", "Người tiếp nhận", "Cán bộ tiepnhan1", "Ngày 02 tháng 03 năm 2026"}},
		{"supplement request (02)", "/can-bo/ho-so/" + other + "/in/02", []string{"PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "Kính gửi: Nguyễn Văn An",
			"Bản vẽ mặt bằng có chữ ký của chủ đầu tư", "Lý do"}},
		{"refusal (03)", "/can-bo/ho-so/" + refused + "/in/03", []string{"PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "Không thuộc thẩm quyền của Sở"}},
		{"apology (04)", "/can-bo/ho-so/" + code + "/in/04", []string{"PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Chờ xác minh thực địa",
			"Cơ quan thành thật xin lỗi ông/bà", "Thủ trưởng cơ quan", "Cán bộ truongphong1"}},
		{"notice of stopping (05)", "/can-bo/ho-so/" + code + "/in/05", []string{"Mẫu số 05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "Chờ ý kiến của cơ quan thuế"}},
		{"control sheet", "/can-bo/ho-so/" + code + "/in/phieu-kiem-soat", []string{"PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "Nguyễn Văn An", "Thẩm định hồ sơ", "Trình ký"}},
		{"paper copy of the result", "/can-bo/ho-so/" + code + "/in/chuyen-doi", []string{"BẢN CHUYỂN ĐỔI KẾT QUẢ ĐIỆN TỬ SANG VĂN BẢN GIẤY",
			code + "-KQ1", "12/GPXD", "Cán bộ giamdoc1 — Phó Giám đốc", "Người chuyển đổi", "Cán bộ tiepnhan1"}},
	}
	pdfs := map[string][]byte{}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			e.t = t
			e.get(f.path).expect(t, http.StatusOK, `id="pdf-link"`) // the print view offers its PDF
			data := e.pdfOf(f.path + "?format=pdf")
			pdfs[f.name] = data
			keepPDF(t, f.path, data)
			expectText(t, f.name, pdfText(t, data), append(motto, f.want...)...)
		})
	}

	// The QR codes, decoded from the rendered pages: the lookup link (the same the HTML view
	// prints), and the result's check.
	lookup := httpkit.LookupURL(e.url, domain.DossierCode(code), "")
	if got := pdfQR(t, pdfs["receipt (01)"]); got != lookup {
		t.Errorf("the receipt's QR code reads %q, want the lookup link %q", got, lookup)
	}
	if html := e.get("/can-bo/ho-so/" + code + "/in/01").body; !strings.Contains(html, `data-qr-url="`+lookup+`"`) {
		t.Errorf("the HTML receipt prints another lookup link than its PDF")
	}
	if got, want := pdfQR(t, pdfs["paper copy of the result"]), httpkit.ResultURL(e.url, code+"-KQ1"); got != want {
		t.Errorf("the paper copy's QR code reads %q, want the result's check %q", got, want)
	}

	// The register of the year, from the API beside its CSV and workbook.
	resp := e.do("GET", "/api/v1/registers/"+centre+"/2026?format=pdf", reception, nil)
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("register PDF: %d %s", resp.status, resp.header.Get("Content-Type"))
	}
	checkPDFHeaders(t, "register", resp.header, []byte(resp.raw))
	keepPDF(t, "register", []byte(resp.raw))
	expectText(t, "register", pdfText(t, []byte(resp.raw)), append(motto, "SỔ THEO DÕI HỒ SƠ", "Năm 2026", code, other, "Nguyễn Văn An", "Cấp giấy phép xây dựng mới")...)
	accepted := e.do("GET", "/api/v1/registers/"+centre+"/2026", reception, nil, "Accept", "application/pdf")
	if accepted.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("Accept: application/pdf gave %s", accepted.header.Get("Content-Type"))
	}
	e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?format=docx", reception, nil), http.StatusBadRequest)

	// A form the dossier has no occasion for, an unknown format, another agency's dossier.
	e.t = t
	e.get("/can-bo/ho-so/"+other+"/in/04?format=pdf").expect(t, http.StatusNotFound)
	e.get("/can-bo/ho-so/"+code+"/in/01?format=docx").expect(t, http.StatusBadRequest)
	e.get("/can-bo/ho-so/"+code+"/in/chuyen-doi?format=pdf&result=2").expect(t, http.StatusNotFound)
	e.signIn(e.token("canbo-khac", land, commands.RoleHead))
	if p := e.get("/can-bo/ho-so/" + code + "/in/01?format=pdf"); p.status != http.StatusForbidden || strings.HasPrefix(p.body, "%PDF") {
		t.Errorf("another agency's official got the receipt's PDF: %d", p.status)
	}
}

// A register longer than a PDF may hold (it is drawn in memory) is a 400 naming format, sent before
// anything is read or recorded; the CSV of the same year streams every line.
func TestRegisterTooLongForAPDFIsAskedForAsCSV(t *testing.T) {
	e := buildEnv(t, envOptions{projections: projections.All(), configure: func(cfg *mhttp.Config, _ *commands.App, _ eventstore.Store) {
		cfg.RegisterPDFMaxLines = 2
	}})
	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	for range 3 {
		e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
	}
	e.waitProjected()
	refused := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?format=pdf", reception, nil), http.StatusBadRequest)
	if fields := fieldsOf(refused); len(fields) != 1 || fields[0] != "format" || !strings.Contains(refused.raw, "3 lines") {
		t.Errorf("a register of 3 lines, at most 2 in a PDF: %s", refused.raw)
	}
	csv := e.expect(e.do("GET", "/api/v1/registers/"+centre+"/2026?format=csv", reception, nil), http.StatusOK)
	if lines := strings.Count(strings.TrimSpace(csv.raw), "\n"); lines != 3 {
		t.Errorf("the CSV has %d lines under its header, want 3", lines)
	}
}
