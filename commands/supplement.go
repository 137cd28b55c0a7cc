package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// SupplementInput records the documents the applicant brought back.
type SupplementInput struct {
	Components []domain.Component `json:"components"`
}

func (SupplementInput) Action() domain.Action { return domain.ActionSupplement }

func (in SupplementInput) command(_ context.Context, a *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Supplement{Components: in.Components, At: now, Calendar: a.Calendar, Rules: a.Rules}, nil
}
