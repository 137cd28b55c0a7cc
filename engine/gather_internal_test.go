package engine

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// heldTally counts the events it applied in a table of its own, and holds its third batch until
// hold is closed (nil: never holds); applied says how many batches it applied.
type heldTally struct {
	name    string
	hold    chan struct{}
	applied *atomic.Int32
}

func (h heldTally) Name() string               { return h.name }
func (h heldTally) Tables() []string           { return []string{h.name} }
func (heldTally) SchemaVersion() int           { return 1 }
func (h heldTally) WithPrefix(string) Consumer { return h }
func (h heldTally) Migrate(ctx context.Context, db *sql.DB, _ Dialect) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+h.name+` (event_id TEXT PRIMARY KEY)`)
	return err
}
func (h heldTally) Apply(ctx context.Context, tx *sql.Tx, batch Batch) error {
	if h.hold != nil && h.applied.Load() == 2 {
		select {
		case <-h.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, e := range batch.Events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+h.name+` (event_id) VALUES ($1)`, e.ID.String()); err != nil {
			return err
		}
	}
	h.applied.Add(1)
	return nil
}

// Running consumers asking to be caught up within the gathering share one catch-up, and one whose
// run ends (its lease lost) is let go at once — its runner does not wait for the others, here one
// held in the middle of its pages — while the others go on to the end of the log.
func TestAGatheredCatchUpLetsAMemberWhoseRunEndedGoAtOnce(t *testing.T) {
	ctx := context.Background()
	// PostgreSQL: on SQLite a bulk catch-up writes through one connection, so a member held in its
	// transaction holds every other's writes, as SQLite's single writer would anyway.
	store, db := openPostgres(ctx, t)
	if err := MigrateCheckpoints(ctx, db); err != nil {
		t.Fatal(err)
	}
	const events = 400
	var last eventstore.Position
	for i := range events {
		res, err := store.Append(ctx, "dossier-"+string(rune('a'+i%20)), eventstore.Any,
			eventstore.EventData{ID: eventstore.NewEventID(), Type: "test.v1", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	release := make(chan struct{})
	var released sync.Once
	releaseHeld := func() { released.Do(func() { close(release) }) }
	t.Cleanup(releaseHeld) // before the database closes, which waits for the held transaction
	var appliedGoing, appliedHeld atomic.Int32
	going := NewRunner(store, db, PostgreSQL, heldTally{name: "test_going", applied: &appliedGoing})
	held := NewRunner(store, db, PostgreSQL, heldTally{name: "test_held", hold: release, applied: &appliedHeld})
	e := &Engine{Store: store, DB: db, Dialect: PostgreSQL, Runners: []*Runner{going, held},
		CatchUpThreshold: 10, CatchUpBatch: 20, BulkGathering: 100 * time.Millisecond}
	for _, r := range e.Runners {
		if err := r.init(ctx); err != nil {
			t.Fatal(err)
		}
	}
	goingCtx, endGoing := context.WithCancel(ctx)
	defer endGoing()
	goingDone, heldDone := make(chan bool, 1), make(chan bool, 1)
	go func() { goingDone <- e.bulkIfFarBehind(goingCtx, going) }()
	go func() { heldDone <- e.bulkIfFarBehind(ctx, held) }()
	deadline := time.Now().Add(30 * time.Second)
	for appliedGoing.Load() < 3 || appliedHeld.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the catch-up applied %d and %d batches, want the members under way", appliedGoing.Load(), appliedHeld.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	endGoing()
	select {
	case ok := <-goingDone:
		if ok {
			t.Error("the member whose run ended was told it caught up")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the member whose run ended waited for the held one")
	}
	select {
	case <-heldDone:
		t.Fatal("the held member finished while held")
	default:
	}
	releaseHeld()
	select {
	case ok := <-heldDone:
		if !ok {
			t.Error("the held member did not catch up")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the held member never finished")
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_held`).Scan(&n); err != nil || n != events {
		t.Errorf("the held member applied %d events (%v), want the whole log's %d", n, err, events)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_going`).Scan(&n); err != nil || n == events {
		t.Errorf("the member whose run ended applied %d events (%v), want it stopped before the end", n, err)
	}
	if got := held.Position(); got != last {
		t.Errorf("the held member stands at %s, want the log's end %s", got, last)
	}
}
