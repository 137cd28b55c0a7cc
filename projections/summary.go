package projections

import (
	"database/sql"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// A dossier's summary holds the recorded facts the read models count by: who received and decides
// it, its procedure and field, the channel, when it was received, the appointment date promised and
// the statutory and indicator due dates in force, whether its clock is paused, when it was resolved
// and against which dates, its steps' worst verdict, apologies, withdrawal. Process control keeps
// it (control_dossiers, a subset of these columns: controlColumns), which the register and the
// late dashboard read; the resolution report and satisfaction fold rows in memory for their
// counters. The code that folds events into a row is this one (summaryRow.fold). A dossier is open
// when received_at is set and resolved_at and closed_at are not.

// summarySchemaVersion is the version of summarySchema. Every read model keeping a summary adds it
// to the version of its own tables, so that raising it (a column added here) rebuilds them all.
const summarySchemaVersion = 2 // 2: register_unit, agencies that passed to a successor

// summaryRow is one dossier's summary.
type summaryRow struct {
	DossierID, Code, ReceivingUnit, CompetentAgency          string
	ProcedureCode, ProcedureName, FieldCode, FieldName       string
	Channel, ApplicantName, ApplicantAddress, ApplicantPhone string
	SubmittedAt, AcceptanceDeadline, RespondedAt, ReceivedAt time.Time
	ReceivedByID, ReceivedByName                             string
	FirstAppointment, AppointmentDate                        time.Time
	HolderUnit, HolderOfficialID, HolderOfficialName         string
	FirstTransferAt                                          time.Time
	FirstTransferUnit                                        string
	SupplementRequests                                       int
	Waiting                                                  string // supplement or suspended: someone else holds the clock
	ApologyAt                                                time.Time
	ApologyReason                                            string
	ApologyOld, ApologyNew                                   time.Time
	ApologyByName                                            string
	ResolvedAt                                               time.Time
	Resolution                                               string // result or rejected
	ResolvedAppointment, ReturnedAt                          time.Time
	ReturnChannel                                            string
	// DueDate is the statutory due date in force (Dossier.DueDate): restarted by a completed
	// supplement, moved by a suspension, never by an apology. IndicatorDueDate is the national
	// indicator's (Dossier.IndicatorDueDate); IndicatorSupplementLimit the supplement requests the
	// indicator allows under the rules in force at receipt.
	DueDate, IndicatorDueDate time.Time
	IndicatorSupplementLimit  int
	// PausedAt is when the clock stopped — a supplement requested after receipt, or a suspension —
	// zero while it runs: a paused dossier is judged at that moment, as Dossier.LegalVerdict does.
	PausedAt time.Time
	// ResolvedDueDate and ResolvedIndicatorDueDate are the due dates in force at the resolution.
	ResolvedDueDate, ResolvedIndicatorDueDate time.Time
	// StepDeadline is the deadline of the step the dossier is in (as the transfer recorded it);
	// SlowestStep is the worst verdict on the steps ended so far, parts of parallel steps included
	// (TT 01/2018 art. 13: each unit's time against its share).
	StepDeadline           time.Time
	SlowestStep            string
	WithdrawnAt, ClosedAt  time.Time
	CloseKind, CloseReason string // refused, returned, withdrawn or rejected
	FirstPaidAt            time.Time
	PaidOnline             bool
	// RegisterUnit is the unit whose register (form 06/07) holds the receipt: the receiving unit at
	// receipt, which a succession does not change; ReceivingUnit and CompetentAgency are those
	// answerable now, which it does (domain.AgencySucceeded).
	RegisterUnit string

	exists bool // the dossier was submitted or received: events before that change nothing
}

// summaryColumn maps a column to its field. Text columns are NOT NULL unless nullable, then NULL
// when empty; times are fixed-width UTC text, NULL when zero; ints and flags are INTEGER.
type summaryColumn struct {
	name     string
	nullable bool
	field    func(*summaryRow) any
}

var summarySchema = []summaryColumn{
	{"dossier_id", false, func(r *summaryRow) any { return &r.DossierID }},
	{"code", true, func(r *summaryRow) any { return &r.Code }},
	{"receiving_unit", false, func(r *summaryRow) any { return &r.ReceivingUnit }},
	{"competent_agency", false, func(r *summaryRow) any { return &r.CompetentAgency }},
	{"procedure_code", false, func(r *summaryRow) any { return &r.ProcedureCode }},
	{"procedure_name", false, func(r *summaryRow) any { return &r.ProcedureName }},
	{"field_code", false, func(r *summaryRow) any { return &r.FieldCode }},
	{"field_name", false, func(r *summaryRow) any { return &r.FieldName }},
	{"channel", false, func(r *summaryRow) any { return &r.Channel }},
	{"applicant_name", false, func(r *summaryRow) any { return &r.ApplicantName }},
	{"applicant_address", false, func(r *summaryRow) any { return &r.ApplicantAddress }},
	{"applicant_phone", false, func(r *summaryRow) any { return &r.ApplicantPhone }},
	{"submitted_at", true, func(r *summaryRow) any { return &r.SubmittedAt }},
	{"acceptance_deadline", true, func(r *summaryRow) any { return &r.AcceptanceDeadline }},
	{"responded_at", true, func(r *summaryRow) any { return &r.RespondedAt }},
	{"received_at", true, func(r *summaryRow) any { return &r.ReceivedAt }},
	{"received_by_id", true, func(r *summaryRow) any { return &r.ReceivedByID }},
	{"received_by_name", true, func(r *summaryRow) any { return &r.ReceivedByName }},
	{"first_appointment", true, func(r *summaryRow) any { return &r.FirstAppointment }},
	{"appointment_date", true, func(r *summaryRow) any { return &r.AppointmentDate }},
	{"holder_unit", false, func(r *summaryRow) any { return &r.HolderUnit }},
	{"holder_official_id", false, func(r *summaryRow) any { return &r.HolderOfficialID }},
	{"holder_official_name", false, func(r *summaryRow) any { return &r.HolderOfficialName }},
	{"first_transfer_at", true, func(r *summaryRow) any { return &r.FirstTransferAt }},
	{"first_transfer_unit", true, func(r *summaryRow) any { return &r.FirstTransferUnit }},
	{"supplement_requests", false, func(r *summaryRow) any { return &r.SupplementRequests }},
	{"waiting", false, func(r *summaryRow) any { return &r.Waiting }},
	{"apology_at", true, func(r *summaryRow) any { return &r.ApologyAt }},
	{"apology_reason", true, func(r *summaryRow) any { return &r.ApologyReason }},
	{"apology_old", true, func(r *summaryRow) any { return &r.ApologyOld }},
	{"apology_new", true, func(r *summaryRow) any { return &r.ApologyNew }},
	{"apology_by_name", true, func(r *summaryRow) any { return &r.ApologyByName }},
	{"resolved_at", true, func(r *summaryRow) any { return &r.ResolvedAt }},
	{"resolution", true, func(r *summaryRow) any { return &r.Resolution }},
	{"resolved_appointment", true, func(r *summaryRow) any { return &r.ResolvedAppointment }},
	{"returned_at", true, func(r *summaryRow) any { return &r.ReturnedAt }},
	{"return_channel", true, func(r *summaryRow) any { return &r.ReturnChannel }},
	{"withdrawn_at", true, func(r *summaryRow) any { return &r.WithdrawnAt }},
	{"closed_at", true, func(r *summaryRow) any { return &r.ClosedAt }},
	{"close_kind", true, func(r *summaryRow) any { return &r.CloseKind }},
	{"close_reason", true, func(r *summaryRow) any { return &r.CloseReason }},
	{"first_paid_at", true, func(r *summaryRow) any { return &r.FirstPaidAt }},
	{"paid_online", false, func(r *summaryRow) any { return &r.PaidOnline }},
	{"due_date", true, func(r *summaryRow) any { return &r.DueDate }},
	{"indicator_due_date", true, func(r *summaryRow) any { return &r.IndicatorDueDate }},
	{"indicator_supplement_limit", false, func(r *summaryRow) any { return &r.IndicatorSupplementLimit }},
	{"paused_at", true, func(r *summaryRow) any { return &r.PausedAt }},
	{"resolved_due_date", true, func(r *summaryRow) any { return &r.ResolvedDueDate }},
	{"resolved_indicator_due_date", true, func(r *summaryRow) any { return &r.ResolvedIndicatorDueDate }},
	{"step_deadline", true, func(r *summaryRow) any { return &r.StepDeadline }},
	{"slowest_step", true, func(r *summaryRow) any { return &r.SlowestStep }},
	{"register_unit", false, func(r *summaryRow) any { return &r.RegisterUnit }},
}

func (c summaryColumn) definition() string {
	if c.name == "dossier_id" {
		return "dossier_id TEXT PRIMARY KEY"
	}
	switch c.field(&summaryRow{}).(type) {
	case *time.Time:
		return c.name + " TEXT"
	case *int, *bool:
		return c.name + " INTEGER NOT NULL DEFAULT 0"
	}
	if c.nullable {
		return c.name + " TEXT"
	}
	return c.name + " TEXT NOT NULL DEFAULT ''"
}

// columnList is the names of columns, qualified with alias when given.
func columnList(columns []summaryColumn, alias string) string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
		if alias != "" {
			names[i] = alias + "." + c.name
		}
	}
	return strings.Join(names, ", ")
}

