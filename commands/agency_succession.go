package commands

import (
	"context"
	"errors"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// SuccessionInput hands the open dossiers of an abolished agency (or unit with its own QCVN 102
// identifier) to its successor (docs/rules.md, "Agencies that cease to exist").
type SuccessionInput struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Basis string `json:"basis" text:"multiline"`
	// EffectiveDate is when the decision took effect; the catalog's date for From when omitted.
	EffectiveDate time.Time `json:"effective_date,omitzero"`
	// Units maps departments of the abolished agency to the successor's; others go to the successor.
	Units map[string]string `json:"units,omitempty"`
}

// OpenDossierLister lists a page of the open dossiers agency is involved in, after the cursor
// after ("" for the first page), and the cursor of the next page ("" after the last). The wiring
// reads it from the work queue; a dossier listed that has already passed is skipped.
type OpenDossierLister func(ctx context.Context, agency, after string, limit int) (ids []string, next string, err error)

// SuccessionProgress is what one page of a succession did.
type SuccessionProgress struct {
	HandedOver int `json:"handed_over"`
	// Skipped are dossiers listed that no longer involve the abolished agency: handed over by an
	// earlier run, or closed meanwhile.
	Skipped int `json:"skipped"`
	// Next is the cursor of the next page; empty when the list is done.
	Next string `json:"next,omitempty"`
	// Position is the log position of the last event appended, for a caller that waits for the
	// read models to show it.
	Position eventstore.Position `json:"-"`
}

// succession is the input made complete: the successor and date from the catalog where the
// caller left them out, checked against it where the caller gave them.
func (a *App) succession(in SuccessionInput, now time.Time) (domain.SucceedAgency, error) {
	c := domain.SucceedAgency{From: in.From, To: in.To, Basis: in.Basis, EffectiveDate: in.EffectiveDate, Units: in.Units, At: now}
	if s, ok := a.Catalog().SuccessionOf(in.From); ok {
		if c.To == "" {
			c.To = s.Agency
		}
		if c.EffectiveDate.IsZero() {
			c.EffectiveDate = s.EffectiveDate()
		}
		if c.Basis == "" {
			c.Basis = s.Basis
		}
		if c.To != s.Agency {
			return c, invalidField("to", "the catalog names %s as the successor of %s", s.Agency, in.From)
		}
	}
	return c, domain.CheckSuccession(c)
}

// SucceedAgency hands one page of the open dossiers of in.From to in.To, each by an event in its
// own stream. It is idempotent and resumable: a dossier already handed over is skipped, so a run
// interrupted anywhere is finished by running it again from the first page. Admins only.
func (a *App) SucceedAgency(ctx context.Context, caller Caller, in SuccessionInput, list OpenDossierLister, after string, limit int) (SuccessionProgress, error) {
	if caller.ID == "" {
		return SuccessionProgress{}, domain.Errorf(domain.EUNAUTHORIZED, "sign in to act on dossiers")
	}
	if !caller.Has(RoleAdmin) {
		return SuccessionProgress{}, domain.Errorf(domain.EFORBIDDEN, "handing an abolished agency's dossiers to its successor needs the role %q", RoleAdmin)
	}
	if err := domain.CheckTextFields(in); err != nil {
		return SuccessionProgress{}, err
	}
	cmd, err := a.succession(in, a.now())
	if err != nil {
		return SuccessionProgress{}, err
	}
	ids, next, err := list(ctx, cmd.From, after, limit)
	if err != nil {
		return SuccessionProgress{}, err
	}
	progress := SuccessionProgress{Next: next}
	for _, id := range ids {
		res, err := a.decideOnDossier(ctx, id, caller.ID, nil, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
			c := cmd
			c.At = now
			events, err := domain.Decide(d, c)
			return caller.actor(RoleAdmin), events, err
		})
		var refused *domain.TransitionError
		switch {
		case errors.As(err, &refused), domain.ErrorCodeOf(err) == domain.ENOTFOUND:
			progress.Skipped++ // already passed, closed meanwhile, or a receipt that lost its race
		case err != nil:
			return progress, err
		case res.Replayed:
			progress.Skipped++
		default:
			progress.HandedOver++
			progress.Position = res.Position
		}
	}
	if progress.HandedOver > 0 {
		a.logger().InfoContext(ctx, "agency succession", "from", cmd.From, "to", cmd.To, "basis", cmd.Basis,
			"handed_over", progress.HandedOver, "skipped", progress.Skipped, "by", caller.ID)
	}
	return progress, nil
}

// successorOf refuses a receipt at an agency that has ceased to exist (its successor receives
// now), and gives the procedure the agency that decides it today: the successor of an abolished
// competent agency, as the catalog re-maps it.
func (a *App) successorOf(receivingUnit string, p domain.Procedure, now time.Time) (domain.Procedure, error) {
	if s, ok := a.Catalog().SuccessionOf(receivingUnit); ok && a.Catalog().Ceased(receivingUnit, now) {
		return p, domain.Errorf(domain.ECONFLICT, "agency %s ceased to exist on %s (%s): its successor %s receives its dossiers",
			receivingUnit, s.EffectiveDate().Format(time.DateOnly), s.Basis, a.Catalog().SuccessorAt(receivingUnit, now))
	}
	p.CompetentAgency = a.Catalog().SuccessorAt(p.CompetentAgency, now)
	return p, nil
}
