package http

import (
	"time"

	"github.com/motcua/motcua/domain"
)

// dossierResponse is the officials' full view of a dossier (GET /api/v1/dossiers/{ref}), in the
// API's own types (see api_types.go): the dossier's state as folded from its events, how the
// national portal reads its status, whether it is late, and what may be done with it now. Its
// wire format is pinned by testdata/api/dossier.json.
type dossierResponse struct {
	ID                 string                 `json:"id"`
	Version            uint64                 `json:"version"`
	Status             string                 `json:"status"`
	Code               string                 `json:"code,omitempty"`
	ExternalCode       string                 `json:"external_code,omitempty"`
	Procedure          procedureBody          `json:"procedure"`
	Applicant          applicantBody          `json:"applicant"`
	Channel            string                 `json:"channel"`
	Components         []componentBody        `json:"components"`
	ReceivingUnit      string                 `json:"receiving_unit"`
	CompetentAgency    string                 `json:"competent_agency"`
	SubmittedAt        time.Time              `json:"submitted_at,omitzero"`
	ReceivedAt         time.Time              `json:"received_at,omitzero"`
	AppointmentDate    time.Time              `json:"appointment_date,omitzero"`
	FirstAppointment   time.Time              `json:"first_appointment_date,omitzero"`
	CalendarVersion    string                 `json:"calendar_version,omitempty"`
	DueDate            time.Time              `json:"due_date,omitzero"`
	IndicatorDueDate   time.Time              `json:"indicator_due_date,omitzero"`
	ClockStart         time.Time              `json:"clock_start,omitzero"`
	RulesVersion       string                 `json:"rules_version,omitempty"`
	Rules              rulesBody              `json:"rules,omitzero"`
	AcceptanceWindows  []acceptanceWindowBody `json:"acceptance_windows,omitempty"`
	Holder             handlerBody            `json:"holder,omitzero"`
	HolderAgency       string                 `json:"holder_agency,omitempty"`
	Step               string                 `json:"step,omitempty"`
	LatestWorkflowStep string                 `json:"latest_workflow_step,omitempty"`
	StepDeadline       time.Time              `json:"step_deadline,omitzero"`
	Transfers          int                    `json:"transfers"`
	OpenParts          []openPartBody         `json:"open_parts,omitempty"`
	SupplementRequests int                    `json:"supplement_requests"`
	PendingSupplement  *supplementRequestBody `json:"pending_supplement,omitempty"`
	WaitingTime        time.Duration          `json:"waiting_working_time"` // nanoseconds
	Appraisal          *appraisalBody         `json:"appraisal,omitempty"`
	Signature          *signatureBody         `json:"signature,omitempty"`
	FeesDue            int64                  `json:"fees_due"`
	FeesPaid           int64                  `json:"fees_paid"`
	Payments           []paymentBody          `json:"payments,omitempty"`
	Results            []resultBody           `json:"results,omitempty"`
	Documents          []documentBody         `json:"documents,omitempty"`
	ReturnedAt         time.Time              `json:"returned_at,omitzero"`
	Apology            *apologyBody           `json:"apology,omitempty"`
	Apologies          int                    `json:"apologies"`
	SuspendedAt        time.Time              `json:"suspended_at,omitzero"`
	ClosedAt           time.Time              `json:"closed_at,omitzero"`
	CloseReason        string                 `json:"close_reason,omitempty"`
	Rating             *ratingBody            `json:"rating,omitempty"`
	ResumeStatus       string                 `json:"resume_status,omitempty"`
	StatusAfterPayment string                 `json:"status_after_payment,omitempty"`
	PortalStatus       int                    `json:"portal_status"`
	Late               bool                   `json:"late"`
	AllowedActions     []string               `json:"allowed_actions"`
	Corrections        *correctionsBody       `json:"corrections,omitempty"` // absent until a correction is requested (corrections.go)
	// A boundary-free receipt's terms (docs/api.md, "Boundary-free receipts"); absent otherwise.
	BoundaryFree       *boundaryFreeBody `json:"boundary_free,omitempty"`
	OriginalsArrivedAt time.Time         `json:"originals_arrived_at,omitzero"`
}

// boundaryFreeBody is where a boundary-free receipt was made, who decides, where the result is
// collected, and the originals' forwarding step.
type boundaryFreeBody struct {
	ReceivingCentre    string    `json:"receiving_centre"`
	CompetentAgency    string    `json:"competent_agency"`
	CollectAt          string    `json:"collect_at"`
	ForwardOriginals   bool      `json:"forward_originals"`
	ForwardingHours    float64   `json:"forwarding_hours,omitempty"`
	ForwardingDeadline time.Time `json:"forwarding_deadline,omitzero"`
}

