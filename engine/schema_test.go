package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
)

// A consumer whose tables changed shape declares a new schema version; at start the engine finds
// the tables of the old version and rebuilds them, logging why, where before the consumer stalled
// on its first event for want of the new column until someone ran `motcua projections rebuild`.
// A checkpoint table from before schema versions gets the column first.
func TestSchemaVersionChangeRebuildsAtStart(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			store, db := openStore(t, backend)
			// The checkpoint table as it was before schema versions.
			if _, err := db.ExecContext(ctx, `CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY,
				commit_position BIGINT NOT NULL, prepare_position BIGINT NOT NULL, updated_at TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			log := seedDossiers(t, store)
			dialect := engine.Dialect(backend)

			first := engine.NewEngine(store, db, dialect, journal{})
			first.Logger = quiet
			stop := runEngine(t, first)
			waitFor(t, first, log[len(log)-1].Position)
			stop()
			if v := storedVersion(t, db); v != 1 {
				t.Fatalf("schema version after the first run: %d, want 1", v)
			}

			var logged bytes.Buffer
			second := engine.NewEngine(store, db, dialect, journal{schema: 2})
			second.Logger = slog.New(slog.NewTextHandler(&logged, nil))
			runEngine(t, second)
			more := seedDossiers(t, store) // delivered live, into the new column
			waitFor(t, second, more[len(more)-1].Position)
			if err := second.Runner("test_journal").Stalled(); err != nil {
				t.Fatalf("the journal stalled: %v", err)
			}
			checkJournal(t, db, more)
			var oldRows int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_journal WHERE written_by <> 2`).Scan(&oldRows); err != nil {
				t.Fatal(err)
			}
			if oldRows != 0 {
				t.Errorf("%d rows not written by schema 2", oldRows)
			}
			if v := storedVersion(t, db); v != 2 {
				t.Errorf("schema version after the rebuild: %d, want 2", v)
			}
			if !strings.Contains(logged.String(), "rebuilding") || !strings.Contains(logged.String(), "stored_version=1") {
				t.Errorf("the rebuild was not logged with its reason:\n%s", logged.String())
			}
		})
	}
}

func storedVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT schema_version FROM projection_checkpoints WHERE name = 'test_journal'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Several engines of one process starting together on a small pool (the scenario tests start one
// per read model; pgx's default pool is four connections on two cores): the waiters for the schema
// lock each kept a connection while polling, the holder found none left for its own steps, and
// every engine waited forever. The waiters now give their connection back between tries.
func TestSchemaLockWaitersLeaveTheHolderConnections(t *testing.T) {
	t.Parallel()
	_, db := openStore(t, "postgres")
	db.SetMaxOpenConns(2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := engine.LockSchema(ctx, db, engine.PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 3)
	for range 3 {
		go func() {
			next, err := engine.LockSchema(ctx, db, engine.PostgreSQL)
			if err != nil {
				t.Error(err)
				got <- func() {}
				return
			}
			got <- next
		}()
	}
	time.Sleep(300 * time.Millisecond) // the waiters poll
	step, cancelStep := context.WithTimeout(ctx, 10*time.Second)
	defer cancelStep()
	if _, err := db.ExecContext(step, `CREATE TABLE IF NOT EXISTS schema_lock_step (n INT)`); err != nil {
		t.Fatalf("the lock's holder could not run its step while others waited: %v", err)
	}
	unlock()
	for range 3 {
		select {
		case next := <-got:
			next() // each waiter gets the lock in turn
		case <-ctx.Done():
			t.Fatal("a waiter never got the schema lock")
		}
	}
}
