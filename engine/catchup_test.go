package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/projections"
)

// hookedStatus is the public status view whose folds call before on every batch they are given
// (through the bulk catch-up's folds and through Apply alike): an error from it fails the batch.
type hookedStatus struct {
	projections.PublicStatusView
	before func(engine.Batch) error
}

func (h hookedStatus) NewFold(fresh bool) engine.Fold {
	return hookedFold{Fold: h.PublicStatusView.NewFold(fresh), before: h.before}
}

func (h hookedStatus) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, h.NewFold(false))
}

type hookedFold struct {
	engine.Fold
	before func(engine.Batch) error
}

func (h hookedFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	if err := h.before(batch); err != nil {
		return err
	}
	return h.Fold.Add(ctx, q, batch)
}

// lockedBuffer collects an engine's log, written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bulkEngine returns an engine over store and db that catches up in bulk from 10 events behind,
// in pages of 40 events, flushing folds of more than 8 rows: many pages, many flushes, rows
// forgotten and read back, on the demo's log. Its log goes to logs.
func bulkEngine(store eventstore.Store, db *sql.DB, d engine.Dialect, logs *lockedBuffer, consumers ...engine.Consumer) *engine.Engine {
	e := engine.NewEngine(store, db, d, consumers...)
	e.Logger = slog.New(slog.NewTextHandler(logs, nil))
	e.CatchUpThreshold, e.CatchUpBatch, e.FoldBudget = 10, 40, 8
	for _, r := range e.Runners {
		r.GapTimeout = 50 * time.Millisecond
	}
	return e
}

// liveReference runs consumers over the whole log through the live path alone, into a database of
// their own, and returns it.
func liveReference(t *testing.T, backend string, store eventstore.Store, last eventstore.Position, consumers ...engine.Consumer) *sql.DB {
	t.Helper()
	var reference *sql.DB
	if backend == "sqlite" {
		reference = openReadDB(t)
	} else {
		// A second database of the cluster this test holds the turn of.
		var err error
		if reference, err = sql.Open("pgx", pgtest.NewDatabase(t)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reference.Close() })
	}
	e := engine.NewEngine(store, reference, engine.Dialect(backend), consumers...)
	e.Logger = quiet
	e.CatchUpThreshold = 1 << 30 // never in bulk
	for _, r := range e.Runners {
		r.GapTimeout = 50 * time.Millisecond
	}
	runEngine(t, e)
	waitFor(t, e, last)
	return reference
}

// appendDossier appends the whole history of a new dossier cloned from one of ts.
func appendDossier(t testing.TB, store eventstore.Store, ts []dossierTemplate) {
	serial := int(clonedDossiers.Add(1))
	stream, appends := clone(t, ts[serial%len(ts)], serial)
	version := uint64(0)
	for _, events := range appends {
		res, err := store.Append(context.Background(), stream, eventstore.Exact(version), events...)
		if err != nil {
			t.Error(err)
			return
		}
		version = res.Version
	}
}

