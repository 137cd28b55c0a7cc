package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// The dashboards read the read models of package projections: late dossiers with who made them
// late, the on-time rate month by month (from the resolution report), satisfaction by agency, the
// resolution report (form II.06a) and each dossier's process-control sheet. Officials see their own
// agency; inspectors and admins every agency, or the one they pick.

func (s *Pages) mountDashboards(r chi.Router) {
	r = r.With(s.dashboardAccess)
	r.Get("/can-bo/thong-ke/tre-han", s.lateDashboardPage)
	r.Get("/can-bo/thong-ke/tre-han.csv", s.lateDashboardCSV)
	r.Get("/can-bo/thong-ke/tre-han.xlsx", s.lateDashboardXLSX)
	r.Get("/can-bo/thong-ke/dung-han", s.onTimePage)
	r.Get("/can-bo/thong-ke/dung-han.csv", s.onTimeCSV)
	r.Get("/can-bo/thong-ke/hai-long", s.satisfactionPage)
	r.Get("/can-bo/thong-ke/hai-long.csv", s.satisfactionCSV)
	r.Get("/can-bo/thong-ke/hai-long.xlsx", s.satisfactionXLSX)
	r.Get("/can-bo/thong-ke/bao-cao", s.resolutionPage)
	r.Get("/can-bo/thong-ke/bao-cao.csv", s.resolutionCSV)
	r.Get("/can-bo/thong-ke/bao-cao.xlsx", s.resolutionXLSX)
}

// dashboardScope is the agency and period a dashboard shows, read from the query string.
type dashboardScope struct {
	Agency   string                  // the agency picked, for the form; "" for every agency
	agencies projections.AgencyScope // what the read models are asked for, as dashboardAccess decided
	AllSeen  bool
	Agencies []domain.Agency
	From, To string // the date inputs, inclusive, Vietnam civil dates
	Period   projections.Period
	Tab      string
	// Query is the scope as a query string, for the export links and the tabs: typed as a URL so
	// that the template keeps its "=" and "&" (escaped as a plain string it became one parameter
	// name, and the links lost the period and agency).
	Query template.URL
	Excel bool // the tab is also exported as an Excel workbook
}

func (s *Pages) scopeOf(r *http.Request, tab string) dashboardScope {
	caller, _ := officialOf(r)
	q := r.URL.Query()
	now := s.now().In(domain.VietnamTime)
	sc := dashboardScope{agencies: dashboardAgencies(r), Tab: tab, AllSeen: caller.ProvinceWide(), Excel: tab != "dung-han"}
	sc.Agency = sc.agencies.Agency()
	if sc.AllSeen {
		sc.Agencies = s.app.Catalog().Agencies
	}
	from, errFrom := time.ParseInLocation(time.DateOnly, q.Get("tu"), domain.VietnamTime)
	to, errTo := time.ParseInLocation(time.DateOnly, q.Get("den"), domain.VietnamTime)
	if errFrom != nil {
		from = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, domain.VietnamTime)
	}
	if errTo != nil || !to.After(from) {
		to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, domain.VietnamTime)
	}
	sc.From, sc.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	sc.Period = projections.Period{From: from, To: to.AddDate(0, 0, 1)}
	v := url.Values{"tu": {sc.From}, "den": {sc.To}}
	if sc.AllSeen && sc.Agency != "" {
		v.Set("co-quan", sc.Agency)
	}
	sc.Query = template.URL(v.Encode()) // encoded by url.Values: no scheme, nothing to escape
	return sc
}

// lateView is the late-dossier dashboard: its summaries and the first page of each list, or —
// following a list's "next page" link — one further page of that list alone.
type lateView struct {
	Scope    dashboardScope
	Dash     projections.LateDashboard
	List     string            // the list shown alone; "" for the dashboard
	Next     map[string]string // each list's next page, as a link
	ByUnit   barChart
	ByAgency barChart
	AgencyOf map[string]string
}

// lateDueWithinDays is the page's early-warning horizon.
const lateDueWithinDays = 2

func (s *Pages) lateFilter(sc dashboardScope) projections.LateFilter {
	return projections.LateFilter{Agency: sc.agencies, Period: sc.Period, Now: s.now(), DueWithinDays: lateDueWithinDays}
}

