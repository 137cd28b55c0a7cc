package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// The late-dossier dashboard is a query over the process-control tables (ProcessControlView): the
// same handovers that make each dossier's control sheet say which step, unit and official overran.
// Each of its lists is a range of control_late's key — the dossiers in it, each at its place —
// read one page at a time. Its summaries of the period — the dossiers resolved late, the apologies
// issued, the steps of those late dossiers that overran — sum the fold's day, month and year
// counters (control_late_counts; unfiltered, their rollups by dimension, control_late_rollups;
// late_counts.go); the open dossiers overdue now are counted from
// the fold's counters per due day and today's entries of the list (control_overdue_counts,
// late_overdue.go), their overrunning steps from counters too and today's handovers
// (control_overdue_steps, late_overdue_steps.go). None reads the history.

// LateFilter selects what the late-dossier dashboard shows.
type LateFilter struct {
	Agency AgencyScope // dossiers the agency received or decides
	// Unit, Procedure and Field, when set, keep the dossiers the unit received, of the procedure,
	// of the field.
	Unit, Procedure, Field string
	// Period bounds when dossiers were resolved late, apologies issued and online dossiers
	// submitted. Open dossiers are a snapshot at Now whatever the period.
	Period        Period
	Now           time.Time
	DueWithinDays int // early-warning horizon, in working days
}

// The late dashboard's lists, as GET /api/v1/dashboards/late/{list} names them.
const (
	LateListOpenOverdue     = "open_overdue"
	LateListResolvedLate    = "resolved_late"
	LateListDueSoon         = "due_soon"
	LateListApologies       = "apologies"
	LateListLateAcceptances = "late_acceptances"
)

// LateLists names the late dashboard's lists in the order it shows them.
var LateLists = []string{LateListOpenOverdue, LateListResolvedLate, LateListDueSoon, LateListApologies, LateListLateAcceptances}

// LateDashboard counts late dossiers and who made them late, with the first page of each list.
type LateDashboard struct {
	Agency        string    `json:"agency,omitempty"`
	Period        Period    `json:"period"`
	Now           time.Time `json:"now"`
	DueWithinDays int       `json:"due_within_days"`
	DueBy         time.Time `json:"due_by"`
	// OverrunMeasuredWith is the calendar version the lists' working hours and the open dossiers'
	// running steps' overrun are measured with, now; a step that ended late was measured as it
	// ended, with the calendar the read model folded it with (docs/projections.md).
	OverrunMeasuredWith string               `json:"overrun_measured_with"`
	OpenOverdue         Page[LateDossier]    `json:"open_overdue"`
	ResolvedLate        Page[LateDossier]    `json:"resolved_late"`
	DueSoon             Page[DueDossier]     `json:"due_soon"`
	Apologies           Page[ApologyEntry]   `json:"apologies"`
	LateAcceptances     Page[LateAcceptance] `json:"late_acceptances"`
	ByAgency            []LateGroup          `json:"by_agency"`
	ByProcedure         []LateGroup          `json:"by_procedure"`
	ByField             []LateGroup          `json:"by_field"`
	ByUnit              []OverrunGroup       `json:"by_unit"`
	ByOfficial          []OverrunGroup       `json:"by_official"`
}

// LateDossier is a dossier open past its statutory due date (its clock running), or resolved after
// it. An apology does not move that date (form 04 admits the lateness), so an apologised dossier
// is late here even when it keeps the new date it promised the applicant.
type LateDossier struct {
	DossierID       string    `json:"dossier_id"`
	Code            string    `json:"code"`
	ReceivingUnit   string    `json:"receiving_unit"`
	CompetentAgency string    `json:"competent_agency"`
	ProcedureCode   string    `json:"procedure_code"`
	ProcedureName   string    `json:"procedure_name"`
	FieldCode       string    `json:"field_code"`
	FieldName       string    `json:"field_name"`
	Channel         string    `json:"channel"`
	ReceivedAt      time.Time `json:"received_at"`
	// AppointmentDate is the date promised to the applicant, an apology's new date included: now for
	// an open dossier, when resolved for a resolved one. DueDate is the statutory due date then,
	// which the dossier is judged against.
	AppointmentDate time.Time `json:"appointment_date"`
	DueDate         time.Time `json:"due_date"`
	ResolvedAt      time.Time `json:"resolved_at,omitzero"`
	Resolution      string    `json:"resolution,omitempty"`
	LateHours       float64   `json:"late_hours"` // working hours past the due date
	HolderUnit      string    `json:"holder_unit,omitempty"`
	HolderOfficial  string    `json:"holder_official,omitempty"`
	Waiting         string    `json:"waiting,omitempty"` // supplement or suspended: the applicant or a pause holds it
	ApologyIssued   bool      `json:"apology_issued"`
	// OverrunSteps are the steps that ended after their deadline, or are still running past it.
	OverrunSteps []Handover `json:"overrun_steps"`
}

