package http

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

// QR codes printed on receipts and result documents: the receipt's leads to the public lookup page
// (with the rating secret, so the applicant can rate from their phone), the result's to the page that
// checks the result is genuine.

func (s *Server) writeQR(w http.ResponseWriter, r *http.Request, text string) {
	data, err := httpkit.QRPNG(text)
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
	case errors.Is(err, httpkit.ErrSecretChecksLimited):
		rateLimited(w, r)
	case err != nil:
		s.writeError(w, r, err)
	default:
		s.writeQR(w, r, httpkit.LookupURL(httpkit.BaseURL(s.publicBaseURL, r), code, secret))
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
	s.writeQR(w, r, httpkit.ResultURL(httpkit.BaseURL(s.publicBaseURL, r), d.Results[n-1].ResultCode))
}
