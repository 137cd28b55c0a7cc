package commands

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// The feedback's use cases (complaints, petitions and questions — PAKN): the second aggregate, in
// its own streams (domain.FeedbackAggregate), run through the same store, append and conflict loop
// as the dossier's (appendEvents, retryOnConflict).

// feedbackNamespace derives a feedback's id from its lookup code (FeedbackIDOf).
var feedbackNamespace = uuid.MustParse("3f1c9a7e-5b2d-4e8f-a06c-9d4e7b1a2c35")

// FeedbackIDOf is the id of the feedback with lookup code code: derived from it, so that following
// a feedback by its code needs no index (it works the same on every store), and two submissions
// that drew the same code meet in one stream, where the second's append fails and draws again.
func FeedbackIDOf(code string) string {
	return uuid.NewSHA1(feedbackNamespace, []byte(code)).String()
}

// nationalFeedbackCode is the lookup code of a feedback imported from the national PAKN system:
// derived from the national id, so importing it twice meets the first import's stream.
func nationalFeedbackCode(externalID string) string {
	sum := sha256.Sum256([]byte("national-pakn\x00" + externalID))
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	var s strings.Builder
	s.WriteString("PAKN-")
	for i := range 10 {
		if i == 5 {
			s.WriteByte('-')
		}
		s.WriteByte(alphabet[int(sum[i])%len(alphabet)])
	}
	return s.String()
}

// FeedbackResult tells the caller where a feedback stands after a command.
type FeedbackResult struct {
	FeedbackID string                `json:"id"`
	LookupCode string                `json:"lookup_code"`
	Status     domain.FeedbackStatus `json:"status"`
	Version    uint64                `json:"version"`
	Events     []string              `json:"events"`
	Feedback   domain.Feedback       `json:"-"`
	Position   eventstore.Position   `json:"-"` // where the last event landed in the log
	// Replayed: an import of a feedback already imported; nothing was written.
	Replayed bool `json:"-"`
}

// FeedbackSubmission is a feedback as the public page or the national system sends it.
type FeedbackSubmission struct {
	Kind        domain.FeedbackKind      `json:"kind"`
	DossierCode string                   `json:"dossier_code"`
	Agency      string                   `json:"agency"`
	Subject     string                   `json:"subject"`
	Content     string                   `json:"content" text:"multiline"`
	Submitter   domain.FeedbackSubmitter `json:"submitter"`
	// ExternalID is the national PAKN system's id (imports only).
	ExternalID string `json:"external_id"`
}

// feedbackAgency decides who receives a new feedback: the agency the submitter chose, else the
// agency that decides the dossier it names, else the province's PAKN desk (App.FeedbackDesk).
func (a *App) feedbackAgency(ctx context.Context, in FeedbackSubmission) (string, error) {
	var v domain.Validation
	if in.Agency != "" {
		if a.Catalog() != nil {
			if _, ok := a.Catalog().Agency(in.Agency); !ok {
				v.Add("agency", "%q is not an agency of this province", in.Agency)
				return "", v.Err()
			}
		}
		return in.Agency, nil
	}
	if in.DossierCode != "" {
		if _, err := domain.ParseDossierCode(in.DossierCode); err != nil {
			v.Add("dossier_code", "is not a dossier code")
			return "", v.Err()
		}
		d, _, err := a.Load(ctx, in.DossierCode)
		switch {
		case err == nil:
			return d.CompetentAgency, nil
		case domain.ErrorCodeOf(err) != domain.ENOTFOUND:
			return "", err
		}
		v.Add("dossier_code", "no dossier has this code")
		return "", v.Err()
	}
	if a.FeedbackDesk != "" {
		return a.FeedbackDesk, nil
	}
	v.Add("agency", "choose the agency the feedback is about")
	return "", v.Err()
}

