package http

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/http/workbook"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// The read models' JSON API: the late-dossier dashboard, each dossier's process-control sheet, the
// satisfaction statistics, the resolution report (form II.06a, also as CSV) and the dossier register.
// Officials see the dossiers their own agency received or decides; inspectors and admins see every
// agency, or the one they ask for. The read models are eventually consistent: an action shows here
// once the projections have applied it.

// readModelRoutes mounts the read models' endpoints; the caller must be authenticated.
func (s *Server) readModelRoutes(r chi.Router) {
	r.Get("/dashboards/late", s.getLateDashboard)
	r.Get("/dashboards/late/{list}", s.getLateList)
	r.Get("/dossiers/{ref}/control-sheet", s.getControlSheet)
	r.Get("/statistics/satisfaction", s.getSatisfaction)
	r.Get("/reports/resolution", s.getResolutionReport)
	r.Get("/registers/{unit}/{year}", s.getDossierRegister)
	r.Get("/work-queue", s.getWorkQueue)
	r.Get("/work-queue/summary", s.getWorkQueueSummary)
}

// maxDueWithinDays bounds the late dashboard's early-warning horizon.
const maxDueWithinDays = 60

// getLateDashboard: GET /api/v1/dashboards/late?agency=&unit=&procedure=&field=&from=&to=&due_within_days=&limit=
// — the summaries, and the first page (limit rows) of each list with the cursor of the next.
func (s *Server) getLateDashboard(w http.ResponseWriter, r *http.Request) {
	var format string
	f, page, ok := s.lateFilter(w, r, false, func(v *domain.Validation) { format = formatOf(r, v, formatJSON, formatXLSX) })
	if !ok {
		return
	}
	dash, err := projections.LateDashboardOf(r.Context(), s.readDB, f, s.app.Calendar, page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	varyOnFormat(w)
	if format == formatXLSX {
		ascii, name := exportNames("ho-so-tre-han", "Hồ sơ trễ hạn", f.Agency.Agency(), civilDate(f.Period.From)+"_"+civilDate(f.Period.To.AddDate(0, 0, -1)), formatXLSX)
		s.writeWorkbook(w, r, ascii, name, func(b *workbook.Book) error {
			return workbook.LateDashboard(b, dash, s.reportUnit(f.Agency.Agency()), s.app.Catalog().AgencyName)
		})
		return
	}
	for _, late := range [][]projections.LateDossier{dash.OpenOverdue.Items, dash.ResolvedLate.Items} {
		for _, d := range late {
			verdictWords(d.OverrunSteps)
		}
	}
	writeJSON(w, http.StatusOK, dash)
}

// getLateList: GET /api/v1/dashboards/late/{list}?…&limit=&after= — one page of one of the late
// dashboard's lists (projections.LateLists), with the dashboard's filters.
func (s *Server) getLateList(w http.ResponseWriter, r *http.Request) {
	f, req, ok := s.lateFilter(w, r, true, nil)
	if !ok {
		return
	}
	name := chi.URLParam(r, "list")
	if !slices.Contains(projections.LateLists, name) {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "the late dashboard has no list %q (lists: %s)", name, strings.Join(projections.LateLists, ", ")))
		return
	}
	page, err := projections.LateListPage(r.Context(), s.readDB, name, f, s.app.Calendar, req)
	if errors.Is(err, projections.ErrBadCursor) {
		s.writeError(w, r, badField("after", err.Error()))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if late, ok := page.(projections.Page[projections.LateDossier]); ok {
		for _, d := range late.Items {
			verdictWords(d.OverrunSteps)
		}
	}
	writeJSON(w, http.StatusOK, page)
}

// lateFilter reads the late dashboard's filters and page request (after only when a list is
// paged on its own), and any further parameters through more. It answers a bad request itself and
// then reports false.
func (s *Server) lateFilter(w http.ResponseWriter, r *http.Request, paged bool, more func(*domain.Validation)) (projections.LateFilter, projections.PageRequest, bool) {
	f := projections.LateFilter{Now: s.now(), DueWithinDays: 3}
	var req projections.PageRequest
	agency, period, ok := s.statisticsFilter(w, r, func(q url.Values, v *domain.Validation) {
		if text := q.Get("due_within_days"); text != "" {
			n, err := strconv.Atoi(text)
			v.Check(err == nil && n >= 0 && n <= maxDueWithinDays, "due_within_days", "must be a whole number of working days from 0 to %d", maxDueWithinDays)
			f.DueWithinDays = n
		}
		f.Unit, f.Procedure, f.Field = q.Get("unit"), q.Get("procedure"), q.Get("field")
		v.Check(f.Unit == "" || domain.ValidUnitCode(f.Unit), "unit", "is not a QCVN 102 identifier")
		v.Check(validCatalogCode(f.Procedure), "procedure", "is not a procedure code")
		v.Check(validCatalogCode(f.Field), "field", "is not a field code")
		after := ""
		if paged {
			after = q.Get("after")
		}
		var field, problem string
		if req, field, problem = projections.ParsePageRequest(q.Get("limit"), after); field != "" {
			v.Add(field, "%s", problem)
		}
		if more != nil {
			more(v)
		}
	})
	f.Agency, f.Period = agency, period
	return f, req, ok
}

