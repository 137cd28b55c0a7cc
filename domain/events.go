package domain

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Event is a fact that happened to a dossier. Each has a stable, versioned wire name; a published
// event's meaning never changes — a new meaning gets a new version.
type Event interface {
	EventType() string
}

// Wire names of the dossier events.
const (
	TypeSubmitted              = "dossier.submitted.v1"
	TypeReceived               = "dossier.received.v1"
	TypeReceptionRefused       = "dossier.reception_refused.v1"
	TypeSupplementRequested    = "dossier.supplement_requested.v1"
	TypeSupplemented           = "dossier.supplemented.v1"
	TypeTransferred            = "dossier.transferred.v1"
	TypeInterAgencyTransferred = "dossier.inter_agency_transferred.v1"
	TypeAppraised              = "dossier.appraised.v1"
	TypeSigned                 = "dossier.signed.v1"
	TypeFeeAssessed            = "dossier.fee_assessed.v1"
	TypePaid                   = "dossier.paid.v1"
	TypeResultReady            = "dossier.result_ready.v1"
	TypeResultReturned         = "dossier.result_returned.v1"
	TypeApologyIssued          = "dossier.apology_issued.v1"
	TypeSuspended              = "dossier.suspended.v1"
	TypeResumed                = "dossier.resumed.v1"
	TypeWithdrawn              = "dossier.withdrawn.v1"
	TypeRejected               = "dossier.rejected.v1"
	TypeRated                  = "dossier.rated.v1"
	TypeParallelStepStarted    = "dossier.parallel_step_started.v1"
	TypePartCompleted          = "dossier.part_completed.v1"
	TypeDocumentAttached       = "dossier.document_attached.v1"
)

// Channel is how a dossier came in or a result goes out (national portal codes: 1 in person,
// 2 online, 3 public postal service).
type Channel string

const (
	ChannelDirect Channel = "direct"
	ChannelOnline Channel = "online"
	ChannelPostal Channel = "postal"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	return c == ChannelDirect || c == ChannelOnline || c == ChannelPostal
}

// PortalCode is the national portal's channel code.
func (c Channel) PortalCode() int {
	switch c {
	case ChannelDirect:
		return 1
	case ChannelOnline:
		return 2
	case ChannelPostal:
		return 3
	}
	return 0
}

// Component is a document submitted with the dossier.
type Component struct {
	Name   string `json:"name"`
	Copies int    `json:"copies"`
}

// ProcedureRef is what a dossier keeps of its procedure at receipt, so a later catalog change does
// not change the dossier's history.
type ProcedureRef struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	FieldCode      string `json:"field_code"`
	FieldName      string `json:"field_name"`
	ResolutionTime        // the limit the appointment date was computed from
}

// RefOf keeps the parts of p a dossier needs.
func RefOf(p Procedure) ProcedureRef {
	return ProcedureRef{Code: p.Code, Name: p.Name, FieldCode: p.Field.Code, FieldName: p.Field.Name, ResolutionTime: p.ResolutionTime}
}

// Handler is who holds the dossier: a unit (department or agency) and, when assigned, an official.
type Handler struct {
	Unit         string `json:"unit"`
	OfficialID   string `json:"official_id,omitempty"`
	OfficialName string `json:"official_name,omitempty"`
}

// Submitted: the applicant filed the dossier online; the agency must accept it or send it back.
type Submitted struct {
	DossierID          string       `json:"dossier_id"`
	ExternalCode       string       `json:"external_code,omitempty"` // the national portal's id when filed there (absent before issue 14)
	Procedure          ProcedureRef `json:"procedure"`
	Applicant          Applicant    `json:"applicant"`
	Components         []Component  `json:"components"`
	ReceivingUnit      string       `json:"receiving_unit"`
	CompetentAgency    string       `json:"competent_agency"`
	SubmittedAt        time.Time    `json:"submitted_at"`
	AcceptanceDeadline time.Time    `json:"acceptance_deadline"` // Rules.OnlineAcceptanceHours after submission
	CalendarVersion    string       `json:"calendar_version"`
	RulesVersion       string       `json:"rules_version,omitempty"` // the set that gave the acceptance time
}

