package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// ReturnResultInput records that the applicant received the result, and how.
type ReturnResultInput struct {
	Channel domain.Channel `json:"channel"`
}

func (ReturnResultInput) Action() domain.Action { return domain.ActionReturnResult }

func (in ReturnResultInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.ReturnResult{Channel: in.Channel, At: now}, nil
}
