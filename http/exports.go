package http

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/http/workbook"
)

// The read models' exports: beside JSON, the resolution report (form II.06a) and the register as
// CSV, the register as PDF (form 06, package printform), and those two, the late dashboard and the satisfaction statistics as Excel workbooks — what
// provincial offices forward upward. A representation is asked for with ?format= (json, csv,
// xlsx), or else the Accept header; the answer varies on both. The export is computed by the same
// handler as the JSON, after the same checks of the filter and of the caller's scope.

const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
	formatPDF  = "pdf"
)

// formatOf reads the representation asked for among those offered (JSON first): ?format= wins,
// else the first offered media type the Accept header names, else JSON. A format not offered is a
// bad request naming the parameter.
func formatOf(r *http.Request, v *domain.Validation, offered ...string) string {
	if text, ok := r.URL.Query()["format"]; ok {
		format := strings.ToLower(strings.Join(text, ","))
		if !slices.Contains(offered, format) {
			v.Add("format", "must be one of %s", strings.Join(offered, ", "))
			return formatJSON
		}
		return format
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		media, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch {
		case strings.EqualFold(media, workbook.ContentType) && slices.Contains(offered, formatXLSX):
			return formatXLSX
		case strings.EqualFold(media, "text/csv") && slices.Contains(offered, formatCSV):
			return formatCSV
		case strings.EqualFold(media, printform.ContentType) && slices.Contains(offered, formatPDF):
			return formatPDF
		}
	}
	return formatJSON
}

// varyOnFormat says that the answer depends on the Accept header (?format= is in the URL already).
func varyOnFormat(w http.ResponseWriter) { w.Header().Add("Vary", "Accept") }

// writeWorkbook answers with the workbook fill makes. The workbook is complete before the first
// byte is sent, so a failure reading the data is still a problem answer; the zip then streams to
// the client (package workbook).
func (s *Server) writeWorkbook(w http.ResponseWriter, r *http.Request, asciiName, name string, fill func(*workbook.Book) error) {
	book, err := workbook.New()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer func() {
		if err := book.Close(); err != nil {
			s.logger.WarnContext(r.Context(), "workbook: temporary files", "err", err)
		}
	}()
	if err := fill(book); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", workbook.ContentType)
	w.Header().Set("Content-Disposition", workbook.ContentDisposition(asciiName, name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if err := book.Stream(w); err != nil {
		// The status is sent: the client sees a truncated file, the log says why.
		s.logger.WarnContext(r.Context(), "workbook export", "file", asciiName, "err", err)
	}
}

// reportUnit is the line naming who a statistics report covers.
func (s *Server) reportUnit(agency string) string {
	return workbook.UnitLine("Đơn vị báo cáo", agency, s.app.Catalog().AgencyName(agency))
}

// exportNames are an export's file names, ASCII and Vietnamese, from its kind, scope and span.
func exportNames(ascii, vietnamese, scope, span, ext string) (string, string) {
	if scope == "" {
		scope = "tat-ca"
	}
	return fmt.Sprintf("%s_%s_%s.%s", ascii, scope, span, ext), fmt.Sprintf("%s_%s_%s.%s", vietnamese, scope, span, ext)
}