func (s *Pages) lateDashboardPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	sc := s.scopeOf(r, "tre-han")
	page := &lateView{Scope: sc, AgencyOf: s.agencyNames(), Next: map[string]string{}}
	f := s.lateFilter(sc)
	if list := r.URL.Query().Get("danh-sach"); list != "" {
		after, err := projections.DecodeCursor(r.URL.Query().Get("after"))
		if !slices.Contains(projections.LateLists, list) || err != nil {
			s.renderError(w, r, http.StatusBadRequest, "error.bad_link")
			return
		}
		items, err := projections.LateListPage(r.Context(), s.readDB, list, f, s.app.Calendar, projections.PageRequest{After: after})
		if errors.Is(err, projections.ErrBadCursor) {
			s.renderError(w, r, http.StatusBadRequest, "error.bad_link")
			return
		}
		if err != nil {
			s.dashboardFailed(w, r, "late dashboard", err)
			return
		}
		page.List = list
		page.Dash = projections.LateDashboard{Now: f.Now, DueWithinDays: f.DueWithinDays, OverrunMeasuredWith: s.app.Calendar.Version()}
		switch p := items.(type) {
		case projections.Page[projections.LateDossier]:
			if list == projections.LateListOpenOverdue {
				page.Dash.OpenOverdue = p
			} else {
				page.Dash.ResolvedLate = p
			}
			page.linkNext(sc, list, p.Next)
		case projections.Page[projections.DueDossier]:
			page.Dash.DueSoon = p
			page.linkNext(sc, list, p.Next)
		case projections.Page[projections.ApologyEntry]:
			page.Dash.Apologies = p
			page.linkNext(sc, list, p.Next)
		case projections.Page[projections.LateAcceptance]:
			page.Dash.LateAcceptances = p
			page.linkNext(sc, list, p.Next)
		}
		s.render(w, r, http.StatusOK, "dash_late", l.T("dash.late.title"), page)
		return
	}
	dash, err := projections.LateDashboardOf(r.Context(), s.readDB, f, s.app.Calendar, projections.PageRequest{})
	if err != nil {
		s.dashboardFailed(w, r, "late dashboard", err)
		return
	}
	page.Dash = dash
	page.linkNext(sc, projections.LateListOpenOverdue, dash.OpenOverdue.Next)
	page.linkNext(sc, projections.LateListResolvedLate, dash.ResolvedLate.Next)
	page.linkNext(sc, projections.LateListDueSoon, dash.DueSoon.Next)
	page.linkNext(sc, projections.LateListApologies, dash.Apologies.Next)
	var labels []string
	var values []float64
	for _, g := range dash.ByUnit {
		label := s.unitLabel(g.Key, g.Name)
		if g.Others > 0 { // the units after the first LateGroupLimit, summed
			label = l.T("dash.late.others_units", g.Others)
		}
		labels, values = append(labels, label), append(values, g.OverrunHours)
	}
	page.ByUnit = newBarChart("late-by-unit", l.T("dash.late.by_unit"), labels, values, 0, func(v float64) string { return l.Hours(v) + " h" }, "late")
	labels, values = nil, nil
	for _, g := range dash.ByAgency {
		labels, values = append(labels, s.app.Catalog().AgencyName(g.Key)), append(values, float64(g.OpenOverdue+g.ResolvedLate))
	}
	page.ByAgency = newBarChart("late-by-agency", l.T("dash.late.by_agency"), labels, values, 0, func(v float64) string { return strconv.Itoa(int(v)) }, "late")
	s.render(w, r, http.StatusOK, "dash_late", l.T("dash.late.title"), page)
}

// linkNext records the link to the page of list after the cursor next, if any.
func (v *lateView) linkNext(sc dashboardScope, list, next string) {
	if next == "" {
		return
	}
	q, _ := url.ParseQuery(string(sc.Query))
	q.Set("danh-sach", list)
	q.Set("after", next)
	v.Next[list] = "/can-bo/thong-ke/tre-han?" + q.Encode()
}

