package domain

import (
	"fmt"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// Actions on a feedback; the HTTP API uses the same names in its paths.
const (
	ActionFeedbackReceive Action = "feedback-receive"
	ActionFeedbackRoute   Action = "route"
	ActionFeedbackAsk     Action = "ask"
	ActionFeedbackSupply  Action = "information"
	ActionFeedbackAnswer  Action = "answer"
	ActionFeedbackPublish Action = "publish"
	ActionFeedbackRefuse  Action = "refuse-feedback"
)

// FeedbackCommand asks a feedback to change. Like the dossier's commands, each carries every input
// of its decision (the moment, the calendar), so DecideFeedback is pure.
type FeedbackCommand interface {
	Action() Action
}

// ReceiveFeedback records a new feedback.
type ReceiveFeedback struct {
	FeedbackID  string
	LookupCode  string
	Kind        FeedbackKind
	Source      FeedbackSource
	ExternalID  string
	DossierCode DossierCode
	Subject     string
	Content     string
	Submitter   FeedbackSubmitter
	Agency      string
	At          time.Time
	Calendar    *calendar.Calendar
}

// RouteFeedback hands a received feedback to the agency responsible for it.
type RouteFeedback struct {
	Agency   string
	Note     string
	At       time.Time
	Calendar *calendar.Calendar
}

// AskFeedbackInformation asks the submitter for more information.
type AskFeedbackInformation struct {
	Question string
	At       time.Time
}

// SupplyFeedbackInformation records the submitter's reply.
type SupplyFeedbackInformation struct {
	Information string
	At          time.Time
	Calendar    *calendar.Calendar
}

// AnswerFeedback records the responsible agency's answer.
type AnswerFeedback struct {
	Answer   string
	At       time.Time
	Calendar *calendar.Calendar
}

// PublishFeedback publishes the answer.
type PublishFeedback struct {
	At time.Time
}

// RefuseFeedback refuses to handle the feedback, with the reason the submitter is told.
type RefuseFeedback struct {
	Reason string
	At     time.Time
}

func (ReceiveFeedback) Action() Action           { return ActionFeedbackReceive }
func (RouteFeedback) Action() Action             { return ActionFeedbackRoute }
func (AskFeedbackInformation) Action() Action    { return ActionFeedbackAsk }
func (SupplyFeedbackInformation) Action() Action { return ActionFeedbackSupply }
func (AnswerFeedback) Action() Action            { return ActionFeedbackAnswer }
func (PublishFeedback) Action() Action           { return ActionFeedbackPublish }
func (RefuseFeedback) Action() Action            { return ActionFeedbackRefuse }

// FeedbackAllowed lists the statuses in which each feedback action may be taken.
var FeedbackAllowed = map[Action][]FeedbackStatus{
	ActionFeedbackReceive: {FeedbackStatusNew},
	ActionFeedbackRoute:   {FeedbackStatusReceived},
	ActionFeedbackAsk:     {FeedbackStatusRouted},
	ActionFeedbackSupply:  {FeedbackStatusAwaitingInformation},
	ActionFeedbackAnswer:  {FeedbackStatusRouted},
	ActionFeedbackPublish: {FeedbackStatusAnswered},
	ActionFeedbackRefuse:  {FeedbackStatusReceived, FeedbackStatusRouted},
}

var feedbackActions = []Action{ActionFeedbackRoute, ActionFeedbackAsk, ActionFeedbackSupply, ActionFeedbackAnswer,
	ActionFeedbackPublish, ActionFeedbackRefuse}

// FeedbackAllowedActions lists the actions on an existing feedback its status allows now.
func FeedbackAllowedActions(f Feedback) []Action {
	var out []Action
	for _, a := range feedbackActions {
		if feedbackStatusAllows(a, f.Status) {
			out = append(out, a)
		}
	}
	return out
}

func feedbackStatusAllows(a Action, s FeedbackStatus) bool {
	for _, ok := range FeedbackAllowed[a] {
		if ok == s {
			return true
		}
	}
	return false
}

// FeedbackTransitionError says that an action is not allowed while the feedback is in a status.
type FeedbackTransitionError struct {
	Action Action
	Status FeedbackStatus
}

func (e *FeedbackTransitionError) Error() string {
	status := e.Status
	if status == FeedbackStatusNew {
		status = "new"
	}
	return fmt.Sprintf("action %q is not allowed while the feedback is %q", e.Action, status)
}

// DecideFeedback returns the events that carrying out c on f produces, or why it is not allowed: a
// *FeedbackTransitionError when f's status forbids the action, an EINVALID *Error for bad input.
func DecideFeedback(f Feedback, c FeedbackCommand) ([]Event, error) {
	if c == nil || FeedbackAllowed[c.Action()] == nil {
		return nil, Errorf(EINTERNAL, "unknown feedback command %T", c)
	}
	if !feedbackStatusAllows(c.Action(), f.Status) {
		return nil, &FeedbackTransitionError{Action: c.Action(), Status: f.Status}
	}
	switch c := c.(type) {
	case ReceiveFeedback:
		return decideReceiveFeedback(c)
	case RouteFeedback:
		return decideRouteFeedback(f, c)
	case AskFeedbackInformation:
		return decideAskFeedbackInformation(f, c)
	case SupplyFeedbackInformation:
		return decideSupplyFeedbackInformation(f, c)
	case AnswerFeedback:
		return decideAnswerFeedback(f, c)
	case PublishFeedback:
		return decidePublishFeedback(f, c)
	case RefuseFeedback:
		return decideRefuseFeedback(f, c)
	}
	return nil, Errorf(EINTERNAL, "unknown feedback command %T", c)
}

func checkCalendar(v *Validation, cal *calendar.Calendar) {
	v.Check(cal != nil, "calendar", "the working calendar is required")
}

func decideReceiveFeedback(c ReceiveFeedback) ([]Event, error) {
	var v Validation
	v.Check(c.FeedbackID != "", "feedback_id", "is required")
	v.Check(ValidFeedbackLookupCode(c.LookupCode), "lookup_code", "is not a feedback code")
	v.Check(c.Kind.Valid(), "kind", "must be one of %v", FeedbackKinds)
	v.Check(c.Source == FeedbackFromPublic || c.Source == FeedbackFromNational, "source", "must be %q or %q", FeedbackFromPublic, FeedbackFromNational)
	if c.Source == FeedbackFromNational {
		checkText(&v, "external_id", c.ExternalID, true, 100)
	} else {
		v.Check(c.ExternalID == "", "external_id", "only feedback imported from the national system has one")
	}
	if c.DossierCode != "" {
		if _, err := ParseDossierCode(string(c.DossierCode)); err != nil {
			v.Add("dossier_code", "is not a dossier code")
		}
	}
	checkText(&v, "subject", c.Subject, true, 300)
	checkText(&v, "content", c.Content, true, 10000)
	checkText(&v, "submitter.name", c.Submitter.Name, true, 200)
	checkText(&v, "submitter.phone", c.Submitter.Phone, false, 20)
	checkText(&v, "submitter.email", c.Submitter.Email, false, 254)
	checkText(&v, "agency", c.Agency, true, 100)
	checkMoment(&v, c.At)
	checkCalendar(&v, c.Calendar)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{FeedbackReceived{
		FeedbackID: c.FeedbackID, LookupCode: c.LookupCode, Kind: c.Kind, Source: c.Source, ExternalID: c.ExternalID,
		DossierCode: c.DossierCode, Subject: c.Subject, Content: c.Content, Submitter: c.Submitter, Agency: c.Agency,
		ReceivedAt: c.At.UTC(), RouteBy: c.Calendar.AddWorkingDays(c.At, FeedbackRouteDays).UTC(),
		CalendarVersion: c.Calendar.Version(),
	}}, nil
}

func decideRouteFeedback(f Feedback, c RouteFeedback) ([]Event, error) {
	var v Validation
	checkText(&v, "agency", c.Agency, true, 100)
	checkText(&v, "note", c.Note, false, 2000)
	checkMoment(&v, c.At)
	checkCalendar(&v, c.Calendar)
	if err := v.Err(); err != nil {
		return nil, err
	}
	at := c.At.UTC()
	return []Event{FeedbackRouted{
		Agency: c.Agency, Note: c.Note, RoutedAt: at, Due: f.RouteBy,
		RefuseBy:        c.Calendar.AddWorkingDays(at, FeedbackRefuseDays).UTC(),
		AskBy:           c.Calendar.AddWorkingDays(at, FeedbackAskDays).UTC(),
		AnswerBy:        c.Calendar.AddWorkingDays(at, FeedbackAnswerDays).UTC(),
		CalendarVersion: c.Calendar.Version(),
	}}, nil
}

func decideAskFeedbackInformation(f Feedback, c AskFeedbackInformation) ([]Event, error) {
	var v Validation
	checkText(&v, "question", c.Question, true, 2000)
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{FeedbackInformationRequested{Question: c.Question, RequestedAt: c.At.UTC(), Due: f.AskBy}}, nil
}

// decideSupplyFeedbackInformation moves the answer's limit on by the working time the agency waited:
// the submitter's delay is not the agency's (as a dossier's supplement wait is left out of the
// indicator due date, regulations.md §10).
func decideSupplyFeedbackInformation(f Feedback, c SupplyFeedbackInformation) ([]Event, error) {
	var v Validation
	checkText(&v, "information", c.Information, true, 10000)
	checkMoment(&v, c.At)
	checkCalendar(&v, c.Calendar)
	if err := v.Err(); err != nil {
		return nil, err
	}
	at := c.At.UTC()
	asked := f.InformationRounds[len(f.InformationRounds)-1].RequestedAt
	waited := time.Duration(0)
	if at.After(asked) {
		waited = c.Calendar.WorkingTimeBetween(asked, at)
	}
	return []Event{FeedbackInformationSupplied{Information: c.Information, SuppliedAt: at,
		AnswerBy: c.Calendar.AddWorkingTime(f.AnswerBy, waited).UTC(), CalendarVersion: c.Calendar.Version()}}, nil
}

func decideAnswerFeedback(f Feedback, c AnswerFeedback) ([]Event, error) {
	var v Validation
	checkText(&v, "answer", c.Answer, true, 20000)
	checkMoment(&v, c.At)
	checkCalendar(&v, c.Calendar)
	if err := v.Err(); err != nil {
		return nil, err
	}
	at := c.At.UTC()
	return []Event{FeedbackAnswered{Answer: c.Answer, AnsweredAt: at, Due: f.AnswerBy,
		PublishBy: c.Calendar.AddWorkingDays(at, FeedbackPublishDays).UTC(), CalendarVersion: c.Calendar.Version()}}, nil
}

func decidePublishFeedback(f Feedback, c PublishFeedback) ([]Event, error) {
	var v Validation
	checkMoment(&v, c.At)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{FeedbackPublished{PublishedAt: c.At.UTC(), Due: f.PublishBy}}, nil
}

func decideRefuseFeedback(f Feedback, c RefuseFeedback) ([]Event, error) {
	if err := checkReasoned(c.Reason, c.At); err != nil {
		return nil, err
	}
	due := f.RouteBy
	if f.Status == FeedbackStatusRouted {
		due = f.RefuseBy
	}
	return []Event{FeedbackRefused{Reason: c.Reason, RefusedAt: c.At.UTC(), Due: due}}, nil
}

// EvolveFeedback applies one event to the feedback. It never fails: events are facts.
func EvolveFeedback(f Feedback, e Event) Feedback {
	switch e := e.(type) {
	case FeedbackReceived:
		f = Feedback{ID: e.FeedbackID, LookupCode: e.LookupCode, Kind: e.Kind, Source: e.Source, ExternalID: e.ExternalID,
			DossierCode: e.DossierCode, Subject: e.Subject, Content: e.Content, Submitter: e.Submitter, Agency: e.Agency,
			Status: FeedbackStatusReceived, ReceivedAt: e.ReceivedAt, RouteBy: e.RouteBy, CalendarVersion: e.CalendarVersion,
			Version: f.Version}
	case FeedbackRouted:
		f.Status, f.Agency, f.RoutedAt = FeedbackStatusRouted, e.Agency, e.RoutedAt
		f.RefuseBy, f.AskBy, f.AnswerBy, f.CalendarVersion = e.RefuseBy, e.AskBy, e.AnswerBy, e.CalendarVersion
	case FeedbackInformationRequested:
		f.Status = FeedbackStatusAwaitingInformation
		f.InformationRounds = append(f.InformationRounds[:len(f.InformationRounds):len(f.InformationRounds)],
			FeedbackInformationRound{Question: e.Question, RequestedAt: e.RequestedAt})
	case FeedbackInformationSupplied:
		f.Status, f.AnswerBy, f.CalendarVersion = FeedbackStatusRouted, e.AnswerBy, e.CalendarVersion
		if n := len(f.InformationRounds); n > 0 {
			rounds := append([]FeedbackInformationRound(nil), f.InformationRounds...)
			rounds[n-1].Information, rounds[n-1].SuppliedAt = e.Information, e.SuppliedAt
			f.InformationRounds = rounds
		}
	case FeedbackAnswered:
		f.Status, f.Answer, f.AnsweredAt, f.PublishBy, f.CalendarVersion = FeedbackStatusAnswered, e.Answer, e.AnsweredAt, e.PublishBy, e.CalendarVersion
	case FeedbackPublished:
		f.Status, f.PublishedAt = FeedbackStatusPublished, e.PublishedAt
	case FeedbackRefused:
		f.Status, f.RefusalReason, f.RefusedAt = FeedbackStatusRefused, e.Reason, e.RefusedAt
	}
	return f
}

// FoldFeedback folds events into the feedback they make.
func FoldFeedback(events ...Event) Feedback {
	var f Feedback
	for _, e := range events {
		f = EvolveFeedback(f, e)
	}
	return f
}
