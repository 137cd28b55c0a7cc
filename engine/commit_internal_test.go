package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// abandonSignal wraps pgx's handler of a context that ends while a query is under way (it gives
// the connection up at once) and reports that it did.
type abandonSignal struct {
	ctxwatch.Handler
	abandoned func()
}

func (h abandonSignal) HandleCancel(ctx context.Context) {
	h.Handler.HandleCancel(ctx)
	h.abandoned()
}

// The lease handed over while the owner's COMMIT is on the server (the cluster test's flake: "the
// nodes applied 551 events in all, the log holds 553"): the server commits the batch, so the
// runner must learn it did — count the events and move its position — rather than report a
// failure for events that are applied and that the next owner will skip. The COMMIT is held after
// it is durable, where a cancel request cannot undo it, by synchronous replication to a standby
// that never comes (this cluster's own); the run is cancelled as Leases.handOver cancels it; the
// standby is given up only once the driver gave the COMMIT up (pgx's context watcher, hooked) or,
// when it does not, a second later.
func TestACommitUnderWayWhenTheLeaseGoesIsCounted(t *testing.T) {
	ctx, cancelTest := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelTest()
	cluster, err := pgtest.StartCluster(ctx) // its own: every commit on it may wait for a standby
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	dsn := cluster.DSN("postgres")
	if err := execOn(ctx, dsn, `ALTER SYSTEM SET synchronous_standby_names = 'nobody'`); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// Every transaction of the test commits without the standby, but those the trigger below marks.
	dsn += "&synchronous_commit=local"
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	abandoned := make(chan struct{})
	var once sync.Once
	config.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return abandonSignal{
			Handler:   &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()},
			abandoned: func() { once.Do(func() { close(abandoned) }) },
		}
	}
	db := stdlib.OpenDB(*config)
	t.Cleanup(func() { db.Close() })
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r, events, token := tallyOwner(ctx, t, store, db, func(r *Runner) { r.Metrics = metrics })
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	if _, ok := r.lease.startRun(token, cancelRun); !ok {
		t.Fatal("the run did not start")
	}
	if err := r.apply(runCtx, events[:1]); err != nil {
		t.Fatalf("the owner's first write: %v", err)
	}

	// From now on a transaction that writes a row waits at its COMMIT, once durable, for the standby.
	if _, err := db.ExecContext(ctx, `
		CREATE FUNCTION wait_for_the_standby() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN PERFORM set_config('synchronous_commit', 'on', true); RETURN NULL; END $$;
		CREATE TRIGGER wait_for_the_standby AFTER INSERT ON test_tally
			FOR EACH STATEMENT EXECUTE FUNCTION wait_for_the_standby()`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.apply(runCtx, events[1:]) }()
	for deadline := time.Now().Add(time.Minute); ; {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event = 'SyncRep' AND lower(query) = 'commit'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner's COMMIT never waited for the standby")
		}
		time.Sleep(10 * time.Millisecond)
	}

	r.lease.set(0) // as Leases.handOver does: the run's context ends with errLeaseLost
	var applyErr error
	returned := false
	select {
	case <-abandoned:
	case applyErr = <-done:
		returned = true
	case <-time.After(time.Second):
	}
	// Give the standby up: the COMMIT answers, if the runner still waits for its answer.
	if err := execOn(ctx, dsn, `ALTER SYSTEM RESET synchronous_standby_names`, `SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	if !returned {
		applyErr = <-done
	}

	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_tally`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	checkpoint, err := Checkpoint(ctx, db, "test_tally")
	if err != nil {
		t.Fatal(err)
	}
	var counted dto.Metric
	if err := metrics.applied.WithLabelValues("test_tally").Write(&counted); err != nil {
		t.Fatal(err)
	}
	t.Logf("the write under way returned %v; %d rows, checkpoint %s, %g events counted", applyErr, rows, checkpoint, counted.GetCounter().GetValue())
	if rows != 3 || checkpoint != events[2].Position {
		t.Fatalf("the server holds %d rows, checkpoint %s; want the COMMIT under way kept: 3 rows, checkpoint %s", rows, checkpoint, events[2].Position)
	}
	if applyErr != nil {
		t.Errorf("the runner reported its committed write as failed: %v", applyErr)
	}
	if got := int(counted.GetCounter().GetValue()); got != rows {
		t.Errorf("the runner counted %d events applied, the read model holds %d", got, rows)
	}
	if r.Position() != checkpoint {
		t.Errorf("the runner's position is %s, its checkpoint %s", r.Position(), checkpoint)
	}
}

// execOn runs statements, one by one, on a connection of their own to dsn.
func execOn(ctx context.Context, dsn string, statements ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, statement := range statements {
		if _, err := conn.Exec(ctx, statement); err != nil {
			return err
		}
	}
	return nil
}
