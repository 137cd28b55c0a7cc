package engine_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// gauges gathers reg and returns the value of each metric named name, by its projection label.
func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, m := range family.GetMetric() {
			values[label(m, "projection")] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return values
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestLagAndCountersAreExported(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	log := seedDossiers(t, store)
	reg := prometheus.NewRegistry()
	lag := engine.NewLagCollector(store, store.DB(), "public_status", "test_journal")
	lag.Limit = 50
	lag.Wait = 10 * time.Second // this test is about the values, not how long a scrape may wait
	reg.MustRegister(lag)
	metrics, err := engine.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.MigrateCheckpoints(t.Context(), store.DB()); err != nil {
		t.Fatal(err)
	}

	// Nothing applied yet: the lag is the whole log, counted up to the limit, and has waited.
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 50 || got["test_journal"] != 50 {
		t.Fatalf("lag before running: %v, want 50 (the limit) each", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds"); got["public_status"] <= 0 {
		t.Fatalf("lag seconds before running: %v, want > 0", got)
	}

	e := newTestEngine(store, nil)
	e.Metrics = metrics
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 0 || got["test_journal"] != 0 {
		t.Fatalf("lag once caught up: %v, want 0", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds"); got["public_status"] != 0 {
		t.Fatalf("lag seconds once caught up: %v, want 0", got)
	}
	if got := gauges(t, reg, "motcua_projection_events_applied_total"); got["public_status"] != float64(len(log)) || got["test_journal"] != float64(len(log)) {
		t.Fatalf("applied: %v, want %d each", got, len(log))
	}
	if got := gauges(t, reg, "motcua_projection_stalled"); got["public_status"] != 0 {
		t.Fatalf("stalled: %v", got)
	}
}

// While the store cannot be reached the lag series stay, with the last values measured (the
// seconds still growing), and motcua_projection_lag_stale says they are stale: an alert on the lag
// keeps firing instead of going silent.
func TestLagStaysStaleWhileTheStoreIsUnreachable(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	seedDossiers(t, store)
	if err := engine.MigrateCheckpoints(t.Context(), store.DB()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	lag := engine.NewLagCollector(store, store.DB(), "public_status")
	lag.Limit = 50
	lag.Logger = quiet
	lag.Wait = 10 * time.Second
	reg.MustRegister(lag)
	if got := gauges(t, reg, "motcua_projection_lag_stale"); got["public_status"] != 0 {
		t.Fatalf("stale while measurable: %v", got)
	}
	before := gauges(t, reg, "motcua_projection_lag_seconds")["public_status"]
	if before <= 0 {
		t.Fatalf("lag seconds %v, want > 0 before anything is applied", before)
	}
	store.Close() // the store is gone: nothing can be measured
	time.Sleep(10 * time.Millisecond)
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 50 {
		t.Fatalf("lag events while unreachable: %v, want the last value, 50", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds")["public_status"]; got <= before {
		t.Fatalf("lag seconds while unreachable: %v, want more than %v", got, before)
	}
	if got := gauges(t, reg, "motcua_projection_lag_stale"); got["public_status"] != 1 {
		t.Fatalf("stale while unreachable: %v, want 1", got)
	}
}

// A scrape of the lag never waits on the database for long: with the database blocked — a
// stalled pool on SQLite, a lock on the checkpoints on PostgreSQL — every scrape answers within
// 100 ms with the last values measured, marked stale, and fresh values come back once it is free.
func TestLagScrapesDoNotWaitForABlockedDatabase(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var store eventstore.Store
			var db *sql.DB
			var block func() (release func())
			if backend == "sqlite" {
				s, pool := openSQLiteWithReadModelPool(t)
				store, db = s, pool
				pool.SetMaxOpenConns(1)
				block = func() func() { // the pool's one connection is taken
					conn, err := pool.Conn(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					return func() { conn.Close() }
				}
			} else {
				s, pdb, _ := openPostgres(t)
				store, db = s, pdb
				block = func() func() { // a transaction holds the checkpoints locked
					tx, err := pdb.BeginTx(t.Context(), nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := tx.Exec(`LOCK TABLE projection_checkpoints IN ACCESS EXCLUSIVE MODE`); err != nil {
						t.Fatal(err)
					}
					return func() { tx.Rollback() }
				}
			}
			seedDossiers(t, store)
			if err := engine.MigrateCheckpoints(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			lag := engine.NewLagCollector(store, db, "public_status")
			lag.Limit, lag.Logger = 50, quiet
			reg.MustRegister(lag)
			// A collector that queries at scrape time and waits for its answer — as the outbox's
			// delivery gauges do — served through a CachedCollector.
			querying := engine.NewLagCollector(store, db, "public_status")
			querying.Limit, querying.Logger, querying.Wait = 50, quiet, time.Minute
			cachedReg := prometheus.NewRegistry()
			cachedReg.MustRegister(engine.NewCachedCollector(querying))
			waitFresh := func(what string) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					if gauges(t, reg, "motcua_projection_lag_stale")["public_status"] == 0 && gauges(t, reg, "motcua_projection_lag_events")["public_status"] == 50 &&
						gauges(t, cachedReg, "motcua_projection_lag_events")["public_status"] == 50 {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("no fresh lag %s", what)
					}
				}
			}
			waitFresh("before the database is blocked")

			release := block()
			for range 3 {
				start := time.Now()
				stale := gauges(t, reg, "motcua_projection_lag_stale")["public_status"]
				events := gauges(t, reg, "motcua_projection_lag_events")["public_status"]
				// The database stays blocked until the end of the test: a scrape that waited for it
				// would never return. The bound is loose for a loaded machine; the stale flag below
				// is what says the answer did not come from the database.
				if took := time.Since(start); took > scrapeBound { // two scrapes
					t.Fatalf("two scrapes took %s with the database blocked: they waited for it", took)
				}
				if stale != 1 || events != 50 {
					t.Fatalf("with the database blocked: stale %v, lag %v; want 1 and the last value, 50", stale, events)
				}
				start = time.Now()
				cached := gauges(t, cachedReg, "motcua_projection_lag_events")["public_status"]
				if took := time.Since(start); took > scrapeBound {
					t.Fatalf("a scrape through the cached collector took %s with the database blocked: it waited for it", took)
				}
				if cached != 50 {
					t.Fatalf("through the cached collector with the database blocked: lag %v, want the last value gathered, 50", cached)
				}
			}
			release()
			waitFresh("once the database is free again")
		})
	}
}

// scrapeBound tells a scrape that answered from what it had (a scrape waits 50 ms at most for a
// measurement: docs/projections.md) from one that waited for a blocked database, on a machine
// loaded enough to stretch that several times (CI: 136 ms once).
const scrapeBound = 2 * time.Second

// MeasureLag counts with the store's own count, with a limit (the lag gauges, at every scrape) and
// without one (`motcua projections status`), and reads only the oldest unapplied event; the
// answers are the ones reading the events gives, from a store that cannot count.
func TestMeasureLagCountsWithTheStore(t *testing.T) {
	t.Parallel()
	sqliteStore := openSQLite(t)
	log := seedDossiers(t, sqliteStore)
	if len(log) < 4 {
		t.Fatalf("the seeded log has %d events, want at least 4", len(log))
	}
	if err := engine.MigrateCheckpoints(t.Context(), sqliteStore.DB()); err != nil {
		t.Fatal(err)
	}
	// The store as a decorator sees it: the lag must find the count through Unwrap, and the events
	// it reads are counted, so reading the log instead of counting fails the test.
	store := &eventsReadCounter{Store: sqliteStore}
	if _, ok := eventstore.CounterOf(store); !ok {
		t.Fatal("the SQLite store no longer counts: this test would not test the counted path")
	}
	if _, ok := eventstore.CappedCounterOf(store); !ok {
		t.Fatal("the SQLite store no longer counts up to a limit: this test would not test the capped path")
	}
	// The same store hidden behind a decorator that does not unwrap: it can only be read.
	readOnly := struct{ eventstore.Store }{store}
	for _, limit := range []int{0, len(log) + 1, len(log), 3} {
		store.read = 0
		counted, err := engine.MeasureLag(t.Context(), store, sqliteStore.DB(), "public_status", limit)
		if err != nil {
			t.Fatal(err)
		}
		if store.read > 1 {
			t.Fatalf("the lag with limit %d read %d events of the log, want the oldest unapplied one only", limit, store.read)
		}
		if limit == 0 {
			limit = len(log) + 1 // reading without a limit: all the log
		}
		store.read = 0
		read, err := engine.MeasureLag(t.Context(), readOnly, sqliteStore.DB(), "public_status", limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(limit, len(log)); store.read != want {
			t.Fatalf("the lag read with limit %d read %d events, want %d", limit, store.read, want)
		}
		if counted.Events != read.Events || counted.AtLeast != read.AtLeast || !counted.Oldest.Equal(read.Oldest) {
			t.Fatalf("limit %d: counted lag %+v, read lag %+v", limit, counted, read)
		}
		if want := min(limit, len(log)); counted.Events != want || counted.AtLeast != (limit <= len(log)) {
			t.Fatalf("limit %d: lag %+v, want %d events (at least: %v)", limit, counted, want, limit <= len(log))
		}
		if !counted.Oldest.Equal(log[0].RecordedAt) {
			t.Fatalf("oldest unapplied %v, want the first event's %v", counted.Oldest, log[0].RecordedAt)
		}
	}
}

// eventsReadCounter decorates a store as the hash chain does (Unwrap) and counts the events its
// ReadAll returns.
type eventsReadCounter struct {
	eventstore.Store
	read int
}

func (s *eventsReadCounter) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, after, limit)
	s.read += len(events)
	return events, err
}

func (s *eventsReadCounter) Unwrap() eventstore.Store { return s.Store }
