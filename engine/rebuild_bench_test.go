package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// Benchmarks of the read side (docs/benchmarks.md, "Projections"):
//
//	go test ./engine -run '^$' -bench 'Rebuild|LiveLag' -benchtime 1x -timeout 2h
//
// MOTCUA_BENCH_EVENTS sets the size of the log to rebuild (default 1,000,000); MOTCUA_BENCH_ONLY
// what to rebuild (see benchSets); MOTCUA_BENCH_BATCH the events per page (default 20,000);
// MOTCUA_BENCH_SPREAD about how many events lie between a dossier's first and last (default a few
// hundred: 64 dossiers under way per writer; a province's log puts ~200,000 between them, weeks
// of other dossiers); MOTCUA_BENCH_FOLD=off rebuilds and catches up through Apply alone, page by
// page, as before folds; MOTCUA_BENCH_CATCHUP=live catches up through the runners' live path
// alone, as before bulk catch-up. MOTCUA_BENCH_RATE
// and MOTCUA_BENCH_SECONDS the steady load of the lag benchmark (default 50 and 200 appends/s for
// 20 s); MOTCUA_BENCH_PROJECTIONS the read models it runs (default all).
// The SQLite log is kept in the temporary directory between runs, since writing it takes minutes.

func benchEvents() int { return envInt("MOTCUA_BENCH_EVENTS", 1_000_000) }

func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return fallback
}

// dossierTemplate is one dossier's history, as the demo recorded it through the use cases, cut into
// the appends that wrote it.
type dossierTemplate struct {
	appends [][]eventstore.EventData
}

// templates records the demo's dossiers once and returns their histories.
func templates(tb testing.TB) []dossierTemplate {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "templates.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	byStream := map[string]*dossierTemplate{}
	var order []string
	var lastCausation = map[string]uuid.UUID{}
	for _, e := range seedDossiers(tb, store) {
		if !strings.HasPrefix(e.Stream, "dossier-") {
			continue
		}
		t := byStream[e.Stream]
		if t == nil {
			t = &dossierTemplate{}
			byStream[e.Stream] = t
			order = append(order, e.Stream)
		}
		// Events one command decided share a causation id and were appended together.
		if len(t.appends) == 0 || lastCausation[e.Stream] != e.Metadata.CausationID {
			t.appends = append(t.appends, nil)
		}
		lastCausation[e.Stream] = e.Metadata.CausationID
		t.appends[len(t.appends)-1] = append(t.appends[len(t.appends)-1], e.EventData)
	}
	out := make([]dossierTemplate, len(order))
	for i, stream := range order {
		out[i] = *byStream[stream]
	}
	return out
}

// clone returns template t as the history of a new dossier with the n-th code of a long series.
func clone(tb testing.TB, t dossierTemplate, n int) (string, [][]eventstore.EventData) {
	id := uuid.Must(uuid.NewV7()).String()
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, domain.VietnamTime).AddDate(0, 0, n/9000)
	appends := make([][]eventstore.EventData, len(t.appends))
	for i, batch := range t.appends {
		appends[i] = make([]eventstore.EventData, len(batch))
		for j, e := range batch {
			e.ID = eventstore.NewEventID()
			switch e.Type {
			case domain.TypeReceived, domain.TypeSubmitted:
				event, err := domain.DecodeEvent(e.Type, e.Data)
				if err != nil {
					tb.Fatal(err)
				}
				switch ev := event.(type) {
				case domain.Received:
					ev.DossierID = id
					ev.Code = domain.DossierCode(fmt.Sprintf("%s-%s-%04d", ev.ReceivingUnit, domain.DayKey(day), n%9000+1))
					event = ev
				case domain.Submitted:
					ev.DossierID = id
					event = ev
				}
				if _, e.Data, err = domain.EncodeEvent(event); err != nil {
					tb.Fatal(err)
				}
			}
			appends[i][j] = e
		}
	}
	return "dossier-" + id, appends
}

// clonedDossiers numbers the dossiers writeLog clones, across calls.
var clonedDossiers atomic.Int64

