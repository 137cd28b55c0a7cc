// Package commands holds motcua's use cases, one file each: load the dossier by folding its events,
// check the caller may act, decide with the domain, and append the decided events with the expected
// version. On a version conflict a command reloads and decides again while it is still valid.
package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/eventstore"
)

// App runs the use cases against an event store.
type App struct {
	Store eventstore.Store
	// catalog is the procedure catalog with its history (catalog.go): Catalog() is the one in force.
	catalog  *catalogSource
	Calendar *calendar.Calendar
	// Rules are the rule sets by effective date (domain.ParseRulesConfig); the built-in NĐ 61 and
	// NĐ 118 sets when nil. A dossier keeps the set in force at its receipt.
	Rules  *domain.RuleBook
	Now    func() time.Time // the clock; time.Now when nil
	Logger *slog.Logger
	// Signers holds the agencies' keys for signed results and payment receipts (signing.go); none
	// are signed when nil.
	Signers AgencySigners
	// MaxDossierBytes bounds the sum of one dossier's files; DefaultMaxDossierBytes when 0.
	MaxDossierBytes int64
	// FeedbackDesk is the agency that receives a public feedback naming neither an agency nor a
	// dossier (the province's PAKN desk); such a feedback is refused as incomplete when empty.
	FeedbackDesk string
	codes        *codeAllocator
	// orderVersions remembers the last version seen of each day's payment orders (payment_order.go).
	orderVersions lastVersions
}

// New returns an App over the given store, catalog and calendar. The catalog serves until the
// store's catalog stream has changes (RefreshCatalog, SeedCatalog).
func New(store eventstore.Store, catalog *domain.Catalog, calendar *calendar.Calendar) *App {
	return &App{Store: store, catalog: newCatalogSource(catalog), Calendar: calendar, codes: newCodeAllocator(store)}
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// maxConflictRetries bounds how often a command reloads and decides again after losing a race.
const maxConflictRetries = 20

// backoff waits a little, growing and jittered, before a retry, so racing commands spread out.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.IntN(1<<min(attempt, 6))+1) * time.Millisecond
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StreamName is the event stream of the dossier with the given id.
func StreamName(dossierID string) string { return domain.DossierAggregate.StreamName(dossierID) }

// Result tells the caller where the dossier stands after a command.
type Result struct {
	DossierID string              `json:"id"`
	Code      string              `json:"code,omitempty"`
	Status    domain.Status       `json:"status"`
	Version   uint64              `json:"version"`
	Events    []string            `json:"events"`
	Dossier   domain.Dossier      `json:"-"`
	Position  eventstore.Position `json:"-"`
	// Replayed: the request had already run under its idempotency key, and this is that run's result.
	Replayed bool `json:"-"`
}

// Input is one use case's request body, turned into a domain command against the current dossier.
// Each use case file defines one.
type Input interface {
	Action() domain.Action
	command(ctx context.Context, a *App, caller Caller, d domain.Dossier, now time.Time) (domain.Command, error)
}

// Execute carries out in on the dossier ref (its code or id). ifMatch, when non-nil, is the version
// the caller last saw: if the dossier has moved on, nothing is written and the error is EPRECONDITION.
func (a *App) Execute(ctx context.Context, caller Caller, ref string, ifMatch *uint64, in Input) (Result, error) {
	if err := domain.CheckTextFields(in); err != nil {
		return Result{}, err
	}
	return a.decideOnDossier(ctx, ref, caller.ID, ifMatch, func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error) {
		role, err := authorize(caller, in.Action(), d)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		if ifMatch != nil && *ifMatch != d.Version {
			return eventstore.Actor{}, nil, domain.Errorf(domain.EPRECONDITION, "dossier %s is at version %d, not %d: reload it and try again", ref, d.Version, *ifMatch)
		}
		cmd, err := in.command(ctx, a, caller, d, now)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		events, err := domain.Decide(d, cmd)
		if err != nil {
			return eventstore.Actor{}, nil, err
		}
		events, err = a.signEvents(ctx, caller, d, events)
		return caller.actor(role), events, err
	})
}

// decideOnDossier is the loop of every action on an existing dossier: load it, answer a repeated
// request with its first answer, decide (who acts, and the events), and append with the version
// decided on. Losing the race to another action reloads and decides again, since that action may
// have made this one invalid; with ifMatch the caller asked for exactly that version, so it is 412.
// repeatOf is the actor whose earlier run of the same request (idempotency key) answers a repeat.
func (a *App) decideOnDossier(ctx context.Context, ref, repeatOf string, ifMatch *uint64,
	decide func(d domain.Dossier, now time.Time) (eventstore.Actor, []domain.Event, error)) (Result, error) {
	id, code, err := a.resolveRef(ctx, ref)
	if err != nil {
		return Result{}, err
	}
	return retryOnConflict(ctx, "dossier "+ref, ifMatch, func() (Result, error) {
		d, recorded, err := a.loadRecorded(ctx, id)
		if err != nil {
			return Result{}, err
		}
		if !d.Exists() || (code != "" && d.Code != code) {
			return Result{}, domain.Errorf(domain.ENOTFOUND, "dossier %s not found", ref)
		}
		// Before the checks: a repeat must get the first answer although the dossier has moved on.
		if upTo, names, found, err := earlierRun(ctx, repeatOf, recorded); err != nil || found {
			if err != nil {
				return Result{}, err
			}
			return replayResult(upTo, names)
		}
		now := a.now()
		actor, events, err := decide(d, now)
		if err != nil {
			return Result{}, err
		}
		return a.append(ctx, actor, d, events, now)
	})
}

