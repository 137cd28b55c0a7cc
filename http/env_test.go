package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

const (
	centre   = "000.00.00.H56" // Public Service Centre: receives
	building = "000.00.06.H56" // Department of Construction: decides
	land     = "000.00.10.H56" // another agency
)

// testClock is a settable clock shared by the app and the server.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the real router over a real SQLite file, with read models run by a projections engine as
// motcua serve wires them.
type env struct {
	t      *testing.T
	url    string
	dbPath string
	store  *sqlite.Store    // the file itself
	events eventstore.Store // what the app appends to: store, or a decorator of it
	app    *commands.App
	server *mhttp.Server
	key    ed25519.PrivateKey
	clock  *testClock
	cal    *calendar.Calendar
	engine *engine.Engine
	runner *engine.Runner // the public status view's
}

// envOptions says what a test environment adds to the plain one.
type envOptions struct {
	// wrap decorates the store the app and the read models use (hash chain, crypto-shredding).
	wrap func(t *testing.T, store *sqlite.Store) eventstore.Store
	// projections run by the engine; the public status view alone when nil.
	projections []engine.Consumer
	// configure makes last changes to the wiring before the server is built.
	configure func(cfg *mhttp.Config, app *commands.App, events eventstore.Store)
	// configureAt, when set, makes last changes knowing the address the server will listen at
	// (an identity provider's redirect URL).
	configureAt func(cfg *mhttp.Config, baseURL string)
	// connections, when set, serves through the http.Server and listener motcua serve builds with
	// these limits, instead of httptest's plain one.
	connections *mhttp.ConnectionLimits
}

// newEnv is the plain environment: the public status view, default limits.
func newEnv(t *testing.T) *env { return buildEnv(t, envOptions{}) }

func buildEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dbPath := filepath.Join(t.TempDir(), "motcua.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var events eventstore.Store = store
	if opts.wrap != nil {
		events = opts.wrap(t, store)
	}
	if err := projections.MigrateAll(ctx, store.DB(), engine.SQLite); err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	// Monday 2 March 2026, 08:00 in Vietnam: an ordinary working morning.
	clock := &testClock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, domain.VietnamTime)}
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(events, catalog, cal)
	app.Now, app.Logger = clock.Now, quiet
	_, key, _ := ed25519.GenerateKey(rand.Reader)

	readModels := opts.projections
	if readModels == nil {
		readModels = []engine.Consumer{projections.PublicStatusView{}}
	}
	feeder := engine.NewEngine(events, store.DB(), engine.SQLite, readModels...)
	feeder.Logger = quiet
	runner := feeder.Runner(projections.PublicStatusView{}.Name())
	cfg := mhttp.Config{App: app, ReadDB: store.DB(), Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
		Logger: quiet, PublicStatusUpdates: runner, AccessLog: newAccessLog(t, store.DB(), engine.SQLite, clock)}
	if opts.configure != nil {
		opts.configure(&cfg, app, events)
	}
	ts := httptest.NewUnstartedServer(nil)
	if opts.configureAt != nil {
		opts.configureAt(&cfg, "http://"+ts.Listener.Addr().String())
	}
	server := mhttp.NewServer(cfg)
	ts.Config.Handler = checkContract(t, server)
	if opts.connections != nil {
		ts.Config = server.HTTPServer(*opts.connections)
		ts.Config.Handler = checkContract(t, server)
		ts.Listener = mhttp.Listener(ts.Listener, *opts.connections)
	}
	ts.Start()
	done := make(chan error, 1)
	go func() { done <- feeder.Run(ctx) }()
	t.Cleanup(func() {
		ts.CloseClientConnections() // live feeds hold connections open
		ts.Close()
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("projections: %v", err)
		}
		store.Close()
	})
	return &env{t: t, url: ts.URL, dbPath: dbPath, store: store, events: events, app: app, server: server, key: key,
		clock: clock, cal: cal, engine: feeder, runner: runner}
}
