package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/domain/domaintest"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

var quiet = slog.New(slog.DiscardHandler)

// openSQLite opens a store in a fresh file, closed when the test ends.
func openSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// openStore opens a store of the backend named ("sqlite" or "postgres", as engine.Dialect names
// them) and the database its read models live in.
func openStore(t testing.TB, backend string) (eventstore.Store, *sql.DB) {
	t.Helper()
	if backend == "sqlite" {
		s := openSQLite(t)
		return s, s.DB()
	}
	s, db, _ := openPostgres(t)
	return s, db
}

// openSQLiteWithReadModelPool opens a store and, on the same file, the pool `motcua serve` gives
// its projections (sqlite.ReadModelDSN: commits without fsync).
func openSQLiteWithReadModelPool(t testing.TB) (*sqlite.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "motcua.db")
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db, err := sql.Open("sqlite", sqlite.ReadModelDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store, db
}

// seedDossiers records the demo's varied dossier histories (received, transferred, supplemented,
// late with an apology, signed, paid, returned, rated, withdrawn, refused…) through the real use
// cases, and returns the whole log.
func seedDossiers(t testing.TB, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	ctx := context.Background()
	calendar := calendar.Default()
	catalog := domaintest.Catalog(t, calendar)
	app := commands.New(store, catalog, calendar)
	app.Logger = quiet
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime)
	app.Now = func() time.Time { return now }
	if _, err := demo.Seed(ctx, app); err != nil {
		t.Fatal(err)
	}
	return readLog(t, store)
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

// runEngine runs e until the test ends and fails the test if it stops with an error.
func runEngine(t testing.TB, e *engine.Engine) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("engine: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-e.Ready():
	case <-time.After(2 * time.Minute): // a loaded CI machine
		t.Fatal("the engine never became ready")
	}
	return stop
}

// waitFor waits until every projection of e has applied p.
func waitFor(t testing.TB, e *engine.Engine, p eventstore.Position) {
	t.Helper()
	// Generous: on a loaded CI machine under the race detector a catch-up of a few thousand events
	// has taken over 30 s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.WaitFor(ctx, p); err != nil {
		for _, r := range e.Runners {
			t.Logf("%s at %s (stalled: %v)", r.Consumer.Name(), r.Position(), r.Stalled())
		}
		t.Fatalf("projections never reached %s: %v", p, err)
	}
}

// journal is a test projection that records every event it applies, one row each, in a table
// whose primary key is the event id: applying an event twice fails the transaction.
type journal struct {
	prefix string
	// failAt, when set, is called before each event is applied; an error from it fails the batch
	// after the events before it were written in the same transaction.
	failAt func(eventstore.RecordedEvent) error
	// schema 2 adds a column, written_by, naming the version that wrote the row; 0 is 1.
	schema int
}

func (journal) Name() string     { return "test_journal" }
func (journal) Tables() []string { return []string{"test_journal"} }
func (l journal) SchemaVersion() int {
	return max(l.schema, 1)
}
func (l journal) WithPrefix(prefix string) engine.Consumer {
	return journal{prefix: prefix, failAt: l.failAt, schema: l.schema}
}
func (l journal) table() string { return l.prefix + "test_journal" }

func (l journal) Migrate(ctx context.Context, db *sql.DB, _ engine.Dialect) error {
	writtenBy := ""
	if l.SchemaVersion() >= 2 {
		writtenBy = ", written_by BIGINT NOT NULL"
	}
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + l.table() + ` (
			event_id TEXT PRIMARY KEY,
			commit_position BIGINT NOT NULL,
			prepare_position BIGINT NOT NULL,
			stream TEXT NOT NULL,
			version BIGINT NOT NULL,
			type TEXT NOT NULL,
			correlation_id TEXT NOT NULL` + writtenBy + `)`,
		`CREATE INDEX IF NOT EXISTS ` + l.table() + `_stream ON ` + l.table() + ` (stream, version)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func (l journal) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	for _, e := range batch.Events {
		if l.failAt != nil {
			if err := l.failAt(e); err != nil {
				return err
			}
		}
		columns, values := ``, ``
		args := []any{e.ID.String(), int64(e.Position.Commit), int64(e.Position.Prepare), e.Stream, int64(e.Version), e.Type,
			e.Metadata.CorrelationID.String()}
		if l.SchemaVersion() >= 2 {
			columns, values = `, written_by`, `, $8`
			args = append(args, l.SchemaVersion())
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+l.table()+` (event_id, commit_position, prepare_position, stream, version, type, correlation_id`+
			columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7`+values+`)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// checkJournal asserts the journal holds every event of log exactly once.
func checkJournal(t testing.TB, db *sql.DB, log []eventstore.RecordedEvent) {
	t.Helper()
	rows, err := db.Query(`SELECT event_id, commit_position, prepare_position FROM test_journal ORDER BY commit_position, prepare_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id string
		var commit, prepare int64
		if err := rows.Scan(&id, &commit, &prepare); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s@%d/%d", id, commit, prepare))
	}
	want := make([]string, len(log))
	for i, e := range log {
		want[i] = fmt.Sprintf("%s@%s", e.ID, e.Position)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal holds %d events, want the log's %d in order; first rows %v, want %v", len(got), len(want), head(got), head(want))
	}
}

