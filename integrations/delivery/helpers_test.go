package delivery_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/cmd/motcua/demo"
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

var backends = []engine.Dialect{engine.SQLite, engine.PostgreSQL}

// openStore opens a fresh store of the dialect's backend and the database its consumers write to.
func openStore(t testing.TB, d engine.Dialect) (eventstore.Store, *sql.DB) {
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
	store, err := postgres.Open(ctx, pgtest.NewDatabaseInTurn(t), postgres.WithLogger(quiet))
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

// seed records the demo's varied dossier histories through the real use cases.
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

// receiver is the far end of a destination, as a real receiver behaves: it keeps what it accepted,
// and can refuse (the receiver down) or accept and then lose its answer (the connection dropped
// after the message was taken), which makes the sender send the same delivery again.
type receiver struct {
	name string
	plan func(delivery.Change) string

	mu       sync.Mutex
	rng      *rand.Rand
	refuse   float64                      // share of sends refused
	lostAck  float64                      // share of sends accepted whose answer is lost
	refuseIf func(delivery.Delivery) bool // refuses, whatever the dice say
	got      []delivery.Delivery          // every accepted send, duplicates included
}

func newReceiver(name string) *receiver {
	return &receiver{name: name, rng: rand.New(rand.NewPCG(14, 1)),
		plan: func(delivery.Change) string { return "event" }}
}

func (r *receiver) Name() string                  { return r.name }
func (r *receiver) Plan(c delivery.Change) string { return r.plan(c) }
func (r *receiver) setFaults(refuse, lostAck float64) {
	r.mu.Lock()
	r.refuse, r.lostAck = refuse, lostAck
	r.mu.Unlock()
}

func (r *receiver) Send(ctx context.Context, d delivery.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuseIf != nil && r.refuseIf(d) {
		return errors.New("refused for this dossier")
	}
	if r.rng.Float64() < r.refuse {
		return errors.New("451 try again later")
	}
	r.got = append(r.got, d)
	if r.rng.Float64() < r.lostAck {
		return errors.New("connection reset after DATA")
	}
	return nil
}

// accepted returns every accepted send, in arrival order.
func (r *receiver) accepted() []delivery.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery.Delivery(nil), r.got...)
}

// system runs the delivery consumer in an engine and a dispatcher, until stop.
type system struct {
	engine *engine.Engine
	stop   func()
}

func start(t testing.TB, store eventstore.Store, db *sql.DB, d engine.Dialect, policy delivery.Policy, destinations ...delivery.Destination) *system {
	t.Helper()
	consumer, err := delivery.NewConsumer(destinations...)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(store, db, d, consumer)
	e.Logger = quiet
	dispatcher := &delivery.Dispatcher{DB: db, Dialect: d, Destinations: destinations, Policy: policy,
		PollInterval: 10 * time.Millisecond, SendTimeout: time.Second, Lease: 2 * time.Second, Logger: quiet}
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
		if err := dispatcher.Run(ctx); err != nil {
			t.Errorf("dispatcher: %v", err)
		}
	}()
	var once sync.Once
	s := &system{engine: e, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(s.stop)
	return s
}

// counts returns the deliveries per state.
func counts(t testing.TB, db *sql.DB) map[delivery.State]int {
	t.Helper()
	rows, err := db.Query(`SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[delivery.State]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		out[delivery.State(state)] = n
	}
	return out
}

// eventually waits until cond holds, failing the test after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func migrateConsumer(t testing.TB, db *sql.DB, d engine.Dialect, destinations ...delivery.Destination) {
	t.Helper()
	consumer, err := delivery.NewConsumer(destinations...)
	if err != nil {
		t.Fatal(err)
	}
	if err := consumer.Migrate(context.Background(), db, d); err != nil {
		t.Fatal(err)
	}
}