// valuesOf returns the row's values of columns, in their order.
func (r *summaryRow) valuesOf(columns []summaryColumn) []any {
	out := make([]any, len(columns))
	for i, c := range columns {
		switch f := c.field(r).(type) {
		case *time.Time:
			out[i] = sqlTime(*f)
		case *int:
			out[i] = int64(*f)
		case *bool:
			out[i] = 0
			if *f {
				out[i] = 1
			}
		case *string:
			out[i] = *f
			if c.nullable {
				out[i] = sql.NullString{String: *f, Valid: *f != ""}
			}
		}
	}
	return out
}

// scannerOf returns the destinations to scan a row's columns (in their order) into, and a
// function that moves the scanned values into r.
func (r *summaryRow) scannerOf(columns []summaryColumn) ([]any, func()) {
	dest := make([]any, len(columns))
	var finish []func()
	for i, c := range columns {
		switch f := c.field(r).(type) {
		case *time.Time:
			var v sql.NullString
			dest[i] = &v
			finish = append(finish, func() { *f = parseSQLTime(v) })
		case *int:
			var v int64
			dest[i] = &v
			finish = append(finish, func() { *f = int(v) })
		case *bool:
			var v int64
			dest[i] = &v
			finish = append(finish, func() { *f = v == 1 })
		case *string:
			var v sql.NullString
			dest[i] = &v
			finish = append(finish, func() { *f = v.String })
		}
	}
	return dest, func() {
		for _, f := range finish {
			f()
		}
		r.exists = true
	}
}