// lateDashboardCSV exports every open overdue and late-resolved dossier, page by page as it reads
// them.
func (s *Pages) lateDashboardCSV(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "tre-han")
	f := s.lateFilter(sc)
	header := csvHeader("csv.late.status", "csv.late.code", "csv.late.procedure", "csv.late.competent_agency", "csv.late.due_date",
		"csv.late.appointment", "csv.late.resolved_at", "csv.late.late_hours", "csv.late.step", "csv.late.unit", "csv.late.official", "csv.late.step_hours")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ho-so-tre-han.csv"`)
	out := httpkit.NewCSVStream(w, header)
	records := func(kind string, list []projections.LateDossier) [][]string {
		var rows [][]string
		for _, d := range list {
			// Lateness is counted from the statutory due date; the appointment shows an apology's new date.
			base := []string{kind, d.Code, d.ProcedureName, d.CompetentAgency, csvTime(d.DueDate), csvTime(d.AppointmentDate), csvTime(d.ResolvedAt), csvHours(d.LateHours)}
			if len(d.OverrunSteps) == 0 {
				rows = append(rows, append(base, "", "", "", ""))
			}
			for _, h := range d.OverrunSteps {
				p := h.Responsible()
				rows = append(rows, append(append([]string{}, base...), l10n.VI.Step(h.Step), p.Unit, p.OfficialName, csvHours(h.OverrunHours)))
			}
		}
		return rows
	}
	for _, list := range []struct{ name, kind string }{
		{projections.LateListOpenOverdue, l10n.VI.T("dash.late.open")},
		{projections.LateListResolvedLate, l10n.VI.T("dash.late.resolved")},
	} {
		req := projections.PageRequest{Limit: projections.MaxPageSize}
		for {
			items, err := projections.LateListPage(r.Context(), s.readDB, list.name, f, s.app.Calendar, req)
			if err == nil {
				page := items.(projections.Page[projections.LateDossier])
				if err = out.Write(records(list.kind, page.Items)); err == nil {
					if page.Next == "" {
						break
					}
					req.After, err = projections.DecodeCursor(page.Next)
				}
			}
			if err != nil {
				if !out.Started() {
					w.Header().Del("Content-Disposition")
					s.dashboardFailed(w, r, "late dashboard", err)
					return
				}
				s.logger.WarnContext(r.Context(), "late dashboard CSV export", "err", err)
				return
			}
		}
	}
}

// onTimeView is the on-time rate month by month.
type onTimeView struct {
	Scope  dashboardScope
	Months []onTimeMonth
	Chart  lineChart
}

type onTimeMonth struct {
	Label    string
	Resolved int
	OnTime   int // early or on time
	Late     int
	Rate     float64
}

// onTimeMonths computes the on-time rate of each month of the scope's period from form II.06a:
// resolved early or on time over resolved, by the appointment date in force when resolved.
func (s *Pages) onTimeMonths(ctx context.Context, sc dashboardScope) ([]onTimeMonth, error) {
	var out []onTimeMonth
	start := time.Date(sc.Period.From.Year(), sc.Period.From.Month(), 1, 0, 0, 0, 0, domain.VietnamTime)
	for m := start; m.Before(sc.Period.To); m = m.AddDate(0, 1, 0) {
		report, err := projections.ResolutionReportOf(ctx, s.readDB, sc.agencies, projections.Period{From: m, To: m.AddDate(0, 1, 0)})
		if err != nil {
			return nil, err
		}
		t := report.Total
		month := onTimeMonth{Label: m.Format("01/2006"), Resolved: t.ResolvedTotal, OnTime: t.ResolvedEarly + t.ResolvedOnTime, Late: t.ResolvedLate}
		if month.Resolved > 0 {
			month.Rate = 100 * float64(month.OnTime) / float64(month.Resolved)
		}
		out = append(out, month)
	}
	return out, nil
}

func (s *Pages) onTimePage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	sc := s.scopeOf(r, "dung-han")
	months, err := s.onTimeMonths(r.Context(), sc)
	if err != nil {
		s.dashboardFailed(w, r, "on-time rate", err)
		return
	}
	labels := make([]string, len(months))
	rates := make([]float64, len(months))
	for i, m := range months {
		labels[i], rates[i] = m.Label[:2]+"/"+m.Label[5:], m.Rate
	}
	page := &onTimeView{Scope: sc, Months: months, Chart: newPercentLineChart("on-time", l.T("dash.ontime.chart"), labels, rates, l.Percent)}
	s.render(w, r, http.StatusOK, "dash_ontime", l.T("dash.ontime.title"), page)
}

func (s *Pages) onTimeCSV(w http.ResponseWriter, r *http.Request) {
	months, err := s.onTimeMonths(r.Context(), s.scopeOf(r, "dung-han"))
	if err != nil {
		s.dashboardFailed(w, r, "on-time rate", err)
		return
	}
	rows := [][]string{csvHeader("csv.ontime.month", "csv.ontime.resolved", "csv.ontime.in_time", "csv.ontime.late", "csv.ontime.rate")}
	for _, m := range months {
		rows = append(rows, []string{m.Label, strconv.Itoa(m.Resolved), strconv.Itoa(m.OnTime), strconv.Itoa(m.Late), csvHours(m.Rate)})
	}
	httpkit.WriteCSVAttachment(w, "ty-le-dung-han.csv", rows[0], rows[1:])
}

