package commands

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// The catalog is data with a history (docs/catalog.md, "The catalog's history"): admins publish,
// amend and withdraw procedures and agencies as events of domain.CatalogStream, and every node
// folds that stream, so a change reaches them all without a restart. A dossier records the
// revision it was received under and keeps that version of its procedure for life.

// catalogSource is the catalog the App decides with: the history folded from the stream (or the
// catalog given to New while the stream is empty), and the catalog in force now, kept until the
// next scheduled change comes into force.
type catalogSource struct {
	refresh sync.Mutex // one reader of the stream at a time
	state   atomic.Pointer[catalogState]
}

type catalogState struct {
	history    *domain.CatalogHistory
	fromStream bool                        // false: the catalog given to New or SetCatalog, the stream being empty
	actors     map[uint64]eventstore.Actor // who recorded each revision (the events' metadata)
	now        *domain.Catalog
	nowFrom    time.Time // the moment now was computed for
	nowUntil   time.Time // the next change's moment in force; zero: none scheduled
}

func newCatalogSource(c *domain.Catalog) *catalogSource {
	s := &catalogSource{}
	s.state.Store(&catalogState{history: domain.SeedCatalogHistory(c)})
	return s
}

// SetCatalog replaces the catalog the App decides with by c, as if the stream were empty: for
// tools and tests that hold a catalog of their own. A stream with changes takes over at the next
// refresh.
func (a *App) SetCatalog(c *domain.Catalog) {
	a.catalog.state.Store(&catalogState{history: domain.SeedCatalogHistory(c)})
}

// Catalog is the catalog in force now, as this node last read the stream (RefreshCatalog); nil
// for an App given no catalog whose stream is empty.
func (a *App) Catalog() *domain.Catalog {
	now := a.now()
	st := a.catalog.state.Load()
	if !st.fromStream && len(st.history.Versions()) == 0 {
		return nil // an App given no catalog, for use cases that need none
	}
	if st.now != nil && !now.Before(st.nowFrom) && (st.nowUntil.IsZero() || now.Before(st.nowUntil)) {
		return st.now
	}
	next := *st
	next.now, next.nowFrom, next.nowUntil = st.history.At(now, st.history.Revision), now, st.history.NextChangeAfter(now)
	a.catalog.state.CompareAndSwap(st, &next) // a refresh in between keeps its newer history
	return next.now
}

// CatalogHistory is the history as this node last read it.
func (a *App) CatalogHistory() *domain.CatalogHistory { return a.catalog.state.Load().history }

// CatalogRecordedBy is who recorded the catalog's revision (zero before a refresh read it).
func (a *App) CatalogRecordedBy(revision uint64) eventstore.Actor {
	return a.catalog.state.Load().actors[revision]
}

// RefreshCatalog reads the catalog's changes this node has not seen yet. Serve calls it every few
// seconds; the use cases that take a procedure from the catalog call it first, so a receipt is
// decided on the latest change whichever node recorded it.
func (a *App) RefreshCatalog(ctx context.Context) error {
	a.catalog.refresh.Lock()
	defer a.catalog.refresh.Unlock()
	st := a.catalog.state.Load()
	from := uint64(1)
	if st.fromStream {
		from = st.history.Revision + 1
	}
	recorded, err := a.Store.ReadStream(ctx, domain.CatalogStream, from)
	if err != nil || len(recorded) == 0 {
		return err
	}
	history, actors := &domain.CatalogHistory{}, map[uint64]eventstore.Actor{}
	if st.fromStream {
		history = st.history.Clone()
		maps.Copy(actors, st.actors)
	}
	for _, r := range recorded {
		e, err := domain.DecodeEvent(r.Type, r.Data)
		if err != nil {
			return err
		}
		history.Evolve(r.Version, e)
		actors[r.Version] = r.Metadata.Actor
	}
	a.catalog.state.Store(&catalogState{history: history, fromStream: true, actors: actors})
	return nil
}

// currentCatalog refreshes and returns the catalog in force now and its revision.
func (a *App) currentCatalog(ctx context.Context) (*domain.Catalog, uint64, error) {
	if err := a.RefreshCatalog(ctx); err != nil {
		return nil, 0, err
	}
	return a.Catalog(), a.CatalogHistory().Revision, nil
}

// CatalogAt is the catalog in force at moment t, as every change recorded so far has it.
func (a *App) CatalogAt(ctx context.Context, t time.Time) (*domain.Catalog, *domain.CatalogHistory, error) {
	if err := a.RefreshCatalog(ctx); err != nil {
		return nil, nil, err
	}
	h := a.CatalogHistory()
	return h.At(t, h.Revision), h, nil
}

