package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// Complaints, petitions and questions (PAKN, docs/api.md "Feedback"): the public submit and follow
// one by its lookup code without signing in; officials see their agency's queue, act on what their
// agency holds, and read the on-time dashboard.

// publicFeedbackRoutes are under /api/v1/public, within the public request budget.
func (s *Server) publicFeedbackRoutes(r chi.Router) {
	r.Post("/feedback", s.submitFeedback)
	r.Get("/feedback/{code}", s.publicFeedback)
	r.Post("/feedback/{code}/information", s.supplyFeedbackPublic)
}

// feedbackRoutes are the officials', signed in.
func (s *Server) feedbackRoutes(r chi.Router) {
	r.Get("/feedback", s.feedbackQueue)
	r.Get("/feedback/dashboard", s.feedbackDashboard)
	r.Post("/feedback/import", s.importFeedback)
	r.Get("/feedback/{ref}", s.getFeedback)
	r.Post("/feedback/{ref}/{action}", s.actOnFeedback)
}

// feedbackSubmission is the body of a public submission and of an import.
type feedbackSubmission struct {
	Kind        string `json:"kind"`
	DossierCode string `json:"dossier_code"`
	Agency      string `json:"agency"`
	Subject     string `json:"subject"`
	Content     string `json:"content" text:"multiline"`
	Submitter   struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
		Email string `json:"email"`
	} `json:"submitter"`
	ExternalID string `json:"external_id"`
}

func (b feedbackSubmission) input() commands.FeedbackSubmission {
	return commands.FeedbackSubmission{Kind: domain.FeedbackKind(b.Kind), DossierCode: b.DossierCode, Agency: b.Agency,
		Subject: b.Subject, Content: b.Content, ExternalID: b.ExternalID,
		Submitter: domain.FeedbackSubmitter{Name: b.Submitter.Name, Phone: b.Submitter.Phone, Email: b.Submitter.Email}}
}

