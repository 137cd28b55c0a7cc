package http_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/motcua/motcua/domain"
)

// scanQR fetches a QR code PNG and decodes it as a phone would.
func (e *env) scanQR(path string, headers ...string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		e.t.Fatalf("GET %s: %d %s: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		e.t.Fatalf("GET %s: not a PNG: %v", path, err)
	}
	bitmap, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		e.t.Fatal(err)
	}
	// The image is a generated code, not a photograph: read it as such first. Detecting the finder
	// patterns as in a photo failed on about one code in a few hundred (a random secret's).
	result, err := qrcode.NewQRCodeReader().Decode(bitmap, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		result, err = qrcode.NewQRCodeReader().Decode(bitmap, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		e.t.Fatalf("GET %s: no QR code could be read: %v", path, err)
	}
	return result.GetText()
}

// follow opens a link printed for the configured public address on the test server instead, through
// the real router, and returns the page.
func (e *trustEnv) follow(link string) string {
	e.t.Helper()
	rest, ok := strings.CutPrefix(link, publicBase)
	if !ok {
		e.t.Fatalf("link %q does not point to %s", link, publicBase)
	}
	resp, err := http.Get(e.url + rest)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d: %s", rest, resp.StatusCode, page)
	}
	return string(page)
}

func TestReceiptQRCodeOpensTheLookupAndRatingForm(t *testing.T) {
	e := newTrustEnv(t)
	code, secret, _ := e.signedDossier()
	e.waitPublic(code, domain.StatusResultReturned)
	qr := "/api/v1/public/dossiers/" + code + "/qr.png"

	link := e.scanQR(qr + "?secret=" + url.QueryEscape(secret))
	if want := publicBase + "/tra-cuu/" + code + "?secret=" + url.QueryEscape(secret); link != want {
		t.Fatalf("the receipt's QR code reads %q, want %q", link, want)
	}
	page := e.follow(link)
	if !strings.Contains(page, code) || !strings.Contains(page, `action="/tra-cuu/`+code+`/danh-gia"`) || !strings.Contains(page, secret) {
		t.Fatalf("the receipt's link does not open the dossier's rating form:\n%s", page)
	}

	link = e.scanQR(qr)
	if link != publicBase+"/tra-cuu/"+code {
		t.Fatalf("without a secret the QR code reads %q", link)
	}
	if page := e.follow(link); !strings.Contains(page, code) || strings.Contains(page, "/danh-gia") {
		t.Fatalf("the plain lookup link does not show the dossier alone:\n%s", page)
	}

	refused := []struct {
		name   string
		path   string
		status int
	}{
		{"another dossier's secret", qr + "?secret=ABCDEFGHJK", http.StatusForbidden},
		{"a dossier that does not exist", "/api/v1/public/dossiers/000.00.00.H56-260302-0099/qr.png", http.StatusNotFound},
		{"not a dossier code", "/api/v1/public/dossiers/nonsense/qr.png", http.StatusBadRequest},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) { e.expect(e.do("GET", tc.path, "", nil), tc.status) })
	}
}

func TestResultQRCodeOpensItsVerification(t *testing.T) {
	e := newTrustEnv(t)
	code, _, _ := e.signedDossier()
	link := e.scanQR("/api/v1/public/results/" + code + "-KQ1/qr.png")
	if link != publicBase+"/xac-thuc/"+code+"-KQ1" {
		t.Fatalf("the result's QR code reads %q", link)
	}
	if page := e.follow(link); !strings.Contains(page, "12/GPXD") || !strings.Contains(page, code) {
		t.Fatalf("the result's link does not show the result:\n%s", page)
	}
	e.expect(e.do("GET", "/api/v1/public/results/"+code+"-KQ2/qr.png", "", nil), http.StatusNotFound)
}
