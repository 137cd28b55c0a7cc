package domain

import "time"

// Wire names of the feedback events.
const (
	TypeFeedbackReceived             = "feedback.received.v1"
	TypeFeedbackRouted               = "feedback.routed.v1"
	TypeFeedbackInformationRequested = "feedback.information_requested.v1"
	TypeFeedbackInformationSupplied  = "feedback.information_supplied.v1"
	TypeFeedbackAnswered             = "feedback.answered.v1"
	TypeFeedbackPublished            = "feedback.published.v1"
	TypeFeedbackRefused              = "feedback.refused.v1"
)

// FeedbackReceived: a feedback came in, from the public page or the national PAKN system.
type FeedbackReceived struct {
	FeedbackID      string            `json:"feedback_id"`
	LookupCode      string            `json:"lookup_code"`
	Kind            FeedbackKind      `json:"kind"`
	Source          FeedbackSource    `json:"source"`
	ExternalID      string            `json:"external_id,omitempty"` // the national PAKN system's id
	DossierCode     DossierCode       `json:"dossier_code,omitempty"`
	Subject         string            `json:"subject"`
	Content         string            `json:"content"`
	Submitter       FeedbackSubmitter `json:"submitter"`
	Agency          string            `json:"agency"` // the agency that routes or refuses it
	ReceivedAt      time.Time         `json:"received_at"`
	RouteBy         time.Time         `json:"route_by"`
	CalendarVersion string            `json:"calendar_version"`
}

// FeedbackRouted: the receiving agency handed the feedback to the agency responsible for it.
// Due is the limit the routing is judged against (the received event's RouteBy); the others are
// the responsible agency's limits, counted from now.
type FeedbackRouted struct {
	Agency          string    `json:"agency"`
	Note            string    `json:"note,omitempty"`
	RoutedAt        time.Time `json:"routed_at"`
	Due             time.Time `json:"due"`
	RefuseBy        time.Time `json:"refuse_by"`
	AskBy           time.Time `json:"ask_by"`
	AnswerBy        time.Time `json:"answer_by"`
	CalendarVersion string    `json:"calendar_version"`
}

// FeedbackInformationRequested: the responsible agency asked the submitter for more; the answer's
// clock stops until they reply. Due is the limit for asking.
type FeedbackInformationRequested struct {
	Question    string    `json:"question"`
	RequestedAt time.Time `json:"requested_at"`
	Due         time.Time `json:"due"`
}

// FeedbackInformationSupplied: the submitter (or an official for them) replied; AnswerBy is the
// answer's limit moved on by the working time spent waiting.
type FeedbackInformationSupplied struct {
	Information     string    `json:"information"`
	SuppliedAt      time.Time `json:"supplied_at"`
	AnswerBy        time.Time `json:"answer_by"`
	CalendarVersion string    `json:"calendar_version"`
}

// FeedbackAnswered: the responsible agency answered. Due is the answer's limit; PublishBy the
// publication's, counted from now.
type FeedbackAnswered struct {
	Answer          string    `json:"answer"`
	AnsweredAt      time.Time `json:"answered_at"`
	Due             time.Time `json:"due"`
	PublishBy       time.Time `json:"publish_by"`
	CalendarVersion string    `json:"calendar_version"`
}

// FeedbackPublished: the answer was made public on the public page. Due is the publication's limit.
type FeedbackPublished struct {
	PublishedAt time.Time `json:"published_at"`
	Due         time.Time `json:"due"`
}

// FeedbackRefused: the agency holding the feedback refused to handle it (not an administrative
// matter, anonymous, already answered, outside every agency's remit). Due is the refusal's limit:
// the routing limit before routing, the responsible agency's own after.
type FeedbackRefused struct {
	Reason    string    `json:"reason"`
	RefusedAt time.Time `json:"refused_at"`
	Due       time.Time `json:"due"`
}

func (FeedbackReceived) EventType() string             { return TypeFeedbackReceived }
func (FeedbackRouted) EventType() string               { return TypeFeedbackRouted }
func (FeedbackInformationRequested) EventType() string { return TypeFeedbackInformationRequested }
func (FeedbackInformationSupplied) EventType() string  { return TypeFeedbackInformationSupplied }
func (FeedbackAnswered) EventType() string             { return TypeFeedbackAnswered }
func (FeedbackPublished) EventType() string            { return TypeFeedbackPublished }
func (FeedbackRefused) EventType() string              { return TypeFeedbackRefused }

// feedbackDecoders decodes each feedback wire name's payload.
var feedbackDecoders = decoderTable(
	decoderOf[FeedbackReceived](), decoderOf[FeedbackRouted](), decoderOf[FeedbackInformationRequested](),
	decoderOf[FeedbackInformationSupplied](), decoderOf[FeedbackAnswered](), decoderOf[FeedbackPublished](),
	decoderOf[FeedbackRefused](),
)
