package email_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
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

func readLog(t testing.TB, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	after := eventstore.Start
	for {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		after = page[len(page)-1].Position
	}
}

// system is motcua's delivery side as serve runs it: the consumer in an engine, and a dispatcher.
type system struct {
	engine *engine.Engine
	stop   func()
}

func start(t testing.TB, events *wiring.Events, db *sql.DB, d engine.Dialect, logger *slog.Logger, dest delivery.Destination) *system {
	t.Helper()
	consumer, err := delivery.NewConsumer(dest)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.NewEngine(events.Sealed, db, d, consumer)
	e.Logger = quiet
	dispatcher := &delivery.Dispatcher{DB: db, Dialect: d, Destinations: []delivery.Destination{dest}, Logger: logger,
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
		if err := dispatcher.Run(ctx); err != nil {
			t.Errorf("dispatcher: %v", err)
		}
	}()
	var once sync.Once
	s := &system{engine: e, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(s.stop)
	return s
}

func migrateConsumer(t testing.TB, db *sql.DB, d engine.Dialect, dest delivery.Destination) {
	t.Helper()
	consumer, err := delivery.NewConsumer(dest)
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

// flappingProxy stands between motcua and the mail server and misbehaves like a network and a
// server under stress: it refuses some connections outright, and on others lets the message reach
// the server but cuts the connection before the server's acceptance gets back, so that the sender
// believes it failed and sends again. It sees SMTP in clear: use it without TLS.
type flappingProxy struct {
	addr     string
	target   string
	listener net.Listener

	mu      sync.Mutex
	rng     *rand.Rand
	refuse  float64
	lostAck float64
	lost    int // acceptances cut off
}

func startProxy(t testing.TB, target string, refuse, lostAck float64) *flappingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flappingProxy{addr: l.Addr().String(), target: target, listener: l, rng: rand.New(rand.NewPCG(14, 2)), refuse: refuse, lostAck: lostAck}
	go p.serve()
	t.Cleanup(func() { l.Close() })
	return p
}

func (p *flappingProxy) setFaults(refuse, lostAck float64) {
	p.mu.Lock()
	p.refuse, p.lostAck = refuse, lostAck
	p.mu.Unlock()
}

func (p *flappingProxy) lostAcks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *flappingProxy) serve() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse, cut := p.rng.Float64() < p.refuse, p.rng.Float64() < p.lostAck
		p.mu.Unlock()
		if refuse {
			client.Close()
			continue
		}
		go p.relay(client, cut)
	}
}

func (p *flappingProxy) relay(client net.Conn, cutAfterData bool) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	dataSent := make(chan struct{})
	go func() {
		// client → server, watching for the end of a message's data.
		var tail []byte
		buf := make([]byte, 32<<10)
		signalled := false
		for {
			n, err := client.Read(buf)
			if n > 0 {
				// Signal before forwarding: the server's answer must not slip through first.
				tail = append(tail, buf[:n]...)
				if !signalled && bytes.Contains(tail, []byte("\r\n.\r\n")) {
					signalled = true
					close(dataSent)
				}
				if len(tail) > 8 {
					tail = tail[len(tail)-8:]
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}()
	if !cutAfterData {
		_, _ = io.Copy(client, server)
		return
	}
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-dataSent:
			p.cut()
			return
		default:
		}
		_ = server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := server.Read(buf)
		if n > 0 {
			select {
			case <-dataSent:
				p.cut()
				return
			default:
			}
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
	}
}

// cut lets the server take the message, then returns so that the line is cut before its "250"
// reaches the client (the caller closes both ends).
func (p *flappingProxy) cut() {
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	p.lost++
	p.mu.Unlock()
}
