package domain

import (
	"slices"
	"time"
)

// Dossier is the state of one dossier (hồ sơ), folded from its events by Evolve. The zero value is a
// dossier that does not exist yet (StatusNew).
type Dossier struct {
	ID               string       `json:"id"`
	Version          uint64       `json:"version"` // number of events folded; set by the loader
	Status           Status       `json:"status"`
	Code             DossierCode  `json:"code,omitempty"`
	ExternalCode     string       `json:"external_code,omitempty"`
	Procedure        ProcedureRef `json:"procedure"`
	Applicant        Applicant    `json:"applicant"`
	Channel          Channel      `json:"channel"`
	Components       []Component  `json:"components"`
	ReceivingUnit    string       `json:"receiving_unit"`
	CompetentAgency  string       `json:"competent_agency"`
	SubmittedAt      time.Time    `json:"submitted_at,omitzero"`
	ReceivedAt       time.Time    `json:"received_at,omitzero"`
	AppointmentDate  time.Time    `json:"appointment_date,omitzero"`
	FirstAppointment time.Time    `json:"first_appointment_date,omitzero"` // as promised on the receipt
	CalendarVersion  string       `json:"calendar_version,omitempty"`
	// DueDate is the statutory due date: the receipt's appointment, restarted when a completed
	// dossier comes back and moved by suspensions, but not moved by an apology, which admits lateness.
	DueDate time.Time `json:"due_date,omitzero"`
	// IndicatorDueDate is the national indicator's due date: the receipt's appointment moved by the
	// time spent waiting for the applicant and by suspensions.
	IndicatorDueDate time.Time `json:"indicator_due_date,omitzero"`
	// ClockStart is when the resolution time last started: the receipt, or the return of the
	// completed dossier after a supplement request.
	ClockStart   time.Time `json:"clock_start,omitzero"`
	RulesVersion string    `json:"rules_version,omitempty"`
	Rules        Rules     `json:"rules,omitzero"` // the set in force at receipt, kept for life
	// CatalogRevision is the catalog's revision at receipt: the version of the procedure that
	// applies to the dossier for life (0: received before the catalog had a history).
	CatalogRevision uint64 `json:"catalog_revision,omitempty"`
	// AcceptanceWindows are the online dossier's waits for the agency to accept, refuse or send it
	// back: one from the submission and one from each return of the completed submission.
	AcceptanceWindows []AcceptanceWindow `json:"acceptance_windows,omitempty"`

	Holder       Handler `json:"holder,omitzero"` // who has the dossier now
	HolderAgency string  `json:"holder_agency,omitempty"`
	Step         string  `json:"step,omitempty"`
	// LatestWorkflowStep is the latest step of the procedure's workflow the dossier was handed to
	// (a parallel step for its parts): its place in the internal process, which transfers follow.
	LatestWorkflowStep string    `json:"latest_workflow_step,omitempty"`
	StepDeadline       time.Time `json:"step_deadline,omitzero"`
	Transfers          int       `json:"transfers"`
	// OpenParts are the parts of parallel steps not completed yet; their agencies may act on the dossier.
	OpenParts []OpenPart `json:"open_parts,omitempty"`

	SupplementRequests int                  `json:"supplement_requests"`
	PendingSupplement  *SupplementRequested `json:"pending_supplement,omitempty"`
	WaitingTime        time.Duration        `json:"waiting_working_time"` // total time waiting for the applicant

	Appraisal *Appraised `json:"appraisal,omitempty"`
	Signature *Signed    `json:"signature,omitempty"`

	FeesDue  int64  `json:"fees_due"`
	FeesPaid int64  `json:"fees_paid"`
	Payments []Paid `json:"payments,omitempty"`

	Results []ResultReady `json:"results,omitempty"`
	// Documents are the files attached to the dossier's components and results, in order.
	Documents  []DocumentAttached `json:"documents,omitempty"`
	ReturnedAt time.Time          `json:"returned_at,omitzero"`

	Apology     *ApologyIssued `json:"apology,omitempty"` // the latest
	Apologies   int            `json:"apologies"`
	SuspendedAt time.Time      `json:"suspended_at,omitzero"`
	ClosedAt    time.Time      `json:"closed_at,omitzero"`
	CloseReason string         `json:"close_reason,omitempty"`
	Rating      *Rated         `json:"rating,omitempty"`

	// BoundaryFree is the boundary-free receipt's terms (nil for an ordinary receipt);
	// OriginalsArrivedAt when its paper originals reached the competent agency.
	BoundaryFree       *BoundaryFreeReceived `json:"boundary_free,omitempty"`
	OriginalsArrivedAt time.Time             `json:"originals_arrived_at,omitzero"`

	RatingSecretHash string `json:"-"`
	// ResumeStatus is where a dossier goes back to after a suspension or a supplement.
	ResumeStatus Status `json:"resume_status,omitempty"`
	// StatusAfterPayment is where it goes once its fees are paid. It is kept apart from ResumeStatus
	// because a dossier awaiting payment may be suspended and resumed before the applicant pays.
	StatusAfterPayment Status `json:"status_after_payment,omitempty"`
	// Correction is what the dossier keeps of its corrections (correction.go).
	Correction CorrectionState `json:"correction,omitzero"`
}