// fold applies one dossier event to the row. Times come from the events' own payloads (the facts
// the domain decided), never from when the projection runs.
func (r *summaryRow) fold(re *eventstore.RecordedEvent, e domain.Event) {
	actor := re.Metadata.Actor
	switch e := e.(type) {
	case domain.Submitted:
		if r.exists {
			return
		}
		r.exists = true
		r.ReceivingUnit, r.CompetentAgency, r.Channel = e.ReceivingUnit, e.CompetentAgency, string(domain.ChannelOnline)
		r.ProcedureCode, r.ProcedureName, r.FieldCode, r.FieldName = e.Procedure.Code, e.Procedure.Name, e.Procedure.FieldCode, e.Procedure.FieldName
		r.ApplicantName, r.ApplicantAddress, r.ApplicantPhone = e.Applicant.Name, e.Applicant.Address, e.Applicant.Phone
		r.SubmittedAt, r.AcceptanceDeadline = e.SubmittedAt, e.AcceptanceDeadline
		return
	case domain.Received:
		if r.exists && r.RespondedAt.IsZero() {
			r.RespondedAt = e.ReceivedAt // accepting an online submission answers it
		}
		r.exists = true
		r.Code, r.ReceivingUnit, r.CompetentAgency, r.Channel = string(e.Code), e.ReceivingUnit, e.CompetentAgency, string(e.Channel)
		r.RegisterUnit = e.ReceivingUnit
		r.ProcedureCode, r.ProcedureName, r.FieldCode, r.FieldName = e.Procedure.Code, e.Procedure.Name, e.Procedure.FieldCode, e.Procedure.FieldName
		r.ApplicantName, r.ApplicantAddress, r.ApplicantPhone = e.Applicant.Name, e.Applicant.Address, e.Applicant.Phone
		r.ReceivedAt, r.ReceivedByID, r.ReceivedByName = e.ReceivedAt, actor.ID, actor.Name
		r.FirstAppointment, r.AppointmentDate = e.AppointmentDate, e.AppointmentDate
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName, r.Waiting = e.ReceivingUnit, "", "", ""
		r.DueDate, r.IndicatorDueDate, r.PausedAt = e.AppointmentDate, e.AppointmentDate, time.Time{}
		r.IndicatorSupplementLimit = domain.DefaultRuleBook().ForDossier(domain.Dossier{Rules: e.Rules, ReceivedAt: e.ReceivedAt}).IndicatorMaxSupplementRequests
		// The reception step lasts until the dossier reaches the department; the online
		// submission's wait for acceptance is not a unit's share of the resolution time.
		r.StepDeadline, r.SlowestStep = e.TransferDeadline, ""
		return
	}
	if !r.exists {
		return
	}
	switch e := e.(type) {
	case domain.ReceptionRefused:
		r.RespondedAt = firstNonZeroTime(r.RespondedAt, e.RefusedAt)
		r.ClosedAt, r.CloseKind, r.CloseReason, r.Waiting = e.RefusedAt, "refused", e.Reason, ""
	case domain.SupplementRequested:
		if e.BeforeReceipt {
			r.RespondedAt = firstNonZeroTime(r.RespondedAt, e.RequestedAt)
		} else {
			r.PausedAt = e.RequestedAt
		}
		r.SupplementRequests, r.Waiting = e.RequestNumber, "supplement"
	case domain.Supplemented:
		r.Waiting, r.PausedAt = "", time.Time{}
		if !e.NewAppointmentDate.IsZero() {
			// NĐ 61 art. 19: the time limit restarts; events recorded before the indicator's date
			// was kept give the legal one, as Evolve does.
			r.AppointmentDate, r.DueDate = e.NewAppointmentDate, e.NewAppointmentDate
			r.IndicatorDueDate = firstNonZeroTime(e.NewIndicatorDueDate, e.NewAppointmentDate)
		}
	case domain.Transferred:
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = e.To.Unit, e.To.OfficialID, e.To.OfficialName
		r.firstTransfer(e.TransferredAt, e.To.Unit)
		r.nextStep(e.TransferredAt, e.StepDeadline)
	case domain.InterAgencyTransferred:
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = e.ToAgency, "", ""
		r.firstTransfer(e.TransferredAt, e.ToAgency)
		r.nextStep(e.TransferredAt, e.StepDeadline)
	case domain.ParallelStepStarted:
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = e.Coordinator.Unit, e.Coordinator.OfficialID, e.Coordinator.OfficialName
		r.firstTransfer(e.StartedAt, e.Coordinator.Unit)
		r.nextStep(e.StartedAt, e.StepDeadline)
	case domain.PartCompleted:
		r.judgeStep(e.CompletedAt, e.StepDeadline)
	case domain.Paid:
		r.FirstPaidAt = firstNonZeroTime(r.FirstPaidAt, e.PaidAt)
		r.PaidOnline = r.PaidOnline || e.Channel == domain.PaymentOnline
	case domain.ResultReady:
		// The first result is the moment that counts for on-time statistics; it goes back to the desk.
		if r.ResolvedAt.IsZero() {
			r.ResolvedAt, r.Resolution, r.ResolvedAppointment = e.ReadyAt, "result", r.AppointmentDate
			r.ResolvedDueDate, r.ResolvedIndicatorDueDate = r.DueDate, r.IndicatorDueDate
			r.nextStep(e.ReadyAt, time.Time{})
		}
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = r.ReceivingUnit, "", ""
	case domain.ResultReturned:
		r.ReturnedAt, r.ReturnChannel = e.ReturnedAt, string(e.Channel)
		r.ClosedAt, r.CloseKind = e.ReturnedAt, "returned"
	case domain.ApologyIssued:
		r.ApologyAt, r.ApologyReason, r.ApologyOld, r.ApologyNew, r.ApologyByName = e.IssuedAt, e.Reason, e.OldAppointmentDate, e.NewAppointmentDate, actor.Name
		r.AppointmentDate = e.NewAppointmentDate
	case domain.Suspended:
		r.Waiting, r.PausedAt = "suspended", e.SuspendedAt
	case domain.Resumed:
		r.Waiting, r.AppointmentDate, r.PausedAt = "", e.NewAppointmentDate, time.Time{}
		// Events recorded before the due dates were kept moved only the appointment date.
		r.DueDate = firstNonZeroTime(e.NewDueDate, e.NewAppointmentDate)
		r.IndicatorDueDate = firstNonZeroTime(e.NewIndicatorDueDate, e.NewAppointmentDate)
	case domain.Withdrawn:
		r.WithdrawnAt, r.ClosedAt, r.CloseKind, r.CloseReason, r.Waiting = e.WithdrawnAt, e.WithdrawnAt, "withdrawn", e.Reason, ""
		r.PausedAt = time.Time{}
		r.nextStep(e.WithdrawnAt, time.Time{})
	case domain.CorrectionApproved:
		r.correct(e)
	case domain.OriginalsArrived:
		// The forwarding step of a boundary-free receipt counts among the steps (TT 01/2018 art. 13).
		r.judgeStep(e.ArrivedAt, e.ForwardingDeadline)
	case domain.AgencySucceeded:
		// The successor answers for the dossier from now on: its late dashboard and the control
		// sheet's header name it; the register keeps the unit that received it (RegisterUnit).
		r.ReceivingUnit, r.CompetentAgency = succeeded(r.ReceivingUnit, e), succeeded(r.CompetentAgency, e)
		if r.HolderUnit == e.FromHolder.Unit && r.HolderOfficialID == e.FromHolder.OfficialID {
			r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = e.ToHolder.Unit, e.ToHolder.OfficialID, e.ToHolder.OfficialName
		}
	case domain.Rejected:
		// A written refusal after appraisal resolves the dossier: it counts as resolved, judged
		// against the due date like a result.
		r.ResolvedAt, r.Resolution, r.ResolvedAppointment = e.RejectedAt, "rejected", r.AppointmentDate
		r.ResolvedDueDate, r.ResolvedIndicatorDueDate = r.DueDate, r.IndicatorDueDate
		r.nextStep(e.RejectedAt, time.Time{})
		r.ClosedAt, r.CloseKind, r.CloseReason = e.RejectedAt, "rejected", e.Reason
		r.HolderUnit, r.HolderOfficialID, r.HolderOfficialName = r.ReceivingUnit, "", ""
	}
}