// Received: the desk accepted the dossier, gave it its code and promised a date (form 01).
type Received struct {
	DossierID        string       `json:"dossier_id"`
	Code             DossierCode  `json:"code"`
	ExternalCode     string       `json:"external_code,omitempty"` // e.g. the national portal's own code
	Procedure        ProcedureRef `json:"procedure"`
	Applicant        Applicant    `json:"applicant"`
	Channel          Channel      `json:"channel"`
	Components       []Component  `json:"components"`
	ReceivingUnit    string       `json:"receiving_unit"`
	CompetentAgency  string       `json:"competent_agency"`
	ReceivedAt       time.Time    `json:"received_at"`
	AppointmentDate  time.Time    `json:"appointment_date"`
	CalendarVersion  string       `json:"calendar_version"`
	RatingSecretHash string       `json:"rating_secret_hash"` // SHA-256 of the secret printed on the receipt
	// TransferDeadline is when the dossier must reach the competent department (same working day,
	// or the start of the next after the cut-off); it is the deadline of the reception step.
	TransferDeadline time.Time `json:"transfer_deadline,omitzero"`
	// RulesVersion and Rules are the rule set in force at receipt, which the dossier keeps for life.
	RulesVersion string `json:"rules_version,omitempty"`
	Rules        Rules  `json:"rules,omitzero"`
	// CatalogRevision is the catalog's revision the procedure was taken from (docs/catalog.md, "The
	// catalog's history"): its fees, workflow and documents as they stood then apply for life.
	// Absent on dossiers received before the catalog had a history, and on a catalog without one.
	CatalogRevision uint64 `json:"catalog_revision,omitempty"`
}

// ReceptionRefused: the dossier was not accepted (form 03), with a mandatory reason.
type ReceptionRefused struct {
	Reason    string    `json:"reason"`
	RefusedAt time.Time `json:"refused_at"`
}

// SupplementRequested: the agency asked for everything missing at once (form 02).
type SupplementRequested struct {
	MissingItems  []string  `json:"missing_items"`
	Reason        string    `json:"reason"`
	BeforeReceipt bool      `json:"before_receipt"`
	RequestNumber int       `json:"request_number"` // 1 for the first request on this dossier
	RequestedAt   time.Time `json:"requested_at"`
	// NoticeDeadline (after receipt only) is the last day the rules allow for asking: compare it
	// with RequestedAt to judge the request.
	NoticeDeadline  time.Time `json:"notice_deadline,omitzero"`
	CalendarVersion string    `json:"calendar_version,omitempty"`
	RulesVersion    string    `json:"rules_version,omitempty"`
}

// Supplemented: the applicant completed the dossier. After receipt the deadline restarts from this
// moment (NĐ 61 art. 19); both appointment dates and the waiting time are kept so the national
// indicator's rule (subtract the waiting time) can be computed too.
type Supplemented struct {
	Components         []Component   `json:"components,omitempty"`
	SupplementedAt     time.Time     `json:"supplemented_at"`
	WaitingTime        time.Duration `json:"waiting_working_time"` // working time spent waiting for the applicant
	OldAppointmentDate time.Time     `json:"old_appointment_date,omitzero"`
	NewAppointmentDate time.Time     `json:"new_appointment_date,omitzero"`
	CalendarVersion    string        `json:"calendar_version,omitempty"`
	// NewIndicatorDueDate (after receipt) is the national indicator's due date: the previous one
	// moved by the waiting time, instead of a restart.
	NewIndicatorDueDate time.Time `json:"new_indicator_due_date,omitzero"`
	// AcceptanceDeadline (before receipt) opens a new acceptance window for the completed submission.
	AcceptanceDeadline time.Time `json:"acceptance_deadline,omitzero"`
	RulesVersion       string    `json:"rules_version,omitempty"`
}

