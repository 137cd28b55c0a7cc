package engine_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/projections"
)

// openPostgres opens a migrated store on a fresh database of the shared test cluster, and the
// read-model handle on the same database, as motcua serve does.
func openPostgres(t testing.TB, opts ...postgres.Option) (*postgres.Store, *sql.DB, string) {
	t.Helper()
	dsn := pgtest.NewDatabaseInTurn(t)
	ctx := context.Background()
	store, err := postgres.Open(ctx, dsn, append([]postgres.Option{postgres.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(store.Pool())
	t.Cleanup(func() {
		db.Close()
		store.Close()
	})
	return store, db, dsn
}

// startNATS runs a real NATS server with JetStream in this process.
func startNATS(t testing.TB) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}

// TestDurableTransportsCarryEveryEventOnceInOrder runs the projections over each durable backend:
// the log is written while the engine runs, so it travels through the broker; then the engine stops,
// more events are written, and a new engine resumes from the forwarder's checkpoint.
func TestDurableTransportsCarryEveryEventOnceInOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		dialect engine.Dialect // of the database the read models are in
		open    func(t *testing.T) (eventstore.Store, *sql.DB, func() *engine.Transport, func(t *testing.T) int)
		// stored counts the events in the store, including any that a running transaction still
		// hides from readers of the log (PostgreSQL's read horizon).
		stored func(t *testing.T, db *sql.DB) int
	}{
		{name: "postgres", dialect: engine.PostgreSQL, open: func(t *testing.T) (eventstore.Store, *sql.DB, func() *engine.Transport, func(t *testing.T) int) {
			store, db, dsn := openPostgres(t)
			transport := func() *engine.Transport {
				tr, err := engine.NewPostgresTransport(context.Background(), dsn, quiet)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tr.Close() })
				return tr
			}
			carried := func(t *testing.T) int {
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM "watermill_motcua.events"`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			return store, db, transport, carried
		}, stored: func(t *testing.T, db *sql.DB) int {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM eventstore.events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}},
		{name: "nats", dialect: engine.SQLite, open: func(t *testing.T) (eventstore.Store, *sql.DB, func() *engine.Transport, func(t *testing.T) int) {
			store := openSQLite(t)
			url := startNATS(t)
			transport := func() *engine.Transport {
				tr, err := engine.NewNATSTransport(context.Background(), url, quiet)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tr.Close() })
				return tr
			}
			carried := func(t *testing.T) int {
				conn, err := nats.Connect(url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				js, _ := conn.JetStream()
				info, err := js.StreamInfo("motcua_events")
				if err != nil {
					t.Fatal(err)
				}
				return int(info.State.Msgs)
			}
			return store, store.DB(), transport, carried
		}, stored: func(t *testing.T, db *sql.DB) int {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, db, transport, carried := tc.open(t)
			first := engine.NewEngine(store, db, tc.dialect, projections.PublicStatusView{}, journal{})
			first.Transport, first.Logger = transport(), quiet
			for _, r := range first.Runners {
				r.GapTimeout = time.Hour // everything must come through the broker
			}
			stop := runEngine(t, first)
			seedDossiers(t, store)
			log := wholeLog(t, first, store, func() int { return tc.stored(t, db) })
			stop()
			if n := carried(t); n < len(log) {
				t.Fatalf("the broker carried %d messages, fewer than the log's %d events", n, len(log))
			}
			if at, ok, err := engine.ForwarderCheckpoint(context.Background(), db, engine.DefaultTopic); err != nil || !ok || at != log[len(log)-1].Position {
				t.Fatalf("forwarder checkpoint %s (%v, %v), want %s", at, ok, err, log[len(log)-1].Position)
			}
			// Pruning deletes what every consumer group acknowledged from a table-backed topic
			// (JetStream keeps its own retention) — the stopped engine's last unacknowledged batch
			// stays — and the engine below still resumes exactly.
			before := carried(t)
			pruned, err := transport().Prune(context.Background(), engine.DefaultTopic)
			if err != nil {
				t.Fatal(err)
			}
			if after := carried(t); after != before-int(pruned) || (tc.name == "postgres" && (pruned == 0 || after >= len(log)/2)) {
				t.Fatalf("pruning deleted %d of %d messages, %d left", pruned, before, after)
			}

			for range 5 {
				appendMarker(t, store)
			}
			second := engine.NewEngine(store, db, tc.dialect, projections.PublicStatusView{}, journal{})
			second.Transport, second.Logger, second.PruneInterval = transport(), quiet, 20*time.Millisecond
			runEngine(t, second)
			log = wholeLog(t, second, store, func() int { return tc.stored(t, db) })
			checkJournal(t, db, log)
			checkPublicStatus(t, db, log)
			if tc.name == "postgres" {
				// The running engine prunes on its own once both groups acknowledged the markers.
				deadline := time.Now().Add(10 * time.Second)
				for carried(t) > 0 {
					if time.Now().After(deadline) {
						t.Fatalf("%d acknowledged messages left unpruned", carried(t))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

// wholeLog waits until e has applied every stored event and returns the log. On PostgreSQL a reader
// of the log sees only what lies below the oldest running transaction — the engine's own among
// them — so one read may stop short of the last events.
func wholeLog(t testing.TB, e *engine.Engine, store eventstore.Store, stored func() int) []eventstore.RecordedEvent {
	t.Helper()
	want := stored()
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := readLog(t, store)
		waitFor(t, e, log[len(log)-1].Position)
		if len(log) == want {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d of %d stored events", len(log), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
