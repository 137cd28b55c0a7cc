package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// WithdrawInput records the applicant's withdrawal, taken at the desk.
type WithdrawInput struct {
	Reason string `json:"reason" text:"multiline"`
}

func (WithdrawInput) Action() domain.Action { return domain.ActionWithdraw }

func (in WithdrawInput) command(_ context.Context, _ *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Withdraw{Reason: in.Reason, At: now}, nil
}