// Transferred: the dossier was handed from one unit/official to another for a step of its process.
type Transferred struct {
	From          Handler   `json:"from"`
	To            Handler   `json:"to"`
	Step          string    `json:"step"`
	AllottedHours float64   `json:"allotted_hours"`
	StepDeadline  time.Time `json:"step_deadline"`
	Note          string    `json:"note,omitempty"`
	TransferredAt time.Time `json:"transferred_at"`
	// PreviousStepDeadline is the deadline of the step being handed over, so the process-control
	// sheet can judge it early, on time or late without replaying the calendar.
	PreviousStepDeadline time.Time `json:"previous_step_deadline,omitzero"`
	CalendarVersion      string    `json:"calendar_version"`
	// FromWorkflow is true when Step is a step of the procedure's workflow; false for a step the
	// official added with explicit hours (and in events recorded before this was kept).
	FromWorkflow bool `json:"from_workflow,omitempty"`

	StepSkip
}

// StepSkip records workflow steps a transfer passed over on purpose, and why (docs/rules.md,
// "The internal process is followed in order"). Empty on an ordinary transfer.
type StepSkip struct {
	SkippedSteps []string `json:"skipped_steps,omitempty"`
	SkipReason   string   `json:"skip_reason,omitempty"`
}

// InterAgencyTransferred: the dossier went to another agency for its part of a joint procedure (liên thông).
type InterAgencyTransferred struct {
	FromAgency           string    `json:"from_agency"`
	ToAgency             string    `json:"to_agency"`
	From                 Handler   `json:"from"`
	Purpose              string    `json:"purpose"`
	AllottedHours        float64   `json:"allotted_hours"`
	StepDeadline         time.Time `json:"step_deadline"`
	TransferredAt        time.Time `json:"transferred_at"`
	PreviousStepDeadline time.Time `json:"previous_step_deadline,omitzero"`
	CalendarVersion      string    `json:"calendar_version"`
	Step                 string    `json:"step,omitempty"` // the workflow step's name when given
	FromWorkflow         bool      `json:"from_workflow,omitempty"`
	StepSkip
}

// ParallelPart is one part of a parallel step: a unit or agency with its own share of the time.
type ParallelPart struct {
	Step          string    `json:"step"`
	Unit          string    `json:"unit"`
	Agency        string    `json:"agency"` // who does it: another agency (liên thông), or the deciding agency for its own department
	Role          string    `json:"role,omitempty"`
	AllottedHours float64   `json:"allotted_hours"`
	StepDeadline  time.Time `json:"step_deadline"`
}

// ParallelStepStarted: the dossier went to several units or agencies at once for one step of its
// workflow (consultations, inter-agency work), each part with its own deadline. The coordinator
// holds the dossier meanwhile and collects the parts; each part ends with a PartCompleted.
type ParallelStepStarted struct {
	From                 Handler        `json:"from"`
	Coordinator          Handler        `json:"coordinator"`
	Step                 string         `json:"step"`
	Parts                []ParallelPart `json:"parts"`
	StepDeadline         time.Time      `json:"step_deadline"` // the latest part's deadline
	Note                 string         `json:"note,omitempty"`
	StartedAt            time.Time      `json:"started_at"`
	PreviousStepDeadline time.Time      `json:"previous_step_deadline,omitzero"`
	CalendarVersion      string         `json:"calendar_version"`
	StepSkip
}

// PartCompleted: a unit or agency finished its part of a parallel step and gave its opinion.
type PartCompleted struct {
	ParallelStep string    `json:"parallel_step"`
	Step         string    `json:"step"`
	Agency       string    `json:"agency"`
	By           Handler   `json:"by"`
	Opinion      string    `json:"opinion"`
	StepDeadline time.Time `json:"step_deadline"` // the part's deadline, to judge it without the calendar
	CompletedAt  time.Time `json:"completed_at"`
}

// AppraisalConclusion is the specialist's proposal after examining the dossier.
type AppraisalConclusion string