// ProcedureOf is the dossier's procedure as the catalog had it when the dossier was received
// (its recorded revision, at its moment of receipt): the fees, workflow and documents that apply
// to it for life. A dossier not yet received takes the catalog in force now.
func (a *App) ProcedureOf(ctx context.Context, d domain.Dossier) (domain.Procedure, bool, error) {
	if d.ReceivedAt.IsZero() {
		p, ok := a.Catalog().Procedure(d.Procedure.Code)
		return p, ok, nil
	}
	h := a.CatalogHistory()
	if d.CatalogRevision > h.Revision {
		// Received on a node that had read a change this one has not yet.
		if err := a.RefreshCatalog(ctx); err != nil {
			return domain.Procedure{}, false, err
		}
		h = a.CatalogHistory()
	}
	upTo := d.CatalogRevision
	if upTo == 0 {
		upTo = h.Revision // received before the catalog had a history: the version in force then
	}
	p, ok := h.ProcedureAt(d.Procedure.Code, d.ReceivedAt, upTo)
	return p, ok, nil
}

// SeedCatalog records c as the catalog's first change when the stream is empty (the first start
// of a deployment, from its catalog file) and reports whether it did; later starts leave the stream
// as the admins made it. Two nodes starting together race; one seeds, the other finds it seeded.
func (a *App) SeedCatalog(ctx context.Context, c *domain.Catalog) (bool, error) {
	if err := a.RefreshCatalog(ctx); err != nil {
		return false, err
	}
	if a.catalog.state.Load().fromStream {
		return false, nil
	}
	now := a.now()
	events, err := domain.DecideCatalog(&domain.CatalogHistory{}, domain.ImportCatalog{
		CatalogTerms: domain.CatalogTerms{Basis: "seed file", At: now},
		Source:       domain.CatalogSourceSeed, Agencies: c.Agencies, Procedures: c.Procedures})
	if err != nil {
		return false, err
	}
	actor := eventstore.Actor{ID: "motcua", Name: "motcua serve", Role: string(RoleAdmin)}
	if _, _, err := a.appendEvents(ctx, domain.CatalogStream, 0, actor, events, now); err != nil {
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return false, a.RefreshCatalog(ctx)
		}
		return false, err
	}
	return true, a.RefreshCatalog(ctx)
}

// CatalogTermsInput is what every change states (docs/api.md, "The catalog"): the decision that
// publishes it, its date of effect, and the revision of the version it replaces.
type CatalogTermsInput struct {
	Basis         string `json:"basis"`
	EffectiveFrom string `json:"effective_from"` // YYYY-MM-DD, Vietnam time
	// Revision is the revision of the procedure's (agency's) last version the admin edited: 0 for a
	// new one. Another change recorded since is a conflict.
	Revision uint64 `json:"revision"`
}

// PublishProcedureInput publishes or amends a procedure: the whole procedure as it will stand.
type PublishProcedureInput struct {
	CatalogTermsInput
	Procedure domain.Procedure `json:"procedure"`
}

// PublishAgencyInput publishes or amends an agency.
type PublishAgencyInput struct {
	CatalogTermsInput
	Agency domain.Agency `json:"agency"`
}

// CatalogWithdrawInput withdraws a procedure or an agency (its code is the route's).
type CatalogWithdrawInput struct {
	CatalogTermsInput
	Code string `json:"-"`
}

// ImportInput publishes the procedures an import changed and withdraws those it no longer lists,
// as one change. Revision is the catalog's revision the import was compared against (its dry run):
// any change since is a conflict, since the comparison no longer holds.
type ImportInput struct {
	CatalogTermsInput
	Procedures []domain.Procedure
	Withdrawn  []string
}

// CatalogResult is where the catalog stands after a change.
type CatalogResult struct {
	Revision    uint64    `json:"revision"`
	Event       string    `json:"event"`
	InForceFrom time.Time `json:"in_force_from,omitzero"`
}

// PublishProcedure publishes a new procedure or amends one — admins only.
func (a *App) PublishProcedure(ctx context.Context, caller Caller, in PublishProcedureInput) (CatalogResult, error) {
	return a.changeCatalog(ctx, caller, in, in.CatalogTermsInput, func(t domain.CatalogTerms) domain.CatalogCommand {
		return domain.PublishProcedure{CatalogTerms: t, Procedure: in.Procedure, Replaces: in.Revision}
	})
}