// PublicFeedback is what anyone holding a lookup code sees: never the submitter's contact.
type PublicFeedback struct {
	LookupCode  string                `json:"lookup_code"`
	Kind        domain.FeedbackKind   `json:"kind"`
	Subject     string                `json:"subject"`
	DossierCode string                `json:"dossier_code,omitempty"`
	Status      domain.FeedbackStatus `json:"status"`
	ReceivedAt  time.Time             `json:"received_at"`
	// Due is the limit the feedback races now (routing, answer, publication); absent while the
	// submitter is asked for more, and once it is closed.
	Due         time.Time `json:"due,omitzero"`
	Question    string    `json:"question,omitempty"` // what the agency asks, while it waits
	Answer      string    `json:"answer,omitempty"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	Refusal     string    `json:"refusal_reason,omitempty"`
	RefusedAt   time.Time `json:"refused_at,omitzero"`
	Version     uint64    `json:"version"`
}

// PublicFeedbackOf is the public face of f.
func PublicFeedbackOf(f domain.Feedback, now time.Time) PublicFeedback {
	row := projections.FeedbackRowOf(f, now)
	p := PublicFeedback{LookupCode: f.LookupCode, Kind: f.Kind, Subject: f.Subject, DossierCode: string(f.DossierCode), Status: f.Status,
		ReceivedAt: f.ReceivedAt, Due: row.Due, Answer: f.Answer, AnsweredAt: f.AnsweredAt, PublishedAt: f.PublishedAt,
		Refusal: f.RefusalReason, RefusedAt: f.RefusedAt, Version: f.Version}
	if f.Status == domain.FeedbackStatusAwaitingInformation {
		p.Question = f.InformationRounds[len(f.InformationRounds)-1].Question
	}
	return p
}

// submitFeedback: POST /api/v1/public/feedback — 201 with the lookup code the submitter follows
// it with.
func (s *Server) submitFeedback(w http.ResponseWriter, r *http.Request) {
	var body feedbackSubmission
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if body.ExternalID != "" {
		var v domain.Validation
		v.Add("external_id", "only the national system's imports carry one (POST /api/v1/feedback/import)")
		s.writeError(w, r, v.Err())
		return
	}
	res, err := s.app.SubmitFeedback(r.Context(), body.input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/public/feedback/"+res.LookupCode)
	writeJSON(w, http.StatusCreated, PublicFeedbackOf(res.Feedback, s.now()))
}

// publicFeedback: GET /api/v1/public/feedback/{code}. A code that names no feedback counts against
// the client's budget of wrong secrets, as a wrong rating secret does: codes are not to be mined.
func (s *Server) publicFeedback(w http.ResponseWriter, r *http.Request) {
	if !s.admitSecretCheck(w, r) {
		rateLimited(w, r)
		return
	}
	f, _, err := s.app.LoadFeedback(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		if domain.ErrorCodeOf(err) == domain.ENOTFOUND {
			s.secretCheckFailed(r)
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(f.Version))
	writeJSON(w, http.StatusOK, PublicFeedbackOf(f, s.now()))
}

// supplyFeedbackPublic: POST /api/v1/public/feedback/{code}/information {information} — the
// submitter's reply to the agency's question.
func (s *Server) supplyFeedbackPublic(w http.ResponseWriter, r *http.Request) {
	var in commands.SupplyFeedbackInput
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.admitSecretCheck(w, r) {
		rateLimited(w, r)
		return
	}
	res, err := s.app.SupplyFeedbackPublic(r.Context(), chi.URLParam(r, "code"), in)
	if err != nil {
		if domain.ErrorCodeOf(err) == domain.ENOTFOUND {
			s.secretCheckFailed(r)
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, http.StatusOK, PublicFeedbackOf(res.Feedback, s.now()))
}

// importFeedback: POST /api/v1/feedback/import — a feedback of the national PAKN system, with its
// external_id; importing it again answers 200 with the feedback as it stands and writes nothing.
func (s *Server) importFeedback(w http.ResponseWriter, r *http.Request) {
	var body feedbackSubmission
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.app.ImportFeedback(r.Context(), callerOf(r.Context()), body.input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
		markReplayed(w, true)
	}
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, status, officialFeedbackOf(res.Feedback, s.now()))
}

// OfficialFeedback is the whole feedback as the officials of the agency holding it see it, with
// the actions its status allows.
type OfficialFeedback struct {
	domain.Feedback
	Stage   projections.FeedbackStage `json:"stage,omitempty"`
	Due     time.Time                 `json:"due,omitzero"`
	Overdue bool                      `json:"overdue"`
	Allowed []domain.Action           `json:"allowed_actions"`
}

func officialFeedbackOf(f domain.Feedback, now time.Time) OfficialFeedback {
	row := projections.FeedbackRowOf(f, now)
	allowed := domain.FeedbackAllowedActions(f)
	if allowed == nil {
		allowed = []domain.Action{}
	}
	return OfficialFeedback{Feedback: f, Stage: row.Stage, Due: row.Due, Overdue: row.Overdue, Allowed: allowed}
}

// getFeedback: GET /api/v1/feedback/{ref} — one feedback, for the officials of the agency holding
// it, inspectors and admins.
func (s *Server) getFeedback(w http.ResponseWriter, r *http.Request) {
	f, _, err := s.app.LoadFeedbackIfReadable(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"))
	if err == nil {
		// The sender's name and contacts are personal data: who was shown them is recorded first.
		err = s.recordRead(r, callerOf(r.Context()), httpkit.FeedbackRead(f.ID, f.LookupCode))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(f.Version))
	writeJSON(w, http.StatusOK, officialFeedbackOf(f, s.now()))
}

// newFeedbackInput returns the body of a feedback action named in the path.
func newFeedbackInput(action domain.Action) (func() commands.FeedbackInput, any, bool) {
	switch action {
	case domain.ActionFeedbackRoute:
		in := &commands.RouteFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	case domain.ActionFeedbackAsk:
		in := &commands.AskFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	case domain.ActionFeedbackSupply:
		in := &commands.SupplyFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	case domain.ActionFeedbackAnswer:
		in := &commands.AnswerFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	case domain.ActionFeedbackPublish:
		in := &commands.PublishFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	case "refuse":
		in := &commands.RefuseFeedbackInput{}
		return func() commands.FeedbackInput { return *in }, in, true
	}
	return nil, nil, false
}

// actOnFeedback: POST /api/v1/feedback/{ref}/{action} for route, ask, information, answer, publish
// and refuse; If-Match names the version the official saw (412 when it moved on), and two
// conflicting actions at once leave one winner and a 409.
func (s *Server) actOnFeedback(w http.ResponseWriter, r *http.Request) {
	input, body, ok := newFeedbackInput(domain.Action(chi.URLParam(r, "action")))
	if !ok {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "no action %q on feedback", chi.URLParam(r, "action")))
		return
	}
	ifMatch, err := parseIfMatch(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := decodeBody(r, body); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.app.ExecuteFeedback(r.Context(), callerOf(r.Context()), chi.URLParam(r, "ref"), ifMatch, input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, http.StatusOK, officialFeedbackOf(res.Feedback, s.now()))
}

// feedbackQueue: GET /api/v1/feedback?agency=&limit=&after= — one page of the open feedback the
// caller's agency holds (inspectors and admins: the agency asked for, or every one), soonest limit
// first, waits for the submitter last.
func (s *Server) feedbackQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v domain.Validation
	scope, forbidden := statisticsAgency(callerOf(r.Context()), q, &v)
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		v.Add(field, "%s", problem)
	}
	if s.refuse(w, r, forbidden, &v) {
		return
	}
	page, err := projections.FeedbackQueueOf(r.Context(), s.readDB, scope, s.now(), req)
	if errors.Is(err, projections.ErrBadCursor) {
		v.Add("after", "%s", err.Error())
		err = v.Err()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// feedbackDashboard: GET /api/v1/feedback/dashboard?agency=&from=&to= — the acts of each stage
// done on time and late in the period, and the feedback overdue at its end.
func (s *Server) feedbackDashboard(w http.ResponseWriter, r *http.Request) {
	agency, period, ok := s.statisticsFilter(w, r, nil)
	if !ok {
		return
	}
	dash, err := projections.FeedbackDashboardOf(r.Context(), s.readDB, agency, period, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dash)
}
