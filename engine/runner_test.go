package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

// failingStatus is the public status view with a failure injected before one event of a batch,
// once the events before it were written in the same transaction.
type failingStatus struct {
	projections.PublicStatusView
	failAt func(eventstore.RecordedEvent) error
}

func (f failingStatus) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	for i, e := range batch.Events {
		if err := f.failAt(e); err != nil {
			if i > 0 {
				if err := f.PublicStatusView.Apply(ctx, tx, batch.Slice(0, i)); err != nil {
					return err
				}
			}
			return err
		}
	}
	return f.PublicStatusView.Apply(ctx, tx, batch)
}

// TestInterruptedProjectionEndsLikeAnUninterruptedOne kills or fails the projections in the middle
// of a batch — while catching up from the store and while taking live deliveries — and checks that
// after a restart their tables are exactly those of an uninterrupted run over the same log.
func TestInterruptedProjectionEndsLikeAnUninterruptedOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		live bool // the engine runs while the log is written
		kill bool // the failure stops the engine (else it fails once and the engine carries on)
	}{
		{name: "killed mid-batch while catching up", kill: true},
		{name: "failing once mid-batch while catching up"},
		{name: "killed mid-batch on live deliveries", live: true, kill: true},
		{name: "failing once mid-batch on live deliveries", live: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := openSQLite(t)
			var log []eventstore.RecordedEvent
			if !tc.live {
				log = seedDossiers(t, store)
			}

			db := openReadDB(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var victim atomic.Value // the event id the failure strikes at
			var seen, struck atomic.Int64
			failAt := func(e eventstore.RecordedEvent) error {
				// Strike at the 60th distinct event, in the middle of a batch of 25 when catching up.
				if id, ok := victim.Load().(string); ok {
					if id != e.ID.String() || (!tc.kill && struck.Load() > 1) {
						return nil
					}
				} else if seen.Add(1) == 60 {
					victim.Store(e.ID.String())
				} else {
					return nil
				}
				struck.Add(1)
				if tc.kill {
					cancel()
					return context.Canceled
				}
				return errors.New("injected failure")
			}
			interrupted := engine.NewEngine(store, db, engine.SQLite, failingStatus{failAt: failAt}, journal{failAt: failAt})
			interrupted.Logger = quiet
			for _, r := range interrupted.Runners {
				r.MaxBatch = 25
				r.GapTimeout = 50 * time.Millisecond
			}
			done := make(chan error, 1)
			go func() { done <- interrupted.Run(ctx) }()
			if tc.live {
				log = seedDossiers(t, store)
			}
			last := log[len(log)-1].Position
			if tc.kill {
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Fatalf("engine: %v", err)
				}
				if struck.Load() == 0 {
					t.Fatal("the failure never struck")
				}
				// Nothing of the killed batch is left: each table holds exactly what its checkpoint says.
				for _, name := range []string{"public_status", "test_journal"} {
					if at := checkpointOf(t, db, name); !at.Less(last) {
						t.Fatalf("%s reached the end (%s) despite the kill", name, at)
					}
				}
				checkJournal(t, db, upTo(log, checkpointOf(t, db, "test_journal")))
				restarted := engine.NewEngine(store, db, engine.SQLite, projections.PublicStatusView{}, journal{})
				restarted.Logger = quiet
				runEngine(t, restarted)
				waitFor(t, restarted, last)
			} else {
				waitFor(t, interrupted, last)
				if struck.Load() < 2 {
					t.Fatalf("the failure struck %d times, want the first attempt and its retry", struck.Load())
				}
			}

			reference := openReadDB(t)
			uninterrupted := engine.NewEngine(store, reference, engine.SQLite, projections.PublicStatusView{}, journal{})
			uninterrupted.Logger = quiet
			runEngine(t, uninterrupted)
			waitFor(t, uninterrupted, last)

			checkJournal(t, db, log)
			checkPublicStatus(t, db, log)
			got, want := dump(t, db, "public_status", "test_journal"), dump(t, reference, "public_status", "test_journal")
			if got != want {
				t.Fatalf("tables after the interruption differ from an uninterrupted run:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// upTo returns the events of log at or before p.
func upTo(log []eventstore.RecordedEvent, p eventstore.Position) []eventstore.RecordedEvent {
	n := 0
	for n < len(log) && !p.Less(log[n].Position) {
		n++
	}
	return log[:n]
}
