package http_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/projections"
)

// While PostgreSQL is down, requests that need it answer 503 with Retry-After — not 500 "internal
// error" — and /readyz says the node cannot serve while /healthz says the process lives. When the
// database is back, everything answers again by itself.
func TestStoreOutageAnswers503AndNotReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err := pgtest.StartCluster(ctx)
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	store, err := postgres.Open(ctx, cluster.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(store.Pool())
	t.Cleanup(func() { db.Close() })
	if err := projections.MigrateAll(ctx, db, engine.PostgreSQL); err != nil {
		t.Fatal(err)
	}
	cal := calendar.Default()
	catalog := domaintest.Catalog(t, cal)
	quiet := slog.New(slog.DiscardHandler)
	app := commands.New(store, catalog, cal)
	app.Logger = quiet
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	feeder := engine.NewEngine(store, db, engine.PostgreSQL, projections.PublicStatusView{})
	feeder.Logger = quiet
	runner := feeder.Runner(projections.PublicStatusView{}.Name())
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: db, Tokens: mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey)},
		Logger: quiet, PublicStatusUpdates: runner})
	ts := httptest.NewServer(checkContract(t, server))
	t.Cleanup(ts.Close)
	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan error, 1)
	go func() { engineDone <- feeder.Run(engineCtx) }()
	t.Cleanup(func() { stopEngine(); <-engineDone })
	e := &env{t: t, url: ts.URL, app: app, server: server, key: key, clock: &testClock{t: time.Now()}, cal: cal, runner: runner}

	reception := e.token("tiepnhan1", centre, commands.RoleReception)
	code := e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated).body["code"].(string)
	e.waitPublic(code, domain.StatusReceived)
	e.expect(e.do("GET", "/readyz", "", nil), http.StatusOK)

	if err := cluster.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/public/dossiers/" + code, "/api/v1/dossiers/" + code, "/readyz"} {
		down := e.expect(e.do("GET", path, reception, nil), http.StatusServiceUnavailable)
		if down.header.Get("Retry-After") == "" || down.body["code"] != "unavailable" {
			t.Errorf("GET %s while the database is down: %v %s", path, down.header, down.raw)
		}
	}
	e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusServiceUnavailable)
	if page := e.do("GET", "/tra-cuu/"+code, "", nil); page.status != http.StatusServiceUnavailable || page.header.Get("Retry-After") == "" {
		t.Errorf("lookup page while the database is down: %d %v", page.status, page.header)
	}
	e.expect(e.do("GET", "/healthz", "", nil), http.StatusOK)

	if err := cluster.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.do("GET", "/readyz", "", nil)
		if r.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the database came back: %d %s", r.status, r.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.expect(e.do("GET", "/api/v1/public/dossiers/"+code, "", nil), http.StatusOK)
	e.expect(e.do("POST", "/api/v1/dossiers", reception, validReceipt()), http.StatusCreated)
}