// A node started far behind the log catches up in bulk — folding public_status, applying the
// journal page by page — while dossiers keep being received, then goes on live: its tables equal
// those of an uninterrupted live run, byte for byte.
func TestBulkCatchUpEqualsAnUninterruptedLiveRun(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			store, db := openStore(t, backend)
			seedDossiers(t, store)
			writeLog(t, store, 1500, 2)

			// Dossiers are received while the catch-up folds its first pages, and after it. The
			// hook fires on the live path's batches too, when the catch-up took fewer pages: it stops
			// receiving before the test reads the log, or a dossier received after that read would
			// be in the journal and not in the log the test compares it with.
			ts := templates(t)
			var receivingMu sync.Mutex
			received, closed := 0, false
			receiving := hookedStatus{before: func(engine.Batch) error {
				receivingMu.Lock()
				defer receivingMu.Unlock()
				if !closed && received < 5 {
					received++
					appendDossier(t, store, ts)
				}
				return nil
			}}
			var logs lockedBuffer
			e := bulkEngine(store, db, engine.Dialect(backend), &logs, receiving, journal{})
			var appends sync.WaitGroup
			appends.Go(func() { writeLog(t, store, 300, 1) })
			runEngine(t, e)
			appends.Wait()
			receivingMu.Lock()
			closed = true
			receivingMu.Unlock()
			log := readLog(t, store)
			last := log[len(log)-1].Position
			waitFor(t, e, last)
			if !strings.Contains(logs.String(), "caught up in bulk") {
				t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
			}

			reference := liveReference(t, backend, store, last, projections.PublicStatusView{}, journal{})
			checkJournal(t, db, log)
			checkPublicStatus(t, db, log)
			if got, want := dump(t, db, rebuilt...), dump(t, reference, rebuilt...); got != want {
				t.Fatalf("tables after a bulk catch-up differ from an uninterrupted live run:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// A node killed in the middle of a bulk catch-up starts again from the checkpoints its flushes
// wrote, not from the beginning, and applies nothing twice: the journal, whose key is the event,
// would fail on a second insert, and the tables end like an uninterrupted run's.
func TestBulkCatchUpResumesFromItsCheckpointAfterACrash(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	seedDossiers(t, store)
	writeLog(t, store, 1500, 2)
	log := readLog(t, store)
	last := log[len(log)-1].Position
	db := openReadDB(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var batches atomic.Int64
	crashing := hookedStatus{before: func(engine.Batch) error {
		if batches.Add(1) == 20 { // half-way through the log
			cancel()
			return context.Canceled
		}
		return nil
	}}
	var logs lockedBuffer
	crashed := bulkEngine(store, db, engine.SQLite, &logs, crashing, journal{})
	if err := crashed.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("engine: %v", err)
	}
	statusAt, journalAt := checkpointOf(t, db, "public_status"), checkpointOf(t, db, "test_journal")
	if statusAt == eventstore.Start || !statusAt.Less(last) {
		t.Fatalf("public_status checkpoint %s after the crash, want flushed progress short of the end %s", statusAt, last)
	}
	checkJournal(t, db, upTo(log, journalAt))

	var restartLogs lockedBuffer
	restarted := bulkEngine(store, db, engine.SQLite, &restartLogs, projections.PublicStatusView{}, journal{})
	runEngine(t, restarted)
	waitFor(t, restarted, last)
	if !strings.Contains(restartLogs.String(), "catching up in bulk") {
		t.Fatalf("the restarted engine did not catch up in bulk:\n%s", restartLogs.String())
	}
	reference := liveReference(t, "sqlite", store, last, projections.PublicStatusView{}, journal{})
	checkJournal(t, db, log)
	if got, want := dump(t, db, rebuilt...), dump(t, reference, rebuilt...); got != want {
		t.Fatalf("tables after a crash in a bulk catch-up differ from an uninterrupted run:\n%s\nwant\n%s", got, want)
	}
}

// An event a folding consumer cannot apply, met in a bulk catch-up, is parked — by the Apply path
// the engine falls back to — and the catch-up goes on folding: the tables end like a live run's
// that parked the same event, and the parked list names it.
func TestBulkCatchUpParksAPoisonEventAndGoesOn(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	seedDossiers(t, store)
	writeLog(t, store, 1500, 2)
	log := readLog(t, store)
	last := log[len(log)-1].Position
	at := len(log) / 3
	for !strings.HasPrefix(log[at].Stream, "dossier-") {
		at++
	}
	victim := log[at]
	poisoned := hookedStatus{before: func(b engine.Batch) error {
		for _, e := range b.Events {
			if e.ID == victim.ID {
				return errors.New("injected: this event cannot be applied")
			}
		}
		return nil
	}}

	db := openReadDB(t)
	var logs lockedBuffer
	e := bulkEngine(store, db, engine.SQLite, &logs, poisoned, journal{})
	runEngine(t, e)
	waitFor(t, e, last)
	if !strings.Contains(logs.String(), "caught up in bulk") {
		t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
	}
	parked, err := engine.ParkedEvents(context.Background(), db, "public_status", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 1 || parked[0].EventID != victim.ID.String() {
		t.Fatalf("parked %+v, want the victim %s alone", parked, victim.ID)
	}
	if r := e.Runner("public_status"); r.Stalled() != nil {
		t.Fatalf("public_status stalled: %v", r.Stalled())
	}

	reference := liveReference(t, "sqlite", store, last, poisoned, journal{})
	checkJournal(t, db, log)
	if got, want := dump(t, db, "public_status"), dump(t, reference, "public_status"); got != want {
		t.Fatalf("public_status after parking in a bulk catch-up differs from a live run's:\n%s\nwant\n%s", got, want)
	}
}

// A running consumer that falls far behind — here its live apply is held while 1,500 events are
// appended — switches to the bulk path (its runner asks how far behind it is while deliveries
// wait), then back to the live path for what follows: the log says so, the runner is healthy,
// and its tables equal those of an uninterrupted live run.
func TestARunningConsumerFarBehindSwitchesToBulkAndBack(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			// On SQLite the read models get a database of their own: the held apply holds a
			// transaction open, and with it the write lock, while the log must grow.
			store, db := openStore(t, backend)
			if backend == "sqlite" {
				db = openReadDB(t)
			}
			log := seedDossiers(t, store)

			var armed atomic.Bool
			held, release := make(chan struct{}), make(chan struct{})
			holding := hookedStatus{before: func(engine.Batch) error {
				if armed.CompareAndSwap(true, false) {
					close(held)
					<-release
				}
				return nil
			}}
			var logs lockedBuffer
			e := bulkEngine(store, db, engine.Dialect(backend), &logs, holding, journal{})
			e.LagCheckInterval = time.Millisecond
			runEngine(t, e)
			waitFor(t, e, log[len(log)-1].Position)
			if strings.Contains(logs.String(), "fell far behind") {
				t.Fatalf("the consumers fell behind before the test held them:\n%s", logs.String())
			}

			armed.Store(true)
			appendDossier(t, store, templates(t))
			select {
			case <-held:
			case <-time.After(30 * time.Second):
				t.Fatal("the live path never applied the new dossier")
			}
			writeLog(t, store, 1500, 2)
			close(release)
			caughtUp := readLogOf(t, store, len(log)+1500)
			waitFor(t, e, caughtUp[len(caughtUp)-1].Position)
			if !strings.Contains(logs.String(), `msg="a running consumer fell far behind; it catches up in bulk" projection=public_status`) {
				t.Fatalf("public_status did not switch to the bulk path:\n%s", logs.String())
			}

			// Back on the live path: what is appended now is delivered and applied.
			writeLog(t, store, 20, 1)
			all := readLogOf(t, store, len(caughtUp)+20)
			last := all[len(all)-1].Position
			waitFor(t, e, last)
			if r := e.Runner("public_status"); r.Stalled() != nil {
				t.Fatalf("public_status stalled: %v", r.Stalled())
			}
			reference := liveReference(t, backend, store, last, projections.PublicStatusView{}, journal{})
			checkJournal(t, db, all)
			checkPublicStatus(t, db, all)
			if got, want := dump(t, db, rebuilt...), dump(t, reference, rebuilt...); got != want {
				t.Fatalf("tables after switching to bulk and back differ from an uninterrupted live run:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// readLogOf reads the whole log once it holds at least n events. PostgreSQL's log shows no event
// appended after a transaction still running began (the store's safe horizon), such as a read
// model's, until that transaction ends.
func readLogOf(t testing.TB, store eventstore.Store, n int) []eventstore.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := readLog(t, store)
		if len(log) >= n {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log shows %d events after 30 s, want at least %d", len(log), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decodingJournal is the journal (which does not fold) counting the dossier events it was handed
// without their decoded form, which it would have to decode again.
type decodingJournal struct {
	journal
	decoded, undecoded *atomic.Int64
}

func (j decodingJournal) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if batch.Decoded == nil {
		j.undecoded.Add(int64(len(batch.Events)))
	} else {
		j.decoded.Add(int64(len(batch.Events)))
	}
	return j.journal.Apply(ctx, tx, batch)
}

// A consumer that does not fold is handed each page of a bulk catch-up with the events the engine
// decoded once for every consumer, not left to decode them again (the corrections' read model
// decoded the whole log a second time: 5 % of a catch-up's CPU).
func TestBulkCatchUpHandsTheDecodedPageToAConsumerThatDoesNotFold(t *testing.T) {
	t.Parallel()
	store, db := openStore(t, "sqlite")
	log := seedDossiers(t, store)
	var decoded, undecoded atomic.Int64
	var logs lockedBuffer
	e := bulkEngine(store, db, engine.SQLite, &logs, decodingJournal{decoded: &decoded, undecoded: &undecoded})
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if !strings.Contains(logs.String(), "caught up in bulk") {
		t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
	}
	if undecoded.Load() != 0 || decoded.Load() != int64(len(log)) {
		t.Fatalf("the journal was handed %d events decoded and %d to decode again, want all %d decoded",
			decoded.Load(), undecoded.Load(), len(log))
	}
	checkJournal(t, db, log)
}

// A bulk catch-up counts, per consumer, the seconds its goroutine spent folding, preparing each
// flush, waiting for the write gate and writing — or applying pages, for a consumer that does not
// fold: what an operator reads to see which consumer a catch-up waits for.
func TestBulkCatchUpCountsTheSecondsOfEachStage(t *testing.T) {
	t.Parallel()
	store, db := openStore(t, "sqlite")
	writeLog(t, store, 600, 2)
	log := readLog(t, store)
	reg := prometheus.NewRegistry()
	metrics, err := engine.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	e := bulkEngine(store, db, engine.SQLite, &logs, projections.PublicStatusView{}, journal{})
	e.Metrics = metrics
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if !strings.Contains(logs.String(), "caught up in bulk") {
		t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seconds := map[string]float64{}
	for _, family := range families {
		if family.GetName() == "motcua_projection_bulk_seconds_total" {
			for _, m := range family.GetMetric() {
				seconds[label(m, "projection")+"/"+label(m, "stage")] = m.GetCounter().GetValue()
			}
		}
	}
	for _, series := range []string{"public_status/fold", "public_status/write", "test_journal/apply"} {
		if seconds[series] <= 0 {
			t.Errorf("%s: %v seconds, want some (every series: %v)", series, seconds[series], seconds)
		}
	}
	for _, series := range []string{"public_status/prepare", "public_status/wait"} {
		if _, ok := seconds[series]; !ok {
			t.Errorf("no series %s (every series: %v)", series, seconds)
		}
	}
	if _, ok := seconds["test_journal/fold"]; ok {
		t.Errorf("the journal does not fold, yet has fold seconds: %v", seconds)
	}
}

// A node with leases runs each consumer once it takes its lease, and each runner asks to be caught
// up when it starts: the consumers far behind whose leases the node takes in one round are caught
// up together, the log read once for all of them, and end as an uninterrupted live run does.
func TestConsumersTakenTogetherByLeasesAreCaughtUpTogether(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	store, db, log, e := leasedNode(t, 1500, &logs)
	last := log[len(log)-1].Position
	runEngine(t, e)
	waitFor(t, e, last)
	if n := strings.Count(logs.String(), `msg="catching up in bulk" consumers=2`); n != 1 || strings.Contains(logs.String(), `msg="catching up in bulk" consumers=1`) {
		t.Fatalf("want the two consumers caught up in one bulk catch-up:\n%s", logs.String())
	}
	reference := liveReference(t, "postgres", store, last, projections.PublicStatusView{}, journal{})
	checkJournal(t, db, log)
	if got, want := dump(t, db, rebuilt...), dump(t, reference, rebuilt...); got != want {
		t.Fatalf("tables after a gathered catch-up differ from an uninterrupted live run:\n%s\nwant\n%s", got, want)
	}
}

// leasedNode is a PostgreSQL log of the demo's dossiers and n events more, with an engine under
// leases (node "a") for the public status view and the journal, not yet run, logging to logs.
func leasedNode(t *testing.T, n int, logs *lockedBuffer) (eventstore.Store, *sql.DB, []eventstore.RecordedEvent, *engine.Engine) {
	t.Helper()
	store, db := openStore(t, "postgres")
	seedDossiers(t, store)
	writeLog(t, store, n, 2)
	e := bulkEngine(store, db, engine.PostgreSQL, logs, projections.PublicStatusView{}, journal{})
	e.Leases = &engine.Leases{DB: db, Node: "a"}
	return store, db, readLog(t, store), e
}

// A node with leases starts its forwarder at once, beside the bulk catch-up of the consumers whose
// leases it takes. The forwarder handed every event of the log to every consumer, which held it
// until the catch-up had applied it: a quarter of a new node's CPU at 1 M dossiers on PostgreSQL.
// Now a consumer caught up in bulk takes no deliveries, the forwarder waits while none does and
// reads on from where the consumers stand; what is appended after still reaches them through it.
func TestANodeCaughtUpInBulkUnderLeasesPublishesLittleOfTheLog(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	store, db, log, e := leasedNode(t, 3000, &logs)
	for _, r := range e.Runners {
		r.GapTimeout = 5 * time.Second // so that the tail below comes through the forwarder, not from the store
	}
	reg := prometheus.NewRegistry()
	metrics, err := engine.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	e.Metrics = metrics
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if !strings.Contains(logs.String(), `msg="catching up in bulk" consumers=2`) {
		t.Fatalf("want the two consumers caught up in bulk:\n%s", logs.String())
	}
	published := gauges(t, reg, "motcua_forwarder_events_published_total")[""]
	if published > float64(len(log))/4 {
		t.Fatalf("the forwarder published %.0f events while the consumers were caught up in bulk over a log of %d", published, len(log))
	}

	writeLog(t, store, 20, 1)
	all := readLogOf(t, store, len(log)+20)
	waitFor(t, e, all[len(all)-1].Position)
	if got := gauges(t, reg, "motcua_forwarder_events_published_total")[""] - published; got < 20 {
		t.Fatalf("the forwarder published %.0f of the 20 events appended once the consumers were at the head", got)
	}
	checkJournal(t, db, all)
}

// A bulk catch-up at start on PostgreSQL analyses the tables it filled (ANALYZE, not autovacuum's
// analysis): the screens that follow are planned on their statistics, not an empty table's.
func TestABulkCatchUpOnPostgreSQLAnalysesTheTablesItFilled(t *testing.T) {
	t.Parallel()
	store, db := openStore(t, "postgres")
	seedDossiers(t, store)
	writeLog(t, store, 1500, 2)
	log := readLog(t, store)
	var logs lockedBuffer
	e := bulkEngine(store, db, engine.PostgreSQL, &logs, projections.PublicStatusView{}, journal{})
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if !strings.Contains(logs.String(), "caught up in bulk") {
		t.Fatalf("the engine did not catch up in bulk:\n%s", logs.String())
	}
	if analysed := analyseCount(t, db, "public_status"); analysed == 0 {
		t.Fatalf("public_status was not analysed after the catch-up filled it:\n%s", logs.String())
	}
}
