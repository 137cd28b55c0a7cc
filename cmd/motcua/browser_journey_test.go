package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The citizen's whole journey on a 360 px phone against `motcua serve --demo`: sign in at the
// demo identity provider, file procedure 2.001610 online with two files, the officials (through
// the API, as their desk pages are another part's) accept it and ask for a supplement, the citizen
// answers it by upload on the dossier's page, the officials resolve it with the signed result's
// file, and the citizen downloads that file — the bytes the signer signed.
func TestBrowserCitizenFilesOnlineAnswersASupplementAndDownloadsTheResult(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)
	b.phone()
	dir := t.TempDir()
	files := map[string][]byte{
		"giay-de-nghi.pdf": journeyPDF("Giấy đề nghị đăng ký doanh nghiệp"),
		"cccd.png":         journeyPNG(t),
		"cccd-mat-sau.pdf": journeyPDF("CCCD mặt sau"),
		"xac-nhan.pdf":     journeyPDF("Giấy xác nhận nơi cư trú"),
		"virus.pdf":        []byte("MZ\x90\x00\x03 this program cannot be run in DOS mode"),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	b.open("/ho-so-cua-toi")
	b.run("sign in with VNeID", chromedp.Click(css(`main a.button`)), chromedp.WaitVisible(css(`form button[type=submit]`)))
	b.run("choose the first demo citizen", chromedp.Click(css(`form button[type=submit]`)), chromedp.WaitVisible(css("#file-online")))
	b.run("file online", chromedp.Click(css("#file-online")), chromedp.WaitVisible(css(".online-procedures")))
	b.expectText("main h1", "Chọn thủ tục")
	b.run("choose the procedure", chromedp.Click(css(`a[href="/ho-so-cua-toi/nop-ho-so/2.001610"]`)), chromedp.WaitVisible(css("#submit-form")))
	if name := value(b, "read the prefilled name", chromedp.Evaluate[string](`document.querySelector("#applicant-name").value`)); name != "Nguyễn Thị Lan" {
		t.Fatalf("the name is not prefilled from VNeID: %q", name)
	}
	b.screenshot("citizen-submit-form", true)

	// A renamed executable is refused inline, and nothing is filed.
	b.run("send an executable named .pdf",
		chromedp.SetUploadFiles(css("#file-0"), []string{filepath.Join(dir, "virus.pdf")}),
		chromedp.SetUploadFiles(css("#file-1"), []string{filepath.Join(dir, "cccd.png")}),
		chromedp.Click(css(`#submit-form button[type=submit]`)), chromedp.WaitVisible(css("#file-error")))
	b.expectText("#file-error", "PDF, JPEG or PNG")

	b.run("file with two files",
		chromedp.SetValue(css("#applicant-address"), "12 Lê Lợi, phường Hạc Thành, Thanh Hóa"),
		chromedp.SetUploadFiles(css("#file-0"), []string{filepath.Join(dir, "giay-de-nghi.pdf")}),
		chromedp.SetUploadFiles(css("#file-1"), []string{filepath.Join(dir, "cccd.png")}),
		chromedp.Click(css(`#submit-form button[type=submit]`)), chromedp.WaitVisible(css("#submitted-notice")))
	b.expectText("#my-status", "chờ tiếp nhận")
	b.expectText("#my-files", "giay-de-nghi.pdf", "cccd.png")
	if wider := value(b, "measure the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wider {
		t.Error("the dossier's page is wider than a 360 px phone")
	}
	location := value(b, "read the address", chromedp.Location())
	page := strings.TrimPrefix(location[:strings.IndexByte(location, '?')], demo.url)
	id := strings.TrimPrefix(page, "/ho-so-cua-toi/ho-so/")

	// The reception accepts it and asks for a supplement, listing everything missing.
	reception, specialist, signer := demo.tokens["demo-1-reception"], demo.tokens["demo-2-specialist"], demo.tokens["demo-2-signer"]
	accepted := officialCall(t, demo, "POST", "/api/v1/dossiers/"+id+"/receive", reception, map[string]any{}, http.StatusOK)
	code := accepted["code"].(string)
	missing := []string{"Bản sao giấy tờ pháp lý của cá nhân đối với chủ doanh nghiệp tư nhân", "Giấy xác nhận nơi cư trú"}
	officialCall(t, demo, "POST", "/api/v1/dossiers/"+code+"/supplement-request", reception,
		map[string]any{"missing_items": missing, "reason": "Bản sao CCCD thiếu mặt sau; thiếu giấy xác nhận nơi cư trú"}, http.StatusOK)

	b.openUntil(page, "#supplement-form")
	b.expectText("#missing-items", missing...)
	b.expectText("#my-code", code)
	b.screenshot("citizen-supplement-request", true)
	b.run("answer the supplement by upload",
		chromedp.SetUploadFiles(css("#missing-0"), []string{filepath.Join(dir, "cccd-mat-sau.pdf")}),
		chromedp.SetUploadFiles(css("#missing-1"), []string{filepath.Join(dir, "xac-nhan.pdf")}),
		chromedp.Click(css(`#supplement-form button[type=submit]`)), chromedp.WaitVisible(css("#answered-notice")))
	b.expectText("#my-code", code)
	b.expectText("#my-files", "cccd-mat-sau.pdf", "xac-nhan.pdf")

	// The officials resolve it: appraise, sign the certificate, attach its file.
	certificate := journeyPDF("Giấy chứng nhận đăng ký doanh nghiệp " + code)
	officialCall(t, demo, "POST", "/api/v1/dossiers/"+code+"/transfer", reception, map[string]any{"to_unit": "P.ĐKKD", "step": "Thẩm định hồ sơ"}, http.StatusOK)
	officialCall(t, demo, "POST", "/api/v1/dossiers/"+code+"/appraise", specialist, map[string]any{"conclusion": "approve", "opinion": "Hồ sơ hợp lệ"}, http.StatusOK)
	officialCall(t, demo, "POST", "/api/v1/dossiers/"+code+"/sign", signer, map[string]any{"document_number": "0101/GCN", "document_hash": sha256Hex(certificate)}, http.StatusOK)
	ready := officialUpload(t, demo, "/api/v1/dossiers/"+code+"/result/file", signer, "giay-chung-nhan.pdf", certificate)
	if ready["status"] != "result_ready" {
		t.Fatalf("the result with its file: %v", ready)
	}

	// The citizen downloads the signed result, with their own session, from the dossier's page.
	b.openUntil(page, "#result-download")
	b.screenshot("citizen-result-ready", true)
	got := value(b, "download the result", chromedp.Evaluate[string](`fetch(document.querySelector("#result-download").href, {credentials: "same-origin"})
		.then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
		.then(b => crypto.subtle.digest("SHA-256", b))
		.then(d => Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, "0")).join(""))`, chromedp.EvalAwaitPromise))
	if got != sha256Hex(certificate) {
		t.Errorf("the downloaded result hashes to %s, want the signed document's %s", got, sha256Hex(certificate))
	}
	b.expectText("#my-results", sha256Hex(certificate))

	// The citizen checks the file they hold at the address the result's QR code carries
	// (/xac-thuc/{resultCode}), reached by the link beside the result: the signed file is
	// recognised, another is not.
	held, other := filepath.Join(dir, "giay-chung-nhan-da-tai.pdf"), filepath.Join(dir, "giay-chung-nhan-khac.pdf")
	if err := os.WriteFile(held, certificate, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, journeyPDF("Giấy chứng nhận khác"), 0o600); err != nil {
		t.Fatal(err)
	}
	verifyPath := value(b, "the verification link", chromedp.AttributeValue(css(`#my-results a[href^="/xac-thuc/"]`), "href")).Value
	for _, presented := range []struct {
		file    string
		genuine bool
	}{{held, true}, {other, false}} {
		b.open(verifyPath)
		// Choosing the file is enough: the page hashes it on the device and asks for the verdict.
		b.run("present "+filepath.Base(presented.file),
			chromedp.SetUploadFiles(css("#file"), []string{presented.file}),
			chromedp.WaitVisible(css("#verdict")))
		class := value(b, "the verdict", chromedp.AttributeValue(css("#verdict"), "class")).Value
		if strings.Contains(class, "error") == presented.genuine {
			t.Errorf("%s presented at %s: the verdict is %q (%s)", filepath.Base(presented.file), verifyPath, b.text("#verdict"), class)
		}
	}
	b.screenshot("citizen-result-verified", false)
}

// officialCall is an official's JSON call of the API, expecting status.
func officialCall(t *testing.T, demo demoServer, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, demo.url+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return officialAnswer(t, req, status)
}

// officialUpload posts the result's file as the signer does.
func officialUpload(t *testing.T, demo demoServer, path, token, name string, content []byte) map[string]any {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", name)
	_, _ = part.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", demo.url+path, &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return officialAnswer(t, req, http.StatusCreated)
}

func officialAnswer(t *testing.T, req *http.Request, status int) map[string]any {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, status, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// journeyPDF is a small whole PDF whose content depends on text.
func journeyPDF(text string) []byte {
	return []byte("%PDF-1.7\n% " + text + "\n" + strings.Repeat("0", 4096) + "\n%%EOF\n")
}

func journeyPNG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