// writeLog appends at least n events of cloned dossiers: each writer keeps 64 dossiers under way
// and appends to them in turn, so every dossier's events are spread over the log as in real life.
func writeLog(tb testing.TB, store eventstore.Store, n, writers int) {
	tb.Helper()
	ts := templates(tb)
	var mu sync.Mutex
	written, cloned := 0, 0
	next := func() (string, [][]eventstore.EventData, bool) {
		mu.Lock()
		defer mu.Unlock()
		if written >= n {
			return "", nil, false
		}
		cloned++
		serial := int(clonedDossiers.Add(1)) // codes stay unique over several calls on one log
		stream, appends := clone(tb, ts[serial%len(ts)], serial)
		for _, a := range appends {
			written += len(a)
		}
		return stream, appends, true
	}
	perWriter := dossiersUnderWay(ts, writers)
	start := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			type underWay struct {
				stream  string
				appends [][]eventstore.EventData
				version uint64
			}
			var active []*underWay
			for {
				for len(active) < perWriter {
					stream, appends, ok := next()
					if !ok {
						break
					}
					active = append(active, &underWay{stream: stream, appends: appends})
				}
				if len(active) == 0 {
					return
				}
				for i := 0; i < len(active); i++ {
					d := active[i]
					res, err := store.Append(context.Background(), d.stream, eventstore.Exact(d.version), d.appends[0]...)
					if err != nil {
						tb.Error(err)
						return
					}
					d.version, d.appends = res.Version, d.appends[1:]
					if len(d.appends) == 0 {
						active = slices.Delete(active, i, i+1)
						i--
					}
				}
			}
		})
	}
	wg.Wait()
	tb.Logf("wrote %d events (%d dossiers) in %s", written, cloned, time.Since(start).Round(time.Second))
}

// dossiersUnderWay is how many dossiers each of writers keeps under way, appending to each in
// turn: 64, or as many as put MOTCUA_BENCH_SPREAD events between a dossier's first and last.
func dossiersUnderWay(ts []dossierTemplate, writers int) int {
	spread := envInt("MOTCUA_BENCH_SPREAD", 0)
	if spread == 0 {
		return 64
	}
	events := 0
	for _, t := range ts {
		for _, a := range t.appends {
			events += len(a)
		}
	}
	// Each of the dossiers under way appends in turn, so between a dossier's first and last
	// event come about the events of all the others.
	perDossier := float64(events) / float64(len(ts))
	return max(64, int(float64(spread)/perDossier)/writers)
}

// cachedSQLiteLog opens the SQLite log of n events kept in the temporary directory, writing it first
// if needed, and returns it with the file's path.
func cachedSQLiteLog(b *testing.B, n int) (*sqlite.Store, string) {
	b.Helper()
	name := fmt.Sprintf("motcua-bench-projections-%d", n)
	if spread := envInt("MOTCUA_BENCH_SPREAD", 0); spread > 0 {
		name += fmt.Sprintf("-spread-%d", spread)
	}
	path := filepath.Join(os.TempDir(), name+".db")
	ctx := context.Background()
	if store, err := sqlite.Open(ctx, path); err == nil {
		if count, err := engine.CountEvents(ctx, store, eventstore.Start, 0); err == nil && count >= n {
			b.Cleanup(func() { store.Close() })
			return store, path
		}
		store.Close()
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	writeLog(b, store, n, 1)
	return store, path
}

type benchSet struct {
	name        string
	projections []engine.Consumer
}

// benchConsumers are consumers as the benchmarks run them: through Apply alone when
// MOTCUA_BENCH_FOLD=off.
func benchConsumers(consumers []engine.Consumer) []engine.Consumer {
	if os.Getenv("MOTCUA_BENCH_FOLD") != "off" {
		return consumers
	}
	out := make([]engine.Consumer, len(consumers))
	for i, c := range consumers {
		out[i] = applyOnly{c}
	}
	return out
}

// benchSets is what BenchmarkRebuild rebuilds, one after the other on the same log: the public
// status view and all six together by default; MOTCUA_BENCH_ONLY=NAME one read model; "each" every
// read model alone, then all together.
func benchSets(b *testing.B) []benchSet {
	switch only := os.Getenv("MOTCUA_BENCH_ONLY"); only {
	case "":
		return []benchSet{{"public_status", []engine.Consumer{projections.PublicStatusView{}}}, {"all", projections.All()}}
	case "each":
		var sets []benchSet
		for _, p := range projections.All() {
			sets = append(sets, benchSet{p.Name(), []engine.Consumer{p}})
		}
		return append(sets, benchSet{"all", projections.All()})
	default:
		p, err := projections.Select(only)
		if err != nil {
			b.Fatal(err)
		}
		return []benchSet{{only, p}}
	}
}

func BenchmarkRebuild(b *testing.B) {
	n := benchEvents()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var store eventstore.Store
			var db *sql.DB
			if backend == "sqlite" {
				// As `motcua projections rebuild` does: read models through the pool without fsync.
				s, path := cachedSQLiteLog(b, n)
				readModels, err := sql.Open("sqlite", sqlite.ReadModelDSN(path))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { readModels.Close() })
				store, db = s, readModels
			} else {
				s, pdb, _ := openPostgres(b)
				writeLog(b, s, n, 8)
				store, db = s, pdb
			}
			count, err := engine.CountEvents(context.Background(), store, eventstore.Start, 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, set := range benchSets(b) {
				b.Run(set.name, func(b *testing.B) {
					rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.Dialect(backend), Consumers: benchConsumers(set.projections), Logger: quiet,
						BatchSize: envInt("MOTCUA_BENCH_BATCH", engine.DefaultRebuildBatch)}
					var took time.Duration
					for b.Loop() {
						result, err := rebuilder.Run(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						if result.Events != count {
							b.Fatalf("rebuilt %d events, the log has %d", result.Events, count)
						}
						took += result.Duration
					}
					b.ReportMetric(float64(count*b.N)/took.Seconds(), "events/s")
					b.ReportMetric(0, "ns/op")
					b.Logf("%s %s: %d events, %d projections, %.0f events/s (GOMAXPROCS %d)", backend, set.name, count, len(set.projections),
						float64(count*b.N)/took.Seconds(), runtime.GOMAXPROCS(0))
				})
			}
		})
	}
}