// SubmitFeedback records a feedback sent on the public page, by anyone, without signing in; its
// lookup code is what the submitter follows it with.
func (a *App) SubmitFeedback(ctx context.Context, in FeedbackSubmission) (FeedbackResult, error) {
	if err := domain.CheckTextFields(&in); err != nil {
		return FeedbackResult{}, err
	}
	if in.ExternalID != "" {
		var v domain.Validation
		v.Add("external_id", "only feedback imported from the national system has one")
		return FeedbackResult{}, v.Err()
	}
	agency, err := a.feedbackAgency(ctx, in)
	if err != nil {
		return FeedbackResult{}, err
	}
	actor := feedbackSenderActor
	for range maxConflictRetries {
		res, err := a.receiveFeedback(ctx, actor, in, domain.FeedbackFromPublic, domain.NewFeedbackLookupCode(), agency)
		if err == nil || !errorsIsConflict(err) {
			return res, err
		}
		// Another feedback drew the same code: draw again.
	}
	return FeedbackResult{}, domain.Errorf(domain.ECONFLICT, "no free feedback code was found; try again")
}

// ImportFeedback records a feedback received by the national PAKN system. Importing the same
// national id again changes nothing and answers with the feedback as it stands (Replayed).
func (a *App) ImportFeedback(ctx context.Context, caller Caller, in FeedbackSubmission) (FeedbackResult, error) {
	role, err := authorizeFeedback(caller, domain.ActionFeedbackReceive, domain.Feedback{})
	if err != nil {
		return FeedbackResult{}, err
	}
	if err := domain.CheckTextFields(&in); err != nil {
		return FeedbackResult{}, err
	}
	if strings.TrimSpace(in.ExternalID) == "" {
		var v domain.Validation
		v.Add("external_id", "is required")
		return FeedbackResult{}, v.Err()
	}
	code := nationalFeedbackCode(in.ExternalID)
	if f, _, err := a.loadFeedback(ctx, FeedbackIDOf(code)); err != nil {
		return FeedbackResult{}, err
	} else if f.Exists() {
		return feedbackResultOf(f, nil, true), nil
	}
	agency, err := a.feedbackAgency(ctx, in)
	if err != nil {
		return FeedbackResult{}, err
	}
	res, err := a.receiveFeedback(ctx, caller.actor(role), in, domain.FeedbackFromNational, code, agency)
	if errorsIsConflict(err) {
		// A concurrent import of the same id won: answer with what it recorded.
		f, _, lerr := a.loadFeedback(ctx, FeedbackIDOf(code))
		if lerr != nil {
			return FeedbackResult{}, lerr
		}
		return feedbackResultOf(f, nil, true), nil
	}
	return res, err
}

// feedbackSenderActor is who the log names as the actor of a sender's own acts: the event's metadata
// is never sealed, so it must not carry the sender's name (that is in the sealed submitter).
var feedbackSenderActor = eventstore.Actor{ID: "public", Name: "Người gửi phản ánh", Role: "public"}

func (a *App) receiveFeedback(ctx context.Context, actor eventstore.Actor, in FeedbackSubmission, source domain.FeedbackSource,
	code, agency string) (FeedbackResult, error) {
	now := a.now()
	events, err := domain.DecideFeedback(domain.Feedback{}, domain.ReceiveFeedback{
		FeedbackID: FeedbackIDOf(code), LookupCode: code, Kind: in.Kind, Source: source, ExternalID: in.ExternalID,
		DossierCode: domain.DossierCode(in.DossierCode), Subject: in.Subject, Content: in.Content, Submitter: in.Submitter,
		Agency: agency, At: now, Calendar: a.Calendar,
	})
	if err != nil {
		return FeedbackResult{}, err
	}
	return a.appendFeedback(ctx, actor, domain.Feedback{}, events, now)
}

func errorsIsConflict(err error) bool { return errors.Is(err, eventstore.ErrWrongExpectedVersion) }

// FeedbackInput is one action on an existing feedback, turned into a domain command.
type FeedbackInput interface {
	Action() domain.Action
	feedbackCommand(a *App, now time.Time) domain.FeedbackCommand
}

// RouteFeedbackInput hands a feedback to the agency responsible for it.
type RouteFeedbackInput struct {
	Agency string `json:"agency"`
	Note   string `json:"note" text:"multiline"`
}

// AskFeedbackInput asks the submitter for more information.
type AskFeedbackInput struct {
	Question string `json:"question" text:"multiline"`
}

