package domain

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// Feedback is a complaint, petition or question (phản ánh, kiến nghị — PAKN) about an
// administrative procedure or its handling: the core's second aggregate, in its own stream
// (feedback-<uuid>), decided by DecideFeedback and folded by EvolveFeedback as the dossier is by
// Decide and Evolve. It may name a dossier by its code; it never changes that dossier.
//
// Its time limits are those Quyết định 766/QĐ-TTg group 5 counts (regulations.md §10): the agency
// that holds a new one routes it to the responsible agency or refuses it within 2 working days of
// receipt; the responsible agency refuses it within 2 working days of routing, asks for more
// information within 5 and answers within 15; the answer is published within 2 working days.
// Each limit is computed with the calendar when its clock starts and recorded in that event
// (docs/rules.md, "Complaints and petitions").
type Feedback struct {
	ID         string         `json:"id"`
	LookupCode string         `json:"lookup_code"`
	Kind       FeedbackKind   `json:"kind"`
	Source     FeedbackSource `json:"source"`
	ExternalID string         `json:"external_id,omitempty"`
	// DossierCode is the dossier the feedback is about, when the submitter named one.
	DossierCode DossierCode       `json:"dossier_code,omitempty"`
	Subject     string            `json:"subject"`
	Content     string            `json:"content"`
	Submitter   FeedbackSubmitter `json:"submitter"`
	// Agency holds the feedback now: the agency that received it until it is routed, then the
	// responsible agency.
	Agency string         `json:"agency"`
	Status FeedbackStatus `json:"status"`

	ReceivedAt time.Time `json:"received_at"`
	RouteBy    time.Time `json:"route_by"` // route or refuse by (2 working days from receipt)
	RoutedAt   time.Time `json:"routed_at,omitzero"`
	RefuseBy   time.Time `json:"refuse_by,omitzero"` // the responsible agency refuses by (2 from routing)
	AskBy      time.Time `json:"ask_by,omitzero"`    // asks for more information by (5 from routing)
	AnswerBy   time.Time `json:"answer_by,omitzero"` // answers by (15 from routing, waits left out)

	InformationRounds []FeedbackInformationRound `json:"information_rounds,omitempty"`

	Answer      string    `json:"answer,omitempty"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
	PublishBy   time.Time `json:"publish_by,omitzero"` // 2 working days from the answer
	PublishedAt time.Time `json:"published_at,omitzero"`

	RefusalReason string    `json:"refusal_reason,omitempty"`
	RefusedAt     time.Time `json:"refused_at,omitzero"`

	CalendarVersion string `json:"calendar_version"`
	Version         uint64 `json:"version"`
}

// FeedbackInformationRound is one request for more information and its reply.
type FeedbackInformationRound struct {
	Question    string    `json:"question"`
	RequestedAt time.Time `json:"requested_at"`
	Information string    `json:"information,omitempty"`
	SuppliedAt  time.Time `json:"supplied_at,omitzero"`
}

// Exists reports whether the feedback was received.
func (f Feedback) Exists() bool { return f.ID != "" }

// FeedbackKind is what the submitter sends: a complaint about how a procedure was handled (phản
// ánh), a petition to change a procedure or a regulation (kiến nghị), or a question (hỏi đáp).
type FeedbackKind string

const (
	FeedbackComplaint FeedbackKind = "complaint"
	FeedbackPetition  FeedbackKind = "petition"
	FeedbackQuestion  FeedbackKind = "question"
)

// FeedbackKinds lists every kind, in the order the pages offer them.
var FeedbackKinds = []FeedbackKind{FeedbackComplaint, FeedbackPetition, FeedbackQuestion}

// Valid reports whether k is a known kind.
func (k FeedbackKind) Valid() bool {
	return k == FeedbackComplaint || k == FeedbackPetition || k == FeedbackQuestion
}

// FeedbackSource is where the feedback was received: motcua's public page, or the national PAKN
// system (Hệ thống tiếp nhận, trả lời phản ánh, kiến nghị của người dân, doanh nghiệp on the
// national portal), whose id makes an import idempotent.
type FeedbackSource string

const (
	FeedbackFromPublic   FeedbackSource = "public"
	FeedbackFromNational FeedbackSource = "national"
)

// FeedbackSubmitter is who sent the feedback and how to reach them. Only the name is required: a
// question may be answered by publication alone.
type FeedbackSubmitter struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// FeedbackStatus is where a feedback stands.
type FeedbackStatus string

const (
	FeedbackStatusNew                 FeedbackStatus = ""
	FeedbackStatusReceived            FeedbackStatus = "received"             // waits to be routed or refused
	FeedbackStatusRouted              FeedbackStatus = "routed"               // at the responsible agency
	FeedbackStatusAwaitingInformation FeedbackStatus = "awaiting_information" // the submitter was asked for more
	FeedbackStatusAnswered            FeedbackStatus = "answered"             // waits to be published
	FeedbackStatusPublished           FeedbackStatus = "published"
	FeedbackStatusRefused             FeedbackStatus = "refused"
)

// FeedbackStatuses lists every status a received feedback can have.
var FeedbackStatuses = []FeedbackStatus{FeedbackStatusReceived, FeedbackStatusRouted, FeedbackStatusAwaitingInformation, FeedbackStatusAnswered,
	FeedbackStatusPublished, FeedbackStatusRefused}

// FeedbackOnTime reports whether an act at at met the limit due: the limit's own minute is still
// on time.
func FeedbackOnTime(at, due time.Time) bool { return !at.After(due) }

// The QĐ 766 group 5 limits, in working days.
const (
	FeedbackRouteDays   = 2  // route or refuse a new feedback
	FeedbackRefuseDays  = 2  // the responsible agency refuses one outside its remit
	FeedbackAskDays     = 5  // ask the submitter for more information
	FeedbackAnswerDays  = 15 // answer
	FeedbackPublishDays = 2  // publish the answer
)

// feedbackCodeAlphabet spells lookup codes without the letters and digits read alike (0/O, 1/I/L).
const feedbackCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewFeedbackLookupCode returns a fresh code a submitter follows the feedback with: "PAKN-" and
// ten symbols of a 31-letter alphabet (about 49 bits), so that codes cannot be guessed at the rate
// the public routes allow.
func NewFeedbackLookupCode() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("feedback code: %v", err))
	}
	var s strings.Builder
	s.WriteString("PAKN-")
	for i, c := range b {
		if i == 5 {
			s.WriteByte('-')
		}
		s.WriteByte(feedbackCodeAlphabet[int(c)%len(feedbackCodeAlphabet)])
	}
	return s.String()
}

// ValidFeedbackLookupCode reports whether code has the shape NewFeedbackLookupCode gives.
func ValidFeedbackLookupCode(code string) bool {
	if len(code) != 16 || !strings.HasPrefix(code, "PAKN-") || code[10] != '-' {
		return false
	}
	for i, c := range code[5:] {
		if i == 5 {
			continue
		}
		if !strings.ContainsRune(feedbackCodeAlphabet, c) {
			return false
		}
	}
	return true
}
