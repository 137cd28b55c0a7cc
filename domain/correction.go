package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Corrections of recorded data (seed: Bình Định QĐ 27/2020 art. 10(2); docs/rules.md, "Corrections
// with approval"). An official asks to correct what was recorded wrongly — the applicant's data typed
// wrong at the desk, the procedure chosen wrongly, a transfer to the wrong unit the next step has not
// acted on — naming each field with the value recorded and the value it should have had, and why; a
// head or signer of the same agency, never the requester, approves or rejects it. Only an approved
// correction changes the dossier; the request, the decision and the original facts all stay in the
// stream, and the dossier's code never changes.

// Wire names of the correction events.
const (
	TypeCorrectionRequested = "dossier.correction_requested.v1"
	TypeCorrectionApproved  = "dossier.correction_approved.v1"
	TypeCorrectionRejected  = "dossier.correction_rejected.v1"
)

// Actions of a correction; the HTTP API uses the same names in its paths.
const (
	ActionRequestCorrection Action = "correction"
	ActionApproveCorrection Action = "correction-approve"
	ActionRejectCorrection  Action = "correction-reject"
)

// The fields a correction may name. The applicant's are personal data and travel sealed under the
// applicant's crypto-shredding key (ApplicantFields); the others are the agency's own records.
const (
	FieldApplicantName     = "applicant.name"
	FieldApplicantIDNumber = "applicant.id_number"
	FieldApplicantPhone    = "applicant.phone"
	FieldApplicantEmail    = "applicant.email"
	FieldApplicantAddress  = "applicant.address"
	FieldProcedureCode     = "procedure_code"
	FieldTransferUnit      = "transfer.to_unit"
	FieldTransferOfficial  = "transfer.to_official_id"
	FieldTransferName      = "transfer.to_official_name"
)

// CorrectableFields lists every field a correction may name, in a stable order.
var CorrectableFields = []string{
	FieldApplicantName, FieldApplicantIDNumber, FieldApplicantPhone, FieldApplicantEmail, FieldApplicantAddress,
	FieldProcedureCode, FieldTransferUnit, FieldTransferOfficial, FieldTransferName,
}

// FieldChange is one recorded value to correct: the field, the value recorded, the value it should have.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// ApplicantCorrection is the personal part of a correction. Its JSON member ("applicant") is sealed
// by eventstore/shred like the applicant of a receipt: IDNumber chooses the key — the identity
// number the dossier was first recorded with, whose key seals the receipt too — so erasing that
// applicant erases their corrections with them. Once erased it reads with no changes.
type ApplicantCorrection struct {
	Type     ApplicantType `json:"type"`
	IDNumber string        `json:"id_number"`
	Changes  []FieldChange `json:"changes"`
}

// ProcedureCorrection is what replacing a wrongly chosen procedure decided, at approval: the
// procedure as the catalog has it then, and the dates recomputed as if it had been chosen at receipt
// (the statutory time runs from the receipt, or the return of the completed dossier, as before; time
// spent suspended or waiting still moves it).
type ProcedureCorrection struct {
	Procedure                ProcedureRef `json:"procedure"`
	OldAppointmentDate       time.Time    `json:"old_appointment_date"`
	NewAppointmentDate       time.Time    `json:"new_appointment_date"`
	NewFirstAppointment      time.Time    `json:"new_first_appointment_date"`
	NewDueDate               time.Time    `json:"new_due_date"`
	NewIndicatorDueDate      time.Time    `json:"new_indicator_due_date"`
	CatalogFeeTotal          int64        `json:"catalog_fee_total"` // the new procedure's fees, assessed later by the fee action
	CalendarVersion          string       `json:"calendar_version"`
	RulesVersion             string       `json:"rules_version"`
	PreviousProcedure        ProcedureRef `json:"previous_procedure"`
	PreviousFirstAppointment time.Time    `json:"previous_first_appointment_date"`
}

// TransferCorrection is a transfer to the wrong unit or official, put right: the transfer keeps its
// moment, step and deadline (the mistake was the agency's, so it takes no time from the applicant).
type TransferCorrection struct {
	TransferredAt time.Time `json:"transferred_at"`
	Step          string    `json:"step"`
	OldTo         Handler   `json:"old_to"`
	NewTo         Handler   `json:"new_to"`
}

// CorrectionRequested: an official asked to correct recorded data.
type CorrectionRequested struct {
	Number          int                  `json:"number"` // 1 for the dossier's first request
	Code            DossierCode          `json:"code"`   // the dossier's, which a correction never changes
	Applicant       *ApplicantCorrection `json:"applicant,omitempty"`
	Changes         []FieldChange        `json:"changes,omitempty"` // the fields that are not personal data
	Reason          string               `json:"reason"`
	RequestedBy     Handler              `json:"requested_by"`
	RequesterAgency string               `json:"requester_agency"`
	RequestedAt     time.Time            `json:"requested_at"`
}

// CorrectionApproved: a head or signer of the requester's agency approved the correction; the
// dossier reads corrected from here on.
type CorrectionApproved struct {
	Number      int                  `json:"number"`
	Applicant   *ApplicantCorrection `json:"applicant,omitempty"`
	Changes     []FieldChange        `json:"changes,omitempty"`
	Procedure   *ProcedureCorrection `json:"procedure,omitempty"`
	Transfer    *TransferCorrection  `json:"transfer,omitempty"`
	Reason      string               `json:"reason"` // the request's
	RequestedBy Handler              `json:"requested_by"`
	ApprovedBy  Handler              `json:"approved_by"`
	ApprovedAt  time.Time            `json:"approved_at"`
}

// CorrectionRejected: the correction was refused (or withdrawn by its requester); nothing changed.
type CorrectionRejected struct {
	Number     int       `json:"number"`
	Reason     string    `json:"reason"`
	RejectedBy Handler   `json:"rejected_by"`
	RejectedAt time.Time `json:"rejected_at"`
}

func (CorrectionRequested) EventType() string { return TypeCorrectionRequested }
func (CorrectionApproved) EventType() string  { return TypeCorrectionApproved }
func (CorrectionRejected) EventType() string  { return TypeCorrectionRejected }

// AllChanges lists every field the approval changed, the applicant's first.
func (e CorrectionApproved) AllChanges() []FieldChange {
	var out []FieldChange
	if e.Applicant != nil {
		out = append(out, e.Applicant.Changes...)
	}
	return append(out, e.Changes...)
}

// CorrectionState is what a dossier keeps of its corrections. It never leaves the officials' side:
// the pending request may hold personal data, and read models' stored states leave it out.
type CorrectionState struct {
	Requests int `json:"requests"` // how many were requested, whatever became of them
	Approved int `json:"approved"`
	// Pending is the request awaiting a decision: at most one at a time, so an approver decides on
	// the dossier as it is, not on a stack of proposals that could contradict each other.
	Pending *CorrectionRequested `json:"-"`
	// Transfer is the latest transfer while nothing has happened to the dossier since (corrections
	// aside): the only transfer a correction may redirect.
	Transfer *Transferred `json:"-"`
	// KeySubject is the identity number the applicant was first recorded with: whose shredding key
	// seals the corrections of their data.
	KeySubject string `json:"-"`
}

// RequestCorrection asks to correct recorded data. Procedure is the catalog's procedure named by a
// procedure_code change (nil when none is named, or the catalog has no such procedure).
type RequestCorrection struct {
	Changes   []FieldChange
	Reason    string
	By        Handler
	Agency    string // the requester's agency
	Procedure *Procedure
	At        time.Time
}

// ApproveCorrection approves the pending correction Number. Procedure is the catalog's procedure
// the request names, as it is now; Calendar recomputes the dates a procedure change moves.
type ApproveCorrection struct {
	Number    int
	By        Handler
	Agency    string // the approver's agency
	Procedure *Procedure
	At        time.Time
	Calendar  *calendar.Calendar
}

// RejectCorrection refuses the pending correction Number, with a reason.
type RejectCorrection struct {
	Number int
	Reason string
	By     Handler
	Agency string
	At     time.Time
}

// IsZero reports whether no correction was ever requested: what a dossier's JSON leaves out
// (omitzero), whatever a fold holds in the members it never writes.
func (c CorrectionState) IsZero() bool { return c.Requests == 0 && c.Approved == 0 }

func (RequestCorrection) Action() Action { return ActionRequestCorrection }
func (ApproveCorrection) Action() Action { return ActionApproveCorrection }
func (RejectCorrection) Action() Action  { return ActionRejectCorrection }

// correctableStatuses are the statuses after receipt while the dossier is still at the agency. A
// closed dossier's record is the record: it is amended, if ever, by the procedure of appeal.
var correctableStatuses = []Status{StatusReceived, StatusProcessing, StatusSupplementRequested, StatusAwaitingPayment,
	StatusSuspended, StatusResultReady}

// decidingStatuses: a pending correction may be decided whatever became of the dossier meanwhile, so
// a request is never left pending for ever (an approval still checks that its change applies).
var decidingStatuses = append(slices.Clone(correctableStatuses), StatusResultReturned, StatusWithdrawn, StatusRejected)

func decideRequestCorrection(d Dossier, c RequestCorrection) ([]Event, error) {
	if p := d.Correction.Pending; p != nil {
		return nil, refuse(d, ActionRequestCorrection, "correction %d, requested on %s, awaits a decision: one correction at a time",
			p.Number, p.RequestedAt.In(VietnamTime).Format("02/01/2006"))
	}
	// What the dossier's course forbids is refused first, as the status is: no value can fix it.
	if err := correctionApplies(d, ActionRequestCorrection, c.Changes, c.Procedure); err != nil {
		return nil, err
	}
	var v Validation
	checkText(&v, "reason", c.Reason, true, 2000)
	checkMoment(&v, c.At)
	v.Check(c.By.OfficialID != "", "requested_by", "the requesting official is required")
	if len(c.Changes) == 0 {
		v.Add("changes", "name at least one field to correct")
	}
	v.Check(len(c.Changes) <= len(CorrectableFields), "changes", "names more fields than can be corrected")
	applicant, others := checkChanges(&v, d, c.Changes, c.Procedure)
	if err := v.Err(); err != nil {
		return nil, err
	}
	e := CorrectionRequested{
		Number: d.Correction.Requests + 1, Code: d.Code, Changes: others, Reason: c.Reason, RequestedBy: c.By, RequesterAgency: c.Agency, RequestedAt: c.At,
	}
	if len(applicant) > 0 {
		e.Applicant = &ApplicantCorrection{Type: d.Applicant.Type, IDNumber: d.keySubject(), Changes: applicant}
	}
	return []Event{e}, nil
}

// checkChanges records in v what is wrong with the changes themselves — an unknown or repeated
// field, an old value that is not the one recorded, a new value that is not valid — and splits them
// into the applicant's and the others.
func checkChanges(v *Validation, d Dossier, changes []FieldChange, procedure *Procedure) (applicant, others []FieldChange) {
	seen := map[string]bool{}
	corrected := d.Applicant
	for i, ch := range changes {
		at := fmt.Sprintf("changes[%d]", i)
		current, known := currentValue(d, ch.Field)
		switch {
		case !known:
			v.Add(at+".field", "is not a field a correction may change (one of %s)", strings.Join(CorrectableFields, ", "))
			continue
		case seen[ch.Field]:
			v.Add(at+".field", "names %s twice", ch.Field)
			continue
		}
		seen[ch.Field] = true
		checkText(v, at+".new", ch.New, false, 500)
		switch {
		case ch.Old != current:
			v.Add(at+".old", "is not the value recorded now (%q)", current)
		case ch.New == ch.Old:
			v.Add(at+".new", "is the value recorded already")
		}
		if strings.HasPrefix(ch.Field, "applicant.") {
			setApplicantField(&corrected, ch.Field, ch.New)
			applicant = append(applicant, ch)
			continue
		}
		switch ch.Field {
		case FieldProcedureCode:
			v.Check(procedure != nil && procedure.Code == ch.New, at+".new", "is not a procedure of the catalog")
		case FieldTransferUnit:
			v.Check(ch.New != "", at+".new", "is required: the unit the dossier should have gone to")
		}
		others = append(others, ch)
	}
	if len(applicant) > 0 {
		// The corrected applicant must be as valid as one received; a field error names the change.
		var av Validation
		corrected.Validate(&av, "applicant")
		for _, fe := range av.fields {
			if i := slices.IndexFunc(changes, func(c FieldChange) bool { return c.Field == fe.Field }); i >= 0 {
				v.Add(fmt.Sprintf("changes[%d].new", i), "%s", fe.Message)
			}
		}
	}
	return applicant, others
}

// currentValue is the value the dossier records now for a correctable field.
func currentValue(d Dossier, field string) (string, bool) {
	a := d.Applicant
	var to Handler
	if t := d.Correction.Transfer; t != nil {
		to = t.To
	}
	switch field {
	case FieldApplicantName:
		return a.Name, true
	case FieldApplicantIDNumber:
		return a.IDNumber, true
	case FieldApplicantPhone:
		return a.Phone, true
	case FieldApplicantEmail:
		return a.Email, true
	case FieldApplicantAddress:
		return a.Address, true
	case FieldProcedureCode:
		return d.Procedure.Code, true
	case FieldTransferUnit:
		return to.Unit, true
	case FieldTransferOfficial:
		return to.OfficialID, true
	case FieldTransferName:
		return to.OfficialName, true
	}
	return "", false
}

func setApplicantField(a *Applicant, field, value string) {
	switch field {
	case FieldApplicantName:
		a.Name = value
	case FieldApplicantIDNumber:
		a.IDNumber = value
	case FieldApplicantPhone:
		a.Phone = value
	case FieldApplicantEmail:
		a.Email = value
	case FieldApplicantAddress:
		a.Address = value
	}
}

// correctionApplies refuses (409) a correction the dossier's course no longer allows — checked at
// the request, and again at the approval, since the dossier may have moved in between.
func correctionApplies(d Dossier, action Action, changes []FieldChange, procedure *Procedure) error {
	for _, ch := range changes {
		switch ch.Field {
		case FieldProcedureCode:
			switch {
			case d.Status != StatusReceived && d.Status != StatusProcessing:
				return refuse(d, action, "the procedure can be corrected only while the dossier is received or in processing")
			case d.Appraisal != nil || d.Signature != nil || len(d.Results) > 0:
				return refuse(d, action, "the dossier was already appraised under its procedure: the procedure can no longer be corrected")
			case d.FeesDue > 0:
				return refuse(d, action, "fees were already assessed under the recorded procedure: the procedure can no longer be corrected")
			case d.Apologies > 0:
				return refuse(d, action, "an apology already promised the applicant a date under the recorded procedure: the procedure can no longer be corrected")
			case procedure != nil && procedure.CompetentAgency != d.CompetentAgency:
				return refuse(d, action, "procedure %s is decided by %s, not by %s: a dossier cannot change agency by a correction",
					procedure.Code, procedure.CompetentAgency, d.CompetentAgency)
			case procedure != nil && !procedure.ResolutionTime.IsSet():
				return refuse(d, action, "procedure %s has no resolution time in the catalog", procedure.Code)
			}
		case FieldTransferUnit, FieldTransferOfficial, FieldTransferName:
			if d.Correction.Transfer == nil {
				return refuse(d, action, "only the latest transfer can be corrected, and only while nothing has happened to the dossier since")
			}
		}
	}
	return nil
}

// keySubject is the identity number whose key seals the applicant's data in this dossier.
func (d Dossier) keySubject() string {
	return firstNonEmpty(d.Correction.KeySubject, d.Applicant.IDNumber)
}

// decideOnPending checks that decider (who acts for agency) may decide the pending correction number.
func decideOnPending(d Dossier, action Action, number int, by Handler, agency string) (*CorrectionRequested, error) {
	p := d.Correction.Pending
	switch {
	case p == nil:
		return nil, refuse(d, action, "no correction awaits a decision")
	case number != p.Number:
		return nil, refuse(d, action, "correction %d is not the one awaiting a decision (%d)", number, p.Number)
	case by.OfficialID == "":
		return nil, Errorf(EFORBIDDEN, "the deciding official is required")
	case agency != p.RequesterAgency:
		return nil, Errorf(EFORBIDDEN, "correction %d was requested in agency %s: a head or signer of that agency decides it", p.Number, p.RequesterAgency)
	}
	return p, nil
}

func decideApproveCorrection(d Dossier, c ApproveCorrection) ([]Event, error) {
	p, err := decideOnPending(d, ActionApproveCorrection, c.Number, c.By, c.Agency)
	if err != nil {
		return nil, err
	}
	if c.By.OfficialID == p.RequestedBy.OfficialID {
		return nil, Errorf(EFORBIDDEN, "correction %d was requested by %s, who may not approve it: another head or signer of the agency must", p.Number, c.By.OfficialID)
	}
	var v Validation
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	changes := p.Changes
	if p.Applicant != nil {
		changes = append(slices.Clone(p.Applicant.Changes), changes...)
	}
	// The dossier may have moved since the request: each change must still apply to it as it is.
	for _, ch := range changes {
		if current, _ := currentValue(d, ch.Field); current != ch.Old {
			return nil, refuse(d, ActionApproveCorrection, "%s no longer reads %q (it reads %q): reject this correction and request another", ch.Field, ch.Old, current)
		}
	}
	if err := correctionApplies(d, ActionApproveCorrection, changes, c.Procedure); err != nil {
		return nil, err
	}
	e := CorrectionApproved{Number: p.Number, Applicant: p.Applicant, Changes: p.Changes, Reason: p.Reason, RequestedBy: p.RequestedBy,
		ApprovedBy: c.By, ApprovedAt: c.At}
	for _, ch := range p.Changes {
		switch ch.Field {
		case FieldProcedureCode:
			if c.Procedure == nil || c.Procedure.Code != ch.New {
				return nil, refuse(d, ActionApproveCorrection, "procedure %s is no longer in the catalog", ch.New)
			}
			e.Procedure = procedureCorrection(d, *c.Procedure, c.Calendar)
		case FieldTransferUnit, FieldTransferOfficial, FieldTransferName:
			if e.Transfer == nil {
				t := d.Correction.Transfer
				e.Transfer = &TransferCorrection{TransferredAt: t.TransferredAt, Step: t.Step, OldTo: t.To, NewTo: t.To}
			}
			switch ch.Field {
			case FieldTransferUnit:
				e.Transfer.NewTo.Unit = ch.New
			case FieldTransferOfficial:
				e.Transfer.NewTo.OfficialID = ch.New
			case FieldTransferName:
				e.Transfer.NewTo.OfficialName = ch.New
			}
		}
	}
	return []Event{e}, nil
}

// procedureCorrection recomputes the dossier's dates under procedure p as the receipt would have set
// them, then moves each by the working time its recorded date had moved from the recorded
// procedure's own (suspensions; for the indicator also the waits for the applicant).
func procedureCorrection(d Dossier, p Procedure, cal *calendar.Calendar) *ProcedureCorrection {
	rules := DefaultRuleBook().ForDossier(d)
	clockStart := firstNonZero(d.ClockStart, d.ReceivedAt)
	moved := func(start, recorded time.Time) time.Time {
		was := rules.Appointment(cal, d.Procedure.ResolutionTime, start)
		now := rules.Appointment(cal, p.ResolutionTime, start)
		if recorded.After(was) {
			return cal.AddWorkingTime(now, cal.WorkingTimeBetween(was, recorded))
		}
		return now
	}
	due := moved(clockStart, firstNonZero(d.DueDate, d.AppointmentDate))
	return &ProcedureCorrection{
		Procedure: RefOf(p), OldAppointmentDate: d.AppointmentDate, NewAppointmentDate: due, NewDueDate: due,
		NewFirstAppointment: rules.Appointment(cal, p.ResolutionTime, d.ReceivedAt),
		NewIndicatorDueDate: moved(d.ReceivedAt, firstNonZero(d.IndicatorDueDate, d.AppointmentDate)),
		CatalogFeeTotal:     p.TotalFees(), CalendarVersion: cal.Version(), RulesVersion: rules.Version,
		PreviousProcedure: d.Procedure, PreviousFirstAppointment: d.FirstAppointment,
	}
}

func decideRejectCorrection(d Dossier, c RejectCorrection) ([]Event, error) {
	p, err := decideOnPending(d, ActionRejectCorrection, c.Number, c.By, c.Agency)
	if err != nil {
		return nil, err
	}
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{CorrectionRejected{Number: p.Number, Reason: c.Reason, RejectedBy: c.By, RejectedAt: c.At}}, nil
}

// evolveCorrection folds what corrections keep of every event; Evolve calls it first.
func evolveCorrection(d Dossier, e Event) Dossier {
	switch e := e.(type) {
	case Submitted:
		d.Correction.KeySubject = firstNonEmpty(d.Correction.KeySubject, e.Applicant.IDNumber)
	case Received:
		d.Correction.KeySubject = firstNonEmpty(d.Correction.KeySubject, e.Applicant.IDNumber)
	case Transferred:
		t := e
		d.Correction.Transfer = &t
		return d
	case CorrectionRequested:
		req := e
		d.Correction.Requests = e.Number
		d.Correction.Pending = &req
		return d
	case CorrectionRejected:
		d.Correction.Pending = nil
		return d
	case CorrectionApproved:
		return applyCorrection(d, e)
	}
	d.Correction.Transfer = nil // the next step acted (or anything else happened): the transfer stands
	return d
}

// applyCorrection makes the dossier read as corrected.
func applyCorrection(d Dossier, e CorrectionApproved) Dossier {
	d.Correction.Pending = nil
	d.Correction.Approved++
	if e.Applicant != nil {
		for _, ch := range e.Applicant.Changes {
			setApplicantField(&d.Applicant, ch.Field, ch.New)
		}
	}
	if p := e.Procedure; p != nil {
		d.Procedure = p.Procedure
		d.AppointmentDate, d.DueDate, d.IndicatorDueDate = p.NewAppointmentDate, p.NewDueDate, p.NewIndicatorDueDate
		d.FirstAppointment = p.NewFirstAppointment
	}
	if t := e.Transfer; t != nil {
		if d.Holder == t.OldTo {
			d.Holder = t.NewTo
		}
		if ct := d.Correction.Transfer; ct != nil {
			corrected := *ct
			corrected.To = t.NewTo
			d.Correction.Transfer = &corrected
		}
	}
	return d
}

// CorrectedBy tells, for a dossier's events in order, which approved corrections later changed what
// each one recorded: the receipt (or the online submission, before any receipt) for the applicant's
// data and the procedure, the redirected transfer for a transfer. The inspector's timeline marks
// those events; they stay as they were recorded.
func CorrectedBy(events []Event) map[int][]int {
	out := map[int][]int{}
	recorded := -1 // the event that recorded the applicant and the procedure
	for i, e := range events {
		switch e := e.(type) {
		case Submitted:
			if recorded < 0 {
				recorded = i
			}
		case Received:
			recorded = i
		case CorrectionApproved:
			if (e.Applicant != nil || e.Procedure != nil) && recorded >= 0 {
				out[recorded] = append(out[recorded], e.Number)
			}
			if t := e.Transfer; t != nil {
				for j := i - 1; j >= 0; j-- {
					if tr, ok := events[j].(Transferred); ok && tr.TransferredAt.Equal(t.TransferredAt) {
						out[j] = append(out[j], e.Number)
						break
					}
				}
			}
		}
	}
	return out
}