// SupplyFeedbackInput is the submitter's reply to a request for more information.
type SupplyFeedbackInput struct {
	Information string `json:"information" text:"multiline"`
}

// AnswerFeedbackInput is the responsible agency's answer.
type AnswerFeedbackInput struct {
	Answer string `json:"answer" text:"multiline"`
}

// PublishFeedbackInput publishes the answer.
type PublishFeedbackInput struct{}

// RefuseFeedbackInput refuses to handle the feedback.
type RefuseFeedbackInput struct {
	Reason string `json:"reason" text:"multiline"`
}

func (RouteFeedbackInput) Action() domain.Action   { return domain.ActionFeedbackRoute }
func (AskFeedbackInput) Action() domain.Action     { return domain.ActionFeedbackAsk }
func (SupplyFeedbackInput) Action() domain.Action  { return domain.ActionFeedbackSupply }
func (AnswerFeedbackInput) Action() domain.Action  { return domain.ActionFeedbackAnswer }
func (PublishFeedbackInput) Action() domain.Action { return domain.ActionFeedbackPublish }
func (RefuseFeedbackInput) Action() domain.Action  { return domain.ActionFeedbackRefuse }

func (in RouteFeedbackInput) feedbackCommand(a *App, now time.Time) domain.FeedbackCommand {
	return domain.RouteFeedback{Agency: in.Agency, Note: in.Note, At: now, Calendar: a.Calendar}
}
func (in AskFeedbackInput) feedbackCommand(_ *App, now time.Time) domain.FeedbackCommand {
	return domain.AskFeedbackInformation{Question: in.Question, At: now}
}
func (in SupplyFeedbackInput) feedbackCommand(a *App, now time.Time) domain.FeedbackCommand {
	return domain.SupplyFeedbackInformation{Information: in.Information, At: now, Calendar: a.Calendar}
}
func (in AnswerFeedbackInput) feedbackCommand(a *App, now time.Time) domain.FeedbackCommand {
	return domain.AnswerFeedback{Answer: in.Answer, At: now, Calendar: a.Calendar}
}
func (PublishFeedbackInput) feedbackCommand(_ *App, now time.Time) domain.FeedbackCommand {
	return domain.PublishFeedback{At: now}
}
func (in RefuseFeedbackInput) feedbackCommand(_ *App, now time.Time) domain.FeedbackCommand {
	return domain.RefuseFeedback{Reason: in.Reason, At: now}
}

// ExecuteFeedback carries out in on the feedback ref (its lookup code or id) for an official.
// ifMatch, when non-nil, is the version the caller last saw (412 when it moved on).
func (a *App) ExecuteFeedback(ctx context.Context, caller Caller, ref string, ifMatch *uint64, in FeedbackInput) (FeedbackResult, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return FeedbackResult{}, err
	}
	if route, ok := in.(RouteFeedbackInput); ok && route.Agency != "" && a.Catalog() != nil {
		if _, known := a.Catalog().Agency(route.Agency); !known {
			var v domain.Validation
			v.Add("agency", "%q is not an agency of this province", route.Agency)
			return FeedbackResult{}, v.Err()
		}
	}
	return a.decideOnFeedback(ctx, ref, ifMatch, func(f domain.Feedback, now time.Time) (eventstore.Actor, domain.FeedbackCommand, error) {
		role, err := authorizeFeedback(caller, in.Action(), f)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		return caller.actor(role), in.feedbackCommand(a, now), nil
	})
}

// SupplyFeedbackPublic records the submitter's reply, sent on the public page with the lookup code
// (which only the submitter was given).
func (a *App) SupplyFeedbackPublic(ctx context.Context, code string, in SupplyFeedbackInput) (FeedbackResult, error) {
	if err := domain.CheckTextFields(&in); err != nil {
		return FeedbackResult{}, err
	}
	return a.decideOnFeedback(ctx, code, nil, func(f domain.Feedback, now time.Time) (eventstore.Actor, domain.FeedbackCommand, error) {
		return feedbackSenderActor, in.feedbackCommand(a, now), nil
	})
}

