package commands

import (
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
// officials of its agencies (domain.Dossier.AgencyInvolved), inspectors and admins.
func CanRead(caller Caller, d domain.Dossier) bool {
	if caller.Has(RoleInspector) || caller.Has(RoleAdmin) {
		return true
	}
	return d.AgencyInvolved(caller.Agency)
}
