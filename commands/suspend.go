package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// SuspendInput stops processing for a reason; the clock is paused until resumed.
type SuspendInput struct {
	Reason string `json:"reason" text:"multiline"`
}

func (SuspendInput) Action() domain.Action { return domain.ActionSuspend }

func (in SuspendInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Suspend{Reason: in.Reason, At: now}, nil
}
