package engine_test

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres"
)

// slowPreparation makes the first flush of a consumer's folds take work to work out its rows — as
// process control's did at a million dossiers —, and tells whether a flush was worked out.
type slowPreparation struct {
	work   time.Duration
	once   sync.Once
	worked atomic.Bool
}

// slowPreparing is the public status view whose folds' first flush is slow to work out.
func slowPreparing(work time.Duration) (wrappedFolds, *slowPreparation) {
	p := &slowPreparation{work: work}
	return wrappedFolds{wrap: func(f engine.Fold) engine.Fold { return &slowFold{Fold: f, p: p} }, applied: &atomic.Int64{}}, p
}

// slowFold works out its flush in PrepareFlush when the engine asks, or else in Flush, as
// engine.FlushPreparer says a fold must.
type slowFold struct {
	engine.Fold
	p        *slowPreparation
	prepared bool
}

func (f *slowFold) PrepareFlush(context.Context) error {
	f.p.once.Do(func() { time.Sleep(f.p.work) })
	f.p.worked.Store(true)
	f.prepared = true
	return nil
}

func (f *slowFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if !f.prepared {
		_ = f.PrepareFlush(ctx)
	}
	f.prepared = false
	return f.Fold.Flush(ctx, tx, batch)
}

// A fold's flush works out its rows before its transaction opens: on PostgreSQL a transaction
// left idle longer than the store's write timeout is ended by the server, and a fold that worked
// out a million dossiers' rows inside it lost its flush and fell back to applying every event
// through Apply (process control's rebuild at 1 M, session 15). Here the first flush takes three
// times the write timeout to work out; the rebuild and the catch-up still fold every event.
func TestAFoldWorksOutItsFlushBeforeTheTransactionOpens(t *testing.T) {
	t.Parallel()
	const writeTimeout = 300 * time.Millisecond
	open := func(t *testing.T) (*postgres.Store, *sql.DB) {
		store, db, _ := openPostgres(t, postgres.WithWriteTimeout(writeTimeout))
		return store, db
	}

	t.Run("rebuild", func(t *testing.T) {
		store, db := open(t)
		log := seedDossiers(t, store)
		consumer, slow := slowPreparing(3 * writeTimeout)
		var logs lockedBuffer
		if err := engine.MigrateCheckpoints(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		rb := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.PostgreSQL, Consumers: []engine.Consumer{consumer}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		if _, err := rb.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !slow.worked.Load() {
			t.Fatal("the rebuild never worked out a flush: the consumer it rebuilt was not this one")
		}
		if n := consumer.applied.Load(); n != 0 || strings.Contains(logs.String(), "fold failed") {
			t.Fatalf("the rebuild applied %d events through Apply: its fold's flush failed\n%s", n, logs.String())
		}
		checkPublicStatus(t, db, log)
	})

	t.Run("catch-up", func(t *testing.T) {
		store, db := open(t)
		seedDossiers(t, store)
		writeLog(t, store, 300, 1)
		log := readLog(t, store)
		consumer, slow := slowPreparing(3 * writeTimeout)
		var logs lockedBuffer
		e := bulkEngine(store, db, engine.PostgreSQL, &logs, consumer)
		e.FoldBudget = 1 << 20 // one flush, at the end of the log
		stop := runEngine(t, e)
		waitFor(t, e, log[len(log)-1].Position)
		stop()
		if !strings.Contains(logs.String(), "caught up in bulk") {
			t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
		}
		if !slow.worked.Load() {
			t.Fatal("the catch-up never worked out a flush")
		}
		if n := consumer.applied.Load(); n != 0 {
			t.Fatalf("the catch-up applied %d events through Apply: its fold's flush failed\n%s", n, logs.String())
		}
		checkPublicStatus(t, db, log)
	})
}
