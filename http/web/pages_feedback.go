package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// The complaints' and petitions' pages (PAKN): the public send one and follow it by its code at
// /phan-anh; officials see their agency's queue at /can-bo/phan-anh and answer at
// /can-bo/phan-anh/{code}. Every write goes through web.API.

// FeedbackRequest is the public form as POST /api/v1/public/feedback takes it.
type FeedbackRequest struct {
	Kind        string              `json:"kind"`
	DossierCode string              `json:"dossier_code,omitempty"`
	Agency      string              `json:"agency,omitempty"`
	Subject     string              `json:"subject"`
	Content     string              `json:"content"`
	Submitter   FeedbackSubmitterIn `json:"submitter"`
}

// FeedbackSubmitterIn is who sends the feedback, as typed.
type FeedbackSubmitterIn struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// FeedbackDone is what the pages need of the API's answer to a submission.
type FeedbackDone struct {
	LookupCode string `json:"lookup_code"`
}

// FeedbackStatus is a feedback as GET /api/v1/public/feedback/{code} shows it to whoever holds its
// code.
type FeedbackStatus struct {
	LookupCode  string                `json:"lookup_code"`
	Kind        domain.FeedbackKind   `json:"kind"`
	Subject     string                `json:"subject"`
	DossierCode string                `json:"dossier_code"`
	Status      domain.FeedbackStatus `json:"status"`
	ReceivedAt  time.Time             `json:"received_at"`
	Due         time.Time             `json:"due"`
	Question    string                `json:"question"`
	Answer      string                `json:"answer"`
	AnsweredAt  time.Time             `json:"answered_at"`
	PublishedAt time.Time             `json:"published_at"`
	Refusal     string                `json:"refusal_reason"`
	RefusedAt   time.Time             `json:"refused_at"`
}