// DueDossier is an open dossier whose appointment date falls within the early-warning horizon.
type DueDossier struct {
	DossierID        string    `json:"dossier_id"`
	Code             string    `json:"code"`
	CompetentAgency  string    `json:"competent_agency"`
	ProcedureCode    string    `json:"procedure_code"`
	ProcedureName    string    `json:"procedure_name"`
	FieldCode        string    `json:"field_code"`
	HolderUnit       string    `json:"holder_unit,omitempty"`
	HolderOfficial   string    `json:"holder_official,omitempty"`
	Waiting          string    `json:"waiting,omitempty"`
	AppointmentDate  time.Time `json:"appointment_date"`
	WorkingHoursLeft float64   `json:"working_hours_left"`
}

// ApologyEntry is an apology with a new appointment date (form 04).
type ApologyEntry struct {
	DossierID          string    `json:"dossier_id"`
	Code               string    `json:"code"`
	CompetentAgency    string    `json:"competent_agency"`
	ProcedureCode      string    `json:"procedure_code"`
	ProcedureName      string    `json:"procedure_name"`
	FieldCode          string    `json:"field_code"`
	FieldName          string    `json:"field_name"`
	IssuedAt           time.Time `json:"issued_at"`
	IssuedBy           string    `json:"issued_by"`
	Reason             string    `json:"reason"`
	OldAppointmentDate time.Time `json:"old_appointment_date"`
	NewAppointmentDate time.Time `json:"new_appointment_date"`
}

// LateAcceptance is an online submission the agency did not accept or answer (refusal, supplement
// request) within its acceptance deadline.
type LateAcceptance struct {
	DossierID          string    `json:"dossier_id"`
	Code               string    `json:"code,omitempty"`
	ReceivingUnit      string    `json:"receiving_unit"`
	CompetentAgency    string    `json:"competent_agency"`
	ProcedureCode      string    `json:"procedure_code"`
	ProcedureName      string    `json:"procedure_name"`
	SubmittedAt        time.Time `json:"submitted_at"`
	AcceptanceDeadline time.Time `json:"acceptance_deadline"`
	RespondedAt        time.Time `json:"responded_at,omitzero"`
	Response           string    `json:"response"` // received, refused, supplement_requested, withdrawn or pending
	OverrunHours       float64   `json:"overrun_hours"`
}

// LateGroup counts late dossiers and apologies under one agency, procedure or field.
type LateGroup struct {
	Key          string `json:"key"`
	Name         string `json:"name,omitempty"`
	OpenOverdue  int    `json:"open_overdue"`
	ResolvedLate int    `json:"resolved_late"`
	Apologies    int    `json:"apologies"`
}

// OverrunGroup sums the overrun steps of the listed late dossiers under one unit or official.
// The line of the others (Others > 0) sums the groups left out of a list capped at
// LateGroupLimit, and has no key.
type OverrunGroup struct {
	Key          string  `json:"key"`
	Name         string  `json:"name,omitempty"`
	Others       int     `json:"others,omitempty"`
	OverrunSteps int     `json:"overrun_steps"`
	OverrunHours float64 `json:"overrun_hours"`
	// HoldingOverdue counts open overdue dossiers the unit holds now (units only).
	HoldingOverdue int `json:"holding_overdue,omitempty"`
}