// validCatalogCode reports whether a procedure or field code asked for is one the catalog could
// hold: short, printable ASCII (letters, digits, dots and dashes); empty asks for none.
func validCatalogCode(code string) bool {
	if len(code) > 64 {
		return false
	}
	for _, c := range code {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// badField is a 400 naming the parameter at fault.
func badField(field, problem string) error {
	var v domain.Validation
	v.Add(field, "%s", problem)
	return v.Err()
}

// getControlSheet: GET /api/v1/dossiers/{ref}/control-sheet — by dossier code or id.
func (s *Server) getControlSheet(w http.ResponseWriter, r *http.Request) {
	sheet, err := projections.ControlSheetOf(r.Context(), s.readDB, chi.URLParam(r, "ref"), s.app.Calendar, s.now())
	if errors.Is(err, projections.ErrNotFound) {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "dossier %s not found", chi.URLParam(r, "ref")))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	owner := domain.Dossier{ReceivingUnit: sheet.ReceivingUnit, CompetentAgency: sheet.CompetentAgency, HolderAgency: sheet.HolderAgency}
	for _, agency := range sheet.OpenPartAgencies {
		owner.OpenParts = append(owner.OpenParts, domain.OpenPart{ParallelPart: domain.ParallelPart{Agency: agency}})
	}
	if !commands.CanRead(callerOf(r.Context()), owner) {
		s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "dossier %s belongs to another agency", chi.URLParam(r, "ref")))
		return
	}
	if s.accessLog != nil {
		// The sheet names the applicant: the read is recorded with their identity number's index,
		// which the sheet does not hold, so the dossier is loaded for it.
		d, _, err := s.app.Load(r.Context(), sheet.DossierID)
		if err == nil {
			err = s.recordDossierRead(r, d)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	verdictWords(sheet.Handovers)
	writeJSON(w, http.StatusOK, sheet)
}

// getSatisfaction: GET /api/v1/statistics/satisfaction?agency=&from=&to=&format= — JSON, or an
// Excel workbook for format=xlsx.
func (s *Server) getSatisfaction(w http.ResponseWriter, r *http.Request) {
	var format string
	agency, period, ok := s.statisticsFilter(w, r, func(_ url.Values, v *domain.Validation) { format = formatOf(r, v, formatJSON, formatXLSX) })
	if !ok {
		return
	}
	report, err := projections.SatisfactionOf(r.Context(), s.readDB, agency, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	varyOnFormat(w)
	if format == formatXLSX {
		ascii, name := exportNames("muc-do-hai-long", "Mức độ hài lòng", agency.Agency(), civilDate(period.From)+"_"+civilDate(period.To.AddDate(0, 0, -1)), formatXLSX)
		s.writeWorkbook(w, r, ascii, name, func(b *workbook.Book) error {
			return workbook.Satisfaction(b, report, s.reportUnit(agency.Agency()), s.app.Catalog().AgencyName)
		})
		return
	}
	gradeWords(&report.Overall)
	for i := range report.Indicators.NotComputed {
		n := &report.Indicators.NotComputed[i]
		n.Indicator = l10n.VI.Indicator(n.Code)
	}
	for _, groups := range [][]projections.SatisfactionGroup{report.ByAgency, report.ByDepartment, report.ByProcedure, report.ByOfficial, report.ByMonth} {
		for i := range groups {
			gradeWords(&groups[i].RatingStats)
		}
	}
	writeJSON(w, http.StatusOK, report)
}

// getResolutionReport: GET /api/v1/reports/resolution?agency=&from=&to=&format= — JSON, CSV or
// an Excel workbook laid out as form II.06a.
func (s *Server) getResolutionReport(w http.ResponseWriter, r *http.Request) {
	var format string
	agency, period, ok := s.statisticsFilter(w, r, func(_ url.Values, v *domain.Validation) {
		format = formatOf(r, v, formatJSON, formatCSV, formatXLSX)
	})
	if !ok {
		return
	}
	report, err := projections.ResolutionReportOf(r.Context(), s.readDB, agency, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	varyOnFormat(w)
	span := civilDate(period.From) + "_" + civilDate(period.To.AddDate(0, 0, -1))
	switch format {
	case formatCSV:
		name, _ := exportNames("bao-cao-II06a", "", agency.Agency(), span, formatCSV)
		httpkit.WriteCSVAttachment(w, name, l10n.VI.ResolutionCSVHeader(), report.CSVRecords(l10n.VI.ResolutionCSVTotal()))
	case formatXLSX:
		ascii, name := exportNames("bao-cao-II06a", "Báo cáo II.06a", agency.Agency(), span, formatXLSX)
		s.writeWorkbook(w, r, ascii, name, func(b *workbook.Book) error {
			return workbook.Resolution(b, report, s.reportUnit(agency.Agency()))
		})
	default:
		writeJSON(w, http.StatusOK, report)
	}
}

// getDossierRegister: GET /api/v1/registers/{unit}/{year}?limit=&after=&format= — the register of
// the dossiers a receiving unit received in a year: a page of it as JSON, or the whole year as CSV,
// as an Excel workbook or as a PDF (form 06), read page by page.
func (s *Server) getDossierRegister(w http.ResponseWriter, r *http.Request) {
	unit := chi.URLParam(r, "unit")
	var v domain.Validation
	v.Check(domain.ValidUnitCode(unit), "unit", "is not a QCVN 102 identifier")
	year, convErr := strconv.Atoi(chi.URLParam(r, "year"))
	v.Check(convErr == nil && year >= 2000 && year <= 2100, "year", "must be a year from 2000 to 2100")
	format := formatOf(r, &v, formatJSON, formatCSV, formatXLSX, formatPDF)
	var err error
	if v.Err() == nil {
		_, err = httpkit.ReadScope(callerOf(r.Context()), unit)
	}
	if s.refuse(w, r, err, &v) {
		return
	}
	if format == formatPDF {
		// A PDF is drawn whole in memory: a longer year is asked for as CSV or a workbook, which stream.
		first, err := projections.RegisterPageOf(r.Context(), s.readDB, unit, year, projections.PageRequest{Limit: 1})
		if err == nil && first.Total > s.registerPDFMaxLines {
			err = badField("format", fmt.Sprintf("the register of %d holds %d lines, a PDF at most %d: ask for csv or xlsx", year, first.Total, s.registerPDFMaxLines))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	read := httpkit.PersonalRead{List: httpkit.ListRegister, Filter: listFilter(r, "unit", "year") + "&format=" + format}
	if err := s.recordRead(r, callerOf(r.Context()), read); err != nil {
		s.writeError(w, r, err)
		return
	}
	varyOnFormat(w)
	if format == formatXLSX {
		// The whole year, page by page: never the year in memory (package workbook).
		ascii, name := exportNames("so-theo-doi-ho-so", "Sổ theo dõi hồ sơ", unit, strconv.Itoa(year), formatXLSX)
		s.writeWorkbook(w, r, ascii, name, func(b *workbook.Book) error {
			register, err := workbook.NewRegister(b, year, workbook.UnitLine("Bộ phận tiếp nhận và trả kết quả", unit, s.app.Catalog().AgencyName(unit)))
			if err != nil {
				return err
			}
			if err := projections.EachRegisterPage(r.Context(), s.readDB, unit, year, register.Write); err != nil {
				return err
			}
			return register.Done()
		})
		return
	}
	if format == formatPDF {
		// The whole year, page by page; the document is complete before the first byte is sent.
		register, err := printform.NewRegister(year, s.app.Catalog().AgencyName(unit), s.app.Catalog().AgencyName, s.now())
		if err == nil {
			err = projections.EachRegisterPage(r.Context(), s.readDB, unit, year, register.Write)
		}
		var buf bytes.Buffer
		if err == nil {
			err = register.PDF(&buf)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", printform.ContentType)
		w.Header().Set("Content-Disposition", printform.ContentDisposition(fmt.Sprintf("so-theo-doi-ho-so_%s_%d.pdf", unit, year)))
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = buf.WriteTo(w)
		return
	}
	if format == formatCSV {
		// The whole year, streamed page by page: never the year in memory.
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("so-theo-doi-ho-so_%s_%d.csv", unit, year)))
		csvOut := httpkit.NewCSVStream(w, l10n.VI.RegisterCSVHeader())
		err := projections.EachRegisterPage(r.Context(), s.readDB, unit, year, func(entries []projections.RegisterEntry) error {
			return csvOut.Write(projections.RegisterCSVRecords(entries, l10n.VI))
		})
		switch {
		case err != nil && !csvOut.Started():
			w.Header().Del("Content-Disposition")
			s.writeError(w, r, err)
		case err != nil:
			// The status is sent: the client sees a truncated file, the log says why.
			slog.Default().Warn("register CSV export", "unit", unit, "year", year, "err", err)
		}
		return
	}
	q := r.URL.Query()
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		s.writeError(w, r, badField(field, problem))
		return
	}
	page, err := projections.RegisterPageOf(r.Context(), s.readDB, unit, year, req)
	if errors.Is(err, projections.ErrBadCursor) {
		s.writeError(w, r, badField("after", err.Error()))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// statisticsFilter reads the agency and period of a statistics request, and any further
// parameters through more. It answers a bad filter (400, with every field at fault) or a forbidden
// scope (403) itself and then reports false.
func (s *Server) statisticsFilter(w http.ResponseWriter, r *http.Request, more func(url.Values, *domain.Validation)) (projections.AgencyScope, projections.Period, bool) {
	q := r.URL.Query()
	var v domain.Validation
	agency, forbidden := statisticsAgency(callerOf(r.Context()), q, &v)
	period := periodOf(q, s.now(), &v)
	if more != nil {
		more(q, &v)
	}
	return agency, period, !s.refuse(w, r, forbidden, &v)
}

// refuse answers a bad filter (400, with every field at fault) or a forbidden scope, and reports
// whether it did.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, forbidden error, v *domain.Validation) bool {
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return true
	}
	if forbidden != nil {
		s.writeError(w, r, forbidden)
		return true
	}
	return false
}

// statisticsAgency returns whose dossiers the caller's statistics cover (commands.ScopeFor): inspectors
// and admins the agency they ask for, or every agency when they ask for none; other officials
// their own agency, and nothing at all when their account names none.
func statisticsAgency(caller commands.Caller, q url.Values, v *domain.Validation) (projections.AgencyScope, error) {
	requested := q.Get("agency")
	if requested != "" && !domain.ValidUnitCode(requested) {
		v.Add("agency", "is not a QCVN 102 identifier")
		return projections.AgencyScope{}, nil
	}
	return httpkit.ReadScope(caller, requested)
}

// maxPeriodDays bounds a report's period: ten years is already more than any report covers.
const maxPeriodDays = 3660

// periodOf reads from and to (YYYY-MM-DD, Vietnam civil dates, both included) into a half-open
// period. Without them the period is the current month up to today.
func periodOf(q url.Values, now time.Time, v *domain.Validation) projections.Period {
	today := now.In(domain.VietnamTime)
	from := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, domain.VietnamTime)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, domain.VietnamTime)
	ok := true
	for _, p := range []struct {
		field string
		dst   *time.Time
	}{{"from", &from}, {"to", &to}} {
		text := q.Get(p.field)
		if text == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, text, domain.VietnamTime)
		if err != nil {
			v.Add(p.field, "must be a date YYYY-MM-DD")
			ok = false
			continue
		}
		*p.dst = day
	}
	if ok {
		v.Check(!to.Before(from), "to", "is before from")
		v.Check(to.Sub(from) <= maxPeriodDays*24*time.Hour, "to", "the period is longer than %d days", maxPeriodDays)
	}
	return projections.Period{From: from, To: to.AddDate(0, 0, 1)}
}

func civilDate(t time.Time) string { return t.In(domain.VietnamTime).Format(time.DateOnly) }

// verdictWords names each step and the verdict on it in Vietnamese, as the API has always answered,
// and the notes of what happened during it.
func verdictWords(steps []projections.Handover) {
	for i := range steps {
		h := &steps[i]
		h.Step = l10n.VI.Step(h.Step)
		h.VerdictLabel = l10n.VI.Verdict(string(h.Verdict))
		for j := range h.Events {
			n := &h.Events[j]
			n.Event, n.Detail = l10n.VI.ControlNote(n.Kind, n.Param, n.Date, n.Detail)
		}
	}
}

// gradeWords names the grade of rating statistics in Vietnamese, as the API has always answered.
func gradeWords(s *projections.RatingStats) {
	s.GradeLabel = l10n.VI.Grade(string(s.Grade))
}
