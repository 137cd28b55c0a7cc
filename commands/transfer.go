package commands

import (
	"context"
	"slices"
	"time"

	"github.com/motcua/motcua/domain"
)

// TransferInput hands the dossier to the next unit/official for a named step of the procedure's
// workflow. ToUnit and AllottedHours default to the workflow step's; a step outside the workflow
// needs explicit hours (else 400 with a field error on "step"). Naming a parallel step sends all
// its parts out at once; ToUnit and the official then coordinate it. A step further on than the next
// one is refused (409) unless a head or signer gives SkipReason, which the event records.
type TransferInput struct {
	ToUnit         string  `json:"to_unit,omitempty"`
	ToOfficialID   string  `json:"to_official_id,omitempty"`
	ToOfficialName string  `json:"to_official_name,omitempty"`
	Step           string  `json:"step"`
	AllottedHours  float64 `json:"allotted_hours,omitempty"`
	Note           string  `json:"note,omitempty" text:"multiline"`
	SkipReason     string  `json:"skip_reason,omitempty" text:"multiline"`
}

// skipRoles may pass over steps of the internal process: the leaders answerable for it. A desk or
// specialist official who finds a step needless asks them.
var skipRoles = []Role{RoleHead, RoleSigner, RoleAdmin}

func (TransferInput) Action() domain.Action { return domain.ActionTransfer }

func (in TransferInput) command(ctx context.Context, a *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	if in.SkipReason != "" && !slices.ContainsFunc(skipRoles, caller.Has) {
		return nil, domain.Errorf(domain.EFORBIDDEN, "skipping steps of the internal process needs one of the roles %v", skipRoles)
	}
	// A procedure no longer in the catalog has no workflow: only steps with explicit hours pass.
	procedure, _, err := a.ProcedureOf(ctx, d)
	if err != nil {
		return nil, err
	}
	if step, ok := procedure.Step(in.Step); ok && step.IsParallel() {
		// Sending parts to other agencies is inter-agency work, which needs its roles.
		for _, part := range step.Parallel {
			if _, may := roleFor(caller, domain.ActionInterAgencyTransfer); d.IsOtherAgency(part.Unit) && !may {
				return nil, domain.Errorf(domain.EFORBIDDEN, "step %q sends the dossier to %s, which needs one of the roles %v",
					step.Name, part.Unit, permissions[domain.ActionInterAgencyTransfer])
			}
		}
	}
	return domain.Transfer{
		From: domain.Handler{Unit: d.Holder.Unit, OfficialID: caller.ID, OfficialName: caller.Name},
		To:   domain.Handler{Unit: in.ToUnit, OfficialID: in.ToOfficialID, OfficialName: in.ToOfficialName},
		Step: in.Step, AllottedHours: in.AllottedHours, Note: in.Note, SkipReason: in.SkipReason, Workflow: procedure.Workflow, At: now, Calendar: a.Calendar,
	}, nil
}
