package domain

import (
	"slices"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Submit files a dossier online; it waits for the agency's acceptance within the time of the rule
// set in force (Rules.OnlineAcceptanceHours).
type Submit struct {
	DossierID     string
	ExternalCode  string // the national portal's own id of a dossier filed there; empty when filed here
	Procedure     Procedure
	Applicant     Applicant
	Components    []Component
	ReceivingUnit string
	At            time.Time
	Calendar      *calendar.Calendar
	Rules         *RuleBook // nil: the built-in book
}

// Receive accepts a dossier — a new one at the desk, or one submitted online — with its newly
// allocated code; the appointment date and the transfer deadline are computed now and recorded with
// the rule set in force, which the dossier keeps for life.
type Receive struct {
	DossierID        string
	Code             DossierCode
	ExternalCode     string
	Procedure        Procedure // as the catalog has it now
	Applicant        Applicant // for a new dossier; ignored for a submitted one
	Channel          Channel   // for a new dossier; a submitted one stays online
	Components       []Component
	ReceivingUnit    string
	RatingSecretHash string
	At               time.Time
	Calendar         *calendar.Calendar
	Rules            *RuleBook // nil: the built-in book
	// BoundaryFree, for a receipt outside the competent agency's territory (Catalog.ReceiptRule).
	BoundaryFree *BoundaryFreeTerms
	// CatalogRevision is the revision of the catalog Procedure was taken from (0: a catalog without
	// a history); the dossier keeps that version of its procedure for life.
	CatalogRevision uint64
}

// RefuseReception refuses a submitted dossier (form 03); the reason is mandatory.
type RefuseReception struct {
	Reason string
	At     time.Time
}

// RequestSupplement sends a dossier back for completion (form 02), listing everything missing at
// once; after receipt the request records the last day the rules allowed for it.
type RequestSupplement struct {
	MissingItems []string
	Reason       string
	At           time.Time
	Calendar     *calendar.Calendar
}

// Supplement records the applicant's completed dossier: after receipt the resolution time restarts;
// before receipt a new acceptance window opens.
type Supplement struct {
	Components []Component
	At         time.Time
	Calendar   *calendar.Calendar
	Rules      *RuleBook // nil: the built-in book; used before receipt only
}

func (Submit) Action() Action            { return ActionSubmit }
func (Receive) Action() Action           { return ActionReceive }
func (RefuseReception) Action() Action   { return ActionRefuseReception }
func (RequestSupplement) Action() Action { return ActionRequestSupplement }
func (Supplement) Action() Action        { return ActionSupplement }

func decideSubmit(d Dossier, c Submit) ([]Event, error) {
	var v Validation
	v.Check(c.DossierID != "", "dossier_id", "is required")
	v.Check(c.Procedure.Code != "", "procedure_code", "is not a catalog procedure")
	v.Check(c.Procedure.OnlineLevel == "full" || c.Procedure.OnlineLevel == "partial", "procedure_code", "this procedure cannot be filed online")
	c.Applicant.Validate(&v, "applicant")
	checkComponents(&v, c.Components, true)
	v.Check(ValidUnitCode(c.ReceivingUnit), "receiving_unit", "is not a QCVN 102 identifier")
	checkText(&v, "external_code", c.ExternalCode, false, 100)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rules := c.Rules.At(c.At)
	return []Event{Submitted{
		DossierID: c.DossierID, ExternalCode: c.ExternalCode, Procedure: RefOf(c.Procedure), Applicant: c.Applicant, Components: c.Components,
		ReceivingUnit: c.ReceivingUnit, CompetentAgency: c.Procedure.CompetentAgency, SubmittedAt: c.At,
		AcceptanceDeadline: rules.AcceptanceDeadline(c.Calendar, c.At), CalendarVersion: c.Calendar.Version(),
		RulesVersion: rules.Version,
	}}, nil
}

func decideReceive(d Dossier, c Receive) ([]Event, error) {
	var v Validation
	v.Check(c.Code != "", "code", "a dossier code must be allocated")
	v.Check(c.Procedure.Code != "", "procedure_code", "is not a catalog procedure")
	v.Check(c.Procedure.ResolutionTime.IsSet(), "procedure_code", "has no resolution time")
	v.Check(c.RatingSecretHash != "", "rating_secret", "is required")
	checkText(&v, "external_code", c.ExternalCode, false, 100)
	checkMoment(&v, c.At)
	e := Received{
		DossierID: c.DossierID, Code: c.Code, ExternalCode: c.ExternalCode, Procedure: RefOf(c.Procedure),
		Applicant: c.Applicant, Channel: c.Channel, Components: c.Components, ReceivingUnit: c.ReceivingUnit,
		CompetentAgency: c.Procedure.CompetentAgency, ReceivedAt: c.At, RatingSecretHash: c.RatingSecretHash,
		CatalogRevision: c.CatalogRevision,
	}
	if d.Status == StatusSubmitted {
		// Accepting an online submission: the dossier keeps what the applicant filed.
		v.Check(c.Procedure.Code == d.Procedure.Code, "procedure_code", "differs from the submitted dossier's")
		e.DossierID, e.Applicant, e.Channel = d.ID, d.Applicant, ChannelOnline
		e.Components = append(append([]Component{}, d.Components...), c.Components...)
		e.ReceivingUnit = d.ReceivingUnit
		if e.ExternalCode == "" {
			e.ExternalCode = d.ExternalCode // the portal's id stays beside ours once accepted
		}
		checkComponents(&v, c.Components, false)
	} else {
		v.Check(c.DossierID != "", "dossier_id", "is required")
		v.Check(c.Channel.Valid(), "channel", "must be direct, online or postal")
		c.Applicant.Validate(&v, "applicant")
		checkComponents(&v, c.Components, true)
		v.Check(ValidUnitCode(c.ReceivingUnit), "receiving_unit", "is not a QCVN 102 identifier")
	}
	boundaryFree := boundaryFreeReceipt(c, e, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rules := c.Rules.At(c.At)
	e.AppointmentDate = rules.Appointment(c.Calendar, c.Procedure.ResolutionTime, c.At)
	e.TransferDeadline = rules.TransferDeadline(c.Calendar, c.At)
	e.CalendarVersion = c.Calendar.Version()
	e.RulesVersion, e.Rules = rules.Version, rules
	if boundaryFree != nil {
		return []Event{e, *boundaryFree}, nil
	}
	return []Event{e}, nil
}

func decideRefuse(d Dossier, c RefuseReception) ([]Event, error) {
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	return []Event{ReceptionRefused{Reason: c.Reason, RefusedAt: c.At}}, nil
}

func decideRequestSupplement(d Dossier, c RequestSupplement) ([]Event, error) {
	var v Validation
	v.Check(len(c.MissingItems) > 0, "missing_items", "list everything that is missing, at once")
	for i, item := range c.MissingItems {
		checkText(&v, "missing_items["+itoa(i)+"]", item, true, 500)
		v.Check(item == "" || !slices.Contains(c.MissingItems[:i], item), "missing_items["+itoa(i)+"]", "is listed twice")
	}
	checkText(&v, "reason", c.Reason, true, 2000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	e := SupplementRequested{
		MissingItems: c.MissingItems, Reason: c.Reason, BeforeReceipt: d.Status == StatusSubmitted,
		RequestNumber: d.SupplementRequests + 1, RequestedAt: c.At,
	}
	if !e.BeforeReceipt {
		// The applicant must be asked within a few working days of the receipt, or of the last
		// return of the completed dossier, counted like the resolution time (cut-off included).
		rules := DefaultRuleBook().ForDossier(d)
		e.NoticeDeadline = rules.Appointment(c.Calendar, ResolutionTime{Days: rules.SupplementNoticeDays}, firstNonZero(d.ClockStart, d.ReceivedAt))
		e.CalendarVersion, e.RulesVersion = c.Calendar.Version(), rules.Version
	}
	return []Event{e}, nil
}

func decideSupplement(d Dossier, c Supplement) ([]Event, error) {
	var v Validation
	checkComponents(&v, c.Components, false)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	e := Supplemented{Components: c.Components, SupplementedAt: c.At, CalendarVersion: c.Calendar.Version()}
	req := d.PendingSupplement
	if req == nil || req.BeforeReceipt {
		// A completed online submission waits for acceptance again, under the set in force now.
		rules := c.Rules.At(c.At)
		e.AcceptanceDeadline, e.RulesVersion = rules.AcceptanceDeadline(c.Calendar, c.At), rules.Version
		return []Event{e}, nil
	}
	// NĐ 61 art. 19: the resolution time restarts from the moment the complete dossier is back. The
	// national indicator instead moves the date by the time spent waiting; both are recorded.
	e.WaitingTime = c.Calendar.WorkingTimeBetween(req.RequestedAt, c.At)
	e.OldAppointmentDate = d.AppointmentDate
	rules := DefaultRuleBook().ForDossier(d)
	e.NewAppointmentDate = rules.Appointment(c.Calendar, d.Procedure.ResolutionTime, c.At)
	e.NewIndicatorDueDate = c.Calendar.AddWorkingTime(firstNonZero(d.IndicatorDueDate, d.AppointmentDate), e.WaitingTime)
	e.RulesVersion = rules.Version
	return []Event{e}, nil
}