const (
	ConclusionApprove AppraisalConclusion = "approve"
	ConclusionReject  AppraisalConclusion = "reject"
)

// Appraised: a specialist examined the dossier and proposed a decision.
type Appraised struct {
	Conclusion  AppraisalConclusion `json:"conclusion"`
	Opinion     string              `json:"opinion"`
	Appraiser   Handler             `json:"appraiser"`
	AppraisedAt time.Time           `json:"appraised_at"`
}

// Signed: the competent leader approved and digitally signed the result document.
type Signed struct {
	Signer         Handler   `json:"signer"`
	SignerTitle    string    `json:"signer_title,omitempty"`
	DocumentNumber string    `json:"document_number"`
	DocumentHash   string    `json:"document_hash"` // hex SHA-256 of the signed document
	SignedAt       time.Time `json:"signed_at"`
	// AgencySignature is set by commands when the deployment holds the agency's signing key.
	AgencySignature *AgencySignature `json:"agency_signature,omitempty"`
}

// FeeAssessed: the fees the applicant must pay, fixed at this moment from the catalog or the official.
type FeeAssessed struct {
	Items      []Fee     `json:"items"`
	Total      int64     `json:"total"`
	AssessedAt time.Time `json:"assessed_at"`
}

// PaymentChannel is how fees were paid.
type PaymentChannel string

const (
	PaymentCash   PaymentChannel = "cash"
	PaymentOnline PaymentChannel = "online"
	PaymentBank   PaymentChannel = "bank_transfer"
)

// Paid: the applicant paid the assessed fees; the receipt is kept with the dossier.
type Paid struct {
	Amount        int64          `json:"amount"`
	Channel       PaymentChannel `json:"channel"`
	ReceiptNumber string         `json:"receipt_number"`
	PaidAt        time.Time      `json:"paid_at"`
	// Online payments through a gateway: which one, the payment order (the gateway's order
	// reference, e.g. VNPAY's vnp_TxnRef) and the paying bank. ReceiptNumber is then the gateway's
	// transaction number. Empty on other payments and on events recorded before they existed.
	Gateway  string `json:"gateway,omitempty"`
	OrderRef string `json:"order_ref,omitempty"`
	BankCode string `json:"bank_code,omitempty"`
	// AgencySignature is the receipt's signature, set by commands like Signed's.
	AgencySignature *AgencySignature `json:"agency_signature,omitempty"`
}

// ResultReady: a result is ready to hand over, with its code `<dossier code>-KQ<n>`.
type ResultReady struct {
	ResultCode     string    `json:"result_code"`
	Index          int       `json:"index"`
	DocumentNumber string    `json:"document_number,omitempty"`
	DocumentHash   string    `json:"document_hash,omitempty"`
	ReadyAt        time.Time `json:"ready_at"`
}

// ResultReturned: the result reached the applicant.
type ResultReturned struct {
	Channel         Channel   `json:"channel"`
	ReturnedAt      time.Time `json:"returned_at"`
	AppointmentDate time.Time `json:"appointment_date"` // the date in force, to judge early/on time/late
}

// ApologyIssued: the agency apologised for lateness and set a new date (form 04) — at most once.
type ApologyIssued struct {
	Reason             string    `json:"reason"`
	OldAppointmentDate time.Time `json:"old_appointment_date"`
	NewAppointmentDate time.Time `json:"new_appointment_date"`
	IssuedAt           time.Time `json:"issued_at"`
	// LatestAllowedDate is the bound the new date was checked against (the old date plus the rule
	// set's share of the procedure's resolution time); zero in events recorded before it was kept.
	LatestAllowedDate time.Time `json:"latest_allowed_date,omitzero"`
	CalendarVersion   string    `json:"calendar_version,omitempty"`
	RulesVersion      string    `json:"rules_version,omitempty"`
}

// Suspended: processing stopped for a reason; the clock is paused.
type Suspended struct {
	Reason      string    `json:"reason"`
	SuspendedAt time.Time `json:"suspended_at"`
}

