package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// AssessFeeInput fixes the fees to pay; without items, the procedure's fees apply as the catalog
// had them when the dossier was received (a later amendment applies to later dossiers only).
type AssessFeeInput struct {
	Items []domain.Fee `json:"items,omitempty"`
}

func (AssessFeeInput) Action() domain.Action { return domain.ActionAssessFee }

func (in AssessFeeInput) command(ctx context.Context, a *App, _ Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	items := in.Items
	if len(items) == 0 {
		p, ok, err := a.ProcedureOf(ctx, d)
		if err != nil {
			return nil, err
		}
		if ok {
			items = p.Fees
		}
	}
	return domain.AssessFee{Items: items, At: now}, nil
}
