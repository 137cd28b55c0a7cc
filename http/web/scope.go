package web

import (
	"context"
	"net/http"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// scopeRefusalKey is the page message for a read scope refused to caller.
func scopeRefusalKey(caller commands.Caller, err error) string {
	switch {
	case domain.ErrorCodeOf(err) == domain.EINVALID:
		return "error.bad_form"
	case !caller.ProvinceWide() && caller.Agency == "":
		return "error.no_agency"
	}
	return "error.own_agency_only"
}

// renderScopeRefusal answers a page whose read scope was refused: 403 (400 for a malformed agency).
func (s *Pages) renderScopeRefusal(w http.ResponseWriter, r *http.Request, caller commands.Caller, err error) {
	status := httpkit.StatusOf[domain.ErrorCodeOf(err)]
	if status == http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "read scope", "err", err)
	}
	s.renderError(w, r, status, scopeRefusalKey(caller, err))
}

type dashboardScopeKey struct{}

// dashboardAccess decides the read scope of a dashboard page or CSV (the agency picked in
// co-quan, if any) before the handler runs, and refuses the request when the official may not
// read it. The handlers read the decision through scopeOf.
func (s *Pages) dashboardAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, _ := officialOf(r)
		scope, err := httpkit.ReadScope(caller, r.URL.Query().Get("co-quan"))
		if err != nil {
			s.renderScopeRefusal(w, r, caller, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), dashboardScopeKey{}, scope)))
	})
}

// dashboardAgencies is the read scope dashboardAccess decided; without it, a scope that covers
// nothing.
func dashboardAgencies(r *http.Request) projections.AgencyScope {
	scope, _ := r.Context().Value(dashboardScopeKey{}).(projections.AgencyScope)
	return scope
}
