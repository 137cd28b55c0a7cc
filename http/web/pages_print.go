package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/projections"
)

// printView is a print-ready form of a dossier (package printform gathers what it shows, the same
// for the HTML view and the PDF) with its codes as images for the page.
type printView struct {
	*printform.Dossier
	QR      template.URL // PNG data URI of the QR code: the lookup page, or the result's check
	Barcode template.URL // PNG data URI of the dossier code (Code 128)
	// ScanLink, on the receipt when files are kept, opens the dossier's form to attach the
	// components scanned at the desk: the next thing the official does after printing.
	ScanLink string
}

// The representations of a print view: the page (HTML, to print from the browser) or ?format=pdf.
const (
	printHTML = "html"
	printPDF  = "pdf"
)

// printFormat reads ?format=: absent or html the page, pdf the PDF; anything else is answered
// with the not-found page (as every bad address of the pages is) and ok false.
func (s *Pages) printFormat(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch format := r.URL.Query().Get("format"); format {
	case "", printHTML:
		return printHTML, true
	case printPDF:
		return printPDF, true
	}
	s.renderError(w, r, http.StatusBadRequest, errorKeyOf(http.StatusBadRequest))
	return "", false
}

func (s *Pages) printPage(w http.ResponseWriter, r *http.Request) {
	form := chi.URLParam(r, "form")
	if form == printform.ControlSheetForm {
		s.controlSheetPage(w, r)
		return
	}
	s.renderPrintable(w, r, chi.URLParam(r, "code"), form, "")
}

// renderPrintable renders form of the dossier ref; secret is printed on a fresh receipt only.
func (s *Pages) renderPrintable(w http.ResponseWriter, r *http.Request, ref, form, secret string) {
	l := langOf(w, r)
	format, ok := s.printFormat(w, r)
	if !ok {
		return
	}
	result := 0
	if text := r.URL.Query().Get("result"); text != "" && form == printform.FormConversion {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			s.renderError(w, r, http.StatusBadRequest, errorKeyOf(http.StatusBadRequest))
			return
		}
		result = n
	}
	// Loading records the read of the applicant's data in the access log, whichever the format.
	d, recorded, ok := s.loadReadable(w, r, ref)
	if !ok {
		return
	}
	caller, _ := officialOf(r)
	built, err := printform.Build(printform.Inputs{
		Form: form, Dossier: d, Recorded: recorded, AgencyName: s.app.Catalog().AgencyName,
		BaseURL: httpkit.BaseURL(s.publicBaseURL, r), Secret: secret, Result: result, Printer: caller.Name, Now: s.now(),
	})
	switch {
	case errors.Is(err, printform.ErrNotApplicable):
		s.renderError(w, r, http.StatusNotFound, "print.not_applicable")
		return
	case err != nil:
		s.logger.ErrorContext(r.Context(), "print form", "ref", ref, "form", form, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if format == printPDF {
		s.writePDF(w, r, built.FileName(), built.PDF)
		return
	}
	page := &printView{Dossier: built}
	switch form {
	case printform.FormReceipt:
		if s.documents && mayAttach(caller, d) {
			page.ScanLink = "/can-bo/ho-so/" + string(d.Code) + "?dinh-kem=1#act-documents"
		}
		if page.QR, err = qrDataURI(built.LookupURL); err == nil {
			page.Barcode, err = pngDataURI(printform.BarcodePNG(string(d.Code)))
		}
	case printform.FormConversion:
		page.QR, err = qrDataURI(built.Result.VerifyURL)
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "print codes", "code", d.Code, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	title := l.T("print.form_"+form) + " — " + string(d.Code)
	v := s.newView(w, r, title, page)
	v.Print = true
	s.renderView(w, r, http.StatusOK, "print", v)
}

// writePDF answers with the PDF draw writes, complete before the first byte is sent (a failure is
// still the error page), as an inline file under a safe name. Forms carry personal data: no shared
// cache keeps them.
func (s *Pages) writePDF(w http.ResponseWriter, r *http.Request, name string, draw func(io.Writer) error) {
	var buf bytes.Buffer
	if err := draw(&buf); err != nil {
		s.logger.ErrorContext(r.Context(), "pdf", "file", name, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	w.Header().Set("Content-Type", printform.ContentType)
	w.Header().Set("Content-Disposition", printform.ContentDisposition(name))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

func (s *Pages) controlSheetPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	format, ok := s.printFormat(w, r)
	if !ok {
		return
	}
	d, _, ok := s.loadReadable(w, r, chi.URLParam(r, "code"))
	if !ok {
		return
	}
	sheet, err := projections.ControlSheetOf(r.Context(), s.readDB, d.ID, s.app.Calendar, s.now())
	if err != nil {
		s.dashboardFailed(w, r, "control sheet", err)
		return
	}
	page := &printform.ControlSheet{Sheet: sheet, ReceivingName: s.app.Catalog().AgencyName(sheet.ReceivingUnit), CompetentName: s.app.Catalog().AgencyName(sheet.CompetentAgency)}
	if format == printPDF {
		s.writePDF(w, r, page.FileName(), page.PDF)
		return
	}
	v := s.newView(w, r, l.T("print.form_phieu-kiem-soat")+" — "+string(d.Code), page)
	v.Print = true
	s.renderView(w, r, http.StatusOK, "control_sheet", v)
}

// qrDataURI is a form's QR code, the same image the API serves at .../qr.png.
func qrDataURI(text string) (template.URL, error) {
	data, err := httpkit.QRPNG(text)
	if err != nil {
		return "", fmt.Errorf("qr: %w", err)
	}
	return pngDataURI(data, nil)
}

func pngDataURI(data []byte, err error) (template.URL, error) {
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data)), nil
}
