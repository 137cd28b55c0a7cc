package commands

import (
	"context"
	"slices"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// Role is an official's function; one official may hold several.
type Role string

const (
	RoleReception  Role = "reception"  // one-stop desk: receives, sends back, returns results
	RoleSpecialist Role = "specialist" // examines dossiers
	RoleHead       Role = "head"       // department head: assigns, supervises time
	RoleSigner     Role = "signer"     // leader who approves and signs
	RoleCashier    Role = "cashier"    // assesses and collects fees
	RoleInspector  Role = "inspector"  // reads everything, writes nothing
	RoleAdmin      Role = "admin"      // system administrator
)

// Roles lists every role.
var Roles = []Role{RoleReception, RoleSpecialist, RoleHead, RoleSigner, RoleCashier, RoleInspector, RoleAdmin}

// Caller is the authenticated official a command acts for. It comes from the bearer token, never
// from the request body.
type Caller struct {
	ID     string
	Name   string
	Roles  []Role
	Agency string // the caller's agency identifier (QCVN 102)
}

// Has reports whether the caller holds role.
func (c Caller) Has(role Role) bool { return slices.Contains(c.Roles, role) }

func (c Caller) actor(role Role) eventstore.Actor {
	return eventstore.Actor{ID: c.ID, Name: c.Name, Role: string(role), Agency: c.Agency}
}

// permissions is the role × action matrix (docs/api.md): which roles may take each action. The
// inspector appears nowhere: inspectors read and never write.
var permissions = map[domain.Action][]Role{
	domain.ActionSubmit:              {RoleReception, RoleAdmin},
	domain.ActionReceive:             {RoleReception, RoleAdmin},
	domain.ActionRefuseReception:     {RoleReception, RoleAdmin},
	domain.ActionRequestSupplement:   {RoleReception, RoleSpecialist, RoleHead, RoleAdmin},
	domain.ActionSupplement:          {RoleReception, RoleAdmin},
	domain.ActionTransfer:            {RoleReception, RoleSpecialist, RoleHead, RoleSigner, RoleAdmin},
	domain.ActionInterAgencyTransfer: {RoleHead, RoleSigner, RoleAdmin},
	domain.ActionAppraise:            {RoleSpecialist, RoleHead, RoleAdmin},
	domain.ActionSign:                {RoleSigner, RoleAdmin},
	domain.ActionAssessFee:           {RoleReception, RoleCashier, RoleAdmin},
	domain.ActionPay:                 {RoleCashier, RoleReception, RoleAdmin},
	domain.ActionMarkResultReady:     {RoleSigner, RoleHead, RoleReception, RoleAdmin},
	domain.ActionReturnResult:        {RoleReception, RoleAdmin},
	domain.ActionIssueApology:        {RoleHead, RoleSigner, RoleAdmin},
	domain.ActionSuspend:             {RoleHead, RoleSigner, RoleAdmin},
	domain.ActionResume:              {RoleHead, RoleSigner, RoleAdmin},
	domain.ActionWithdraw:            {RoleReception, RoleAdmin},
	domain.ActionReject:              {RoleSigner, RoleHead, RoleAdmin},
	domain.ActionCompletePart:        {RoleSpecialist, RoleHead, RoleSigner, RoleAdmin},
	// Corrections (correction.go): the agency's officials ask, its heads and signers decide.
	domain.ActionRequestCorrection: {RoleReception, RoleSpecialist, RoleHead, RoleSigner},
	domain.ActionApproveCorrection: {RoleHead, RoleSigner},
	domain.ActionRejectCorrection:  {RoleHead, RoleSigner},
	// The desk scans what it received; a specialist may add a document the applicant sent later.
	domain.ActionAttachDocument:   {RoleReception, RoleSpecialist, RoleAdmin},
	domain.ActionSucceedAgency:    {RoleAdmin},
	domain.ActionOriginalsArrived: {RoleReception, RoleSpecialist, RoleHead, RoleAdmin},
}

// RolesFor lists the roles allowed to take action.
func RolesFor(action domain.Action) []Role { return permissions[action] }

// authorize checks that caller may take action on d and returns the role it acts in. Officials act
// only on dossiers their agency received, decides, currently holds, or does an open part of
// (inter-agency work); admins act on any.
func authorize(caller Caller, action domain.Action, d domain.Dossier) (Role, error) {
	if caller.ID == "" {
		return "", domain.Errorf(domain.EUNAUTHORIZED, "sign in to act on dossiers")
	}
	role, ok := roleFor(caller, action)
	if !ok {
		return "", domain.Errorf(domain.EFORBIDDEN, "action %q needs one of the roles %v", action, permissions[action])
	}
	if role == RoleAdmin {
		return role, nil
	}
	if caller.Agency == "" {
		return "", domain.Errorf(domain.EFORBIDDEN, "official %s belongs to no agency", caller.ID)
	}
	if !d.Exists() {
		return role, nil
	}
	if !d.AgencyInvolved(caller.Agency) {
		return "", domain.Errorf(domain.EFORBIDDEN, "dossier %s belongs to another agency", d.Code)
	}
	return role, nil
}

func roleFor(caller Caller, action domain.Action) (Role, bool) {
	for _, r := range permissions[action] {
		if caller.Has(r) {
			return r, true
		}
	}
	return "", false
}

// CanRead reports whether caller may read the full dossier d (identity data and history): the
// officials of its agencies (domain.Dossier.AgencyInvolved), inspectors and admins. An official
// whose account names no agency reads no dossier.
func CanRead(caller Caller, d domain.Dossier) bool {
	scope, err := ScopeFor(caller, "")
	return err == nil && scope.Covers(d)
}

// LoadIfReadable loads the dossier ref (its code or id) for caller: ENOTFOUND when there is none,
// EFORBIDDEN when it is another agency's. Every read of one dossier, by the API and by the pages,
// goes through it or through CanRead.
func (a *App) LoadIfReadable(ctx context.Context, caller Caller, ref string) (domain.Dossier, []eventstore.RecordedEvent, error) {
	if caller.ID == "" {
		return domain.Dossier{}, nil, domain.Errorf(domain.EUNAUTHORIZED, "sign in to read dossiers")
	}
	d, recorded, err := a.Load(ctx, ref)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	if !CanRead(caller, d) {
		return domain.Dossier{}, nil, domain.Errorf(domain.EFORBIDDEN, "dossier %s belongs to another agency", d.Code)
	}
	return d, recorded, nil
}

// AgencyRoles are the roles exercised inside one agency: an official holding any of them acts and
// reads as a member of the agency the account names, so the account must name one. Inspectors and
// admins work province-wide (docs/security.md, "Read scope").
var AgencyRoles = []Role{RoleReception, RoleSpecialist, RoleHead, RoleSigner, RoleCashier}

// ProvinceWide reports whether caller reads every agency's dossiers: inspectors and admins.
func (c Caller) ProvinceWide() bool { return c.Has(RoleInspector) || c.Has(RoleAdmin) }

// CheckAgency records in v (field "agency") an account that holds an agency role but names no
// agency, or names one that is not a QCVN 102 identifier. Token minting and identity-provider
// sign-in check it, so such an account never signs in; read and write authorization refuse it
// on their own too.
func (c Caller) CheckAgency(v *domain.Validation) {
	if c.Agency != "" {
		v.Check(domain.ValidUnitCode(c.Agency), "agency", "%q is not a QCVN 102 identifier", c.Agency)
		return
	}
	for _, r := range AgencyRoles {
		if c.Has(r) {
			v.Add("agency", "is required for the role %q: its officials act within one agency", r)
			return
		}
	}
}

// ReadScope is whose dossiers a caller's lists, dashboards and reports cover: one agency's, or
// every agency's. Every agency is a value of its own that only ScopeFor gives, and only to
// inspectors and admins; the zero ReadScope covers nothing, so an empty agency can never widen a
// read to the whole province.
type ReadScope struct {
	agency string
	all    bool
}

// AllAgencies reports whether the scope is every agency.
func (s ReadScope) AllAgencies() bool { return s.all }

// Agency is the one agency the scope covers; "" when it covers every agency, or none.
func (s ReadScope) Agency() string { return s.agency }

// Covers reports whether the scope includes the dossier d: an agency covers the dossiers it is
// involved in (domain.Dossier.AgencyInvolved).
func (s ReadScope) Covers(d domain.Dossier) bool { return s.all || d.AgencyInvolved(s.agency) }

// ScopeFor decides whose dossiers caller reads when asking for the agency requested ("" when the
// request names none). Inspectors and admins read the agency they ask for, or every agency when
// they ask for none. Other officials read their own agency only; an official whose account names
// no agency reads nothing (EFORBIDDEN) — never everything.
func ScopeFor(caller Caller, requested string) (ReadScope, error) {
	switch {
	case caller.ID == "":
		return ReadScope{}, domain.Errorf(domain.EUNAUTHORIZED, "sign in to read dossiers")
	case requested != "" && !domain.ValidUnitCode(requested):
		return ReadScope{}, invalidField("agency", "is not a QCVN 102 identifier")
	case caller.ProvinceWide() && requested == "":
		return ReadScope{all: true}, nil
	case caller.ProvinceWide():
		return ReadScope{agency: requested}, nil
	case caller.Agency == "":
		return ReadScope{}, domain.Errorf(domain.EFORBIDDEN, "official %s belongs to no agency", caller.ID)
	case requested != "" && requested != caller.Agency:
		return ReadScope{}, domain.Errorf(domain.EFORBIDDEN, "officials read their own agency's dossiers only")
	}
	return ReadScope{agency: caller.Agency}, nil
}

// invalidField is an EINVALID error naming the field at fault.
func invalidField(field, format string, args ...any) error {
	var v domain.Validation
	v.Add(field, format, args...)
	return v.Err()
}