// BenchmarkCatchUp starts an engine over the log with every read model of the set at checkpoint 0,
// in a database of its own — a new node, a new read model, a restore — and times it until it is
// ready: the bulk catch-up, then the runners' live path over what is left.
//
//	MOTCUA_BENCH_EVENTS=200000 go test ./engine -run '^$' -bench 'CatchUp/sqlite' -benchtime 1x
func BenchmarkCatchUp(b *testing.B) {
	n := benchEvents()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var store eventstore.Store
			if backend == "sqlite" {
				store, _ = cachedSQLiteLog(b, n)
			} else {
				s, _, _ := openPostgres(b)
				writeLog(b, s, n, 8)
				store = s
			}
			count, err := engine.CountEvents(context.Background(), store, eventstore.Start, 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, set := range benchSets(b) {
				b.Run(set.name, func(b *testing.B) {
					var took time.Duration
					for b.Loop() {
						b.StopTimer()
						var db *sql.DB
						if backend == "sqlite" {
							db, err = sql.Open("sqlite", sqlite.ReadModelDSN(filepath.Join(b.TempDir(), "readmodels.db")))
						} else {
							db, err = sql.Open("pgx", pgtest.NewDatabase(b))
						}
						if err != nil {
							b.Fatal(err)
						}
						e := engine.NewEngine(store, db, engine.Dialect(backend), benchConsumers(set.projections)...)
						e.Logger = quiet
						if os.Getenv("MOTCUA_BENCH_CATCHUP") == "live" {
							e.CatchUpThreshold = math.MaxInt
						}
						ctx, cancel := context.WithCancel(context.Background())
						done := make(chan error, 1)
						b.StartTimer()
						start := time.Now()
						go func() { done <- e.Run(ctx) }()
						select {
						case <-e.Ready():
						case err := <-done:
							b.Fatal(err)
						}
						took += time.Since(start)
						b.StopTimer()
						cancel()
						<-done
						db.Close()
						b.StartTimer()
					}
					b.ReportMetric(float64(count*b.N)/took.Seconds(), "events/s")
					b.ReportMetric(0, "ns/op")
					b.Logf("catch-up %s %s: %d events, %d projections, %.0f events/s (GOMAXPROCS %d)", backend, set.name, count, len(set.projections),
						float64(count*b.N)/took.Seconds(), runtime.GOMAXPROCS(0))
				})
			}
		})
	}
}