// FeedbackActionRequest is an official's form as POST /api/v1/feedback/{ref}/{action} takes it:
// each action sets its own field.
type FeedbackActionRequest struct {
	Agency      string `json:"agency,omitempty"`
	Note        string `json:"note,omitempty"`
	Question    string `json:"question,omitempty"`
	Information string `json:"information,omitempty"`
	Answer      string `json:"answer,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

const feedbackPath, officialFeedbackPath = "/phan-anh", "/can-bo/phan-anh"

func (s *Pages) mountPublicFeedback(r chi.Router) {
	r.Get(feedbackPath, s.feedbackPage)
	r.Post(feedbackPath, s.feedbackSubmit)
	r.Get(feedbackPath+"/{code}", s.feedbackPage)
	r.Post(feedbackPath+"/{code}/bo-sung", s.feedbackSupply)
}

func (s *Pages) mountOfficialFeedback(r chi.Router) {
	r.Get(officialFeedbackPath, s.feedbackQueuePage)
	r.Get(officialFeedbackPath+"/{code}", s.officialFeedbackPage)
	r.Post(officialFeedbackPath+"/{code}/{action}", s.officialFeedbackSubmit)
}

// feedbackView is the public page: the form to send one, the form to follow one, and the one
// followed.
type feedbackView struct {
	Kinds    []domain.FeedbackKind
	Agencies []domain.Agency
	Values   url.Values
	Errors   map[string]string
	Problem  *httpkit.Problem
	Query    string
	NotFound bool
	F        *FeedbackStatus
	Sent     bool // just sent: show the code prominently
	Supplied bool
}

func (s *Pages) newFeedbackView() *feedbackView {
	return &feedbackView{Kinds: domain.FeedbackKinds, Agencies: s.app.Catalog().Agencies, Values: url.Values{}}
}

// feedbackPage: GET /phan-anh[/{code}] (or ?ma=): the forms, and the feedback followed.
func (s *Pages) feedbackPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	page := s.newFeedbackView()
	code := strings.ToUpper(strings.TrimSpace(chi.URLParam(r, "code")))
	if q := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("ma"))); code == "" && q != "" {
		http.Redirect(w, r, feedbackPath+"/"+url.PathEscape(q), http.StatusSeeOther)
		return
	}
	page.Sent, page.Supplied = r.URL.Query().Get("da-gui") != "", r.URL.Query().Get("da-bo-sung") != ""
	status, err := s.fillFeedback(r, page, code)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	s.render(w, r, status, "feedback", l.T("feedback.title"), page)
}

func (s *Pages) fillFeedback(r *http.Request, page *feedbackView, code string) (int, error) {
	if code == "" {
		return http.StatusOK, nil
	}
	page.Query = code
	if !domain.ValidFeedbackLookupCode(code) {
		page.NotFound = true
		return http.StatusNotFound, nil
	}
	f, problem, err := s.api.FollowFeedback(r, code)
	if err != nil {
		return 0, err
	}
	if problem != nil {
		page.NotFound = true
		return problem.Status, nil
	}
	page.F = &f
	return http.StatusOK, nil
}

// feedbackSubmit: POST /phan-anh — sends the form to the API; on success, the feedback's page
// with its code.
func (s *Pages) feedbackSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_form")
		return
	}
	f := r.PostFormValue
	in := FeedbackRequest{Kind: f("kind"), DossierCode: strings.TrimSpace(f("dossier_code")), Agency: f("agency"), Subject: f("subject"),
		Content: f("content"), Submitter: FeedbackSubmitterIn{Name: f("name"), Phone: strings.TrimSpace(f("phone")), Email: strings.TrimSpace(f("email"))}}
	done, problem, err := s.api.SubmitFeedback(r, in)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem == nil {
		http.Redirect(w, r, feedbackPath+"/"+url.PathEscape(done.LookupCode)+"?da-gui=1", http.StatusSeeOther)
		return
	}
	page := s.newFeedbackView()
	page.Values, page.Errors, page.Problem = r.PostForm, problem.FieldErrors(), problem
	s.render(w, r, problem.Status, "feedback", l.T("feedback.title"), page)
}

// feedbackSupply: POST /phan-anh/{code}/bo-sung — the submitter's reply to the agency's question.
func (s *Pages) feedbackSupply(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_form")
		return
	}
	code := strings.ToUpper(chi.URLParam(r, "code"))
	problem, err := s.api.SupplyFeedback(r, code, r.PostFormValue("information"))
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback reply", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem == nil {
		http.Redirect(w, r, feedbackPath+"/"+url.PathEscape(code)+"?da-bo-sung=1", http.StatusSeeOther)
		return
	}
	page := s.newFeedbackView()
	status, err := s.fillFeedback(r, page, code)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if status == http.StatusOK {
		status = problem.Status
	}
	page.Values, page.Errors, page.Problem = r.PostForm, problem.FieldErrors(), problem
	s.render(w, r, status, "feedback", l.T("feedback.title"), page)
}

// feedbackQueueView is one page of the open feedback the official's agency holds.
type feedbackQueueView struct {
	Page      projections.Page[projections.FeedbackRow]
	Next      string
	All       bool
	Dashboard projections.FeedbackDashboard
}

// feedbackQueuePage: GET /can-bo/phan-anh?co-quan=&after= — the agency's open feedback, soonest
// limit first.
func (s *Pages) feedbackQueuePage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	caller, _ := officialOf(r)
	q := r.URL.Query()
	scope, err := httpkit.ReadScope(caller, q.Get("co-quan"))
	if err != nil {
		s.renderScopeRefusal(w, r, caller, err)
		return
	}
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_page", field+" "+problem)
		return
	}
	page, err := projections.FeedbackQueueOf(r.Context(), s.readDB, scope, s.now(), req)
	if errors.Is(err, projections.ErrBadCursor) {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_page", "after")
		return
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback queue", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	// The month to date's on-time handling per stage, for the same scope.
	today := s.now().In(domain.VietnamTime)
	month := projections.Period{From: time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, domain.VietnamTime),
		To: time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, domain.VietnamTime)}
	dash, err := projections.FeedbackDashboardOf(r.Context(), s.readDB, scope, month, s.now())
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback dashboard", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	view := &feedbackQueueView{Page: page, All: scope.All(), Dashboard: dash}
	if page.Next != "" {
		next := url.Values{"after": {page.Next}}
		if a := q.Get("co-quan"); a != "" {
			next.Set("co-quan", a)
		}
		view.Next = officialFeedbackPath + "?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "feedback_queue", l.T("feedback.queue_title"), view)
}

// officialFeedbackView is one feedback as its agency's officials handle it.
type officialFeedbackView struct {
	F        domain.Feedback
	Row      projections.FeedbackRow
	Allowed  []domain.Action
	Agencies []domain.Agency
	Form     string // the action whose form failed
	Values   url.Values
	Errors   map[string]string
	Problem  *httpkit.Problem
	Done     string
}

func (s *Pages) loadOfficialFeedback(r *http.Request, code string) (*officialFeedbackView, int) {
	caller, _ := officialOf(r)
	f, _, err := s.app.LoadFeedbackIfReadable(r.Context(), caller, code)
	if err == nil {
		// The sender's name and contacts are personal data: who was shown them is recorded first.
		err = s.record(r, httpkit.FeedbackRead(f.ID, f.LookupCode))
	}
	if err != nil {
		switch domain.ErrorCodeOf(err) {
		case domain.ENOTFOUND:
			return nil, http.StatusNotFound
		case domain.EFORBIDDEN, domain.EUNAUTHORIZED:
			return nil, http.StatusForbidden
		}
		s.logger.ErrorContext(r.Context(), "feedback", "err", err)
		return nil, http.StatusInternalServerError
	}
	var allowed []domain.Action
	for _, a := range domain.FeedbackAllowedActions(f) {
		if a == domain.ActionFeedbackSupply || !mayActOnFeedback(caller, a) || (!caller.Has(commands.RoleAdmin) && caller.Agency != f.Agency) {
			continue
		}
		allowed = append(allowed, a)
	}
	return &officialFeedbackView{F: f, Row: projections.FeedbackRowOf(f, s.now()), Allowed: allowed, Agencies: s.app.Catalog().Agencies,
		Values: url.Values{}}, http.StatusOK
}

func mayActOnFeedback(caller commands.Caller, a domain.Action) bool {
	for _, role := range commands.FeedbackRolesFor(a) {
		if caller.Has(role) {
			return true
		}
	}
	return false
}

// officialFeedbackPage: GET /can-bo/phan-anh/{code}.
func (s *Pages) officialFeedbackPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	page, status := s.loadOfficialFeedback(r, chi.URLParam(r, "code"))
	if page == nil {
		s.renderError(w, r, status, errorKeyOf(status))
		return
	}
	page.Done = r.URL.Query().Get("da-lam")
	s.render(w, r, http.StatusOK, "feedback_official", l.T("feedback.title")+" "+page.F.LookupCode, page)
}

// feedbackPathAction is the path segment of each action the officials' forms post.
var feedbackPathAction = map[string]domain.Action{
	"route": domain.ActionFeedbackRoute, "ask": domain.ActionFeedbackAsk, "answer": domain.ActionFeedbackAnswer,
	"publish": domain.ActionFeedbackPublish, "refuse": domain.ActionFeedbackRefuse,
}

// officialFeedbackSubmit: POST /can-bo/phan-anh/{code}/{action} — an official's act, through the API.
func (s *Pages) officialFeedbackSubmit(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	code, segment := chi.URLParam(r, "code"), chi.URLParam(r, "action")
	if _, ok := feedbackPathAction[segment]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	f := r.PostFormValue
	in := FeedbackActionRequest{}
	switch segment {
	case "route":
		in.Agency, in.Note = f("agency"), f("note")
	case "ask":
		in.Question = f("question")
	case "answer":
		in.Answer = f("answer")
	case "refuse":
		in.Reason = f("reason")
	}
	problem, err := s.api.ActOnFeedback(r, code, segment, f("version"), in)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "feedback action", "action", segment, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem == nil {
		http.Redirect(w, r, officialFeedbackPath+"/"+url.PathEscape(code)+"?da-lam="+url.QueryEscape(segment), http.StatusSeeOther)
		return
	}
	page, status := s.loadOfficialFeedback(r, code)
	if page == nil {
		s.renderError(w, r, status, errorKeyOf(status))
		return
	}
	page.Form, page.Values, page.Errors, page.Problem = segment, r.PostForm, problem.FieldErrors(), problem
	s.render(w, r, problem.Status, "feedback_official", l.T("feedback.title")+" "+page.F.LookupCode, page)
}
