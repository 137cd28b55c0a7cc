package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// lookupView is the public lookup page (tra cứu): a code form, and the dossier's public status.
type lookupView struct {
	Query   string
	Problem string // message key: malformed or unknown code
	Status  *publicStatusView
	Rating  *ratingForm
	// FeedURL is the dossier's live status feed; FragmentURL re-renders the status when it changes.
	FeedURL     string
	FragmentURL string
	// PayOnline: fees are due and a payment gateway is configured.
	PayOnline bool
}

// publicStatusView is a dossier's public status with the verdict on its timing. It shows the steps
// a dossier went through but not the units or officials: without signing in, the law lets the
// public see how far processing has gone, not who holds the dossier (TT 01/2018 art. 16).
type publicStatusView struct {
	projections.PublicStatus
	L      l10n.Lang
	Early  bool // resolved on a day before the appointment date
	OnTime bool // resolved on the appointment date's day
	Within bool // open and not yet due
	Final  bool
	// Identified: the visitor presented the receipt's secret, so the page may show what the dossier
	// is about and whose it is (masked); with the code alone it shows only progress.
	Identified bool
	// ReceivingName and CompetentName are the agencies' names in the catalog.
	ReceivingName, CompetentName string
	// Notifications are the latest sent to the applicant about the dossier: channel, kind, time.
	Notifications []httpkit.SentNotification
}

func newPublicStatusView(l l10n.Lang, p projections.PublicStatus) *publicStatusView {
	v := &publicStatusView{PublicStatus: p, L: l, Final: p.Status.Final()}
	resolved := p.FinishedAt
	if resolved.IsZero() {
		resolved = p.ReturnedAt
	}
	switch {
	case p.Late:
	case !resolved.IsZero() && !p.AppointmentDate.IsZero():
		if civilDay(resolved) < civilDay(p.AppointmentDate) {
			v.Early = true
		} else {
			v.OnTime = true
		}
	case p.Status.Open() && !p.AppointmentDate.IsZero():
		v.Within = true
	}
	return v
}

func civilDay(t time.Time) string { return t.In(domain.VietnamTime).Format(time.DateOnly) }

// ratingForm is the applicant's evaluation form (TT 01/2018 art. 13–15), shown when the lookup
// link carries the receipt's secret.
type ratingForm struct {
	Code     string
	Secret   string
	Criteria []domain.Criterion
	Levels   []domain.RatingLevel
	Chosen   map[domain.Criterion]domain.RatingLevel
	Comment  string
	Errors   map[string]string
	Problem  *httpkit.Problem
	Done     bool // the API recorded the rating
	Already  bool // rated before
	NotReady bool // the result is not returned yet
}

