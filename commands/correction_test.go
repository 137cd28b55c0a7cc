package commands_test

import (
	"fmt"
	"testing"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// correctionRoles is who may take each correction action (docs/api.md, role × action matrix):
// the agency's officials request, its heads and signers decide; admins and inspectors do neither.
var correctionRoles = map[domain.Action][]commands.Role{
	domain.ActionRequestCorrection: {commands.RoleReception, commands.RoleSpecialist, commands.RoleHead, commands.RoleSigner},
	domain.ActionApproveCorrection: {commands.RoleHead, commands.RoleSigner},
	domain.ActionRejectCorrection:  {commands.RoleHead, commands.RoleSigner},
}

func nameCorrection() commands.RequestCorrectionInput {
	return commands.RequestCorrectionInput{Reason: "Nhập sai họ tên",
		Changes: []commands.CorrectionChange{{Field: domain.FieldApplicantName, Old: "Phạm Văn Cường", New: "Phạm Văn Cương"}}}
}

// stageCorrectionPending: in processing, a specialist of the deciding agency asked for a correction.
func stageCorrectionPending(r *authzRig) string {
	return r.then(stageProcessing(r), official(commands.RoleSpecialist, authzBuilding), nameCorrection())
}

func TestCorrectionRoles(t *testing.T) {
	r := newAuthzRig(t)
	cases := []struct {
		action domain.Action
		stage  stage
		input  commands.Input
	}{
		{domain.ActionRequestCorrection, stageProcessing, nameCorrection()},
		{domain.ActionApproveCorrection, stageCorrectionPending, commands.ApproveCorrectionInput{Number: 1}},
		{domain.ActionRejectCorrection, stageCorrectionPending, commands.RejectCorrectionInput{Number: 1, Reason: "Họ tên đúng như đã nhập"}},
	}
	for _, c := range cases {
		if got, want := sortedRoles(commands.RolesFor(c.action)), sortedRoles(correctionRoles[c.action]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: commands allow %v, the matrix says %v", c.action, got, want)
		}
		for _, role := range commands.Roles {
			t.Run(fmt.Sprintf("%s/%s", c.action, role), func(t *testing.T) {
				r.t = t
				caller := official(role, authzBuilding)
				caller.ID = "other-" + caller.ID // never the requester
				wrote, err := r.attempt(authzCase{action: c.action, stage: c.stage, input: func() commands.Input { return c.input }}, caller)
				allowed := false
				for _, ok := range correctionRoles[c.action] {
					allowed = allowed || ok == role
				}
				switch {
				case allowed && (err != nil || wrote != 1):
					t.Fatalf("%s may %s: got %v, %d events", role, c.action, err, wrote)
				case !allowed && (domain.ErrorCodeOf(err) != domain.EFORBIDDEN || wrote != 0):
					t.Fatalf("%s must not %s: got %v, %d events", role, c.action, err, wrote)
				}
			})
		}
	}
	// The deciding officials must be of the requester's agency, and never the requester.
	for _, tc := range []struct {
		name   string
		caller commands.Caller
	}{
		{"the requester, who is also a head", commands.Caller{ID: "specialist@" + authzBuilding, Name: "Cán bộ", Roles: []commands.Role{commands.RoleSpecialist, commands.RoleHead}, Agency: authzBuilding}},
		{"a head of the receiving centre", official(commands.RoleHead, authzCentre)},
		{"an official of an unrelated agency", commands.Caller{ID: "khac", Name: "Cán bộ sở khác", Roles: []commands.Role{commands.RoleHead, commands.RoleSigner}, Agency: authzLand}},
	} {
		t.Run("approve by "+tc.name, func(t *testing.T) {
			r.t = t
			wrote, err := r.attempt(authzCase{action: domain.ActionApproveCorrection, stage: stageCorrectionPending,
				input: func() commands.Input { return commands.ApproveCorrectionInput{Number: 1} }}, tc.caller)
			if domain.ErrorCodeOf(err) != domain.EFORBIDDEN || wrote != 0 {
				t.Fatalf("got %v and %d events, want forbidden and nothing written", err, wrote)
			}
		})
	}
}
