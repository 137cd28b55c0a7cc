package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/engine"
)

// failingFlushes is the public status view whose folds' flushes fail at the flush numbers listed
// (counted over every fold of the consumer, from 1), as a flush the server ended does; it returns
// the flushes' count too.
func failingFlushes(failAt []int64) (wrappedFolds, *atomic.Int64) {
	flushes := &atomic.Int64{}
	return wrappedFolds{wrap: func(f engine.Fold) engine.Fold { return &failingFold{Fold: f, failAt: failAt, flushes: flushes} },
		applied: &atomic.Int64{}}, flushes
}

type failingFold struct {
	engine.Fold
	failAt  []int64
	flushes *atomic.Int64
}

func (f *failingFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	// The failure comes before any row is written; the engine rolls the transaction back.
	if slices.Contains(f.failAt, f.flushes.Add(1)) {
		return errors.New("terminating connection due to idle-in-transaction timeout")
	}
	return f.Fold.Flush(ctx, tx, batch)
}

// A fold whose flush fails holds every event since its last flush — a million-dossier province's
// whole log before its first. The rebuild folds those events again from the log into a new fold
// and writes it, and only when that fails too applies them through Apply a page at a time (which
// parks the events a consumer fails on by its own fault): a failure that passes, such as the server
// ending a transaction, no longer sends millions of events through Apply (session 17). Both on a
// fold's first flush (its tables empty: the new fold is a fresh one) and after earlier flushes (the
// new fold reads back what they wrote).
func TestARebuildFoldsAgainAfterAFlushFails(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, c := range []struct {
			name         string
			budget       int
			failAt       []int64
			fallsBackToo bool
		}{
			{"first flush fails once", 1 << 20, []int64{1}, false},
			{"a later flush fails once", 5, []int64{2}, false},
			{"the flush fails again after folding again", 5, []int64{2, 3}, true},
		} {
			t.Run(backend+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				store, db := openStore(t, backend)
				log := seedDossiers(t, store)
				consumer, flushes := failingFlushes(c.failAt)
				var logs lockedBuffer
				if err := engine.MigrateCheckpoints(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				d := engine.SQLite
				if backend == "postgres" {
					d = engine.PostgreSQL
				}
				rb := &engine.Rebuilder{Store: store, DB: db, Dialect: d, Consumers: []engine.Consumer{consumer}, BatchSize: 20,
					FoldBudget: c.budget, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
				if _, err := rb.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(logs.String(), "folding its events again") {
					t.Fatalf("the rebuild did not fold again after the flush failed:\n%s", logs.String())
				}
				applied, fellBack := consumer.applied.Load(), strings.Contains(logs.String(), "one page at a time")
				switch {
				case c.fallsBackToo && (applied == 0 || !fellBack):
					t.Fatalf("the fold failed twice, yet %d events went through Apply:\n%s", applied, logs.String())
				case !c.fallsBackToo && (applied != 0 || fellBack):
					t.Fatalf("folding again succeeded, yet %d events went through Apply:\n%s", applied, logs.String())
				}
				if n := flushes.Load(); n <= slices.Max(c.failAt) {
					t.Fatalf("%d flushes: the failures at %v were not all met", n, c.failAt)
				}
				checkPublicStatus(t, db, log)
			})
		}
	}
}
