package http

import (
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// The API's request and response bodies are its own types, mapped field by field to the use cases'
// inputs (package commands) and from their results. Events are built from those inputs by the
// domain and stored for ever in their own, pinned shape (domain/testdata/events): so renaming,
// adding or dropping an API field changes the API only — never what is written — and an event's
// shape never leaks into what clients send. The JSON names are the API's (docs/api.md).

// applicantBody is who files the dossier, as the API takes it.
type applicantBody struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	Address  string `json:"address,omitempty"`
	// Notify lists the channels the applicant wants to be told by: email, sms, zalo ([] for none).
	// Absent, the default applies: e-mail if an address is given, SMS if a phone is
	// (docs/integrations.md). Answers always show the channels in force.
	Notify []string `json:"notify"`
}

func (b applicantBody) applicant() domain.Applicant {
	a := domain.Applicant{Type: domain.ApplicantType(b.Type), Name: b.Name, IDNumber: b.IDNumber, Phone: b.Phone, Email: b.Email, Address: b.Address}
	if b.Notify != nil {
		a.Notify = domain.ParseNotify(b.Notify)
	}
	return a
}

// componentBody is a document submitted with the dossier.
type componentBody struct {
	Name   string `json:"name"`
	Copies int    `json:"copies"`
}

// domainComponents maps the API's components; absent stays nil, so "none given" reads as before.
func domainComponents(bodies []componentBody) []domain.Component {
	if bodies == nil {
		return nil
	}
	components := make([]domain.Component, len(bodies))
	for i, b := range bodies {
		components[i] = domain.Component{Name: b.Name, Copies: b.Copies}
	}
	return components
}

// feeBody is one fee an official assesses.
type feeBody struct {
	Name   string `json:"name"`
	Amount int64  `json:"amount"`
}

// receiveRequest is POST /api/v1/dossiers.
type receiveRequest struct {
	ProcedureCode string          `json:"procedure_code"`
	Channel       string          `json:"channel"`
	Applicant     applicantBody   `json:"applicant"`
	Components    []componentBody `json:"components"`
	ExternalCode  string          `json:"external_code,omitempty"`
	// Boundary-free receipts only (docs/api.md, "Boundary-free receipts").
	CollectAt        string `json:"collect_at,omitempty"`
	ForwardOriginals bool   `json:"forward_originals,omitempty"`
}

func (r receiveRequest) input() commands.ReceiveInput {
	return commands.ReceiveInput{ProcedureCode: r.ProcedureCode, Channel: domain.Channel(r.Channel), Applicant: r.Applicant.applicant(),
		Components: domainComponents(r.Components), ExternalCode: r.ExternalCode, CollectAt: r.CollectAt, ForwardOriginals: r.ForwardOriginals}
}

// receiptResponse answers a receipt (form 01): shown once, since the secret is kept only as a hash.
type receiptResponse struct {
	DossierID       string    `json:"id"`
	Code            string    `json:"code,omitempty"`
	Status          string    `json:"status"`
	Version         uint64    `json:"version"`
	Events          []string  `json:"events"`
	ReceivedAt      time.Time `json:"received_at,omitzero"`
	AppointmentDate time.Time `json:"appointment_date,omitzero"`
	RatingSecret    string    `json:"rating_secret,omitempty"`
}

func receiptResponseOf(r commands.Receipt) receiptResponse {
	return receiptResponse{DossierID: r.DossierID, Code: r.Code, Status: string(r.Status), Version: r.Version, Events: r.Events,
		ReceivedAt: r.ReceivedAt, AppointmentDate: r.AppointmentDate, RatingSecret: r.RatingSecret}
}

// rateRequest is POST /api/v1/public/dossiers/{code}/rating: the receipt's secret and a level per criterion.
type rateRequest struct {
	Secret  string            `json:"secret"`
	Scores  map[string]string `json:"scores"`
	Comment string            `json:"comment,omitempty" text:"multiline"`
}

func (r rateRequest) input() commands.RateInput {
	var scores map[domain.Criterion]domain.RatingLevel
	if r.Scores != nil {
		scores = make(map[domain.Criterion]domain.RatingLevel, len(r.Scores))
		for criterion, level := range r.Scores {
			scores[domain.Criterion(criterion)] = domain.RatingLevel(level)
		}
	}
	return commands.RateInput{Secret: r.Secret, Scores: scores, Comment: r.Comment}
}

