package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// InterAgencyTransferInput sends the dossier to another agency for its part of a joint procedure:
// a workflow step done by another agency (Step; ToAgency, Purpose and AllottedHours default to the
// step's), or a purpose with explicit hours. SkipReason is as for TransferInput; every role that
// may send a dossier to another agency may give it.
type InterAgencyTransferInput struct {
	ToAgency      string  `json:"to_agency,omitempty"`
	Step          string  `json:"step,omitempty"`
	Purpose       string  `json:"purpose,omitempty"`
	AllottedHours float64 `json:"allotted_hours,omitempty"`
	SkipReason    string  `json:"skip_reason,omitempty" text:"multiline"`
}

func (InterAgencyTransferInput) Action() domain.Action { return domain.ActionInterAgencyTransfer }

func (in InterAgencyTransferInput) command(ctx context.Context, a *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	procedure, _, err := a.ProcedureOf(ctx, d)
	if err != nil {
		return nil, err
	}
	return domain.InterAgencyTransfer{
		From:       domain.Handler{Unit: d.Holder.Unit, OfficialID: caller.ID, OfficialName: caller.Name},
		FromAgency: d.HolderAgency, ToAgency: in.ToAgency, Step: in.Step, Purpose: in.Purpose, AllottedHours: in.AllottedHours,
		SkipReason: in.SkipReason, Workflow: procedure.Workflow, At: now, Calendar: a.Calendar,
	}, nil
}
