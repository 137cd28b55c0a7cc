package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// NewFold folds batches into the dossiers' states and the deliveries they call for, written at the
// flush: the deliveries in log order (a dossier's are sent in the order of their rows), the states
// of the dossiers moved. A bulk catch-up (a new node, notifications turned on over a long log)
// holds the dossiers from page to page rather than reading and writing each one's state as JSON
// at every page, as the deadline alarms did (docs/timers.md). fresh says the tables are empty;
// the consumer is never rebuilt, so it is never set by the engine.
func (c *Consumer) NewFold(fresh bool) engine.Fold {
	return &fold{consumer: c, fresh: fresh, states: map[string]*folded{}, dirty: map[string]bool{}}
}

// fold holds the dossiers a run of batches touched and the deliveries recorded since the last
// flush.
type fold struct {
	consumer *Consumer
	fresh    bool
	origin   int64
	read     bool // origin read
	states   map[string]*folded
	// since the last flush: the dossiers moved, in the order first moved, and the deliveries' rows
	// (recordedColumns) in log order.
	order      []string
	dirty      map[string]bool
	deliveries [][]any
}

func (f *fold) Held() int { return len(f.states) + len(f.deliveries) }

// Add folds the batch's dossier events, first reading the states of the dossiers the fold does not
// hold, and records a delivery for each destination whose Plan names a kind.
func (f *fold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	c := f.consumer
	decoded, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	if !f.read {
		if f.origin, err = engine.ReadOrigin(ctx, q, c.table(originTable)); err != nil {
			return fmt.Errorf("delivery: %w", err)
		}
		f.read = true
	}
	now := time.Now()
	var missing []string
	for i, re := range batch.Events {
		if decoded[i] != nil && f.states[re.Stream] == nil {
			f.states[re.Stream] = &folded{}
			missing = append(missing, re.Stream)
		}
	}
	if !f.fresh && len(missing) > 0 {
		// Read in a few statements for all of them: one at a time, a catch-up spent its time on
		// round trips.
		if err := engine.LoadDossierStates(ctx, q, batch.Dialect, c.table(dossiersTable), missing, func(stream string, raw []byte) error {
			return json.Unmarshal(raw, f.states[stream])
		}); err != nil {
			return err
		}
	}
	for i, re := range batch.Events {
		e := decoded[i]
		if e == nil {
			continue
		}
		state := f.states[re.Stream]
		before := state.Dossier
		after := domain.Evolve(before, e)
		after.Version = re.Version
		// The applicant's identity stays in the log, sealed; the consumer keeps only which
		// channels they gave, and reads the rest when sending (docs/integrations.md).
		if applicant := after.Applicant; applicant != (domain.Applicant{Type: applicant.Type}) {
			state.Contact = ContactOf(applicant)
			after.Applicant = domain.Applicant{Type: applicant.Type}
		}
		state.Dossier = after
		if !f.dirty[re.Stream] {
			f.dirty[re.Stream] = true
			f.order = append(f.order, re.Stream)
		}
		if re.RecordedAt.UnixMilli() < f.origin {
			continue
		}
		change := Change{Recorded: re, Event: e, Before: before, After: after, Contact: state.Contact}
		for _, dest := range c.destinations {
			if kind := dest.Plan(change); kind != "" {
				f.deliveries = append(f.deliveries, deliveryRow(dest.Name(), kind, change, now))
			}
		}
	}
	return nil
}

// recordedColumns are the columns a delivery is recorded with, in deliveryRow's order.
var recordedColumns = []string{"destination", "idempotency_key", "dossier_id", "event_id", "event_type", "kind",
	"stream_version", "commit_position", "prepare_position", "occurred_at", "state", "next_attempt_at", "created_at"}

// deliveryRow is the row recording a delivery of change to destination, pending from now.
func deliveryRow(destination, kind string, change Change, now time.Time) []any {
	re := change.Recorded
	occurred := re.Metadata.OccurredAt
	if occurred.IsZero() {
		occurred = re.RecordedAt
	}
	return []any{destination, Key(destination, re.ID.String(), kind), re.Stream, re.ID.String(), re.Type, kind, int64(re.Version),
		int64(re.Position.Commit), int64(re.Position.Prepare), occurred.UnixMilli(), string(Pending), now.UnixMilli(), now.UnixMilli()}
}

// Flush writes the deliveries recorded since the last flush, in log order, and the states of the
// dossiers moved, then forgets the dossiers whose status is final (read back should an event of
// theirs come). A redelivered event finds its row there already: the idempotency key is unique.
func (f *fold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	c := f.consumer
	if err := engine.InsertRows(ctx, tx, batch.Dialect, c.table(deliveriesTable), recordedColumns, f.deliveries,
		` ON CONFLICT (idempotency_key) DO NOTHING`); err != nil {
		return fmt.Errorf("record %d deliveries: %w", len(f.deliveries), err)
	}
	if err := engine.SaveDossierStates(ctx, tx, batch.Dialect, c.table(dossiersTable), f.order, func(stream string) any {
		return f.states[stream]
	}); err != nil {
		return err
	}
	for _, stream := range f.order {
		if f.states[stream].Dossier.Status.Final() {
			delete(f.states, stream)
		}
	}
	f.order, f.deliveries = f.order[:0], nil
	clear(f.dirty)
	return nil
}