// WithdrawProcedure withdraws a procedure — admins only.
func (a *App) WithdrawProcedure(ctx context.Context, caller Caller, in CatalogWithdrawInput) (CatalogResult, error) {
	return a.changeCatalog(ctx, caller, in, in.CatalogTermsInput, func(t domain.CatalogTerms) domain.CatalogCommand {
		return domain.WithdrawProcedure{CatalogTerms: t, Code: in.Code, Replaces: in.Revision}
	})
}

// PublishAgency publishes a new agency or amends one — admins only.
func (a *App) PublishAgency(ctx context.Context, caller Caller, in PublishAgencyInput) (CatalogResult, error) {
	return a.changeCatalog(ctx, caller, in, in.CatalogTermsInput, func(t domain.CatalogTerms) domain.CatalogCommand {
		return domain.PublishAgency{CatalogTerms: t, Agency: in.Agency, Replaces: in.Revision}
	})
}

// WithdrawAgency withdraws an agency — admins only.
func (a *App) WithdrawAgency(ctx context.Context, caller Caller, in CatalogWithdrawInput) (CatalogResult, error) {
	return a.changeCatalog(ctx, caller, in, in.CatalogTermsInput, func(t domain.CatalogTerms) domain.CatalogCommand {
		return domain.WithdrawAgency{CatalogTerms: t, Code: in.Code, Replaces: in.Revision}
	})
}

// ImportCatalog records an import from the national procedure database — admins only.
func (a *App) ImportCatalog(ctx context.Context, caller Caller, in ImportInput) (CatalogResult, error) {
	return a.changeCatalog(ctx, caller, in, in.CatalogTermsInput, func(t domain.CatalogTerms) domain.CatalogCommand {
		return domain.ImportCatalog{CatalogTerms: t, Source: domain.CatalogSourceNationalPortal, Procedures: in.Procedures,
			WithdrawnProcedures: in.Withdrawn}
	})
}

// changeCatalog is the loop of every change: refresh, decide on the history, append with the
// history's revision as the expected version. Losing the race to a change of another procedure
// decides again on the newer history; a change of the same one is then a conflict (409).
func (a *App) changeCatalog(ctx context.Context, caller Caller, body any, terms CatalogTermsInput,
	command func(domain.CatalogTerms) domain.CatalogCommand) (CatalogResult, error) {
	if err := domain.CheckTextFields(body); err != nil {
		return CatalogResult{}, err
	}
	if !caller.Has(RoleAdmin) {
		return CatalogResult{}, domain.Errorf(domain.EFORBIDDEN, "only an administrator changes the catalog")
	}
	var effective time.Time
	if terms.EffectiveFrom != "" {
		day, err := time.ParseInLocation(time.DateOnly, terms.EffectiveFrom, domain.VietnamTime)
		if err != nil {
			return CatalogResult{}, &domain.Error{Code: domain.EINVALID, Message: "invalid input",
				Fields: []domain.FieldError{{Field: "effective_from", Message: "is not a date YYYY-MM-DD"}}}
		}
		effective = day
	}
	_, isImport := body.(ImportInput)
	if !a.catalog.state.Load().fromStream {
		// The first change records the catalog in use as the stream's seed, so every node folds it.
		if _, err := a.SeedCatalog(ctx, a.Catalog()); err != nil {
			return CatalogResult{}, err
		}
	}
	return retryOnConflict(ctx, "the catalog", nil, func() (CatalogResult, error) {
		if err := a.RefreshCatalog(ctx); err != nil {
			return CatalogResult{}, err
		}
		h := a.CatalogHistory()
		if isImport && terms.Revision != h.Revision {
			return CatalogResult{}, domain.Errorf(domain.ECONFLICT, "the catalog changed (revision %d) since the import was compared with revision %d: run the dry run again",
				h.Revision, terms.Revision)
		}
		now := a.now()
		events, err := domain.DecideCatalog(h, command(domain.CatalogTerms{Basis: terms.Basis, EffectiveFrom: effective, At: now, Calendar: a.Calendar}))
		if err != nil {
			return CatalogResult{}, err
		}
		ar, names, err := a.appendEvents(ctx, domain.CatalogStream, h.Revision, caller.actor(RoleAdmin), events, now)
		if err != nil {
			return CatalogResult{}, err
		}
		a.logger().InfoContext(ctx, "catalog changed", "event", names[0], "revision", ar.Version, "actor", caller.ID)
		if err := a.RefreshCatalog(ctx); err != nil {
			return CatalogResult{}, err
		}
		var inForce time.Time
		if h := a.CatalogHistory(); len(h.Versions()) > 0 {
			inForce = h.Versions()[len(h.Versions())-1].Change.InForceFrom
		}
		return CatalogResult{Revision: ar.Version, Event: names[0], InForceFrom: inForce}, nil
	})
}
