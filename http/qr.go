package http

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/url"

	"github.com/boombuler/barcode/qr"
	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
)

// QR codes printed on receipts and result documents: the receipt's leads to the public lookup page
// (with the rating secret, so the applicant can rate from their phone), the result's to the page that
// checks the result is genuine.

const (
	qrModulePixels = 8 // a module of 1 mm at 200 dpi: scannable from a creased receipt
	qrQuietModules = 4 // the white border ISO/IEC 18004 requires around the symbol
)

// qrPNG encodes text as a QR code PNG with medium error correction and its quiet zone.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	modules := code.Bounds().Dx()
	side := (modules + 2*qrQuietModules) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y := range modules {
		for x := range modules {
			if color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y < 128 {
				left, top := (x+qrQuietModules)*qrModulePixels, (y+qrQuietModules)*qrModulePixels
				cell := image.Rect(left, top, left+qrModulePixels, top+qrModulePixels)
				draw.Draw(img, cell, image.Black, image.Point{}, draw.Src)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) writeQR(w http.ResponseWriter, r *http.Request, text string) {
	data, err := qrPNG(text)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	// A receipt's code may carry the rating secret: keep it out of shared caches.
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// baseURL is where links printed on paper point: the configured public address, else the one the
// request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicBaseURL != "" {
		return s.publicBaseURL
	}
	return publicBaseURL(r)
}

// resultURL is the page that verifies a result.
func resultURL(base, resultCode string) string {
	return base + "/xac-thuc/" + url.PathEscape(resultCode)
}

// dossierQR: GET /api/v1/public/dossiers/{code}/qr.png[?secret=…] — the receipt's QR code. With the
// receipt's rating secret the link opens the rating form; a secret that is not the dossier's is
// refused rather than printed.
func (s *Server) dossierQR(w http.ResponseWriter, r *http.Request) {
	parsed, err := domain.ParseDossierCode(chi.URLParam(r, "code"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := parsed.Code
	secret := r.URL.Query().Get("secret")
	if secret == "" {
		_, _, err = s.app.Load(r.Context(), string(code)) // a code of no dossier gets no QR code
	} else {
		err = s.checkReceiptSecret(w, r, string(code), secret)
	}
	switch {
	case errors.Is(err, errSecretChecksLimited):
		rateLimited(w, r)
	case err != nil:
		s.writeError(w, r, err)
	default:
		s.writeQR(w, r, lookupURL(s.baseURL(r), code, secret))
	}
}

func receiptSecretMatches(d domain.Dossier, secret string) bool {
	return d.RatingSecretHash != "" && subtle.ConstantTimeCompare([]byte(d.RatingSecretHash), []byte(domain.HashRatingSecret(secret))) == 1
}

// resultQR: GET /api/v1/public/results/{resultCode}/qr.png — the result document's QR code.
func (s *Server) resultQR(w http.ResponseWriter, r *http.Request) {
	d, n, err := s.loadResult(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeQR(w, r, resultURL(s.baseURL(r), d.Results[n-1].ResultCode))
}