// retryOnConflict runs attempt — load an aggregate, decide, append with the version decided on —
// again while it loses the race to another action (eventstore.ErrWrongExpectedVersion), since
// that action may have made this one invalid: the next attempt decides on the new state, and
// refuses with a conflict if it must. With ifMatch the caller asked for exactly the version it
// saw, so losing is EPRECONDITION at once. what names the aggregate in the messages ("dossier
// <ref>", "feedback <code>"). Every aggregate's use cases share it.
func retryOnConflict[R any](ctx context.Context, what string, ifMatch *uint64, attempt func() (R, error)) (R, error) {
	var zero R
	for n := 0; ; n++ {
		res, err := attempt()
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return res, err
		}
		if ifMatch != nil {
			return zero, domain.Errorf(domain.EPRECONDITION, "%s changed while this action was decided: reload it and try again", what)
		}
		if n >= maxConflictRetries {
			return zero, domain.Errorf(domain.ECONFLICT, "%s is changing too often; try again", what)
		}
		if err := backoff(ctx, n); err != nil {
			return zero, err
		}
	}
}

// append records events decided on d with d's version as the expected version.
func (a *App) append(ctx context.Context, actor eventstore.Actor, d domain.Dossier, events []domain.Event, now time.Time) (Result, error) {
	id := d.ID
	if id == "" {
		id = dossierIDOf(events[0])
	}
	ar, names, err := a.appendEvents(ctx, domain.DossierAggregate.StreamName(id), d.Version, actor, events, now)
	if err != nil {
		return Result{}, err
	}
	for _, e := range events {
		d = domain.Evolve(d, e)
	}
	d.Version = ar.Version
	a.logger().InfoContext(ctx, "dossier changed", "dossier", id, "code", d.Code, "events", names, "version", ar.Version, "actor", actor.ID)
	return Result{DossierID: id, Code: string(d.Code), Status: d.Status, Version: ar.Version, Events: names, Dossier: d, Position: ar.Position}, nil
}

// appendEvents encodes events decided on the stream at version expected and appends them with
// that expected version, each with the actor, the request's correlation and idempotency key, and
// one causation id for the command. It is the one way every aggregate's use cases write.
func (a *App) appendEvents(ctx context.Context, stream string, expected uint64, actor eventstore.Actor, events []domain.Event,
	now time.Time) (eventstore.AppendResult, []string, error) {
	commandID := eventstore.NewEventID()
	correlationID := CorrelationID(ctx)
	if correlationID == uuid.Nil {
		correlationID = commandID
	}
	data := make([]eventstore.EventData, len(events))
	names := make([]string, len(events))
	for i, e := range events {
		typ, payload, err := domain.EncodeEvent(e)
		if err != nil {
			return eventstore.AppendResult{}, nil, err
		}
		data[i] = eventstore.EventData{
			ID: eventstore.NewEventID(), Type: typ, Data: payload,
			Metadata: eventstore.Metadata{Actor: actor, CorrelationID: correlationID, CausationID: commandID, OccurredAt: now},
		}
		stampIdempotency(ctx, &data[i].Metadata)
		names[i] = typ
	}
	ar, err := a.Store.Append(ctx, stream, eventstore.Exact(expected), data...)
	return ar, names, err
}

func dossierIDOf(e domain.Event) string {
	switch e := e.(type) {
	case domain.Received:
		return e.DossierID
	case domain.Submitted:
		return e.DossierID
	}
	panic(fmt.Sprintf("%T does not open a dossier", e))
}

// Load returns the dossier ref (its code or id) as its events make it, and those events.
func (a *App) Load(ctx context.Context, ref string) (domain.Dossier, []eventstore.RecordedEvent, error) {
	id, code, err := a.resolveRef(ctx, ref)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	recorded, err := a.Store.ReadStream(ctx, StreamName(id), 1)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	d, err := fold(recorded)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	// A code whose receipt lost a race may point at a dossier that ended up with another code.
	if !d.Exists() || (code != "" && d.Code != code) {
		return domain.Dossier{}, nil, domain.Errorf(domain.ENOTFOUND, "dossier %s not found", ref)
	}
	return d, recorded, nil
}

// loadRecorded returns the dossier with the given id and the events it was folded from.
func (a *App) loadRecorded(ctx context.Context, id string) (domain.Dossier, []eventstore.RecordedEvent, error) {
	recorded, err := a.Store.ReadStream(ctx, StreamName(id), 1)
	if err != nil {
		return domain.Dossier{}, nil, err
	}
	d, err := fold(recorded)
	return d, recorded, err
}

func fold(recorded []eventstore.RecordedEvent) (domain.Dossier, error) {
	d := domain.Dossier{Status: domain.StatusNew}
	for _, r := range recorded {
		e, err := domain.DecodeEvent(r.Type, r.Data)
		if err != nil {
			return domain.Dossier{}, fmt.Errorf("%s v%d: %w", r.Stream, r.Version, err)
		}
		d = domain.Evolve(d, e)
		d.Version = r.Version
	}
	return d, nil
}

// resolveRef turns a dossier code or id into the dossier's id, and the code when ref was one.
func (a *App) resolveRef(ctx context.Context, ref string) (id string, code domain.DossierCode, err error) {
	if id, err := uuid.Parse(ref); err == nil {
		return id.String(), "", nil
	}
	parsed, err := domain.ParseDossierCode(ref)
	if err != nil {
		return "", "", err
	}
	id, err = a.codes.lookup(ctx, parsed.Code)
	return id, parsed.Code, err
}

type correlationKey struct{}

// WithCorrelationID tags ctx with the id that links every event caused by one outside request.
func WithCorrelationID(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the id set by WithCorrelationID, or uuid.Nil.
func CorrelationID(ctx context.Context) uuid.UUID {
	id, _ := ctx.Value(correlationKey{}).(uuid.UUID)
	return id
}
