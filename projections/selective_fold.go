package projections

import (
	"context"
	"database/sql"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// selectiveFold is the fold of a read model that applies few of the log's events (corrections,
// feedback): it keeps the events it applies, with their decoded form when the pages brought it,
// and applies them at the flush, in order, in the flush's transaction. A bulk catch-up otherwise
// applied each page of 20,000 events in a transaction of its own through SQLite's write gate, behind
// every other consumer's flush: at 1 M dossiers each of the two spent 335 s of an 11½-minute
// catch-up so, and held the log's reader back for all the others while its pages waited.
type selectiveFold struct {
	apply func(ctx context.Context, tx *sql.Tx, batch engine.Batch) error
	takes func(engine.Batch, int) bool // whether the read model applies the batch's i-th event
	// events are those kept since the last flush; decoded their decoded events, while every page
	// brought them (allDecoded).
	events     []eventstore.RecordedEvent
	decoded    []domain.Event
	allDecoded bool
}

func newSelectiveFold(apply func(context.Context, *sql.Tx, engine.Batch) error, takes func(engine.Batch, int) bool) *selectiveFold {
	return &selectiveFold{apply: apply, takes: takes, allDecoded: true}
}

func (f *selectiveFold) Add(_ context.Context, _ engine.Querier, batch engine.Batch) error {
	aligned := batch.Decoded != nil && len(batch.Decoded) == len(batch.Events)
	for i, re := range batch.Events {
		if !f.takes(batch, i) {
			continue
		}
		f.events = append(f.events, re)
		if aligned {
			f.decoded = append(f.decoded, batch.Decoded[i])
		} else {
			f.allDecoded = false
		}
	}
	return nil
}

func (f *selectiveFold) Held() int { return len(f.events) }

func (f *selectiveFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if len(f.events) > 0 {
		kept := engine.Batch{Dialect: batch.Dialect, Events: f.events, Raw: batch.Raw}
		if f.allDecoded {
			kept.Decoded = f.decoded
		}
		if err := f.apply(ctx, tx, kept); err != nil {
			return err
		}
	}
	f.events, f.decoded, f.allDecoded = nil, nil, true
	return nil
}
