package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"net/http"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/http/httpkit"
)

// printView is a print-ready form of TT 01/2018: 01 receipt and appointment, 02 supplement
// request, 03 refusal, 04 apology and new appointment date.
type printView struct {
	Form          string
	D             domain.Dossier
	ReceivingName string
	CompetentName string
	Official      eventstore.Actor // who received, requested, refused or apologised
	LookupURL     string
	QR            template.URL // PNG data URI of LookupURL
	Barcode       template.URL // PNG data URI of the dossier code (Code 128)
	Secret        string       // the rating secret, only on a receipt printed right after receiving
	Supplement    *domain.SupplementRequested
	RefusedAt     domain.ReceptionRefused
	Rejected      *domain.Rejected
	Apology       *domain.ApologyIssued
}

func (s *Pages) printPage(w http.ResponseWriter, r *http.Request) {
	form := chi.URLParam(r, "form")
	if form == "phieu-kiem-soat" {
		s.controlSheetPage(w, r)
		return
	}
	s.renderPrintable(w, r, chi.URLParam(r, "code"), form, "")
}

// renderPrintable renders form of the dossier ref; secret is printed on a fresh receipt only.
func (s *Pages) renderPrintable(w http.ResponseWriter, r *http.Request, ref, form, secret string) {
	l := langOf(w, r)
	d, recorded, ok := s.loadReadable(w, r, ref)
	if !ok {
		return
	}
	page := &printView{Form: form, D: d, ReceivingName: s.app.Catalog.AgencyName(d.ReceivingUnit), CompetentName: s.app.Catalog.AgencyName(d.CompetentAgency), Secret: secret}
	for _, e := range recorded {
		event, err := domain.DecodeEvent(e.Type, e.Data)
		if err != nil {
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
		switch e := event.(type) {
		case domain.SupplementRequested:
			page.Supplement = &e
		case domain.ReceptionRefused:
			page.RefusedAt = e
		case domain.Rejected:
			page.Rejected = &e
		case domain.ApologyIssued:
			page.Apology = &e
		}
	}
	var found bool
	switch form {
	case "01":
		found = d.Code != ""
		page.Official = recordedActor(recorded, domain.TypeReceived)
		page.LookupURL = httpkit.LookupURL(httpkit.BaseURL(s.publicBaseURL, r), d.Code, secret)
		var err error
		if page.QR, err = qrDataURI(page.LookupURL); err == nil {
			page.Barcode, err = pngDataURI(code128Of(string(d.Code)))
		}
		if err != nil {
			s.logger.ErrorContext(r.Context(), "receipt codes", "code", d.Code, "err", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
	case "02":
		found = page.Supplement != nil
		page.Official = recordedActor(recorded, domain.TypeSupplementRequested)
	case "03":
		found = page.Rejected != nil || !page.RefusedAt.RefusedAt.IsZero()
		page.Official = recordedActor(recorded, domain.TypeReceptionRefused)
		if page.Rejected != nil {
			page.Official = recordedActor(recorded, domain.TypeRejected)
		}
	case "04":
		found = page.Apology != nil
		page.Official = recordedActor(recorded, domain.TypeApologyIssued)
	}
	if !found {
		s.renderError(w, r, http.StatusNotFound, "print.not_applicable")
		return
	}
	v := s.newView(w, r, l.T("print.form_"+form)+" — "+string(d.Code), page)
	v.Print = true
	s.renderView(w, r, http.StatusOK, "print", v)
}

// qrDataURI is the receipt's QR code, the same image the API serves at .../qr.png.
func qrDataURI(text string) (template.URL, error) {
	data, err := httpkit.QRPNG(text)
	if err != nil {
		return "", fmt.Errorf("qr: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data)), nil
}

// code128Of encodes a dossier code as a Code 128 barcode for desk scanners.
func code128Of(text string) (barcode.Barcode, error) {
	code, err := code128.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("code128: %w", err)
	}
	return barcode.Scale(code, 520, 70)
}

func pngDataURI(code barcode.Barcode, err error) (template.URL, error) {
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, code); err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}