// lateRanges select each of the dashboard's lists: its range of control_late (alias l, its key
// the dossier's place in the list) under the filter's period or horizon, and what the summary row
// (alias d) must say besides.
var lateRanges = map[string]func(c *conditions, f LateFilter, dueBy time.Time){
	// As the domain judges lateness (Dossier.LegalVerdict): against the statutory due date, which
	// an apology does not move; a paused dossier — suspended, or waiting for the applicant's
	// supplement — is judged at the moment its clock stopped, which is before now.
	LateListOpenOverdue: func(c *conditions, f LateFilter, _ time.Time) {
		c.add("l.key < ?", sqlTime(f.Now))
		c.add("COALESCE(d.paused_at, ?) > d.due_date", sqlTime(f.Now))
	},
	LateListResolvedLate: func(c *conditions, f LateFilter, _ time.Time) { c.within("l.key", f.Period) },
	LateListDueSoon: func(c *conditions, f LateFilter, dueBy time.Time) {
		c.add("l.key >= ?", sqlTime(f.Now))
		c.add("l.key <= ?", sqlTime(dueBy))
	},
	LateListApologies: func(c *conditions, f LateFilter, _ time.Time) { c.within("l.key", f.Period) },
	LateListLateAcceptances: func(c *conditions, f LateFilter, _ time.Time) {
		c.within("l.key", f.Period)
		c.add("COALESCE(d.responded_at, d.withdrawn_at, ?) > d.acceptance_deadline", sqlTime(f.Now))
	},
}

// lateFrom joins a list's rows to the dossiers' summaries: each row's summary looked up by its key,
// so a query costs what its range of the list costs, whatever the number of dossiers. On
// PostgreSQL the lookup is a LATERAL subquery behind OFFSET 0, which the planner cannot flatten
// into a plain join: left free, it hashed the whole summary table (a sequential scan of every
// dossier: 800 ms at 100,000 dossiers) as soon as a list held a few hundred rows, its costs
// assuming every looked-up row is read from disk.
func lateFrom(db *sql.DB) string {
	if isPostgresDB(db) {
		return ` FROM control_late l CROSS JOIN LATERAL (SELECT * FROM control_dossiers s WHERE s.dossier_id = l.dossier_id OFFSET 0) d`
	}
	return ` FROM control_late l JOIN control_dossiers d ON d.dossier_id = l.dossier_id`
}

// lateConditions returns the conditions selecting the list under f.
func lateConditions(list string, f LateFilter, dueBy time.Time) conditions {
	var c conditions
	c.add("l.list = ?", list)
	lateRanges[list](&c, f, dueBy)
	lateFilters(&c, f)
	return c
}

// lateFilters keeps the dossiers (summary rows, alias d) f's agency scope, receiving unit,
// procedure and field select.
func lateFilters(c *conditions, f LateFilter) {
	c.agency("d", f.Agency)
	lineFilters(c, "d.", f)
}

// lateRangeAlone reports whether the list under f is its range of control_late alone, no
// condition reading the summaries: the due-soon list of every agency unfiltered. Its total is then
// counted on the list's key, where a summary looked up per entry cost ≈ 1.5 µs an entry (4,475
// entries due within three working days at 1,000,000 dossiers: 6.6 ms against 0.5).
func lateRangeAlone(list string, f LateFilter) bool {
	return list == LateListDueSoon && f.Agency.All() && !f.filtersLines()
}

// ErrNoSuchList is a list the late dashboard does not have.
var ErrNoSuchList = errors.New("is not one of the late dashboard's lists")

// lateRow is a summary row, its list's columns (lateListColumns) read, with its position in the list.
type lateRow struct {
	summaryRow
	key string
}

