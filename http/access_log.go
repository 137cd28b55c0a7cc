package http

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// Who read whose data (docs/security.md, "Access log"). Every route that shows an official a
// dossier's applicant records the read in the access log before it answers, synchronously: when
// the entry cannot be written the route answers an error and shows nothing, so no read goes
// unrecorded and none is lost on a crash or a shutdown.

// identityNumber is the receipt's rule for an applicant's number (domain/applicant.go): a citizen
// ID or a tax code, with a branch suffix.
var identityNumber = regexp.MustCompile(`^[0-9]{9,13}(-[0-9]{3})?$`)

// recordRead records that caller was shown what read names, through the route r was routed to.
// Without an access log configured it records nothing.
func (s *Server) recordRead(r *http.Request, caller commands.Caller, read httpkit.PersonalRead) error {
	if s.accessLog == nil {
		return nil
	}
	roles := make([]string, len(caller.Roles))
	for i, role := range caller.Roles {
		roles[i] = string(role)
	}
	route := r.Method + " " + r.URL.Path
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = r.Method + " " + rc.RoutePattern()
	}
	correlation := ""
	if id := commands.CorrelationID(r.Context()); id != [16]byte{} {
		correlation = id.String()
	}
	err := s.accessLog.Record(r.Context(), accesslog.Read{OfficialID: caller.ID, OfficialName: caller.Name, Roles: roles, Agency: caller.Agency,
		Route: route, DossierID: read.DossierID, DossierCode: read.DossierCode, ApplicantIDNumber: read.ApplicantIDNumber,
		List: read.List, Filter: read.Filter, CorrelationID: correlation})
	if err != nil {
		return fmt.Errorf("recording the read in the access log: %w", err)
	}
	return nil
}

// recordDossierRead records that the caller of r was shown dossier d.
func (s *Server) recordDossierRead(r *http.Request, d domain.Dossier) error {
	return s.recordRead(r, callerOf(r.Context()), httpkit.PersonalRead{DossierID: d.ID, DossierCode: string(d.Code), ApplicantIDNumber: d.Applicant.IDNumber})
}

// listFilter is a list's parameters as recorded: the path's and the query's, URL-encoded in
// sorted order.
func listFilter(r *http.Request, pathParams ...string) string {
	q := url.Values{}
	for name, values := range r.URL.Query() {
		q[name] = values
	}
	for _, name := range pathParams {
		q.Set(name, chi.URLParam(r, name))
	}
	return q.Encode()
}

// listAccessLog: GET /api/v1/access-log[?dossier=&applicant=&limit=&after=] — who read whose
// data (dossier: a dossier's code or id, or a feedback's lookup code), newest first, for inspectors (and the data-protection officer, who holds that role).
func (s *Server) listAccessLog(w http.ResponseWriter, r *http.Request) {
	caller := callerOf(r.Context())
	if !caller.Has(commands.RoleInspector) {
		s.writeError(w, r, domain.Errorf(domain.EFORBIDDEN, "the access log is for inspectors"))
		return
	}
	q := r.URL.Query()
	var v domain.Validation
	applicant := strings.TrimSpace(q.Get("applicant"))
	v.Check(applicant == "" || identityNumber.MatchString(applicant), "applicant", "must be a citizen ID or tax code (9–13 digits)")
	dossier := strings.TrimSpace(q.Get("dossier"))
	v.Check(len(dossier) <= 64, "dossier", "is not a dossier code or id")
	req, field, problem := projections.ParsePageRequest(q.Get("limit"), q.Get("after"))
	if field != "" {
		v.Add(field, "%s", problem)
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	query := accesslog.Query{ApplicantIDNumber: applicant}
	switch {
	case domain.ValidFeedbackLookupCode(strings.ToUpper(dossier)):
		// A feedback by its lookup code: its reads are recorded under its id (httpkit.FeedbackRead).
		f, _, err := s.app.LoadFeedback(r.Context(), strings.ToUpper(dossier))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		query.DossierID = f.ID
	case dossier != "":
		// The dossier by its code or id; reading it to find its id is not a read of its applicant.
		d, _, err := s.app.Load(r.Context(), dossier)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		query.DossierID = d.ID
	}
	page, err := s.accessLog.List(r.Context(), query, req)
	if err == projections.ErrBadCursor {
		err = badField("after", err.Error())
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := httpkit.AccessPage{Items: make([]httpkit.AccessRecord, len(page.Items)), Next: page.Next, Total: page.Total, TotalEstimated: page.TotalEstimated}
	for i, e := range page.Items {
		out.Items[i] = httpkit.AccessRecord{Seq: e.Seq, At: e.At, OfficialID: e.OfficialID, OfficialName: e.OfficialName, Roles: e.Roles,
			Agency: e.Agency, Route: e.Route, DossierID: e.DossierID, DossierCode: e.DossierCode, List: e.List, Filter: e.Filter,
			CorrelationID: e.CorrelationID}
	}
	writeJSON(w, http.StatusOK, out)
}
