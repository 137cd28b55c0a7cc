package httpkit

import (
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/projections"
)

// Read scope: the JSON API and the pages ask commands.ScopeFor whose dossiers a caller's lists,
// dashboards and reports cover, and commands.LoadIfReadable (or CanRead) whether one dossier may be
// read — one decision for both faces, so a page can never show what the API refuses.

// ReadScope decides whose dossiers caller reads when asking for the agency requested ("" for none)
// and turns the decision into the read models' scope; every agency only when ScopeFor says so.
func ReadScope(caller commands.Caller, requested string) (projections.AgencyScope, error) {
	scope, err := commands.ScopeFor(caller, requested)
	if err != nil {
		return projections.AgencyScope{}, err
	}
	if scope.AllAgencies() {
		return projections.AllAgencies(), nil
	}
	return projections.OneAgency(scope.Agency()), nil
}
