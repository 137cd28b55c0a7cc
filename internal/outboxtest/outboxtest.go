// Package outboxtest holds what the tests of the outbox (integrations/delivery), of its
// destinations (e-mail, the national portal) and of the timers share: a fresh store of either
// backend, the demo's histories, the delivery consumer and its dispatcher running, the log folded
// and the e-mail oracle, and the notification latency benchmark (the whole log is
// internal/logtest's). Tests only.
package outboxtest

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
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

// Quiet is a logger that writes nothing.
var Quiet = slog.New(slog.DiscardHandler)

// Backends are the stores the tests run on.
var Backends = []engine.Dialect{engine.SQLite, engine.PostgreSQL}

// OpenStore opens a fresh store of the dialect's backend and the database its consumers write to
// (PostgreSQL's from pgtest: the test package's TestMain runs pgtest.Main).
func OpenStore(t testing.TB, d engine.Dialect) (eventstore.Store, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	if d == engine.SQLite {
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return store, store.DB()
	}
	store, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(t), postgres.WithLogger(Quiet))
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
	return store, db
}

// OpenEvents opens a fresh store with the decorators serve stacks on it (the sealed store opens
// applicants' personal data and honours erasures), and its database.
func OpenEvents(t testing.TB, d engine.Dialect) (*wiring.Events, *sql.DB) {
	t.Helper()
	store, db := OpenStore(t, d)
	events, err := wiring.Decorate(context.Background(), store, db)
	if err != nil {
		t.Fatal(err)
	}
	return events, db
}

// Seed records the demo's varied dossier histories through the real use cases.
func Seed(t testing.TB, store eventstore.Store) {
	t.Helper()
	cal := calendar.Default()
	app := commands.New(store, domaintest.Catalog(t, cal), cal)
	app.Logger = Quiet
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime)
	app.Now = func() time.Time { return now }
	if _, err := demo.Seed(context.Background(), app); err != nil {
		t.Error(err)
	}
}

// Eventually waits until cond holds, failing the test after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CountState counts the deliveries in state.
func CountState(t testing.TB, db *sql.DB, state delivery.State) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state = $1`, string(state)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// MigrateConsumer creates the delivery consumer's tables (and records its origin now).
func MigrateConsumer(t testing.TB, db *sql.DB, d engine.Dialect, destinations ...delivery.Destination) {
	t.Helper()
	consumer, err := delivery.NewConsumer(destinations...)
	if err != nil {
		t.Fatal(err)
	}
	if err := consumer.Migrate(context.Background(), db, d); err != nil {
		t.Fatal(err)
	}
}

// Dispatching is how the dispatcher of a System runs; zero fields take the defaults shown.
type Dispatching struct {
	Logger       *slog.Logger    // Quiet
	Policy       delivery.Policy // the dispatcher's own default
	PollInterval time.Duration   // 20 ms
	SendTimeout  time.Duration   // 5 s
	Lease        time.Duration   // 10 s
	// Engine, when set, adjusts the engine before it runs (its catch-up's thresholds, for one).
	Engine func(*engine.Engine)
}

// System is motcua's delivery side as serve runs it: the delivery consumer in an engine, and a
// dispatcher, until Stop (at the latest when the test ends).
type System struct {
	Engine *engine.Engine
	Stop   func()
}

// Start runs the delivery consumer of destinations over store and a dispatcher sending to them.
func Start(t testing.TB, store eventstore.Store, db *sql.DB, d engine.Dialect, how Dispatching, destinations ...delivery.Destination) *System {
	t.Helper()
	consumer, err := delivery.NewConsumer(destinations...)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(store, db, d, consumer)
	e.Logger = Quiet
	if how.Engine != nil {
		how.Engine(e)
	}
	dispatcher := &delivery.Dispatcher{DB: db, Dialect: d, Destinations: destinations, Policy: how.Policy,
		Logger: cmp.Or(how.Logger, Quiet), PollInterval: cmp.Or(how.PollInterval, 20*time.Millisecond),
		SendTimeout: cmp.Or(how.SendTimeout, 5*time.Second), Lease: cmp.Or(how.Lease, 10*time.Second)}
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
	s := &System{Engine: e, Stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(s.Stop)
	return s
}

// Log is a log a test reads while an engine writes to it (the writer of its slog handler).
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Rows renders what queries read from db, in their order, a row a line, its values separated by
// tabs: two runs' tables compared as text.
func Rows(t testing.TB, db *sql.DB, queries ...string) string {
	t.Helper()
	var b strings.Builder
	for _, query := range queries {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		columns, _ := rows.Columns()
		values := make([]any, len(columns))
		for i := range values {
			values[i] = new(any)
		}
		for rows.Next() {
			if err := rows.Scan(values...); err != nil {
				t.Fatal(err)
			}
			fields := make([]string, len(values))
			for i, v := range values {
				if raw, ok := (*v.(*any)).([]byte); ok {
					fields[i] = string(raw)
				} else {
					fields[i] = fmt.Sprint(*v.(*any))
				}
			}
			b.WriteString(strings.Join(fields, "\t") + "\n")
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