// latePage reads one page of the list.
func latePage(ctx context.Context, db *sql.DB, list string, f LateFilter, dueBy time.Time, req PageRequest, totals *lateTotals) (Page[lateRow], error) {
	total, err := lateListTotal(ctx, db, list, f, dueBy, totals)
	if err != nil {
		return Page[lateRow]{}, err
	}
	c := lateConditions(list, f, dueBy)
	if req.After != nil {
		if len(req.After) != 2 {
			return Page[lateRow]{}, ErrBadCursor
		}
		c.add("(l.key, l.dossier_id) > (?, ?)", req.After[0], req.After[1])
	}
	size := req.Size()
	columns := lateListColumns[list]
	rows, err := db.QueryContext(ctx, `SELECT `+columnList(columns, "d")+`, l.key`+lateFrom(db)+c.where()+
		` ORDER BY l.key, l.dossier_id LIMIT `+strconv.Itoa(size+1), c.args...)
	if err != nil {
		return Page[lateRow]{}, err
	}
	// Each row's key is scanned into the slot appended for it just before.
	var keys []string
	found, err := scanSummaryColumns(rows, columns, func() []any {
		keys = append(keys, "")
		return []any{&keys[len(keys)-1]}
	})
	if err != nil {
		return Page[lateRow]{}, err
	}
	all := make([]lateRow, len(found))
	for i := range found {
		all[i] = lateRow{found[i], keys[i]}
	}
	page := PageOf(all, size, func(r lateRow) Cursor { return Cursor{r.key, r.DossierID} })
	page.Total = total
	return page, nil
}

// pageOf converts a page of rows into a page of items.
func pageOf[T any](rows Page[lateRow], item func(lateRow) T) Page[T] {
	out := Page[T]{Items: make([]T, len(rows.Items)), Next: rows.Next, Total: rows.Total}
	for i, r := range rows.Items {
		out.Items[i] = item(r)
	}
	return out
}

// LateListPage returns a page of one of the dashboard's lists (LateLists): a Page of LateDossier,
// DueDossier, ApologyEntry or LateAcceptance. ErrNoSuchList for another name, ErrBadCursor for
// a cursor another list handed out.
func LateListPage(ctx context.Context, db *sql.DB, name string, f LateFilter, cal *calendar.Calendar, req PageRequest) (any, error) {
	return lateListPage(ctx, db, name, f, cal, req, nil)
}

// lateListPage is LateListPage with the counters' totals of the period when the caller has them.
func lateListPage(ctx context.Context, db *sql.DB, name string, f LateFilter, cal *calendar.Calendar, req PageRequest, totals *lateTotals) (any, error) {
	if lateRanges[name] == nil {
		return nil, ErrNoSuchList
	}
	dueBy := cal.AddWorkingDays(f.Now, f.DueWithinDays)
	rows, err := latePage(ctx, db, name, f, dueBy, req, totals)
	if err != nil {
		return nil, err
	}
	now := f.Now
	switch name {
	case LateListOpenOverdue, LateListResolvedLate:
		return lateDossiers(ctx, db, rows, name == LateListResolvedLate, cal, now)
	case LateListDueSoon:
		return pageOf(rows, func(r lateRow) DueDossier { return dueDossierOf(r.summaryRow, cal, now) }), nil
	case LateListApologies:
		return pageOf(rows, func(r lateRow) ApologyEntry { return apologyOf(r.summaryRow) }), nil
	}
	return pageOf(rows, func(r lateRow) LateAcceptance { return lateAcceptanceOf(r.summaryRow, cal, now) }), nil
}

// lateListColumns are the summary columns each list's items are made of (lateDossierOf,
// dueDossierOf, apologyOf, lateAcceptanceOf), which its pages read: every column of a row read
// costs the driver as much as SQLite's search for a few, and the summary has 42.
var lateListColumns = map[string][]summaryColumn{
	LateListOpenOverdue: controlColumnsNamed("dossier_id", "code", "receiving_unit", "competent_agency", "procedure_code", "procedure_name",
		"field_code", "field_name", "channel", "received_at", "appointment_date", "due_date", "holder_unit", "holder_official_name", "waiting",
		"apology_at", "paused_at"),
	LateListResolvedLate: controlColumnsNamed("dossier_id", "code", "receiving_unit", "competent_agency", "procedure_code", "procedure_name",
		"field_code", "field_name", "channel", "received_at", "apology_at", "resolved_appointment", "resolved_due_date", "resolved_at", "resolution"),
	LateListDueSoon: controlColumnsNamed("dossier_id", "code", "competent_agency", "procedure_code", "procedure_name", "field_code",
		"holder_unit", "holder_official_name", "waiting", "appointment_date"),
	LateListApologies: controlColumnsNamed("dossier_id", "code", "competent_agency", "procedure_code", "procedure_name", "field_code",
		"field_name", "apology_at", "apology_by_name", "apology_reason", "apology_old", "apology_new"),
	LateListLateAcceptances: controlColumnsNamed("dossier_id", "code", "receiving_unit", "competent_agency", "procedure_code",
		"procedure_name", "submitted_at", "acceptance_deadline", "responded_at", "received_at", "close_kind", "closed_at", "withdrawn_at"),
}

