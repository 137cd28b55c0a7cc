package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// RateInput is the applicant's evaluation, proven by the secret printed on their receipt.
type RateInput struct {
	Secret  string                                  `json:"secret"`
	Scores  map[domain.Criterion]domain.RatingLevel `json:"scores"`
	Comment string                                  `json:"comment,omitempty" text:"multiline"`
}

// applicantActor is who rates: the applicant, known only by the receipt's secret.
var applicantActor = eventstore.Actor{ID: "applicant", Name: "Người nộp hồ sơ", Role: "applicant"}

// Rate records the applicant's rating of a dossier whose result was returned. No sign-in: the secret
// on the receipt proves the rater holds the receipt.
func (a *App) Rate(ctx context.Context, ref string, in RateInput) (Result, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, err
	}
	return a.decideOnDossier(ctx, ref, applicantActor.ID, nil, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
		events, err := domain.Decide(d, domain.Rate{Secret: in.Secret, Scores: in.Scores, Comment: in.Comment, At: now})
		return applicantActor, events, err
	})
}
