package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// RefuseInput refuses to receive a submitted dossier (form 03).
type RefuseInput struct {
	Reason string `json:"reason" text:"multiline"`
}

func (RefuseInput) Action() domain.Action { return domain.ActionRefuseReception }

func (in RefuseInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.RefuseReception{Reason: in.Reason, At: now}, nil
}
