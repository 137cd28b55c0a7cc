package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// RequestSupplementInput asks the applicant to complete the dossier (form 02), listing everything missing.
type RequestSupplementInput struct {
	MissingItems []string `json:"missing_items"`
	Reason       string   `json:"reason" text:"multiline"`
}

func (RequestSupplementInput) Action() domain.Action { return domain.ActionRequestSupplement }

func (in RequestSupplementInput) command(_ context.Context, a *App, _ Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.RequestSupplement{MissingItems: in.MissingItems, Reason: in.Reason, At: now, Calendar: a.Calendar}, nil
}