// succeeded is agency after the succession e: its successor when it is the abolished agency.
func succeeded(agency string, e domain.AgencySucceeded) string {
	if agency == e.FromAgency {
		return e.ToAgency
	}
	return agency
}

// nextStep ends the step under way at `at`, judging it against its deadline, and starts the next
// one with its deadline (zero when the next has none: the result's return, or no next step).
func (r *summaryRow) nextStep(at, deadline time.Time) {
	r.judgeStep(at, r.StepDeadline)
	r.StepDeadline = deadline
}

// judgeStep keeps the worst verdict of the steps ended so far.
func (r *summaryRow) judgeStep(endedAt, deadline time.Time) {
	v := judge(endedAt, deadline)
	if v != "" && (r.SlowestStep == "" || verdictRank[v] > verdictRank[Verdict(r.SlowestStep)]) {
		r.SlowestStep = string(v)
	}
}

var verdictRank = map[Verdict]int{VerdictEarly: 1, VerdictOnTime: 2, VerdictLate: 3}

func (r *summaryRow) firstTransfer(at time.Time, unit string) {
	if r.FirstTransferAt.IsZero() {
		r.FirstTransferAt, r.FirstTransferUnit = at, unit
	}
}

func firstNonZeroTime(have, t time.Time) time.Time {
	if have.IsZero() {
		return t
	}
	return have
}