func head(s []string) []string { return s[:min(len(s), 3)] }

// checkPublicStatus compares the public status rows with each dossier's state folded here from the
// log by the domain's Evolve.
func checkPublicStatus(t testing.TB, db *sql.DB, log []eventstore.RecordedEvent) {
	t.Helper()
	folded := map[string]domain.Dossier{}
	for _, re := range log {
		if !domain.IsDossierEvent(re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(re.Stream, "dossier-")
		d := folded[id]
		if d.Status == "" {
			d.Status = domain.StatusNew
		}
		d = domain.Evolve(d, e)
		d.Version = re.Version
		folded[id] = d
	}
	rows, err := db.Query(`SELECT dossier_id, COALESCE(code, ''), status, version FROM public_status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, code, status string
		var version int64
		if err := rows.Scan(&id, &code, &status, &version); err != nil {
			t.Fatal(err)
		}
		want, ok := folded[id]
		if !ok {
			t.Fatalf("public_status has dossier %s, which the log does not", id)
		}
		if code != string(want.Code) || status != string(want.Status) || uint64(version) != want.Version {
			t.Errorf("dossier %s: public status %s %s v%d, the log folds to %s %s v%d", id, code, status, version, want.Code, want.Status, want.Version)
		}
		seen++
	}
	if seen != len(folded) || seen == 0 {
		t.Fatalf("public_status has %d dossiers, the log %d", seen, len(folded))
	}
}

// dump renders every row of the tables, ordered by all their columns, byte for byte.
func dump(t testing.TB, db *sql.DB, tables ...string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		columns, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			values := make([]any, len(columns))
			pointers := make([]any, len(columns))
			for i := range values {
				pointers[i] = &values[i]
			}
			if err := rows.Scan(pointers...); err != nil {
				t.Fatal(err)
			}
			var line strings.Builder
			for i, v := range values {
				if i > 0 {
					line.WriteByte('|')
				}
				switch v := v.(type) {
				case []byte:
					line.Write(v)
				case nil:
					line.WriteString("NULL")
				default:
					fmt.Fprintf(&line, "%v", v)
				}
			}
			lines = append(lines, line.String())
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "== %s %v (%d rows)\n%s\n", table, columns, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// checkpointOf reads a projection's checkpoint.
func checkpointOf(t testing.TB, db *sql.DB, name string) eventstore.Position {
	t.Helper()
	p, err := engine.Checkpoint(context.Background(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// openReadDB opens an empty SQLite database for read models kept apart from the store, as the
// esdb backend does: several sets of tables can then be built from one log and compared.
func openReadDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(t.TempDir(), "readmodels.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// applyOnly is a consumer as it runs through Apply alone, even when it is Folding: the path every
// consumer took before folds, to compare with.
type applyOnly struct{ engine.Consumer }

func (a applyOnly) WithPrefix(prefix string) engine.Consumer {
	return applyOnly{a.Consumer.WithPrefix(prefix)}
}

// wrappedFolds is the public status view whose folds wrap wraps, and whose Apply counts the events
// that went through it rather than through a fold.
type wrappedFolds struct {
	projections.PublicStatusView
	wrap    func(engine.Fold) engine.Fold
	applied *atomic.Int64
}

func (s wrappedFolds) NewFold(fresh bool) engine.Fold {
	return s.wrap(s.PublicStatusView.NewFold(fresh))
}

// WithPrefix keeps the wrapping in the rebuild's scratch tables.
func (s wrappedFolds) WithPrefix(prefix string) engine.Consumer {
	s.PublicStatusView = s.PublicStatusView.WithPrefix(prefix).(projections.PublicStatusView)
	return s
}

func (s wrappedFolds) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	s.applied.Add(int64(len(batch.Events)))
	return engine.ApplyFold(ctx, tx, batch, s.PublicStatusView.NewFold(false))
}

// analyseCount is how many times PostgreSQL analysed table by hand (autovacuum's not counted),
// waiting up to 10 s for it to be more than none: the statistics' counters reach other sessions
// within a second or so.
func analyseCount(t testing.TB, db *sql.DB, table string) int64 {
	t.Helper()
	var analysed int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := db.QueryRow(`SELECT analyze_count FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&analysed); err != nil {
			t.Fatal(err)
		}
		if analysed > 0 {
			break
		}
	}
	return analysed
}