func boundaryFreeBodyOf(b domain.BoundaryFreeReceived) boundaryFreeBody {
	return boundaryFreeBody{ReceivingCentre: b.ReceivingCentre, CompetentAgency: b.CompetentAgency, CollectAt: b.CollectAt,
		ForwardOriginals: b.ForwardOriginals, ForwardingHours: b.ForwardingHours, ForwardingDeadline: b.ForwardingDeadline}
}

func dossierResponseOf(d domain.Dossier, now time.Time) dossierResponse {
	return dossierResponse{
		ID: d.ID, Version: d.Version, Status: string(d.Status), Code: string(d.Code), ExternalCode: d.ExternalCode,
		Procedure: procedureBodyOf(d.Procedure), Applicant: applicantBodyOf(d.Applicant), Channel: string(d.Channel),
		Components: mapSlice(d.Components, componentBodyOf), ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency,
		SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate, FirstAppointment: d.FirstAppointment,
		CalendarVersion: d.CalendarVersion, DueDate: d.DueDate, IndicatorDueDate: d.IndicatorDueDate, ClockStart: d.ClockStart,
		RulesVersion: d.RulesVersion, Rules: rulesBodyOf(d.Rules), AcceptanceWindows: mapSlice(d.AcceptanceWindows, acceptanceWindowBodyOf),
		Holder: handlerBodyOf(d.Holder), HolderAgency: d.HolderAgency, Step: d.Step, LatestWorkflowStep: d.LatestWorkflowStep,
		StepDeadline: d.StepDeadline, Transfers: d.Transfers, OpenParts: mapSlice(d.OpenParts, openPartBodyOf),
		SupplementRequests: d.SupplementRequests, PendingSupplement: mapPointer(d.PendingSupplement, supplementRequestBodyOf),
		WaitingTime: d.WaitingTime, Appraisal: mapPointer(d.Appraisal, appraisalBodyOf), Signature: mapPointer(d.Signature, signatureBodyOf),
		FeesDue: d.FeesDue, FeesPaid: d.FeesPaid, Payments: mapSlice(d.Payments, paymentBodyOf), Results: mapSlice(d.Results, resultBodyOf),
		Documents:  mapSlice(d.Documents, documentBodyOf),
		ReturnedAt: d.ReturnedAt, Apology: mapPointer(d.Apology, apologyBodyOf), Apologies: d.Apologies, SuspendedAt: d.SuspendedAt,
		ClosedAt: d.ClosedAt, CloseReason: d.CloseReason, Rating: mapPointer(d.Rating, ratingBodyOf),
		ResumeStatus: string(d.ResumeStatus), StatusAfterPayment: string(d.StatusAfterPayment),
		PortalStatus: d.Status.PortalStatusCode(), Late: d.Late(now), AllowedActions: mapSlice(domain.AllowedActions(d), actionName),
		Corrections:  correctionsBodyOf(d.Correction),
		BoundaryFree: mapPointer(d.BoundaryFree, boundaryFreeBodyOf), OriginalsArrivedAt: d.OriginalsArrivedAt,
	}
}

