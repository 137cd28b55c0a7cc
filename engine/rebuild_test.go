package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

var rebuilt = []string{"public_status", "test_journal"}

// indexNames lists the indexes on the rebuilt tables, whatever made them.
func indexNames(t testing.TB, db *sql.DB, postgres bool) string {
	t.Helper()
	query := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('public_status', 'test_journal')`
	if postgres {
		query = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('public_status', 'test_journal')`
	}
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func TestRebuildGivesTheTablesOfIncrementalProcessing(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			store, db := openStore(t, backend)
			log := seedDossiers(t, store)
			last := log[len(log)-1].Position

			incremental := engine.NewEngine(store, db, engine.Dialect(backend), projections.PublicStatusView{}, journal{})
			incremental.Logger = quiet
			for _, r := range incremental.Runners {
				r.MaxBatch = 7 // small, unlike the rebuild's: batching must not change the result
			}
			stop := runEngine(t, incremental)
			waitFor(t, incremental, last)
			stop()
			want, wantIndexes := dump(t, db, rebuilt...), indexNames(t, db, backend == "postgres")

			// The second round needs the scratch names free again. Its folds hold at most 3 rows:
			// they flush after nearly every page and read back the rows they forgot, where the
			// first round's fold the whole log and write each row once.
			for round, budget := range []int{0, 3} {
				progress := 0
				rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.Dialect(backend), Consumers: []engine.Consumer{projections.PublicStatusView{}, journal{}},
					BatchSize: 50, FoldBudget: budget, Progress: func(n int) { progress += n }, Logger: quiet}
				result, err := rebuilder.Run(context.Background())
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if result.Events != len(log) || result.Position != last || progress != len(log) {
					t.Fatalf("round %d: rebuilt %d events to %s (progress %d), want %d to %s", round, result.Events, result.Position, progress, len(log), last)
				}
				if got := dump(t, db, rebuilt...); got != want {
					t.Fatalf("round %d: rebuilt tables differ from incremental processing:\n%s\nwant\n%s", round, got, want)
				}
				if got := indexNames(t, db, backend == "postgres"); got != wantIndexes {
					t.Fatalf("round %d: indexes %s after the swap, want %s", round, got, wantIndexes)
				}
				for _, name := range []string{"public_status", "test_journal"} {
					if at := checkpointOf(t, db, name); at != last {
						t.Fatalf("round %d: %s checkpoint %s, want %s", round, name, at, last)
					}
				}
			}
		})
	}
}

