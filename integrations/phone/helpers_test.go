package phone_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/integrations/delivery"
)

var quiet = slog.New(slog.DiscardHandler)

// openEvents opens a fresh store of the dialect's backend with the decorators serve stacks on it
// (the sealed store opens applicants' personal data and honours erasures), and its database.
func openEvents(t testing.TB, d engine.Dialect) (*wiring.Events, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	var (
		stored eventstore.Store
		db     *sql.DB
	)
	if d == engine.SQLite {
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		stored, db = store, store.DB()
	} else {
		store, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(t), postgres.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db = stdlib.OpenDBFromPool(store.Pool())
		t.Cleanup(func() {
			db.Close()
			store.Close()
		})
		stored = store
	}
	events, err := wiring.Decorate(ctx, stored, db)
	if err != nil {
		t.Fatal(err)
	}
	return events, db
}

func seed(t testing.TB, store eventstore.Store) {
	t.Helper()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = quiet
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime)
	app.Now = func() time.Time { return now }
	if _, err := demo.Seed(context.Background(), app); err != nil {
		t.Error(err)
	}
}

// system is motcua's delivery side as serve runs it: the consumer in an engine, and a dispatcher.
type system struct {
	engine *engine.Engine
	stop   func()
}

func start(t testing.TB, events *wiring.Events, db *sql.DB, d engine.Dialect, logger *slog.Logger, dests ...delivery.Destination) *system {
	t.Helper()
	consumer, err := delivery.NewConsumer(dests...)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(events.Sealed, db, d, consumer)
	e.Logger = quiet
	dispatcher := &delivery.Dispatcher{DB: db, Dialect: d, Destinations: dests, Logger: logger,
		Policy:       delivery.Policy{MaxAttempts: 1000, Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond},
		PollInterval: 20 * time.Millisecond, SendTimeout: 5 * time.Second, Lease: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := e.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("engine: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := dispatcher.Run(ctx); err != nil && ctx.Err() == nil { // stopped while migrating: not a failure
			t.Errorf("dispatcher: %v", err)
		}
	}()
	var once sync.Once
	s := &system{engine: e, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(s.stop)
	return s
}

func migrateConsumer(t testing.TB, db *sql.DB, d engine.Dialect, dests ...delivery.Destination) {
	t.Helper()
	consumer, err := delivery.NewConsumer(dests...)
	if err != nil {
		t.Fatal(err)
	}
	if err := consumer.Migrate(context.Background(), db, d); err != nil {
		t.Fatal(err)
	}
}

func countState(t testing.TB, db *sql.DB, state delivery.State) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state = $1`, string(state)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func newClient() *http.Client { return &http.Client{Timeout: 2 * time.Second} }
