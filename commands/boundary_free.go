package commands

import (
	"context"
	"time"

	"github.com/motcua/motcua/domain"
)

// boundaryFreeTerms applies the catalog's receipt rule (domain.Catalog.ReceiptRule) to a receipt
// at the caller's centre: nil within the boundary, the terms of a boundary-free receipt, or the
// refusal (409) naming the rule. Only a boundary-free receipt chooses where the result is
// collected and whether originals travel.
func (a *App) boundaryFreeTerms(caller Caller, p domain.Procedure, in ReceiveInput) (*domain.BoundaryFreeTerms, error) {
	boundaryFree, err := a.Catalog().ReceiptRule(caller.Agency, p)
	if err != nil {
		return nil, err
	}
	if !boundaryFree {
		var v domain.Validation
		v.Check(in.CollectAt == "", "collect_at", "only a boundary-free receipt chooses where the result is collected")
		v.Check(!in.ForwardOriginals, "forward_originals", "only a boundary-free receipt sends originals to the competent agency")
		return nil, v.Err()
	}
	terms := &domain.BoundaryFreeTerms{CollectAt: caller.Agency, ForwardOriginals: in.ForwardOriginals, ForwardingHours: p.BoundaryFree.ForwardingHours}
	if in.CollectAt != "" {
		if _, known := a.Catalog().Agency(in.CollectAt); !known {
			return nil, invalidField("collect_at", "%q is not a catalog agency", in.CollectAt)
		}
		terms.CollectAt = in.CollectAt
	}
	return terms, nil
}

// OriginalsArrivedInput records that the paper originals of a boundary-free receipt reached the
// competent agency, which ends the forwarding step. Only the competent agency's officials confirm it.
type OriginalsArrivedInput struct {
	Note string `json:"note,omitempty" text:"multiline"`
}

func (OriginalsArrivedInput) Action() domain.Action { return domain.ActionOriginalsArrived }

func (in OriginalsArrivedInput) command(_ context.Context, _ *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error) {
	if !caller.Has(RoleAdmin) && caller.Agency != d.CompetentAgency {
		return nil, domain.Errorf(domain.EFORBIDDEN, "the originals' arrival is confirmed by the competent agency %s", d.CompetentAgency)
	}
	return domain.RecordOriginalsArrived{By: domain.Handler{Unit: d.CompetentAgency, OfficialID: caller.ID, OfficialName: caller.Name},
		Note: in.Note, At: now}, nil
}