func (s *Pages) lookupPage(w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimSpace(chi.URLParam(r, "code"))
	if raw == "" {
		raw = strings.TrimSpace(r.URL.Query().Get("ma"))
		if raw != "" {
			// The search form submits ?ma=; the canonical address of a dossier is its own path.
			q := url.Values{}
			if l := r.URL.Query().Get("lang"); l != "" {
				q.Set("lang", l)
			}
			target := "/tra-cuu/" + url.PathEscape(raw)
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
	}
	l := langOf(w, r)
	page := &lookupView{Query: raw}
	status := http.StatusOK
	if raw != "" {
		status = s.fillLookup(w, r, l, page, r.URL.Query().Get("secret"))
	}
	v := s.newView(w, r, l.T("lookup.title"), page)
	if r.URL.Query().Get("fragment") == "status" && page.Status != nil {
		s.renderFragment(w, r, "lookup", "lookup-status", v)
		return
	}
	s.renderView(w, r, status, "lookup", v)
}

// fillLookup looks the code up and returns the page's HTTP status. With the receipt's secret the
// page shows whose dossier it is (masked) and what it is about, and offers the rating form.
func (s *Pages) fillLookup(w http.ResponseWriter, r *http.Request, l l10n.Lang, page *lookupView, secret string) int {
	parsed, err := domain.ParseDossierCode(page.Query)
	if err != nil {
		page.Problem = "lookup.malformed"
		return http.StatusBadRequest
	}
	code := parsed.Code
	st, err := s.publicLookup.Status(r.Context(), string(code), s.now())
	if errors.Is(err, projections.ErrNotFound) {
		page.Problem = "lookup.unknown"
		return http.StatusNotFound
	}
	if err != nil {
		return s.lookupFailed(w, r, page, code, err)
	}
	page.Status = newPublicStatusView(l, st)
	page.Status.Notifications = s.api.SentNotifications(r, st.DossierID)
	page.PayOnline = s.onlinePayment && st.Status == domain.StatusAwaitingPayment
	page.FeedURL = "/api/v1/public/dossiers/" + url.PathEscape(string(code)) + "/events"
	page.FragmentURL = "/tra-cuu/" + url.PathEscape(string(code)) + "?fragment=status"
	if secret == "" {
		return http.StatusOK
	}
	switch err := s.api.CheckReceiptSecret(w, r, string(code), secret); {
	case errors.Is(err, httpkit.ErrSecretChecksLimited):
		page.Problem = "error.rate_limited"
		return http.StatusTooManyRequests
	case domain.ErrorCodeOf(err) == domain.EFORBIDDEN:
		page.Problem = "lookup.wrong_secret"
		return http.StatusForbidden
	case err != nil:
		return s.lookupFailed(w, r, page, code, err)
	}
	page.Status.Identified = true
	page.Status.ReceivingName, page.Status.CompetentName = s.app.Catalog().AgencyName(st.ReceivingUnit), s.app.Catalog().AgencyName(st.CompetentAgency)
	// The live update re-renders the status for the same visitor, identity included.
	page.FragmentURL += "&secret=" + url.QueryEscape(secret)
	page.Rating = &ratingForm{
		Code: string(code), Secret: secret, Criteria: domain.Criteria, Levels: ratingLevels,
		Chosen: map[domain.Criterion]domain.RatingLevel{}, Errors: map[string]string{},
		NotReady: st.Status != domain.StatusResultReturned,
	}
	return http.StatusOK
}

// lookupFailed shows a store failure on the lookup page: 503 while the store is unreachable (the
// visitor may retry), else 500.
func (s *Pages) lookupFailed(w http.ResponseWriter, r *http.Request, page *lookupView, code domain.DossierCode, err error) int {
	page.Status, page.Rating = nil, nil
	if httpkit.StoreUnavailable(err) {
		s.logger.WarnContext(r.Context(), "public lookup: store unavailable", "code", code, "err", err)
		w.Header().Set("Retry-After", httpkit.RetryAfterUnavailable)
		page.Problem = "error.unavailable"
		return http.StatusServiceUnavailable
	}
	if httpkit.ClientGone(r) {
		page.Problem = "error.internal"
		return httpkit.StatusClientClosedRequest
	}
	s.logger.ErrorContext(r.Context(), "public lookup", "code", code, "err", err)
	page.Problem = "error.internal"
	return http.StatusInternalServerError
}

var ratingLevels = []domain.RatingLevel{domain.VerySatisfied, domain.Satisfied, domain.Dissatisfied}

// ratePage posts the rating form to the rating API and shows its answer.
func (s *Pages) ratePage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.bad_form")
		return
	}
	page := &lookupView{Query: chi.URLParam(r, "code")}
	status := s.fillLookup(w, r, l, page, r.PostFormValue("secret"))
	if page.Rating == nil {
		s.render(w, r, status, "lookup", l.T("lookup.title"), page)
		return
	}
	form := page.Rating
	form.Comment = r.PostFormValue("comment")
	scores := map[domain.Criterion]domain.RatingLevel{}
	for _, c := range domain.Criteria {
		if v := r.PostFormValue("scores." + string(c)); v != "" {
			scores[c] = domain.RatingLevel(v)
		}
	}
	form.Chosen = scores
	problem, err := s.api.Rate(r, page.Status.Code, RatingRequest{Secret: form.Secret, Scores: scores, Comment: form.Comment})
	if err != nil {
		s.logger.ErrorContext(r.Context(), "rating", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem == nil {
		form.Done = true
		status = http.StatusOK
	} else {
		form.Problem, form.Errors, status = problem, problem.FieldErrors(), problem.Status
	}
	s.render(w, r, status, "lookup", l.T("lookup.title"), page)
}

// resultView is the result verification page a result's QR code leads to: is this document the one
// the agency signed, by whom and when, does the agency's signature verify and is the dossier's
// history intact. It shows the public verification API's answer.
type resultView struct {
	ResultCode string
	Presented  string
	Problem    *httpkit.Problem
	NotFound   bool
	V          httpkit.ResultVerification
	// ByFile: the verdict is on a file sent to the server (not a hash computed in the browser).
	ByFile bool
}

func (s *Pages) resultPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	var status int
	page := &resultView{ResultCode: chi.URLParam(r, "resultCode"), Presented: strings.ToLower(strings.TrimSpace(r.URL.Query().Get("hash")))}
	verification, problem, err := s.api.VerifyResult(r, page.ResultCode, page.Presented)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "result verification", "code", page.ResultCode, "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	page.V, page.Problem, status = verification, problem, http.StatusOK
	if problem != nil {
		page.NotFound, status = problem.Status == http.StatusNotFound, problem.Status
	}
	s.render(w, r, status, "result", l.T("result.title"), page)
}
