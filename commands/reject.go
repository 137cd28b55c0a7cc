package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// RejectInput refuses the request after appraisal, with the written reasons.
type RejectInput struct {
	Reason string `json:"reason" text:"multiline"`
}

func (RejectInput) Action() domain.Action { return domain.ActionReject }

func (in RejectInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Reject{Reason: in.Reason, At: now}, nil
}
