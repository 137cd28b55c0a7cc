package web

import (
	"net/http"
	"strings"

	"github.com/motcua/motcua/http/httpkit"
)

// accessLogView is the inspectors' page of the access log: who read whose data, newest first,
// for one dossier (its code) or one applicant (their identity number), a page at a time. It shows
// what the API answers, and the API decides who may see it (inspectors).
type accessLogView struct {
	Dossier   string
	Applicant string
	Page      httpkit.AccessPage
	NextURL   string
	FirstURL  string
}

const accessLogPath = "/can-bo/thanh-tra/nhat-ky-truy-cap"

func (s *Pages) accessLogPage(w http.ResponseWriter, r *http.Request) {
	l := langOf(w, r)
	q := r.URL.Query()
	page := &accessLogView{Dossier: strings.TrimSpace(q.Get("ho-so")), Applicant: strings.TrimSpace(q.Get("nguoi-nop"))}
	var problem *httpkit.Problem
	var err error
	page.Page, problem, err = s.api.AccessLog(r, httpkit.AccessQuery{Dossier: page.Dossier, Applicant: page.Applicant, Limit: q.Get("limit"), After: q.Get("after")})
	if err != nil {
		s.logger.ErrorContext(r.Context(), "access log page", "err", err)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	if problem != nil {
		var fields []string
		for _, f := range problem.Errors {
			fields = append(fields, f.Field+": "+f.Message)
		}
		key := errorKeyOf(problem.Status)
		switch problem.Status {
		case http.StatusForbidden:
			key = "access_log.forbidden"
		case http.StatusBadRequest:
			key = "error.bad_page"
		}
		s.renderError(w, r, problem.Status, key, strings.Join(fields, "; "))
		return
	}
	if page.Page.Next != "" {
		next := r.URL.Query()
		next.Set("after", page.Page.Next)
		page.NextURL = accessLogPath + "?" + next.Encode()
	}
	if q.Get("after") != "" {
		first := r.URL.Query()
		first.Del("after")
		page.FirstURL = accessLogPath + "?" + first.Encode()
	}
	s.render(w, r, http.StatusOK, "access_log", l.T("access_log.title"), page)
}