// actionRequest is the body of POST /api/v1/dossiers/{ref}/{action}.
type actionRequest interface {
	input() commands.Input
}

// actionRequests make an empty body for each action the API offers, ready to decode into.
var actionRequests = map[domain.Action]func() actionRequest{
	domain.ActionReceive:             func() actionRequest { return &acceptRequest{} },
	domain.ActionRefuseReception:     func() actionRequest { return &refuseRequest{} },
	domain.ActionRequestSupplement:   func() actionRequest { return &requestSupplementRequest{} },
	domain.ActionSupplement:          func() actionRequest { return &supplementRequest{} },
	domain.ActionTransfer:            func() actionRequest { return &transferRequest{} },
	domain.ActionInterAgencyTransfer: func() actionRequest { return &interAgencyTransferRequest{} },
	domain.ActionAppraise:            func() actionRequest { return &appraiseRequest{} },
	domain.ActionSign:                func() actionRequest { return &signRequest{} },
	domain.ActionAssessFee:           func() actionRequest { return &assessFeeRequest{} },
	domain.ActionPay:                 func() actionRequest { return &payRequest{} },
	domain.ActionMarkResultReady:     func() actionRequest { return &markResultReadyRequest{} },
	domain.ActionReturnResult:        func() actionRequest { return &returnResultRequest{} },
	domain.ActionIssueApology:        func() actionRequest { return &issueApologyRequest{} },
	domain.ActionSuspend:             func() actionRequest { return &suspendRequest{} },
	domain.ActionResume:              func() actionRequest { return &resumeRequest{} },
	domain.ActionWithdraw:            func() actionRequest { return &withdrawRequest{} },
	domain.ActionReject:              func() actionRequest { return &rejectRequest{} },
	domain.ActionCompletePart:        func() actionRequest { return &completePartRequest{} },
	domain.ActionOriginalsArrived:    func() actionRequest { return &originalsArrivedRequest{} },
}

// newActionRequest returns an empty body for action, or false when the API has no such action.
func newActionRequest(action domain.Action) (actionRequest, bool) {
	newRequest, ok := actionRequests[action]
	if !ok {
		return nil, false
	}
	return newRequest(), true
}

// acceptRequest accepts an online submission, optionally with the components actually checked.
type acceptRequest struct {
	Components []componentBody `json:"components,omitempty"`
}

func (r *acceptRequest) input() commands.Input {
	return &commands.AcceptInput{Components: domainComponents(r.Components)}
}

type refuseRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *refuseRequest) input() commands.Input { return commands.RefuseInput{Reason: r.Reason} }

type requestSupplementRequest struct {
	MissingItems []string `json:"missing_items"`
	Reason       string   `json:"reason" text:"multiline"`
}

func (r *requestSupplementRequest) input() commands.Input {
	return commands.RequestSupplementInput{MissingItems: r.MissingItems, Reason: r.Reason}
}

type supplementRequest struct {
	Components []componentBody `json:"components"`
}

func (r *supplementRequest) input() commands.Input {
	return commands.SupplementInput{Components: domainComponents(r.Components)}
}

type transferRequest struct {
	ToUnit         string  `json:"to_unit,omitempty"`
	ToOfficialID   string  `json:"to_official_id,omitempty"`
	ToOfficialName string  `json:"to_official_name,omitempty"`
	Step           string  `json:"step"`
	AllottedHours  float64 `json:"allotted_hours,omitempty"`
	Note           string  `json:"note,omitempty" text:"multiline"`
	SkipReason     string  `json:"skip_reason,omitempty" text:"multiline"`
}

func (r *transferRequest) input() commands.Input {
	return commands.TransferInput{ToUnit: r.ToUnit, ToOfficialID: r.ToOfficialID, ToOfficialName: r.ToOfficialName, Step: r.Step,
		AllottedHours: r.AllottedHours, Note: r.Note, SkipReason: r.SkipReason}
}

type interAgencyTransferRequest struct {
	ToAgency      string  `json:"to_agency,omitempty"`
	Step          string  `json:"step,omitempty"`
	Purpose       string  `json:"purpose,omitempty"`
	AllottedHours float64 `json:"allotted_hours,omitempty"`
	SkipReason    string  `json:"skip_reason,omitempty" text:"multiline"`
}

