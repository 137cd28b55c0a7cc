package projections

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// The late-dossier dashboard is a query over the process-control tables (ProcessControlView): the
// same handovers that make each dossier's control sheet say which step, unit and official overran.

// LateFilter selects what the late-dossier dashboard shows.
type LateFilter struct {
	Agency AgencyScope // dossiers the agency received or decides
	// Period bounds when dossiers were resolved late, apologies issued and online dossiers
	// submitted. Open dossiers are a snapshot at Now whatever the period.
	Period        Period
	Now           time.Time
	DueWithinDays int // early-warning horizon, in working days
}

// LateDashboard lists late dossiers and who made them late.
type LateDashboard struct {
	Agency              string           `json:"agency,omitempty"`
	Period              Period           `json:"period"`
	Now                 time.Time        `json:"now"`
	DueWithinDays       int              `json:"due_within_days"`
	DueBy               time.Time        `json:"due_by"`
	OverrunMeasuredWith string           `json:"overrun_measured_with"` // calendar version used for working hours
	OpenOverdue         []LateDossier    `json:"open_overdue"`
	ResolvedLate        []LateDossier    `json:"resolved_late"`
	DueSoon             []DueDossier     `json:"due_soon"`
	Apologies           []ApologyEntry   `json:"apologies"`
	LateAcceptances     []LateAcceptance `json:"late_acceptances"`
	ByAgency            []LateGroup      `json:"by_agency"`
	ByProcedure         []LateGroup      `json:"by_procedure"`
	ByField             []LateGroup      `json:"by_field"`
	ByUnit              []OverrunGroup   `json:"by_unit"`
	ByOfficial          []OverrunGroup   `json:"by_official"`
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
type OverrunGroup struct {
	Key          string  `json:"key"`
	Name         string  `json:"name,omitempty"`
	OverrunSteps int     `json:"overrun_steps"`
	OverrunHours float64 `json:"overrun_hours"`
	// HoldingOverdue counts open overdue dossiers the unit holds now (units only).
	HoldingOverdue int `json:"holding_overdue,omitempty"`
}

// overran reports whether the step ended after its deadline or is still running past it at now.
func (h Handover) overran(now time.Time) bool {
	return h.Verdict == VerdictLate || (h.Ongoing && now.After(h.Deadline))
}

// LateDashboardOf builds the late-dossier dashboard; working hours are measured with cal, the
// calendar in force, on the deadlines and appointment dates the events recorded.
func LateDashboardOf(ctx context.Context, db *sql.DB, f LateFilter, cal *calendar.Calendar) (LateDashboard, error) {
	now := f.Now
	dash := LateDashboard{
		Agency: f.Agency.Agency(), Period: f.Period, Now: now, DueWithinDays: f.DueWithinDays, DueBy: cal.AddWorkingDays(now, f.DueWithinDays),
		OverrunMeasuredWith: cal.Version(), OpenOverdue: []LateDossier{}, ResolvedLate: []LateDossier{}, DueSoon: []DueDossier{},
		Apologies: []ApologyEntry{}, LateAcceptances: []LateAcceptance{},
	}
	open := func(c *conditions) {
		c.agency("d", f.Agency)
		c.add("d.received_at IS NOT NULL AND d.resolved_at IS NULL AND d.closed_at IS NULL")
	}

	var overdue conditions
	open(&overdue)
	// As the domain judges lateness (Dossier.LegalVerdict): against the statutory due date, which
	// an apology does not move; a paused dossier — suspended, or waiting for the applicant's
	// supplement — is judged at the moment its clock stopped.
	overdue.add("COALESCE(d.paused_at, ?) > d.due_date", sqlTime(now))
	var err error
	if dash.OpenOverdue, err = lateDossiers(ctx, db, overdue, cal, now, false); err != nil {
		return LateDashboard{}, err
	}

	var resolvedLate conditions
	resolvedLate.agency("d", f.Agency)
	resolvedLate.within("d.resolved_at", f.Period)
	resolvedLate.add("d.resolved_at > d.resolved_due_date")
	if dash.ResolvedLate, err = lateDossiers(ctx, db, resolvedLate, cal, now, true); err != nil {
		return LateDashboard{}, err
	}

	var due conditions
	open(&due)
	due.add("d.waiting = ''") // a paused dossier's appointment date is about to move
	due.add("d.appointment_date >= ?", sqlTime(now))
	due.add("d.appointment_date <= ?", sqlTime(dash.DueBy))
	dueList, err := selectSummaries(ctx, db, due, "d.appointment_date, d.code")
	if err != nil {
		return LateDashboard{}, err
	}
	for _, d := range dueList {
		dash.DueSoon = append(dash.DueSoon, DueDossier{
			DossierID: d.DossierID, Code: d.Code, CompetentAgency: d.CompetentAgency, ProcedureCode: d.ProcedureCode,
			ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, HolderUnit: d.HolderUnit, HolderOfficial: d.HolderOfficialName,
			Waiting: d.Waiting, AppointmentDate: d.AppointmentDate, WorkingHoursLeft: workingHours(cal, now, d.AppointmentDate),
		})
	}

	var apologies conditions
	apologies.agency("d", f.Agency)
	apologies.within("d.apology_at", f.Period)
	apologyList, err := selectSummaries(ctx, db, apologies, "d.apology_at, d.code")
	if err != nil {
		return LateDashboard{}, err
	}
	for _, d := range apologyList {
		dash.Apologies = append(dash.Apologies, ApologyEntry{
			DossierID: d.DossierID, Code: d.Code, CompetentAgency: d.CompetentAgency, ProcedureCode: d.ProcedureCode,
			ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, FieldName: d.FieldName, IssuedAt: d.ApologyAt, IssuedBy: d.ApologyByName, Reason: d.ApologyReason,
			OldAppointmentDate: d.ApologyOld, NewAppointmentDate: d.ApologyNew,
		})
	}

	var acceptances conditions
	acceptances.agency("d", f.Agency)
	acceptances.within("d.submitted_at", f.Period)
	acceptances.add("COALESCE(d.responded_at, d.withdrawn_at, ?) > d.acceptance_deadline", sqlTime(now))
	acceptanceList, err := selectSummaries(ctx, db, acceptances, "d.submitted_at, d.dossier_id")
	if err != nil {
		return LateDashboard{}, err
	}
	for _, d := range acceptanceList {
		dash.LateAcceptances = append(dash.LateAcceptances, lateAcceptanceOf(d, cal, now))
	}

	dash.group()
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

func selectSummaries(ctx context.Context, db *sql.DB, c conditions, orderBy string) ([]summaryRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+summaryColumnList("d")+` FROM control_dossiers d`+c.where()+` ORDER BY `+orderBy, c.args...)
	if err != nil {
		return nil, err
	}
	return scanSummaryRows(rows, nil)
}

// lateDossiers returns the dossiers matching c with the steps of each that overran.
func lateDossiers(ctx context.Context, db *sql.DB, c conditions, cal *calendar.Calendar, now time.Time, resolved bool) ([]LateDossier, error) {
	order := "d.due_date, d.code"
	if resolved {
		order = "d.resolved_at, d.code"
	}
	list, err := selectSummaries(ctx, db, c, order)
	if err != nil {
		return nil, err
	}
	handovers, err := queryHandovers(ctx, db, c, cal, now)
	if err != nil {
		return nil, err
	}
	overruns := map[string][]Handover{}
	for _, h := range handovers {
		if h.overran(now) {
			overruns[h.dossierID] = append(overruns[h.dossierID], h)
		}
	}
	out := make([]LateDossier, 0, len(list))
	for _, d := range list {
		l := LateDossier{
			DossierID: d.DossierID, Code: d.Code, ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency,
			ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName, FieldCode: d.FieldCode, FieldName: d.FieldName,
			Channel: d.Channel, ReceivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate, DueDate: d.DueDate, HolderUnit: d.HolderUnit,
			HolderOfficial: d.HolderOfficialName, Waiting: d.Waiting, ApologyIssued: !d.ApologyAt.IsZero(),
			OverrunSteps: overruns[d.DossierID],
		}
		if resolved {
			l.AppointmentDate, l.DueDate, l.ResolvedAt, l.Resolution = d.ResolvedAppointment, d.ResolvedDueDate, d.ResolvedAt, d.Resolution
			l.HolderUnit, l.HolderOfficial, l.Waiting = "", "", ""
			l.LateHours = workingHours(cal, d.ResolvedDueDate, d.ResolvedAt)
		} else {
			l.LateHours = workingHours(cal, d.DueDate, firstNonZeroTime(d.PausedAt, now))
		}
		if l.OverrunSteps == nil {
			l.OverrunSteps = []Handover{}
		}
		out = append(out, l)
	}
	return out, nil
}

// group fills the dashboard's summaries from its lists.
func (dash *LateDashboard) group() {
	agencies, procedures, fields := groups[LateGroup]{}, groups[LateGroup]{}, groups[LateGroup]{}
	units, officials := groups[OverrunGroup]{}, groups[OverrunGroup]{}
	lateGroup := func(key, name string) *LateGroup { return &LateGroup{Key: key, Name: name} }
	overrunGroup := func(key, name string) *OverrunGroup { return &OverrunGroup{Key: key, Name: name} }
	count := func(l LateDossier, bump func(*LateGroup)) {
		bump(agencies.get(l.CompetentAgency, "", lateGroup))
		bump(procedures.get(l.ProcedureCode, l.ProcedureName, lateGroup))
		bump(fields.get(l.FieldCode, l.FieldName, lateGroup))
		for _, h := range l.OverrunSteps {
			u := units.get(h.To.Unit, "", overrunGroup)
			u.OverrunSteps++
			u.OverrunHours += h.OverrunHours
			if p := h.Responsible(); p.OfficialID != "" {
				o := officials.get(p.OfficialID, p.OfficialName, overrunGroup)
				o.OverrunSteps++
				o.OverrunHours += h.OverrunHours
			}
		}
	}
	for _, l := range dash.OpenOverdue {
		count(l, func(g *LateGroup) { g.OpenOverdue++ })
		units.get(l.HolderUnit, "", overrunGroup).HoldingOverdue++
	}
	for _, l := range dash.ResolvedLate {
		count(l, func(g *LateGroup) { g.ResolvedLate++ })
	}
	for _, a := range dash.Apologies {
		agencies.get(a.CompetentAgency, "", lateGroup).Apologies++
		procedures.get(a.ProcedureCode, a.ProcedureName, lateGroup).Apologies++
		fields.get(a.FieldCode, a.FieldName, lateGroup).Apologies++
	}
	dash.ByAgency, dash.ByProcedure, dash.ByField = agencies.sorted(), procedures.sorted(), fields.sorted()
	for _, g := range units {
		g.OverrunHours = roundHours(g.OverrunHours)
	}
	for _, g := range officials {
		g.OverrunHours = roundHours(g.OverrunHours)
	}
	dash.ByUnit, dash.ByOfficial = units.sorted(), officials.sorted()
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