// mapSlice maps each element; nil stays nil (null on the wire), empty stays empty ([]).
func mapSlice[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// mapPointer maps what p points to; nil stays nil.
func mapPointer[T, U any](p *T, f func(T) U) *U {
	if p == nil {
		return nil
	}
	u := f(*p)
	return &u
}

func actionName(a domain.Action) string { return string(a) }

func applicantBodyOf(a domain.Applicant) applicantBody {
	return applicantBody{Type: string(a.Type), Name: a.Name, IDNumber: a.IDNumber, Phone: a.Phone, Email: a.Email, Address: a.Address,
		Notify: a.Notifications().Names()}
}

func componentBodyOf(c domain.Component) componentBody {
	return componentBody{Name: c.Name, Copies: c.Copies}
}

// procedureBody is the procedure as the dossier keeps it since its receipt.
type procedureBody struct {
	Code              string  `json:"code"`
	Name              string  `json:"name"`
	FieldCode         string  `json:"field_code"`
	FieldName         string  `json:"field_name"`
	ResolutionDays    int     `json:"resolution_days,omitempty"`
	ResolutionHours   float64 `json:"resolution_hours,omitempty"`
	ResolutionSameDay bool    `json:"resolution_same_day,omitempty"`
}

func procedureBodyOf(p domain.ProcedureRef) procedureBody {
	return procedureBody{Code: p.Code, Name: p.Name, FieldCode: p.FieldCode, FieldName: p.FieldName,
		ResolutionDays: p.Days, ResolutionHours: p.Hours, ResolutionSameDay: p.SameDay}
}

// rulesBody is the rule set in force at receipt (docs/rules.md).
type rulesBody struct {
	Version                        string    `json:"version"`
	EffectiveFrom                  time.Time `json:"effective_from"`
	Basis                          string    `json:"basis"`
	OnlineAcceptanceHours          float64   `json:"online_acceptance_hours"`
	TransferSameWorkingDay         bool      `json:"transfer_same_working_day"`
	SupplementNoticeDays           int       `json:"supplement_notice_days"`
	ApologyNoticeDays              int       `json:"apology_notice_days"`
	MaxApologies                   int       `json:"max_apologies"`
	ApologyMaxExtensionPercent     int       `json:"apology_max_extension_percent,omitempty"`
	AfterCutoffCountsFrom          string    `json:"after_cutoff_counts_from,omitempty"`
	IndicatorMaxSupplementRequests int       `json:"indicator_max_supplement_requests"`
	Forms                          formsBody `json:"forms"`
}

// formsBody are the form numbers of the rule set's guiding circular.
type formsBody struct {
	Receipt         string `json:"receipt"`
	Supplement      string `json:"supplement"`
	Refusal         string `json:"refusal"`
	Apology         string `json:"apology"`
	StopNotice      string `json:"stop_notice"`
	ControlSheet    string `json:"control_sheet"`
	DossierRegister string `json:"dossier_register"`
}

func rulesBodyOf(r domain.Rules) rulesBody {
	return rulesBody{
		Version: r.Version, EffectiveFrom: r.EffectiveFrom, Basis: r.Basis, OnlineAcceptanceHours: r.OnlineAcceptanceHours,
		TransferSameWorkingDay: r.TransferSameWorkingDay, SupplementNoticeDays: r.SupplementNoticeDays, ApologyNoticeDays: r.ApologyNoticeDays,
		MaxApologies: r.MaxApologies, ApologyMaxExtensionPercent: r.ApologyMaxExtensionPercent, AfterCutoffCountsFrom: r.AfterCutoffCountsFrom,
		IndicatorMaxSupplementRequests: r.IndicatorMaxSupplementRequests,
		Forms: formsBody{Receipt: r.Forms.Receipt, Supplement: r.Forms.Supplement, Refusal: r.Forms.Refusal, Apology: r.Forms.Apology,
			StopNotice: r.Forms.StopNotice, ControlSheet: r.Forms.ControlSheet, DossierRegister: r.Forms.DossierRegister},
	}
}

type acceptanceWindowBody struct {
	OpenedAt   time.Time `json:"opened_at"`
	Deadline   time.Time `json:"deadline"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Answer     string    `json:"answer,omitempty"`
}

func acceptanceWindowBodyOf(w domain.AcceptanceWindow) acceptanceWindowBody {
	return acceptanceWindowBody{OpenedAt: w.OpenedAt, Deadline: w.Deadline, AnsweredAt: w.AnsweredAt, Answer: w.Answer}
}

// handlerBody is a unit and, when assigned, an official.
type handlerBody struct {
	Unit         string `json:"unit"`
	OfficialID   string `json:"official_id,omitempty"`
	OfficialName string `json:"official_name,omitempty"`
}

func handlerBodyOf(h domain.Handler) handlerBody {
	return handlerBody{Unit: h.Unit, OfficialID: h.OfficialID, OfficialName: h.OfficialName}
}

// openPartBody is a part of a parallel step still being done.
type openPartBody struct {
	ParallelStep  string    `json:"parallel_step"`
	Step          string    `json:"step"`
	Unit          string    `json:"unit"`
	Agency        string    `json:"agency"`
	Role          string    `json:"role,omitempty"`
	AllottedHours float64   `json:"allotted_hours"`
	StepDeadline  time.Time `json:"step_deadline"`
	StartedAt     time.Time `json:"started_at"`
}

func openPartBodyOf(p domain.OpenPart) openPartBody {
	return openPartBody{ParallelStep: p.ParallelStep, Step: p.Step, Unit: p.Unit, Agency: p.Agency, Role: p.Role,
		AllottedHours: p.AllottedHours, StepDeadline: p.StepDeadline, StartedAt: p.StartedAt}
}

type supplementRequestBody struct {
	MissingItems    []string  `json:"missing_items"`
	Reason          string    `json:"reason"`
	BeforeReceipt   bool      `json:"before_receipt"`
	RequestNumber   int       `json:"request_number"`
	RequestedAt     time.Time `json:"requested_at"`
	NoticeDeadline  time.Time `json:"notice_deadline,omitzero"`
	CalendarVersion string    `json:"calendar_version,omitempty"`
	RulesVersion    string    `json:"rules_version,omitempty"`
}

func supplementRequestBodyOf(s domain.SupplementRequested) supplementRequestBody {
	return supplementRequestBody{MissingItems: s.MissingItems, Reason: s.Reason, BeforeReceipt: s.BeforeReceipt, RequestNumber: s.RequestNumber,
		RequestedAt: s.RequestedAt, NoticeDeadline: s.NoticeDeadline, CalendarVersion: s.CalendarVersion, RulesVersion: s.RulesVersion}
}

type appraisalBody struct {
	Conclusion  string      `json:"conclusion"`
	Opinion     string      `json:"opinion"`
	Appraiser   handlerBody `json:"appraiser"`
	AppraisedAt time.Time   `json:"appraised_at"`
}

func appraisalBodyOf(a domain.Appraised) appraisalBody {
	return appraisalBody{Conclusion: string(a.Conclusion), Opinion: a.Opinion, Appraiser: handlerBodyOf(a.Appraiser), AppraisedAt: a.AppraisedAt}
}

type signatureBody struct {
	Signer          handlerBody          `json:"signer"`
	SignerTitle     string               `json:"signer_title,omitempty"`
	DocumentNumber  string               `json:"document_number"`
	DocumentHash    string               `json:"document_hash"`
	SignedAt        time.Time            `json:"signed_at"`
	AgencySignature *agencySignatureBody `json:"agency_signature,omitempty"`
}

func signatureBodyOf(s domain.Signed) signatureBody {
	return signatureBody{Signer: handlerBodyOf(s.Signer), SignerTitle: s.SignerTitle, DocumentNumber: s.DocumentNumber,
		DocumentHash: s.DocumentHash, SignedAt: s.SignedAt, AgencySignature: mapPointer(s.AgencySignature, agencySignatureBodyOf)}
}

// agencySignatureBody is the agency's digital signature, checkable with the public key it carries.
type agencySignatureBody struct {
	Agency    string `json:"agency"`
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	Value     string `json:"value"`
}

func agencySignatureBodyOf(s domain.AgencySignature) agencySignatureBody {
	return agencySignatureBody{Agency: s.Agency, Algorithm: s.Algorithm, KeyID: s.KeyID, PublicKey: s.PublicKey, Value: s.Value}
}

type paymentBody struct {
	Amount        int64     `json:"amount"`
	Channel       string    `json:"channel"`
	ReceiptNumber string    `json:"receipt_number"`
	PaidAt        time.Time `json:"paid_at"`
	// Of an online payment through a gateway: which, the order paid, the paying bank.
	Gateway         string               `json:"gateway,omitempty"`
	OrderRef        string               `json:"order_ref,omitempty"`
	BankCode        string               `json:"bank_code,omitempty"`
	AgencySignature *agencySignatureBody `json:"agency_signature,omitempty"`
}

func paymentBodyOf(p domain.Paid) paymentBody {
	return paymentBody{Amount: p.Amount, Channel: string(p.Channel), ReceiptNumber: p.ReceiptNumber, PaidAt: p.PaidAt,
		Gateway: p.Gateway, OrderRef: p.OrderRef, BankCode: p.BankCode, AgencySignature: mapPointer(p.AgencySignature, agencySignatureBodyOf)}
}

type resultBody struct {
	ResultCode     string    `json:"result_code"`
	Index          int       `json:"index"`
	DocumentNumber string    `json:"document_number,omitempty"`
	DocumentHash   string    `json:"document_hash,omitempty"`
	ReadyAt        time.Time `json:"ready_at"`
}

func resultBodyOf(r domain.ResultReady) resultBody {
	return resultBody{ResultCode: r.ResultCode, Index: r.Index, DocumentNumber: r.DocumentNumber, DocumentHash: r.DocumentHash, ReadyAt: r.ReadyAt}
}

type apologyBody struct {
	Reason             string    `json:"reason"`
	OldAppointmentDate time.Time `json:"old_appointment_date"`
	NewAppointmentDate time.Time `json:"new_appointment_date"`
	IssuedAt           time.Time `json:"issued_at"`
	LatestAllowedDate  time.Time `json:"latest_allowed_date,omitzero"`
	CalendarVersion    string    `json:"calendar_version,omitempty"`
	RulesVersion       string    `json:"rules_version,omitempty"`
}

func apologyBodyOf(a domain.ApologyIssued) apologyBody {
	return apologyBody{Reason: a.Reason, OldAppointmentDate: a.OldAppointmentDate, NewAppointmentDate: a.NewAppointmentDate,
		IssuedAt: a.IssuedAt, LatestAllowedDate: a.LatestAllowedDate, CalendarVersion: a.CalendarVersion, RulesVersion: a.RulesVersion}
}

type ratingBody struct {
	Scores  map[string]string `json:"scores"`
	Comment string            `json:"comment,omitempty"`
	RatedAt time.Time         `json:"rated_at"`
}

func ratingBodyOf(r domain.Rated) ratingBody {
	var scores map[string]string
	if r.Scores != nil {
		scores = make(map[string]string, len(r.Scores))
		for criterion, level := range r.Scores {
			scores[string(criterion)] = string(level)
		}
	}
	return ratingBody{Scores: scores, Comment: r.Comment, RatedAt: r.RatedAt}
}