func (r *interAgencyTransferRequest) input() commands.Input {
	return commands.InterAgencyTransferInput{ToAgency: r.ToAgency, Step: r.Step, Purpose: r.Purpose, AllottedHours: r.AllottedHours,
		SkipReason: r.SkipReason}
}

type appraiseRequest struct {
	Conclusion string `json:"conclusion"`
	Opinion    string `json:"opinion" text:"multiline"`
}

func (r *appraiseRequest) input() commands.Input {
	return commands.AppraiseInput{Conclusion: domain.AppraisalConclusion(r.Conclusion), Opinion: r.Opinion}
}

type signRequest struct {
	DocumentNumber string `json:"document_number"`
	DocumentHash   string `json:"document_hash"` // hex SHA-256
	SignerTitle    string `json:"signer_title,omitempty"`
}

func (r *signRequest) input() commands.Input {
	return commands.SignInput{DocumentNumber: r.DocumentNumber, DocumentHash: r.DocumentHash, SignerTitle: r.SignerTitle}
}

// assessFeeRequest lists the fees; none means the catalog's.
type assessFeeRequest struct {
	Items []feeBody `json:"items,omitempty"`
}

func (r *assessFeeRequest) input() commands.Input {
	var items []domain.Fee
	if r.Items != nil {
		items = make([]domain.Fee, len(r.Items))
		for i, b := range r.Items {
			items[i] = domain.Fee{Name: b.Name, Amount: b.Amount}
		}
	}
	return commands.AssessFeeInput{Items: items}
}

type payRequest struct {
	Amount        int64  `json:"amount"`
	Channel       string `json:"channel"`
	ReceiptNumber string `json:"receipt_number"`
}

func (r *payRequest) input() commands.Input {
	return commands.PayInput{Amount: r.Amount, Channel: domain.PaymentChannel(r.Channel), ReceiptNumber: r.ReceiptNumber}
}

type markResultReadyRequest struct {
	DocumentNumber string `json:"document_number,omitempty"`
	DocumentHash   string `json:"document_hash,omitempty"`
}

func (r *markResultReadyRequest) input() commands.Input {
	return commands.MarkResultReadyInput{DocumentNumber: r.DocumentNumber, DocumentHash: r.DocumentHash}
}

type returnResultRequest struct {
	Channel string `json:"channel"`
}

func (r *returnResultRequest) input() commands.Input {
	return commands.ReturnResultInput{Channel: domain.Channel(r.Channel)}
}

// issueApologyRequest moves the appointment date to a given date, or by a number of working days.
type issueApologyRequest struct {
	Reason             string    `json:"reason" text:"multiline"`
	NewAppointmentDate time.Time `json:"new_appointment_date,omitzero"`
	ExtraWorkingDays   int       `json:"extra_working_days,omitempty"`
}

func (r *issueApologyRequest) input() commands.Input {
	return commands.IssueApologyInput{Reason: r.Reason, NewAppointmentDate: r.NewAppointmentDate, ExtraWorkingDays: r.ExtraWorkingDays}
}

type suspendRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *suspendRequest) input() commands.Input { return commands.SuspendInput{Reason: r.Reason} }

type withdrawRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *withdrawRequest) input() commands.Input { return commands.WithdrawInput{Reason: r.Reason} }

type rejectRequest struct {
	Reason string `json:"reason" text:"multiline"`
}

func (r *rejectRequest) input() commands.Input { return commands.RejectInput{Reason: r.Reason} }

type resumeRequest struct{}

func (*resumeRequest) input() commands.Input { return commands.ResumeInput{} }

type completePartRequest struct {
	Step    string `json:"step"`
	Opinion string `json:"opinion" text:"multiline"`
}

func (r *completePartRequest) input() commands.Input {
	return commands.CompletePartInput{Step: r.Step, Opinion: r.Opinion}
}

type originalsArrivedRequest struct {
	Note string `json:"note,omitempty" text:"multiline"`
}

func (r *originalsArrivedRequest) input() commands.Input {
	return commands.OriginalsArrivedInput{Note: r.Note}
}
