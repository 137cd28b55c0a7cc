package commands

import (
	"context"
	"errors"

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
	id, code, err := a.resolveRef(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	for attempt := 0; ; attempt++ {
		d, recorded, err := a.loadRecorded(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if !d.Exists() || (code != "" && d.Code != code) {
			return Result{}, domain.Errorf(domain.ENOTFOUND, "dossier %s not found", ref)
		}
		if upTo, names, found, err := earlierRun(ctx, applicantActor.ID, recorded); err != nil || found {
			if err != nil {
				return Result{}, err
			}
			return replayResult(upTo, names)
		}
		now := a.now()
		events, err := domain.Decide(d, domain.Rate{Secret: in.Secret, Scores: in.Scores, Comment: in.Comment, At: now})
		if err != nil {
			return Result{}, err
		}
		res, err := a.append(ctx, applicantActor, d, events, now)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) && attempt < maxConflictRetries {
			if err := backoff(ctx, attempt); err != nil {
				return Result{}, err
			}
			continue
		}
		return res, err
	}
}
