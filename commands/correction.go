package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// Corrections of recorded data (docs/rules.md, "Corrections with approval"): an official of an
// agency involved in the dossier requests one; a head or signer of the same agency, never the
// requester, approves or rejects it. System administrators do neither: they run the system, and a
// correction is an act of the agency answerable for the record.

// CorrectionChange is one field to correct, with the value recorded and the value it should have.
type CorrectionChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// RequestCorrectionInput asks to correct recorded data; it changes nothing until approved.
type RequestCorrectionInput struct {
	Changes []CorrectionChange `json:"changes"`
	Reason  string             `json:"reason" text:"multiline"`
}

func (RequestCorrectionInput) Action() domain.Action { return domain.ActionRequestCorrection }

func (in RequestCorrectionInput) command(_ context.Context, a *App, caller Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	c := domain.RequestCorrection{Reason: in.Reason, By: handlerOf(caller), Agency: caller.Agency, At: now}
	for _, ch := range in.Changes {
		c.Changes = append(c.Changes, domain.FieldChange{Field: ch.Field, Old: domain.NormalizeText(ch.Old), New: domain.NormalizeText(ch.New)})
		if ch.Field == domain.FieldProcedureCode {
			if p, ok := a.Catalog().Procedure(ch.New); ok {
				c.Procedure = &p
			}
		}
	}
	return c, nil
}

// ApproveCorrectionInput approves the pending correction Number: the dossier reads corrected from then on.
type ApproveCorrectionInput struct {
	Number int `json:"-"` // from the path
}

func (ApproveCorrectionInput) Action() domain.Action { return domain.ActionApproveCorrection }

func (in ApproveCorrectionInput) command(_ context.Context, a *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	c := domain.ApproveCorrection{Number: in.Number, By: handlerOf(caller), Agency: caller.Agency, At: now, Calendar: a.Calendar}
	if p := d.Correction.Pending; p != nil {
		for _, ch := range p.Changes {
			if ch.Field == domain.FieldProcedureCode {
				if proc, ok := a.Catalog().Procedure(ch.New); ok {
					c.Procedure = &proc
				}
			}
		}
	}
	return c, nil
}

// RejectCorrectionInput refuses the pending correction Number, with a reason.
type RejectCorrectionInput struct {
	Number int    `json:"-"` // from the path
	Reason string `json:"reason" text:"multiline"`
}

func (RejectCorrectionInput) Action() domain.Action { return domain.ActionRejectCorrection }

func (in RejectCorrectionInput) command(_ context.Context, _ *App, caller Caller, _ domain.Dossier, now time.Time) (domain.Command, error) {
	return domain.RejectCorrection{Number: in.Number, Reason: in.Reason, By: handlerOf(caller), Agency: caller.Agency, At: now}, nil
}

// handlerOf is the caller as the events name an official: their agency, id and name.
func handlerOf(caller Caller) domain.Handler {
	return domain.Handler{Unit: caller.Agency, OfficialID: caller.ID, OfficialName: caller.Name}
}
