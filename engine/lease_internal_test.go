package engine

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// tally is a consumer counting the events it applied, one row per event.
type tally struct{}

func (tally) Name() string                 { return "test_tally" }
func (tally) Tables() []string             { return []string{"test_tally"} }
func (tally) SchemaVersion() int           { return 1 }
func (t tally) WithPrefix(string) Consumer { return t }
func (tally) Migrate(ctx context.Context, db *sql.DB, _ Dialect) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS test_tally (event_id TEXT PRIMARY KEY)`)
	return err
}
func (tally) Apply(ctx context.Context, tx *sql.Tx, batch Batch) error {
	for _, e := range batch.Events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO test_tally (event_id) VALUES ($1)`, e.ID.String()); err != nil {
			return err
		}
	}
	return nil
}

// openPostgres opens a store on a database of its own in the tests' cluster, and database/sql on
// its pool, both closed when the test ends.
func openPostgres(ctx context.Context, t *testing.T) (*postgres.Store, *sql.DB) {
	t.Helper()
	store, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(store.Pool())
	t.Cleanup(func() { db.Close() })
	return store, db
}

// tallyOwner is node a running the tally consumer on a log of three events, its lease taken:
// what the lease tests start from. adjust sets the runner's logger or metrics before it starts.
func tallyOwner(ctx context.Context, t *testing.T, store *postgres.Store, db *sql.DB, adjust func(*Runner)) (*Runner, []eventstore.RecordedEvent, int64) {
	t.Helper()
	for _, step := range []func(context.Context, *sql.DB) error{MigrateCheckpoints, MigrateLeases} {
		if err := step(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := store.Append(ctx, "dossier-"+string(rune('a'+i)), eventstore.Any,
			eventstore.EventData{ID: eventstore.NewEventID(), Type: "test.v1", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	events, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(events) != 3 {
		t.Fatalf("log: %d events, %v", len(events), err)
	}
	r := NewRunner(store, db, PostgreSQL, tally{})
	r.lease, r.node = newRunnerLease(), "a"
	if adjust != nil {
		adjust(r)
	}
	if err := r.init(ctx); err != nil {
		t.Fatal(err)
	}
	leases := &Leases{DB: db, Node: "a"}
	if err := leases.register(ctx, []string{"test_tally"}); err != nil {
		t.Fatal(err)
	}
	token, err := leases.take(ctx, "test_tally")
	if err != nil || token == 0 {
		t.Fatalf("a could not take the free lease: %d, %v", token, err)
	}
	r.lease.set(token)
	return r, events, token
}

// A node whose lease was taken over writes nothing with its old token — the write that checks the
// token fails, nothing of it is kept, and the runner stops running the consumer — and a takeover
// waits for a write under way with the valid token to end before it completes.
func TestFencingTokenStopsTheOwnerThatLostItsLease(t *testing.T) {
	ctx := context.Background()
	store, db := openPostgres(ctx, t)
	b := &Leases{DB: db, Node: "b"}
	var said strings.Builder
	r, events, token := tallyOwner(ctx, t, store, db, func(r *Runner) { r.Logger = slog.New(slog.NewTextHandler(&said, nil)) })
	if err := r.apply(ctx, events[:1]); err != nil {
		t.Fatalf("the owner's write: %v", err)
	}

	// A write under way holds the lease: b cannot take it, even expired, until the write ends.
	writing, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- r.inTx(ctx, func(tx *sql.Tx) (eventstore.Position, int, error) {
			close(writing)
			<-finish
			return applyEvents(ctx, tx, PostgreSQL, r.Consumer, events[1:2])
		}, nil)
	}()
	<-writing
	if _, err := db.ExecContext(ctx, `UPDATE consumer_leases SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if stolen, err := b.take(ctx, "test_tally"); err != nil || stolen != 0 {
		t.Fatalf("b took the lease while a's write was under way: token %d, %v", stolen, err)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatalf("the owner's write under way: %v", err)
	}
	stolen, err := b.take(ctx, "test_tally")
	if err != nil || stolen != token+1 {
		t.Fatalf("b could not take the expired lease: token %d, %v", stolen, err)
	}

	// a wakes up believing it still runs the consumer.
	err = r.apply(ctx, events[2:])
	if !errors.Is(err, errLeaseLost) {
		t.Fatalf("the old owner's write after the takeover: %v, want errLeaseLost", err)
	}
	if r.runsHere() {
		t.Error("the old owner still runs the consumer after its write was refused")
	}
	if !strings.Contains(said.String(), "lost a consumer to another node") {
		t.Errorf("the old owner did not say it lost the consumer:\n%s", said.String())
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_tally`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	checkpoint, err := Checkpoint(ctx, db, "test_tally")
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 || checkpoint != events[1].Position {
		t.Errorf("after the refused write: %d rows, checkpoint %s; want 2 rows, checkpoint %s", rows, checkpoint, events[1].Position)
	}
}