// dossierEvent is one event of a dossier's stream, decoded. re points into the batch's events,
// which every read model reads and none modifies: a copy per read model per page was 3 % of a
// catch-up.
type dossierEvent struct {
	id string
	re *eventstore.RecordedEvent
	e  domain.Event
}

// decodeBatch decodes the dossier events of a batch and lists the dossiers they touch, in the
// order first touched; events of other streams are left out.
func decodeBatch(batch engine.Batch) ([]dossierEvent, []string, error) {
	events := batch.Events
	all, err := batch.DossierEvents()
	if err != nil {
		return nil, nil, err
	}
	decoded := make([]dossierEvent, 0, len(events))
	var ids []string
	seen := map[string]bool{}
	for i := range events {
		if all[i] == nil {
			continue
		}
		re := &events[i]
		id := strings.TrimPrefix(re.Stream, "dossier-")
		decoded = append(decoded, dossierEvent{id: id, re: re, e: all[i]})
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return decoded, ids, nil
}

// scanSummaryColumns reads rows selected with columnList(columns, …), then any extra columns into extra.
func scanSummaryColumns(rows *sql.Rows, columns []summaryColumn, extra func() []any) ([]summaryRow, error) {
	defer rows.Close()
	var out []summaryRow
	for rows.Next() {
		var r summaryRow
		dest, finish := r.scannerOf(columns)
		if extra != nil {
			dest = append(dest, extra()...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		finish()
		out = append(out, r)
	}
	return out, rows.Err()
}