// TestRebuildWhileServing rebuilds while the engine applies live appends to the serving tables and
// a reader keeps querying them: the reader never fails nor sees rows vanish, and once the swap is
// done the engine goes on in the new tables, which end exactly like an uninterrupted run's.
func TestRebuildWhileServing(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	db := store.DB()
	seedDossiers(t, store)
	serving := engine.NewEngine(store, db, engine.SQLite, projections.PublicStatusView{}, journal{})
	serving.Logger = quiet
	runEngine(t, serving)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	readerErr := make(chan error, 1)
	wg.Go(func() { // a reader of the serving tables
		most := 0
		for ctx.Err() == nil {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM test_journal`).Scan(&n); err != nil {
				if ctx.Err() == nil {
					readerErr <- err
				}
				return
			}
			if n < most {
				readerErr <- errors.New("rows vanished from the serving table")
				return
			}
			most = n
		}
	})
	var appends sync.WaitGroup
	appends.Go(func() { // live appends, overlapping the rebuild
		for range 100 {
			appendMarker(t, store)
		}
	})
	rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.SQLite, Consumers: []engine.Consumer{projections.PublicStatusView{}, journal{}},
		BatchSize: 20, Logger: quiet}
	if _, err := rebuilder.Run(ctx); err != nil {
		t.Fatal(err)
	}
	appends.Wait()
	appendMarker(t, store) // after the swap: the serving engine must apply it to the new tables
	log := readLog(t, store)
	waitFor(t, serving, log[len(log)-1].Position)
	cancel()
	wg.Wait()
	select {
	case err := <-readerErr:
		t.Fatalf("reader: %v", err)
	default:
	}

	reference := openReadDB(t)
	uninterrupted := engine.NewEngine(store, reference, engine.SQLite, projections.PublicStatusView{}, journal{})
	uninterrupted.Logger = quiet
	runEngine(t, uninterrupted)
	waitFor(t, uninterrupted, log[len(log)-1].Position)
	checkJournal(t, db, log)
	if got, want := dump(t, db, rebuilt...), dump(t, reference, rebuilt...); got != want {
		t.Fatalf("tables after a rebuild under load differ from an uninterrupted run:\n%s\nwant\n%s", got, want)
	}
}

// The one-pass rebuild on folds gives every read model — Folding or not, whichever mix
// projections.All holds — exactly the tables of a rebuild through Apply alone, page by page, on a
// log where dossiers' events lie far apart. The folds hold at most 20 rows: they flush, forget
// and read back rows all along.
func TestFoldRebuildEqualsApplyRebuild(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			store, db := openStore(t, backend)
			seedDossiers(t, store)
			writeLog(t, store, 1500, 2)
			var tables []string
			for _, c := range projections.All() {
				tables = append(tables, c.Tables()...)
			}
			rebuild := func(consumers []engine.Consumer) string {
				t.Helper()
				rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.Dialect(backend), Consumers: consumers,
					BatchSize: 100, FoldBudget: 20, Logger: quiet}
				if _, err := rebuilder.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				return dump(t, db, tables...)
			}
			folded := rebuild(projections.All())
			var applied []engine.Consumer
			for _, c := range projections.All() {
				applied = append(applied, applyOnly{c})
			}
			if want := rebuild(applied); folded != want {
				t.Fatalf("tables rebuilt on folds differ from those rebuilt through Apply:\n%s\nwant\n%s", folded, want)
			}
		})
	}
}

// timingOutStore fails, as PostgreSQL's statement timeout does, to read a page whose events'
// data outweigh budget bytes: a page of large events (a run of integrity checkpoints' details).
type timingOutStore struct {
	eventstore.Store
	budget int
	failed atomic.Int32
}

var errStatementTimeout = errors.New("canceling statement due to statement timeout (SQLSTATE 57014)")

func (s *timingOutStore) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, after, limit)
	size := 0
	for _, e := range events {
		size += len(e.Data)
	}
	if err == nil && size > s.budget {
		s.failed.Add(1)
		return nil, errStatementTimeout
	}
	return events, err
}

// TestRebuildReadsPagesTooLargeForTheStoreInSmallerOnes: a page the store cannot read in time is
// read in smaller pages, and the rebuild ends with every event applied (before, the rebuild failed
// and a catch-up started again from its checkpoint every few seconds).
func TestRebuildReadsPagesTooLargeForTheStoreInSmallerOnes(t *testing.T) {
	t.Parallel()
	sqliteStore, db := openSQLiteWithReadModelPool(t)
	log := seedDossiers(t, sqliteStore)
	largest := 0
	for _, e := range log {
		largest = max(largest, len(e.Data))
	}
	store := &timingOutStore{Store: sqliteStore, budget: 3 * largest}
	progress := 0
	rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.SQLite, Consumers: []engine.Consumer{journal{}},
		BatchSize: 50, Progress: func(n int) { progress += n }, Logger: quiet}
	result, err := rebuilder.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last := log[len(log)-1].Position; result.Events != len(log) || result.Position != last || progress != len(log) {
		t.Fatalf("rebuilt %d events to %s (progress %d), want %d to %s", result.Events, result.Position, progress, len(log), last)
	}
	if store.failed.Load() == 0 {
		t.Fatalf("no page of %d events outweighed %d bytes: the test did not try the smaller pages", 50, store.budget)
	}
	var journaled int
	if err := db.QueryRow("SELECT count(*) FROM test_journal").Scan(&journaled); err != nil || journaled != len(log) {
		t.Fatalf("the journal holds %d events (%v), want %d", journaled, err, len(log))
	}
}

func TestARebuildOnPostgreSQLAnalysesTheTablesItsFoldsFilled(t *testing.T) {
	t.Parallel()
	store, db := openStore(t, "postgres")
	seedDossiers(t, store)
	// Only a folding read model: the paged consumers' analyses during the rebuild do not run.
	rebuilder := &engine.Rebuilder{Store: store, DB: db, Dialect: engine.PostgreSQL,
		Consumers: []engine.Consumer{projections.PublicStatusView{}}, BatchSize: 50, Logger: quiet}
	if _, err := rebuilder.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The swapped-in table keeps the scratch table's counters: a rename keeps the relation.
	if analysed := analyseCount(t, db, "public_status"); analysed == 0 {
		t.Fatal("public_status was not analysed after the rebuild's fold filled it")
	}
}