// decideOnFeedback is the loop of every action on an existing feedback, the dossier's
// (decideOnDossier) on another aggregate: load, decide, append with the version decided on, and
// decide again on losing a race.
func (a *App) decideOnFeedback(ctx context.Context, ref string, ifMatch *uint64,
	decide func(f domain.Feedback, now time.Time) (eventstore.Actor, domain.FeedbackCommand, error)) (FeedbackResult, error) {
	id, err := feedbackIDOfRef(ref)
	if err != nil {
		return FeedbackResult{}, err
	}
	return retryOnConflict(ctx, "feedback "+ref, ifMatch, func() (FeedbackResult, error) {
		f, _, err := a.loadFeedback(ctx, id)
		if err != nil {
			return FeedbackResult{}, err
		}
		if !f.Exists() {
			return FeedbackResult{}, domain.Errorf(domain.ENOTFOUND, "feedback %s not found", ref)
		}
		now := a.now()
		actor, cmd, err := decide(f, now)
		if err != nil {
			return FeedbackResult{}, err
		}
		if ifMatch != nil && *ifMatch != f.Version {
			return FeedbackResult{}, domain.Errorf(domain.EPRECONDITION, "feedback %s is at version %d, not %d: reload it and try again", ref, f.Version, *ifMatch)
		}
		events, err := domain.DecideFeedback(f, cmd)
		if err != nil {
			return FeedbackResult{}, err
		}
		return a.appendFeedback(ctx, actor, f, events, now)
	})
}

func (a *App) appendFeedback(ctx context.Context, actor eventstore.Actor, f domain.Feedback, events []domain.Event, now time.Time) (FeedbackResult, error) {
	id := f.ID
	if id == "" {
		id = events[0].(domain.FeedbackReceived).FeedbackID
	}
	ar, names, err := a.appendEvents(ctx, domain.FeedbackAggregate.StreamName(id), f.Version, actor, events, now)
	if err != nil {
		return FeedbackResult{}, err
	}
	for _, e := range events {
		f = domain.EvolveFeedback(f, e)
	}
	f.Version = ar.Version
	a.logger().InfoContext(ctx, "feedback changed", "feedback", id, "events", names, "version", ar.Version, "actor", actor.ID)
	res := feedbackResultOf(f, names, false)
	res.Position = ar.Position
	return res, nil
}

func feedbackResultOf(f domain.Feedback, names []string, replayed bool) FeedbackResult {
	return FeedbackResult{FeedbackID: f.ID, LookupCode: f.LookupCode, Status: f.Status, Version: f.Version, Events: names,
		Feedback: f, Replayed: replayed}
}

// feedbackIDOfRef turns a lookup code or an id into the feedback's id.
func feedbackIDOfRef(ref string) (string, error) {
	if id, err := uuid.Parse(ref); err == nil {
		return id.String(), nil
	}
	code := strings.ToUpper(strings.TrimSpace(ref))
	if !domain.ValidFeedbackLookupCode(code) {
		return "", domain.Errorf(domain.ENOTFOUND, "%q is not a feedback code", ref)
	}
	return FeedbackIDOf(code), nil
}

// LoadFeedback returns the feedback ref (its lookup code or id) and its events, for the public
// follow-up (which shows what the submitter may see) and the officials (LoadFeedbackIfReadable).
func (a *App) LoadFeedback(ctx context.Context, ref string) (domain.Feedback, []eventstore.RecordedEvent, error) {
	id, err := feedbackIDOfRef(ref)
	if err != nil {
		return domain.Feedback{}, nil, err
	}
	f, recorded, err := a.loadFeedback(ctx, id)
	if err != nil {
		return domain.Feedback{}, nil, err
	}
	if !f.Exists() {
		return domain.Feedback{}, nil, domain.Errorf(domain.ENOTFOUND, "feedback %s not found", ref)
	}
	return f, recorded, nil
}

