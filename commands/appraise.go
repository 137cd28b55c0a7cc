package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// AppraiseInput records the specialist's examination and proposal.
type AppraiseInput struct {
	Conclusion domain.AppraisalConclusion `json:"conclusion"`
	Opinion    string                     `json:"opinion" text:"multiline"`
}

func (AppraiseInput) Action() domain.Action { return domain.ActionAppraise }

func (in AppraiseInput) command(_ context.Context, _ *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.Appraise{
		Appraiser:  domain.Handler{Unit: d.Holder.Unit, OfficialID: caller.ID, OfficialName: caller.Name},
		Conclusion: in.Conclusion, Opinion: in.Opinion, At: now,
	}, nil
}
