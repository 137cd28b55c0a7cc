package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// AssessFeeInput fixes the fees to pay; without items, the procedure's fees in the catalog now apply.
type AssessFeeInput struct {
	Items []domain.Fee `json:"items,omitempty"`
}

func (AssessFeeInput) Action() domain.Action { return domain.ActionAssessFee }

func (in AssessFeeInput) command(_ context.Context, a *App, _ Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	items := in.Items
	if len(items) == 0 {
		if p, ok := a.Catalog.Procedure(d.Procedure.Code); ok {
			items = p.Fees
		}
	}
	return domain.AssessFee{Items: items, At: now}, nil
}
