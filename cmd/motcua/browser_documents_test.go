package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// At the desk in a real browser: the official receives a dossier, follows the printed receipt to
// the attach form, attaches a scanned PNG and a PDF with the browser's file input, and the dossier
// page shows them inline — the image decoded, the PDF loaded in its frame as a PDF — under the
// policies the files are served with.
func TestBrowserDeskAttachesScansAndPreviewsThem(t *testing.T) {
	demo := startDemo(t)
	b := newBrowser(t, demo.url)
	dir := t.TempDir()
	scan := filepath.Join(dir, "Đơn đề nghị.png")
	picture := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		picture.Set(x, 15, color.RGBA{R: 200, A: 255})
	}
	var encoded bytes.Buffer
	if err := png.Encode(&encoded, picture); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "ban-sao-can-cuoc.pdf")
	for path, content := range map[string][]byte{scan: encoded.Bytes(), pdf: []byte(minimalPDF)} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	b.signIn(demo.tokens["demo-1-reception"])
	b.open("/can-bo/tiep-nhan")
	b.run("receive", chromedp.SetValue(css(`[name=procedure_code]`), "2.001610"),
		chromedp.SetValue(css(`[name="applicant.name"]`), "Lê Thị Hồng Nhung"),
		chromedp.SetValue(css(`[name="applicant.id_number"]`), "038190012345"),
		chromedp.SetValue(css(`[name=components]`), "Giấy đề nghị đăng ký doanh nghiệp | 1"),
		chromedp.Click(css(`form.card button[type=submit]`)), chromedp.WaitVisible(css("#scan-link")))
	b.run("follow the receipt to the scans", chromedp.Click(css("#scan-link")), chromedp.WaitVisible(css("#documents-file")))
	for _, file := range []string{scan, pdf} {
		b.run("attach "+filepath.Base(file), chromedp.SetAttributeValue(css("#act-documents"), "open", ""),
			chromedp.SetUploadFiles(css("#documents-file"), []string{file}),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#done").forEach(e => e.remove())`),
			chromedp.Click(css("#act-documents button[type=submit]")), chromedp.WaitVisible(css("#done")))
	}
	b.expectText("ul.files", "Đơn đề nghị.png", "ban-sao-can-cuoc.pdf", "số hóa tại bộ phận một cửa")
	b.run("wait for the image preview", chromedp.WaitVisible(css("img.preview")))
	if !value(b, "the image preview", chromedp.Evaluate[bool](`(() => { const i = document.querySelector("img.preview");
		return new Promise(ok => { if (i.complete) { ok(i.naturalWidth === 40); } else { i.onload = () => ok(i.naturalWidth === 40); i.onerror = () => ok(false); } }); })()`,
		chromedp.EvalAwaitPromise)) {
		t.Errorf("the scanned image is not shown inline")
	}
	b.run("open the PDF preview", chromedp.Click(css("ul.files details summary")), chromedp.WaitVisible(css("iframe.preview")))
	var contentType string
	for i := 0; i < 100 && contentType != "application/pdf"; i++ {
		contentType = value(b, "the PDF frame", chromedp.Evaluate[string](`(() => { const f = document.querySelector("iframe.preview");
			return f.contentDocument ? f.contentDocument.contentType : "blocked"; })()`))
		if contentType != "application/pdf" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if contentType != "application/pdf" {
		t.Errorf("the PDF preview's frame holds %q, want the PDF", contentType)
	}
	b.screenshot("desk-scans-previewed", false)
	if strings.Contains(b.text("main"), "403") {
		t.Errorf("a preview was refused")
	}
}

// minimalPDF is a whole one-page PDF (ends with %%EOF, as the upload's check wants).
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