// Resumed: processing restarted; the appointment date moved by the working time the dossier was paused.
type Resumed struct {
	ResumedAt          time.Time     `json:"resumed_at"`
	PausedWorkingTime  time.Duration `json:"paused_working_time"`
	OldAppointmentDate time.Time     `json:"old_appointment_date"`
	NewAppointmentDate time.Time     `json:"new_appointment_date"`
	CalendarVersion    string        `json:"calendar_version"`
	// NewDueDate and NewIndicatorDueDate move by the same paused time: the statutory due date
	// (which an apology does not move) and the national indicator's.
	NewDueDate          time.Time `json:"new_due_date,omitzero"`
	NewIndicatorDueDate time.Time `json:"new_indicator_due_date,omitzero"`
	RulesVersion        string    `json:"rules_version,omitempty"`
}

// Withdrawn: the applicant withdrew the dossier.
type Withdrawn struct {
	Reason      string    `json:"reason"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

// Rejected: the agency refused the request after appraisal, in writing, with reasons.
type Rejected struct {
	Reason     string    `json:"reason"`
	RejectedAt time.Time `json:"rejected_at"`
}

// Rated: the applicant rated the service, per criterion of TT 01/2018 art. 13–15.
type Rated struct {
	Scores  map[Criterion]RatingLevel `json:"scores"`
	Comment string                    `json:"comment,omitempty"`
	RatedAt time.Time                 `json:"rated_at"`
}

func (Submitted) EventType() string              { return TypeSubmitted }
func (Received) EventType() string               { return TypeReceived }
func (ReceptionRefused) EventType() string       { return TypeReceptionRefused }
func (SupplementRequested) EventType() string    { return TypeSupplementRequested }
func (Supplemented) EventType() string           { return TypeSupplemented }
func (Transferred) EventType() string            { return TypeTransferred }
func (InterAgencyTransferred) EventType() string { return TypeInterAgencyTransferred }
func (Appraised) EventType() string              { return TypeAppraised }
func (Signed) EventType() string                 { return TypeSigned }
func (FeeAssessed) EventType() string            { return TypeFeeAssessed }
func (Paid) EventType() string                   { return TypePaid }
func (ResultReady) EventType() string            { return TypeResultReady }
func (ResultReturned) EventType() string         { return TypeResultReturned }
func (ApologyIssued) EventType() string          { return TypeApologyIssued }
func (Suspended) EventType() string              { return TypeSuspended }
func (Resumed) EventType() string                { return TypeResumed }
func (Withdrawn) EventType() string              { return TypeWithdrawn }
func (Rejected) EventType() string               { return TypeRejected }
func (Rated) EventType() string                  { return TypeRated }
func (ParallelStepStarted) EventType() string    { return TypeParallelStepStarted }
func (PartCompleted) EventType() string          { return TypePartCompleted }

// eventDecoders decodes each wire name's payload into its event value; the name comes from the
// type's own EventType, so the two cannot disagree.
var eventDecoders = decoderTable(
	decoderOf[Submitted](), decoderOf[Received](), decoderOf[ReceptionRefused](), decoderOf[SupplementRequested](),
	decoderOf[Supplemented](), decoderOf[Transferred](), decoderOf[InterAgencyTransferred](), decoderOf[Appraised](),
	decoderOf[Signed](), decoderOf[FeeAssessed](), decoderOf[Paid](), decoderOf[ResultReady](),
	decoderOf[ResultReturned](), decoderOf[ApologyIssued](), decoderOf[Suspended](), decoderOf[Resumed](),
	decoderOf[Withdrawn](), decoderOf[Rejected](), decoderOf[Rated](), decoderOf[ParallelStepStarted](),
	decoderOf[PartCompleted](), decoderOf[CorrectionRequested](), decoderOf[CorrectionApproved](), decoderOf[CorrectionRejected](),
	decoderOf[DocumentAttached](),
	decoderOf[AgencySucceeded](), decoderOf[BoundaryFreeReceived](), decoderOf[OriginalsArrived](),
)

// eventDecoder decodes one event type's payload.
type eventDecoder struct {
	eventType string
	decode    func(data []byte) (Event, error)
}

func decoderOf[E Event]() eventDecoder {
	var zero E
	return eventDecoder{eventType: zero.EventType(), decode: func(data []byte) (Event, error) {
		var e E
		if err := jsonv2.Unmarshal(data, &e, decodeOptions); err != nil {
			return nil, err
		}
		return e, nil
	}}
}

func decoderTable(decoders ...eventDecoder) map[string]func([]byte) (Event, error) {
	table := make(map[string]func([]byte) (Event, error), len(decoders))
	for _, d := range decoders {
		table[d.eventType] = d.decode
	}
	return table
}

// Aggregate is a kind of stream and the events it holds: the dossier (dossier-<uuid>) and the
// feedback (feedback-<uuid>). The engine, the use cases and the read models name streams and
// decode events through it, so a second aggregate shares the store, the runner and the log
// without being mistaken for a dossier.
type Aggregate struct {
	Name         string
	StreamPrefix string
	decoders     map[string]func([]byte) (Event, error)
}

// The aggregates of the core.
var (
	DossierAggregate  = Aggregate{Name: "dossier", StreamPrefix: "dossier-", decoders: eventDecoders}
	FeedbackAggregate = Aggregate{Name: "feedback", StreamPrefix: "feedback-", decoders: feedbackDecoders}
)

// Aggregates lists every aggregate.
var Aggregates = []Aggregate{DossierAggregate, FeedbackAggregate, CatalogAggregate}

// StreamName is the stream of the aggregate's instance id.
func (a Aggregate) StreamName(id string) string { return a.StreamPrefix + id }

// IDOf returns the instance id of one of the aggregate's streams, and whether stream is one.
func (a Aggregate) IDOf(stream string) (string, bool) {
	return strings.CutPrefix(stream, a.StreamPrefix)
}

// Holds reports whether an event of eventType on stream is one of the aggregate's: both the
// stream's kind and the event's wire name must be its own.
func (a Aggregate) Holds(stream, eventType string) bool {
	_, ok := a.decoders[eventType]
	return ok && strings.HasPrefix(stream, a.StreamPrefix)
}

// EventTypes lists the aggregate's wire names.
func (a Aggregate) EventTypes() []string {
	types := make([]string, 0, len(a.decoders))
	for t := range a.decoders {
		types = append(types, t)
	}
	return types
}

// IsDossierEvent reports whether eventType is one of the dossier's wire names.
func IsDossierEvent(eventType string) bool {
	_, ok := eventDecoders[eventType]
	return ok
}

// IsEvent reports whether eventType is the wire name of any aggregate's event.
func IsEvent(eventType string) bool {
	for _, a := range Aggregates {
		if _, ok := a.decoders[eventType]; ok {
			return true
		}
	}
	return false
}

// EventTypes lists every aggregate's wire names: the dossier's, the feedback's and the catalog's.
func EventTypes() []string {
	var types []string
	for _, a := range Aggregates {
		types = append(types, a.EventTypes()...)
	}
	return types
}

// EncodeEvent returns e's wire name and JSON payload.
func EncodeEvent(e Event) (string, []byte, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// decodeOptions read what EncodeEvent wrote with encoding/json. The decoder is json/v2's
// (github.com/go-json-experiment/json): replaying millions of events spends much of its time here,
// and it decodes twice as fast. Member names are matched exactly — EncodeEvent writes them so — and
// whatever encoding/json would have accepted from a stored payload (a repeated member, invalid
// UTF-8) still decodes the same way, so old events never stop reading.
// Durations are integers of nanoseconds, as encoding/json writes them.
var decodeOptions = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true),
	jsonv1.FormatDurationAsNano(true))

// DecodeEvent turns a wire name and JSON payload back into an event value (not a pointer).
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode, ok := eventDecoders[eventType]
	for _, a := range Aggregates {
		if ok {
			break
		}
		decode, ok = a.decoders[eventType]
	}
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}
