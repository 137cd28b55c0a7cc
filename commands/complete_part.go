package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// CompletePartInput records that a unit or agency finished its part of a parallel step (a
// consultation, an inter-agency share), with its opinion.
type CompletePartInput struct {
	Step    string `json:"step"`
	Opinion string `json:"opinion" text:"multiline"`
}

func (CompletePartInput) Action() domain.Action { return domain.ActionCompletePart }

func (in CompletePartInput) command(_ context.Context, _ *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	// An agency doing a part answers for its own parts only. The dossier's own agencies may record
	// any part's answer: it may reach them on paper.
	ownAgency := caller.Agency == d.ReceivingUnit || caller.Agency == d.CompetentAgency || caller.Has(RoleAdmin)
	for _, part := range d.OpenParts {
		if part.Step == in.Step && part.Agency != caller.Agency && !ownAgency {
			return nil, domain.Errorf(domain.EFORBIDDEN, "part %q is done by %s", part.Step, part.Agency)
		}
	}
	return domain.CompletePart{
		Step: in.Step, By: domain.Handler{Unit: caller.Agency, OfficialID: caller.ID, OfficialName: caller.Name},
		Opinion: in.Opinion, At: now,
	}, nil
}