// LoadFeedbackIfReadable loads the feedback ref for an official: those of the agency holding it,
// inspectors and admins.
func (a *App) LoadFeedbackIfReadable(ctx context.Context, caller Caller, ref string) (domain.Feedback, []eventstore.RecordedEvent, error) {
	if caller.ID == "" {
		return domain.Feedback{}, nil, domain.Errorf(domain.EUNAUTHORIZED, "sign in to read feedback")
	}
	if caller.Agency == "" && !caller.Has(RoleAdmin) && !caller.Has(RoleInspector) {
		return domain.Feedback{}, nil, domain.Errorf(domain.EFORBIDDEN, "official %s belongs to no agency", caller.ID)
	}
	f, recorded, err := a.LoadFeedback(ctx, ref)
	if err != nil {
		return domain.Feedback{}, nil, err
	}
	if !CanReadFeedback(caller, f) {
		return domain.Feedback{}, nil, domain.Errorf(domain.EFORBIDDEN, "feedback %s belongs to another agency", ref)
	}
	return f, recorded, nil
}

func (a *App) loadFeedback(ctx context.Context, id string) (domain.Feedback, []eventstore.RecordedEvent, error) {
	recorded, err := a.Store.ReadStream(ctx, domain.FeedbackAggregate.StreamName(id), 1)
	if err != nil {
		return domain.Feedback{}, nil, err
	}
	var f domain.Feedback
	for _, r := range recorded {
		e, err := domain.DecodeEvent(r.Type, r.Data)
		if err != nil {
			return domain.Feedback{}, nil, fmt.Errorf("%s v%d: %w", r.Stream, r.Version, err)
		}
		f = domain.EvolveFeedback(f, e)
		f.Version = r.Version
	}
	return f, recorded, nil
}

// feedbackPermissions is the role × action matrix of the feedback (docs/api.md): the desk routes,
// the responsible agency's officials ask and answer, its heads and signers publish or refuse.
var feedbackPermissions = map[domain.Action][]Role{
	domain.ActionFeedbackReceive: {RoleReception, RoleAdmin}, // imports from the national system
	domain.ActionFeedbackRoute:   {RoleReception, RoleHead, RoleAdmin},
	domain.ActionFeedbackAsk:     {RoleSpecialist, RoleHead, RoleAdmin},
	domain.ActionFeedbackSupply:  {RoleReception, RoleSpecialist, RoleHead, RoleAdmin},
	domain.ActionFeedbackAnswer:  {RoleSpecialist, RoleHead, RoleSigner, RoleAdmin},
	domain.ActionFeedbackPublish: {RoleHead, RoleSigner, RoleAdmin},
	domain.ActionFeedbackRefuse:  {RoleHead, RoleSigner, RoleAdmin},
}

// FeedbackRolesFor lists the roles allowed to take a feedback action.
func FeedbackRolesFor(action domain.Action) []Role { return feedbackPermissions[action] }

// authorizeFeedback checks that caller may take action on f — its role, and that f is held by the
// caller's agency — and returns the role it acts in.
func authorizeFeedback(caller Caller, action domain.Action, f domain.Feedback) (Role, error) {
	if caller.ID == "" {
		return "", domain.Errorf(domain.EUNAUTHORIZED, "sign in to act on feedback")
	}
	var role Role
	for _, r := range feedbackPermissions[action] {
		if caller.Has(r) {
			role = r
			break
		}
	}
	if role == "" {
		return "", domain.Errorf(domain.EFORBIDDEN, "action %q needs one of the roles %v", action, feedbackPermissions[action])
	}
	if role == RoleAdmin || !f.Exists() {
		if role != RoleAdmin && caller.Agency == "" {
			return "", domain.Errorf(domain.EFORBIDDEN, "official %s belongs to no agency", caller.ID)
		}
		return role, nil
	}
	if caller.Agency == "" || caller.Agency != f.Agency {
		return "", domain.Errorf(domain.EFORBIDDEN, "feedback %s is held by another agency", f.LookupCode)
	}
	return role, nil
}

// CanReadFeedback reports whether caller may read the whole feedback (the submitter's contact):
// officials of the agency holding it, inspectors and admins.
func CanReadFeedback(caller Caller, f domain.Feedback) bool {
	if caller.ID == "" {
		return false
	}
	if caller.Has(RoleAdmin) || caller.Has(RoleInspector) {
		return true
	}
	return caller.Agency != "" && caller.Agency == f.Agency
}
