package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// ResumeInput restarts a suspended dossier; its appointment date moves by the time paused.
type ResumeInput struct{}

func (ResumeInput) Action() domain.Action { return domain.ActionResume }

func (ResumeInput) command(_ context.Context, a *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Resume{At: now, Calendar: a.Calendar}, nil
}