// controlColumnsNamed returns the columns of controlColumns with those names, in its order; it
// panics on a name process control does not keep.
func controlColumnsNamed(names ...string) []summaryColumn {
	var out []summaryColumn
	for _, c := range controlColumns {
		if slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	if len(out) != len(names) {
		panic(fmt.Sprintf("projections: process control keeps %d of the columns %v", len(out), names))
	}
	return out
}

func dueDossierOf(d summaryRow, cal *calendar.Calendar, now time.Time) DueDossier {
	return DueDossier{
		DossierID: d.DossierID, Code: d.Code, CompetentAgency: d.CompetentAgency, ProcedureCode: d.ProcedureCode,
		ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, HolderUnit: d.HolderUnit, HolderOfficial: d.HolderOfficialName,
		Waiting: d.Waiting, AppointmentDate: d.AppointmentDate, WorkingHoursLeft: workingHours(cal, now, d.AppointmentDate),
	}
}

func apologyOf(d summaryRow) ApologyEntry {
	return ApologyEntry{
		DossierID: d.DossierID, Code: d.Code, CompetentAgency: d.CompetentAgency, ProcedureCode: d.ProcedureCode,
		ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, FieldName: d.FieldName, IssuedAt: d.ApologyAt, IssuedBy: d.ApologyByName,
		Reason: d.ApologyReason, OldAppointmentDate: d.ApologyOld, NewAppointmentDate: d.ApologyNew,
	}
}

// LateDashboardFirstPageMax bounds the dashboard's first pages: five lists of late dossiers with
// their overrun steps at MaxPageSize each would pass a megabyte; a list's own pages take up to
// MaxPageSize.
const LateDashboardFirstPageMax = 100

// LateDashboardOf builds the late-dossier dashboard: its summaries and the first page (of
// req.Limit rows, at most LateDashboardFirstPageMax) of each list; working hours are measured with
// cal, the calendar in force, on the deadlines and appointment dates the events recorded.
func LateDashboardOf(ctx context.Context, db *sql.DB, f LateFilter, cal *calendar.Calendar, req PageRequest) (LateDashboard, error) {
	req.After, req.Limit = nil, min(req.Size(), LateDashboardFirstPageMax)
	dash := LateDashboard{
		Agency: f.Agency.Agency(), Period: f.Period, Now: f.Now, DueWithinDays: f.DueWithinDays, DueBy: cal.AddWorkingDays(f.Now, f.DueWithinDays),
		OverrunMeasuredWith: cal.Version(),
	}
	totals, err := dash.summarise(ctx, db, f, cal)
	if err != nil {
		return LateDashboard{}, err
	}
	for _, name := range LateLists {
		page, err := lateListPage(ctx, db, name, f, cal, req, totals)
		if err != nil {
			return LateDashboard{}, err
		}
		switch p := page.(type) {
		case Page[LateDossier]:
			if name == LateListOpenOverdue {
				dash.OpenOverdue = p
			} else {
				dash.ResolvedLate = p
			}
		case Page[DueDossier]:
			dash.DueSoon = p
		case Page[ApologyEntry]:
			dash.Apologies = p
		case Page[LateAcceptance]:
			dash.LateAcceptances = p
		}
	}
	return dash, nil
}

func lateAcceptanceOf(d summaryRow, cal *calendar.Calendar, now time.Time) LateAcceptance {
	a := LateAcceptance{
		DossierID: d.DossierID, Code: d.Code, ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency,
		ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName, SubmittedAt: d.SubmittedAt,
		AcceptanceDeadline: d.AcceptanceDeadline, RespondedAt: d.RespondedAt,
	}
	until := now
	switch {
	case !d.RespondedAt.IsZero() && d.RespondedAt.Equal(d.ReceivedAt):
		a.Response, until = "received", d.RespondedAt
	case !d.RespondedAt.IsZero() && d.CloseKind == "refused" && d.RespondedAt.Equal(d.ClosedAt):
		a.Response, until = "refused", d.RespondedAt
	case !d.RespondedAt.IsZero():
		a.Response, until = "supplement_requested", d.RespondedAt
	case !d.WithdrawnAt.IsZero():
		a.Response, until = "withdrawn", d.WithdrawnAt
	default:
		a.Response = "pending"
	}
	a.OverrunHours = workingHours(cal, d.AcceptanceDeadline, until)
	return a
}

// lateDossiers turns a page of open overdue or late-resolved dossiers into LateDossiers, each with
// the steps that overran, read for the page's dossiers alone.
func lateDossiers(ctx context.Context, db *sql.DB, rows Page[lateRow], resolved bool, cal *calendar.Calendar, now time.Time) (Page[LateDossier], error) {
	ids := make([]string, len(rows.Items))
	for i, r := range rows.Items {
		ids[i] = r.DossierID
	}
	handovers, err := queryHandovers(ctx, db, ids, true, cal, now)
	if err != nil {
		return Page[LateDossier]{}, err
	}
	overruns := map[string][]Handover{}
	for _, h := range handovers {
		overruns[h.dossierID] = append(overruns[h.dossierID], h)
	}
	return pageOf(rows, func(r lateRow) LateDossier {
		l := lateDossierOf(r.summaryRow, resolved, cal, now)
		if steps := overruns[l.DossierID]; steps != nil {
			l.OverrunSteps = steps
		}
		return l
	}), nil
}

// lateDossierOf is the open overdue or late-resolved dossier without its overrun steps.
func lateDossierOf(d summaryRow, resolved bool, cal *calendar.Calendar, now time.Time) LateDossier {
	l := LateDossier{
		DossierID: d.DossierID, Code: d.Code, ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency,
		ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, FieldName: d.FieldName,
		Channel: d.Channel, ReceivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate, DueDate: d.DueDate, HolderUnit: d.HolderUnit,
		HolderOfficial: d.HolderOfficialName, Waiting: d.Waiting, ApologyIssued: !d.ApologyAt.IsZero(), OverrunSteps: []Handover{},
	}
	if resolved {
		l.AppointmentDate, l.DueDate, l.ResolvedAt, l.Resolution = d.ResolvedAppointment, d.ResolvedDueDate, d.ResolvedAt, d.Resolution
		l.HolderUnit, l.HolderOfficial, l.Waiting = "", "", ""
		l.LateHours = workingHours(cal, d.ResolvedDueDate, d.ResolvedAt)
	} else {
		l.LateHours = workingHours(cal, d.DueDate, firstNonZeroTime(d.PausedAt, now))
	}
	return l
}

// summarise fills the dashboard's summaries: the period's — dossiers resolved late, apologies,
// the overrun steps of the dossiers resolved late — summed from the counters (periodCounts), and
// the open overdue dossiers' — counted from their counters per due day and today's entries of the
// list (openOverdueQuery), their overrunning steps from theirs and today's handovers
// (openOverdueSteps) —, at most LateGroupLimit units and officials with a line for the others.
// It returns the counters' totals of the period's lists.
func (dash *LateDashboard) summarise(ctx context.Context, db *sql.DB, f LateFilter, cal *calendar.Calendar) (*lateTotals, error) {
	agencies, procedures, fields := groups[LateGroup]{}, groups[LateGroup]{}, groups[LateGroup]{}
	units, officials := groups[OverrunGroup]{}, groups[OverrunGroup]{}
	lateGroup := func(key, name string) *LateGroup { return &LateGroup{Key: key, Name: name} }
	overrunGroup := func(key, name string) *OverrunGroup { return &OverrunGroup{Key: key, Name: name} }
	// The open overdue dossiers by line and by the unit holding them: the counters of the days
	// before today and today's entries of the list (late_overdue.go).
	openOverdue := 0
	if !f.Agency.none() {
		query, args := openOverdueQuery(db, f, openOverdueByLine)
		var packed sql.NullString
		if err := db.QueryRowContext(ctx, query, args...).Scan(&packed); err != nil {
			return nil, err
		}
		err := unpackRows(packed, openOverdueByLineValues, func(v []string) error {
			agency, procedure, procedureName, field, fieldName, holder := v[0], v[1], v[2], v[3], v[4], v[5]
			n, err := strconv.Atoi(v[6])
			if err != nil {
				return fmt.Errorf("late dashboard: open overdue dossiers %q: %w", v[6], err)
			}
			agencies.get(agency, "", lateGroup).OpenOverdue += n
			p := procedures.get(procedure, procedureName, lateGroup)
			p.OpenOverdue, p.Name = p.OpenOverdue+n, max(p.Name, procedureName)
			g := fields.get(field, fieldName, lateGroup)
			g.OpenOverdue, g.Name = g.OpenOverdue+n, max(g.Name, fieldName)
			units.get(holder, "", overrunGroup).HoldingOverdue += n
			openOverdue += n
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	totals, err := periodCounts(ctx, db, f, agencies, procedures, fields, units, officials)
	if err != nil {
		return nil, err
	}
	totals.openOverdue, totals.openOverdueCounted = openOverdue, true
	dash.ByAgency, dash.ByProcedure, dash.ByField = agencies.sorted(), procedures.sorted(), fields.sorted()

	// The open overdue dossiers' overrunning steps, from their counters and today's handovers
	// (late_overdue_steps.go).
	if err := openOverdueSteps(ctx, db, f, cal, units, officials); err != nil {
		return nil, err
	}
	dash.ByUnit, dash.ByOfficial = overrunLines(units, LateGroupLimit), overrunLines(officials, LateGroupLimit)
	return &totals, nil
}

// LateGroupLimit caps the dashboard's lines by unit and by official, as SatisfactionGroupLimit
// does the report's: a province has hundreds of units and officials, and one screenful of the
// worst is what a dashboard shows; a narrower scope (one agency, one unit) lists its own.
const LateGroupLimit = 50

// overrunLines returns the groups in key order; past limit, the limit groups with the most overrun
// hours (then steps, then overdue dossiers held, ties by key), then one line summing the others.
func overrunLines(m groups[OverrunGroup], limit int) []OverrunGroup {
	all := make([]*OverrunGroup, 0, len(m))
	for _, g := range m {
		all = append(all, g)
	}
	byKey := func(a, b *OverrunGroup) int { return strings.Compare(a.Key, b.Key) }
	var others *OverrunGroup
	if len(all) > limit {
		slices.SortFunc(all, func(a, b *OverrunGroup) int {
			return cmp.Or(cmp.Compare(b.OverrunHours, a.OverrunHours), cmp.Compare(b.OverrunSteps, a.OverrunSteps),
				cmp.Compare(b.HoldingOverdue, a.HoldingOverdue), byKey(a, b))
		})
		others = &OverrunGroup{Others: len(all) - limit}
		for _, g := range all[limit:] {
			others.OverrunSteps += g.OverrunSteps
			others.OverrunHours += g.OverrunHours
			others.HoldingOverdue += g.HoldingOverdue
		}
		others.OverrunHours = roundHours(others.OverrunHours)
		all = all[:limit]
	}
	slices.SortFunc(all, byKey)
	out := make([]OverrunGroup, 0, len(all)+1)
	for _, g := range all {
		line := *g
		line.OverrunHours = roundHours(line.OverrunHours)
		out = append(out, line)
	}
	if others != nil {
		out = append(out, *others)
	}
	return out
}

// groups collects summaries by key; they come out sorted by key.
type groups[G any] map[string]*G

func (m groups[G]) get(key, name string, fresh func(key, name string) *G) *G {
	g := m[key]
	if g == nil {
		g = fresh(key, name)
		m[key] = g
	}
	return g
}

func (m groups[G]) sorted() []G {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]G, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}