// satisfactionView is satisfaction by agency (TT 01/2018 grade) with the Quyết định 766 indicators.
type satisfactionView struct {
	Scope    dashboardScope
	Report   projections.SatisfactionReport
	ByAgency barChart
	AgencyOf map[string]string
}

func (s *Pages) satisfactionPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	sc := s.scopeOf(r, "hai-long")
	report, err := projections.SatisfactionOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "satisfaction", err)
		return
	}
	var labels []string
	var values []float64
	for _, g := range report.ByAgency {
		label := s.app.Catalog().AgencyName(g.Key)
		if g.Others > 0 {
			label = l.T("dash.satisfaction.others", g.Others)
		}
		labels, values = append(labels, label), append(values, g.AverageTotal)
	}
	// The nine criteria score at most 2 each: 18 is the scale's top.
	chart := newBarChart("satisfaction-by-agency", l.T("dash.satisfaction.chart"), labels, values, 18, func(v float64) string { return l.Hours(v) + "/18" }, "good")
	s.render(w, r, http.StatusOK, "dash_satisfaction", l.T("dash.satisfaction.title"), &satisfactionView{Scope: sc, Report: report, ByAgency: chart, AgencyOf: s.agencyNames()})
}

func (s *Pages) satisfactionCSV(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "hai-long")
	report, err := projections.SatisfactionOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "satisfaction", err)
		return
	}
	header := csvHeader("csv.satisfaction.agency_code", "csv.satisfaction.agency", "csv.satisfaction.ratings", "csv.satisfaction.average", "csv.satisfaction.grade")
	for _, c := range domain.Criteria {
		header = append(header, l10n.VI.T("csv.satisfaction.criterion_average", l10n.VI.Criterion(c)))
	}
	rows := [][]string{header}
	for _, g := range report.ByAgency {
		name := s.app.Catalog().AgencyName(g.Key)
		if g.Others > 0 { // the agencies after the first SatisfactionGroupLimit, summed
			name = l10n.VI.T("dash.satisfaction.others", g.Others)
		}
		row := []string{g.Key, name, strconv.Itoa(g.Ratings), csvHours(g.AverageTotal), l10n.VI.Grade(string(g.Grade))}
		for _, c := range g.Criteria {
			row = append(row, csvHours(c.AverageScore))
		}
		rows = append(rows, row)
	}
	httpkit.WriteCSVAttachment(w, "muc-do-hai-long.csv", rows[0], rows[1:])
}

// resolutionView is the resolution report, form II.06a.
type resolutionView struct {
	Scope  dashboardScope
	Report projections.ResolutionReport
}

func (s *Pages) resolutionPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	sc := s.scopeOf(r, "bao-cao")
	report, err := projections.ResolutionReportOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "resolution report", err)
		return
	}
	s.render(w, r, http.StatusOK, "dash_report", l.T("dash.report.title"), &resolutionView{Scope: sc, Report: report})
}

func (s *Pages) resolutionCSV(w http.ResponseWriter, r *http.Request) {
	sc := s.scopeOf(r, "bao-cao")
	report, err := projections.ResolutionReportOf(r.Context(), s.readDB, sc.agencies, sc.Period)
	if err != nil {
		s.dashboardFailed(w, r, "resolution report", err)
		return
	}
	httpkit.WriteCSVAttachment(w, "bao-cao-II06a.csv", l10n.VI.ResolutionCSVHeader(), report.CSVRecords(l10n.VI.ResolutionCSVTotal()))
}

func (s *Pages) dashboardFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	if domain.ErrorCodeOf(err) == domain.ENOTFOUND {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	s.logger.ErrorContext(r.Context(), what, "err", err)
	s.renderError(w, r, http.StatusInternalServerError, "error.internal")
}

// agencyNames maps agency codes to their catalog names, for tables.
func (s *Pages) agencyNames() map[string]string {
	out := map[string]string{}
	for _, a := range s.app.Catalog().Agencies {
		out[a.Code] = a.Name
	}
	return out
}

// unitLabel names a unit: an agency by its catalog name, a department by the name the read model gives.
func (s *Pages) unitLabel(code, name string) string {
	if a, ok := s.app.Catalog().Agency(code); ok {
		return a.Name
	}
	if name != "" && name != code {
		return name + " (" + code + ")"
	}
	return code
}

// csvHeader is a CSV export's header row: Vietnamese, the language of every export.
func csvHeader(keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = l10n.VI.T(k)
	}
	return out
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format("2006-01-02 15:04")
}

func csvHours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }
