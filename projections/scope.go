package projections

// AgencyScope is whose dossiers a read-model query covers: one agency's, or every agency's. Every
// agency is a value of its own (AllAgencies), asked for on purpose; the zero AgencyScope, and
// OneAgency(""), cover no dossier at all, so an agency left empty can never widen a query to the
// whole province. The HTTP layer builds it from commands.ScopeFor, which decides who may read what.
type AgencyScope struct {
	agency string
	all    bool
}

// AllAgencies covers every agency's dossiers.
func AllAgencies() AgencyScope { return AgencyScope{all: true} }

// OneAgency covers the dossiers of the agency with QCVN 102 identifier code; "" covers none.
func OneAgency(code string) AgencyScope { return AgencyScope{agency: code} }

// Agency is the one agency covered; "" for every agency, or none.
func (s AgencyScope) Agency() string { return s.agency }

// All reports whether every agency is covered.
func (s AgencyScope) All() bool { return s.all }

// none reports whether the scope covers no dossier.
func (s AgencyScope) none() bool { return !s.all && s.agency == "" }