// OpenPart is a part of a parallel step still being done.
type OpenPart struct {
	ParallelStep string `json:"parallel_step"`
	ParallelPart
	StartedAt time.Time `json:"started_at"`
}

// AcceptanceWindow is the time an agency has to accept an online dossier, refuse it or send it back.
type AcceptanceWindow struct {
	OpenedAt   time.Time `json:"opened_at"`
	Deadline   time.Time `json:"deadline"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Answer     string    `json:"answer,omitempty"` // received, refused, supplement_requested or withdrawn
}

// Late reports whether the window was answered after its deadline, or is still open past it at now.
func (w AcceptanceWindow) Late(now time.Time) bool {
	return firstNonZero(w.AnsweredAt, now).After(w.Deadline)
}

// LateAcceptances lists the online dossier's acceptance windows answered late or still open past
// their deadline at now: what a read model lists as "not accepted in time".
func (d Dossier) LateAcceptances(now time.Time) []AcceptanceWindow {
	var late []AcceptanceWindow
	for _, w := range d.AcceptanceWindows {
		if w.Late(now) {
			late = append(late, w)
		}
	}
	return late
}

// AgencyInvolved reports whether agency received the dossier, decides it, holds it now or does an
// open part of a parallel step: whose officials may act on it.
func (d Dossier) AgencyInvolved(agency string) bool {
	if agency == "" {
		return false
	}
	if agency == d.ReceivingUnit || agency == d.CompetentAgency || agency == d.HolderAgency || agency == d.ReturnUnit() {
		return true
	}
	for _, p := range d.OpenParts {
		if p.Agency == agency {
			return true
		}
	}
	return false
}

// IsOtherAgency reports whether a workflow unit is an agency other than the dossier's receiving
// and competent ones: work there is inter-agency (liên thông).
func (d Dossier) IsOtherAgency(unit string) bool {
	return ValidUnitCode(unit) && unit != d.CompetentAgency && unit != d.ReceivingUnit
}

// answerAcceptance closes the open acceptance window, if any.
func (d *Dossier) answerAcceptance(at time.Time, answer string) {
	if n := len(d.AcceptanceWindows); n > 0 && d.AcceptanceWindows[n-1].AnsweredAt.IsZero() {
		windows := slices.Clone(d.AcceptanceWindows) // folds share backing arrays with their sources
		windows[n-1].AnsweredAt, windows[n-1].Answer = at, answer
		d.AcceptanceWindows = windows
	}
}

// Exists reports whether the dossier has at least one event.
func (d Dossier) Exists() bool { return d.Status != StatusNew && d.Status != "" }

// Late reports whether the dossier is past its appointment date at now (open) or was resolved after it.
func (d Dossier) Late(now time.Time) bool {
	if d.AppointmentDate.IsZero() {
		return false
	}
	switch d.Status {
	case StatusResultReturned, StatusResultReady:
		return d.resolvedAt().After(d.AppointmentDate)
	case StatusReceived, StatusProcessing, StatusAwaitingPayment:
		return now.After(d.AppointmentDate)
	}
	// Suspended, or waiting for the applicant's supplement: the clock is paused and the appointment
	// date moves when it restarts, so the dossier is not late meanwhile.
	return false
}

// resolvedAt is when the first result was ready — the moment that counts for on-time statistics.
func (d Dossier) resolvedAt() time.Time {
	if len(d.Results) > 0 {
		return d.Results[0].ReadyAt
	}
	return d.ReturnedAt
}

// Evolve applies one event to the dossier. It never fails: events are facts already decided.
func Evolve(d Dossier, e Event) Dossier {
	d = evolveCorrection(d, e)
	switch e := e.(type) {
	case Submitted:
		d.ID = e.DossierID
		d.Status = StatusSubmitted
		d.ExternalCode = e.ExternalCode
		d.Procedure = e.Procedure
		d.Applicant = e.Applicant
		d.Channel = ChannelOnline
		d.Components = e.Components
		d.ReceivingUnit = e.ReceivingUnit
		d.CompetentAgency = e.CompetentAgency
		d.SubmittedAt = e.SubmittedAt
		d.AcceptanceWindows = append(slices.Clip(d.AcceptanceWindows), AcceptanceWindow{OpenedAt: e.SubmittedAt, Deadline: e.AcceptanceDeadline})
		d.Holder = Handler{Unit: e.ReceivingUnit}
		d.HolderAgency = e.ReceivingUnit
	case Received:
		d.answerAcceptance(e.ReceivedAt, "received")
		d.ID = e.DossierID
		d.Status = StatusReceived
		d.Code = e.Code
		d.ExternalCode = e.ExternalCode
		d.Procedure = e.Procedure
		d.Applicant = e.Applicant
		d.Channel = e.Channel
		d.Components = e.Components
		d.ReceivingUnit = e.ReceivingUnit
		d.CompetentAgency = e.CompetentAgency
		d.ReceivedAt = e.ReceivedAt
		d.AppointmentDate = e.AppointmentDate
		d.FirstAppointment = e.AppointmentDate
		d.DueDate = e.AppointmentDate
		d.IndicatorDueDate = e.AppointmentDate
		d.ClockStart = e.ReceivedAt
		d.CalendarVersion = e.CalendarVersion
		d.RulesVersion = e.RulesVersion
		d.Rules = e.Rules
		d.CatalogRevision = e.CatalogRevision
		d.RatingSecretHash = e.RatingSecretHash
		d.PendingSupplement = nil
		d.Holder = Handler{Unit: e.ReceivingUnit}
		d.HolderAgency = e.ReceivingUnit
		d.Step = "reception"
		d.StepDeadline = e.TransferDeadline
	case ReceptionRefused:
		d.answerAcceptance(e.RefusedAt, "refused")
		d.Status = StatusReceptionRefused
		d.ClosedAt = e.RefusedAt
		d.CloseReason = e.Reason
		d.PendingSupplement = nil
	case SupplementRequested:
		if e.BeforeReceipt {
			d.answerAcceptance(e.RequestedAt, "supplement_requested")
		}
		if d.Status == StatusNew {
			d.Status = StatusSubmitted // an in-person dossier sent back before it was ever received
		}
		d.ResumeStatus = d.Status
		d.Status = StatusSupplementRequested
		d.SupplementRequests = e.RequestNumber
		req := e
		d.PendingSupplement = &req
	case Supplemented:
		d.Status = d.ResumeStatus
		if !e.NewAppointmentDate.IsZero() {
			d.AppointmentDate = e.NewAppointmentDate
			d.DueDate = e.NewAppointmentDate
			// Events recorded before the indicator's date was kept: take the legal date.
			d.IndicatorDueDate = firstNonZero(e.NewIndicatorDueDate, e.NewAppointmentDate)
			d.ClockStart = e.SupplementedAt
		}
		if !e.AcceptanceDeadline.IsZero() {
			d.AcceptanceWindows = append(slices.Clip(d.AcceptanceWindows), AcceptanceWindow{OpenedAt: e.SupplementedAt, Deadline: e.AcceptanceDeadline})
		}
		d.Components = append(slices.Clip(d.Components), e.Components...)
		d.WaitingTime += e.WaitingTime
		d.PendingSupplement = nil
	case Transferred:
		d.Status = StatusProcessing
		d.Holder = e.To
		d.Step = e.Step
		if e.FromWorkflow {
			d.LatestWorkflowStep = e.Step
		}
		d.StepDeadline = e.StepDeadline
		d.Transfers++
	case InterAgencyTransferred:
		d.Status = StatusProcessing
		d.Holder = Handler{Unit: e.ToAgency}
		d.HolderAgency = e.ToAgency
		d.Step = firstNonEmpty(e.Step, e.Purpose)
		if e.FromWorkflow {
			d.LatestWorkflowStep = e.Step
		}
		d.StepDeadline = e.StepDeadline
		d.Transfers++
	case ParallelStepStarted:
		d.Status = StatusProcessing
		d.Holder = e.Coordinator
		d.Step = e.Step
		d.LatestWorkflowStep = e.Step
		d.StepDeadline = e.StepDeadline
		d.Transfers++
		parts := slices.Clip(d.OpenParts)
		for _, p := range e.Parts {
			parts = append(parts, OpenPart{ParallelStep: e.Step, ParallelPart: p, StartedAt: e.StartedAt})
		}
		d.OpenParts = parts
	case PartCompleted:
		d.OpenParts = slices.DeleteFunc(slices.Clone(d.OpenParts), func(p OpenPart) bool {
			return p.ParallelStep == e.ParallelStep && p.Step == e.Step
		})
	case Appraised:
		a := e
		d.Appraisal = &a
	case Signed:
		s := e
		d.Signature = &s
	case FeeAssessed:
		d.FeesDue += e.Total
		d.StatusAfterPayment = d.Status
		d.Status = StatusAwaitingPayment
	case Paid:
		d.FeesPaid += e.Amount
		d.Payments = append(d.Payments, e)
		if d.FeesPaid >= d.FeesDue {
			d.Status = d.StatusAfterPayment
		}
	case DocumentAttached:
		d.Documents = append(d.Documents, e)
	case ResultReady:
		d.Status = StatusResultReady
		d.Results = append(d.Results, e)
		d.Holder = Handler{Unit: d.ReturnUnit()}
		d.HolderAgency = d.ReturnUnit()
		d.Step = "return"
		d.StepDeadline = time.Time{}
		d.OpenParts = nil
	case ResultReturned:
		d.Status = StatusResultReturned
		d.ReturnedAt = e.ReturnedAt
		d.ClosedAt = e.ReturnedAt
	case ApologyIssued:
		a := e
		d.Apology = &a
		d.Apologies++
		d.AppointmentDate = e.NewAppointmentDate
	case Suspended:
		d.ResumeStatus = d.Status
		d.Status = StatusSuspended
		d.SuspendedAt = e.SuspendedAt
		d.CloseReason = e.Reason
	case Resumed:
		d.Status = d.ResumeStatus
		d.AppointmentDate = e.NewAppointmentDate
		// Events recorded before the due dates were kept moved only the appointment date.
		d.DueDate = firstNonZero(e.NewDueDate, e.NewAppointmentDate)
		d.IndicatorDueDate = firstNonZero(e.NewIndicatorDueDate, e.NewAppointmentDate)
		d.SuspendedAt = time.Time{}
		d.CloseReason = ""
	case Withdrawn:
		d.answerAcceptance(e.WithdrawnAt, "withdrawn")
		d.OpenParts = nil
		d.Status = StatusWithdrawn
		d.ClosedAt = e.WithdrawnAt
		d.CloseReason = e.Reason
		d.PendingSupplement = nil
	case Rejected:
		d.OpenParts = nil
		d.Status = StatusRejected
		d.ClosedAt = e.RejectedAt
		d.CloseReason = e.Reason
	case Rated:
		r := e
		d.Rating = &r
	case AgencySucceeded:
		d = d.succeed(e)
	case BoundaryFreeReceived:
		b := e
		d.BoundaryFree = &b
	case OriginalsArrived:
		d.OriginalsArrivedAt = e.ArrivedAt
	}
	return d
}

// Fold applies events in order to the zero dossier.
func Fold(events ...Event) Dossier {
	var d Dossier
	d.Status = StatusNew
	for _, e := range events {
		d = Evolve(d, e)
		d.Version++
	}
	return d
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
