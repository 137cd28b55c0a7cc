package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// countedQueue is the work queue whose folds count the events they folded.
type countedQueue struct {
	projections.WorkQueueView
	folded *atomic.Int64
}

func (c countedQueue) NewFold(fresh bool) engine.Fold {
	return &countedFold{Fold: c.WorkQueueView.NewFold(fresh), folded: c.folded}
}

// WithPrefix keeps the counting in the rebuild's scratch tables.
func (c countedQueue) WithPrefix(prefix string) engine.Consumer {
	c.WorkQueueView = c.WorkQueueView.WithPrefix(prefix).(projections.WorkQueueView)
	return c
}

type countedFold struct {
	engine.Fold
	folded *atomic.Int64
}

func (f *countedFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	err := f.Fold.Add(ctx, q, batch)
	f.folded.Add(int64(len(batch.Events)))
	return err
}

// slowFlush is a fold that is always due for a flush and whose first flush is worked out only once
// others have folded want events, or after patience (then late holds how many they had folded;
// it starts at -1). firstAt holds how many events it had folded at that flush (-1 until then).
type slowFlush struct {
	engine.Fold
	others     *atomic.Int64
	want       int64
	patience   time.Duration
	folded     int64
	firstAt    *atomic.Int64
	late       *atomic.Int64
	budgetOver int
}

func (f *slowFlush) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	f.folded += int64(len(batch.Events))
	return f.Fold.Add(ctx, q, batch)
}

func (f *slowFlush) Held() int { return f.budgetOver }

func (f *slowFlush) PrepareFlush(context.Context) error {
	if !f.firstAt.CompareAndSwap(-1, f.folded) {
		return nil
	}
	deadline := time.Now().Add(f.patience)
	for f.others.Load() < f.want {
		if time.Now().After(deadline) {
			f.late.Store(f.others.Load())
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// A read model working out a long flush in a rebuild does not hold the others: they fold the pages
// after it meanwhile, as a catch-up's members do. Rebuilt page by page in lockstep, every read
// model waited for the slowest one's flush before the next page (process control's take seconds at
// a million dossiers, while a core idled), and here the public status view's first flush would wait
// out its patience for the work queue's pages.
func TestARebuildsFoldsTakeThePagesApart(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			store, db := openStore(t, backend)
			log := seedDossiers(t, store)
			const page = 10
			if len(log) < 6*page {
				t.Fatalf("the seeded log has %d events, want at least %d", len(log), 6*page)
			}
			const budget = 1000
			queueFolded := &atomic.Int64{}
			late, firstAt := &atomic.Int64{}, &atomic.Int64{}
			late.Store(-1)
			firstAt.Store(-1)
			status := wrappedFolds{wrap: func(f engine.Fold) engine.Fold {
				// Its first flush comes after its first page; the work queue is to fold four more
				// meanwhile, fewer than a fold may lag behind the reader.
				return &slowFlush{Fold: f, others: queueFolded, want: 5 * page, patience: 20 * time.Second,
					firstAt: firstAt, late: late, budgetOver: budget + 1}
			}, applied: &atomic.Int64{}}
			queue := countedQueue{folded: queueFolded}
			if err := engine.MigrateCheckpoints(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			d := engine.SQLite
			if backend == "postgres" {
				d = engine.PostgreSQL
			}
			rb := &engine.Rebuilder{Store: store, DB: db, Dialect: d, Consumers: []engine.Consumer{status, queue},
				BatchSize: page, FoldBudget: budget, Logger: quiet}
			result, err := rb.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n := firstAt.Load(); n < 0 || n >= int64(len(log)) {
				t.Fatalf("the public status view first flushed after %d of %d events, want before the end", n, len(log))
			}
			if n := late.Load(); n >= 0 {
				t.Fatalf("the work queue folded %d events while the public status view worked its first flush out, want %d: the folds waited for one another",
					n, 5*page)
			}
			if result.Events != len(log) {
				t.Fatalf("rebuilt %d events, want %d", result.Events, len(log))
			}
			checkPublicStatus(t, db, log)
		})
	}
}
