package projections_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/projections"
)

// queueFixture fills the work queue's tables with open dossiers due every 15 minutes
// from 150 days before now, in four ranks, each waiting on one of three agencies and involving it
// and the Centre, with the counter rows they count in (as checkQueueCounts derives them).
func queueFixture(t *testing.T, db *sql.DB, d engine.Dialect, dossiers int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := (projections.WorkQueueView{}).Migrate(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	param := func(i int) string {
		if d == engine.SQLite {
			return "?"
		}
		return fmt.Sprintf("$%d", i)
	}
	insert := func(table string, columns int, rows [][]any) {
		for start := 0; start < len(rows); start += 500 {
			chunk := rows[start:min(start+500, len(rows))]
			var values []string
			var args []any
			for _, row := range chunk {
				ps := make([]string, columns)
				for i := range ps {
					ps[i] = param(len(args) + i + 1)
				}
				values = append(values, "("+strings.Join(ps, ", ")+")")
				args = append(args, row...)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` VALUES `+strings.Join(values, ", "), args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	var queue, agencies [][]any
	counts := map[[4]string]int64{}
	first := now.Add(-150 * 24 * time.Hour)
	for i := range dossiers {
		id, code, rank := fmt.Sprintf("d-%06d", i), fmt.Sprintf("H56-%06d", i), i%4
		due := first.Add(time.Duration(i) * 15 * time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z")
		responsible := fmt.Sprintf("agency-%d", i%3)
		queue = append(queue, []any{id, rank, due, code, responsible, responsible, "", "proc", "field", "processing", nil, "{}", 1})
		day := ""
		if rank == 0 {
			day = due[:10]
		}
		r := fmt.Sprint(rank)
		for _, a := range []string{"centre", responsible} {
			agencies = append(agencies, []any{a, rank, due, code, id})
			counts[[4]string{"involved", a, r, day}]++
		}
		counts[[4]string{"own", responsible, r, day}]++
		counts[[4]string{"responsible", responsible, r, day}]++
		counts[[4]string{"all", "", r, day}]++
	}
	var countRows [][]any
	for k, n := range counts {
		countRows = append(countRows, []any{k[0], k[1], k[2], k[3], n})
	}
	insert("work_queue (dossier_id, sort_rank, due_key, code, responsible_agency, holder_unit, holder_official_id, procedure_code, field_code, status, acceptance_deadline, state_json, version)", 13, queue)
	insert("work_queue_agencies (agency, sort_rank, due_key, code, dossier_id)", 5, agencies)
	insert("work_queue_counts (scope, agency, sort_rank, due_day, n)", 5, countRows)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// queueReads are the work queue's reads the pages send unfiltered — an agency's own queue, the
// Centre's "involved" one, every dossier, due within three days, the per-agency summary —, each
// checked against a count of the queue's rows.
func queueReads(t *testing.T, db *sql.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	cal := calendar.Default()
	nowKey, soonKey := now.UTC().Format("2006-01-02T15:04:05.000000Z"), cal.AddWorkingDays(now, 3).UTC().Format("2006-01-02T15:04:05.000000Z")
	count := func(where string, args ...any) int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM work_queue q WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	p := func(i int) string { return fmt.Sprintf("$%d", i) }
	for _, q := range []struct {
		f              projections.WorkQueueFilter
		where          string
		args           []any
		overdueChecked bool
	}{
		{projections.WorkQueueFilter{Agency: projections.OneAgency("agency-1"), Responsible: "agency-1"}, "q.responsible_agency = " + p(1), []any{"agency-1"}, true},
		{projections.WorkQueueFilter{Agency: projections.OneAgency("centre")}, "1 = 1", nil, true},
		{projections.WorkQueueFilter{Agency: projections.AllAgencies()}, "1 = 1", nil, true},
		{projections.WorkQueueFilter{Agency: projections.OneAgency("agency-2"), Responsible: "agency-2", DueWithinDays: 3},
			"q.responsible_agency = " + p(1) + " AND q.sort_rank = 0 AND q.due_key >= " + p(2) + " AND q.due_key <= " + p(3), []any{"agency-2", nowKey, soonKey}, false},
	} {
		page, err := projections.WorkQueueOf(ctx, db, q.f, projections.PageRequest{}, cal, now)
		if err != nil {
			t.Fatal(err)
		}
		if want := count(q.where, q.args...); page.Total != want || page.TotalEstimated || len(page.Items) != min(want, 50) {
			t.Errorf("queue %+v: total %d (estimated %v), %d items; the queue holds %d", q.f, page.Total, page.TotalEstimated, len(page.Items), want)
		}
		if !q.overdueChecked {
			continue
		}
		overdue, err := projections.WorkQueueOverdueOf(ctx, db, q.f, cal, now)
		if err != nil {
			t.Fatal(err)
		}
		args := append(append([]any{}, q.args...), nowKey)
		if want := count(q.where+" AND q.sort_rank = 0 AND q.due_key < "+p(len(args)), args...); overdue != want {
			t.Errorf("queue %+v: %d overdue, the queue holds %d", q.f, overdue, want)
		}
	}
	summary, err := projections.WorkQueueSummaryOf(ctx, db, projections.AllAgencies(), 3, cal, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(summary) != 3 {
		t.Fatalf("summary of %d agencies, want 3: %+v", len(summary), summary)
	}
	for _, s := range summary {
		want := projections.AgencyQueueSummary{Agency: s.Agency, Open: count("q.responsible_agency = $1", s.Agency),
			Overdue:          count("q.responsible_agency = $1 AND q.sort_rank = 0 AND q.due_key < $2", s.Agency, nowKey),
			DueSoon:          count("q.responsible_agency = $1 AND q.sort_rank = 0 AND q.due_key >= $2 AND q.due_key <= $3", s.Agency, nowKey, soonKey),
			Paused:           count("q.responsible_agency = $1 AND q.sort_rank >= 2", s.Agency),
			WaitingApplicant: count("q.responsible_agency = $1 AND q.sort_rank = 3", s.Agency)}
		if s != want || want.Overdue == 0 || want.DueSoon == 0 {
			t.Errorf("summary %+v, the queue holds %+v", s, want)
		}
	}
}

// The counts of the queues the pages open on — an agency's own queue, the dossiers it is involved
// in, every dossier, its overdue ones, those due soon, the per-agency summary — are exact on
// SQLite as on PostgreSQL whatever the number of open dossiers (30,000 here, due over 300 days).
func TestWorkQueueCountsAreTheQueues(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 3, 9, 7, 0, 0, time.UTC) // a Wednesday: due soon spans three days
	b := sqliteBackend(t)
	queueFixture(t, b.db, engine.SQLite, 30000, now)
	queueReads(t, b.db, now)
}

// On PostgreSQL every query the work queue's pages send for their counts and their first page
// reads a day's dossiers and the page at most — never every open dossier of the queue, which
// grows with the province (3.4× for the reception's page, 6× for the summary from 100,000 to
// 1,000,000 dossiers, session 9): 30,000 open dossiers, 100 due a day, and each statement is
// explained with ANALYZE, its scans of the queue's tables summed.
func TestWorkQueueOnPostgreSQLReadsADaysDossiersAtMost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := postgresBackend(t)
	now := time.Date(2026, 6, 3, 9, 7, 0, 0, time.UTC)
	queueFixture(t, b.db, engine.PostgreSQL, 30000, now)
	if _, err := b.db.ExecContext(ctx, `ANALYZE work_queue; ANALYZE work_queue_agencies; ANALYZE work_queue_counts`); err != nil {
		t.Fatal(err)
	}
	config := b.store.(*postgres.Store).Pool().Config()
	sent := &queryRecorder{}
	config.ConnConfig.Tracer = sent
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	queueReads(t, db, now)

	explained := 0
	for _, q := range sent.queries() {
		if !strings.Contains(q.sql, "work_queue") || strings.Contains(q.sql, "SELECT COUNT(*) FROM work_queue q WHERE") {
			continue // the test's own counts
		}
		var plan []map[string]any
		var raw []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
			t.Fatalf("explain %s: %v", q.sql, err)
		}
		if err := json.Unmarshal(raw, &plan); err != nil {
			t.Fatal(err)
		}
		// 100 dossiers are due a day, over four ranks and three agencies; a page is 51 rows, each
		// looked up in the other table too; the counter rows are one per agency and due day.
		if read := rowsScanned(plan[0]["Plan"]); read > 1000 {
			t.Errorf("the query reads %.0f rows of the queue's tables:\n%s\n%s", read, q.sql, raw)
		}
		explained++
	}
	if explained < 10 {
		t.Fatalf("%d of the queue's queries explained, want its pages, counts and summary", explained)
	}
}

// rowsScanned sums the rows the plan's scans of the work queue's tables returned, over their loops.
func rowsScanned(node any) float64 {
	n, ok := node.(map[string]any)
	if !ok {
		return 0
	}
	read := 0.0
	if table := n["Relation Name"]; table == "work_queue" || table == "work_queue_agencies" {
		rows, _ := n["Actual Rows"].(float64)
		loops, _ := n["Actual Loops"].(float64)
		removed, _ := n["Rows Removed by Filter"].(float64)
		read += (rows + removed) * max(loops, 1)
	}
	children, _ := n["Plans"].([]any)
	for _, child := range children {
		read += rowsScanned(child)
	}
	return read
}

// On SQLite every count the work queue's pages send reads its counter rows by key, or a range of
// an index bounded by due moments (a day's dossiers) — never the queue's whole range for an
// agency, nor, for the summary, every open dossier (SCAN work_queue, as before).
func TestWorkQueueOnSQLiteCountsADaysDossiersAtMost(t *testing.T) {
	t.Parallel()
	registerTracingSQLite.Do(func() { sql.Register("sqlite-traced", tracingDriver{}) })
	db, err := sql.Open("sqlite-traced", filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 6, 3, 9, 7, 0, 0, time.UTC)
	queueFixture(t, db, engine.SQLite, 30000, now)
	sqliteTraced.reset()
	queueReads(t, db, now)

	explained := 0
	for _, q := range sqliteTraced.queries() {
		if !strings.Contains(q.sql, "work_queue") || strings.Contains(q.sql, "SELECT COUNT(*) FROM work_queue q WHERE") || strings.HasPrefix(q.sql, "EXPLAIN") {
			continue // the test's own counts
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		counting := !strings.Contains(q.sql, "ORDER BY") // a page stops after its limit
		// The summary's count of a day's dossiers by agency reads the index alone: looking each
		// dossier up in the table grew with a province's daily rate.
		if strings.Contains(q.sql, "GROUP BY responsible_agency") && !strings.Contains(strings.Join(plan, "\n"), "COVERING INDEX") {
			t.Errorf("the summary's count of a day's dossiers reads the table:\n%s\n%s", q.sql, strings.Join(plan, "\n"))
		}
		for _, step := range plan {
			switch {
			case (strings.HasPrefix(step, "SCAN work_queue") || strings.HasPrefix(step, "SCAN q") || strings.HasPrefix(step, "SCAN a")) &&
				(counting || !strings.Contains(step, "USING")): // a page may read an index in order, up to its limit
				t.Errorf("the query scans a table of the queue:\n%s\n%s", q.sql, strings.Join(plan, "\n"))
			case counting && strings.HasPrefix(step, "SEARCH") && !strings.Contains(step, "EXISTS") &&
				!strings.Contains(step, "work_queue_counts") && !strings.Contains(step, "due_key>?"):
				t.Errorf("the count reads an index range not bounded by due moments:\n%s\n%s", q.sql, strings.Join(plan, "\n"))
			}
		}
		explained++
	}
	if explained < 10 {
		t.Fatalf("%d of the queue's queries explained, want its pages, counts and summary", explained)
	}
}

var registerTracingSQLite sync.Once

// sqliteTraced keeps the statements sent through the "sqlite-traced" driver, with their arguments.
var sqliteTraced = &statementLog{}

type statementLog struct {
	mu   sync.Mutex
	sent []recordedQuery
}

func (l *statementLog) add(query string, args []driver.NamedValue) {
	l.mu.Lock()
	defer l.mu.Unlock()
	values := make([]any, len(args))
	for i, a := range args {
		values[i] = a.Value
	}
	l.sent = append(l.sent, recordedQuery{query, values})
}

func (l *statementLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = nil
}

func (l *statementLog) queries() []recordedQuery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]recordedQuery(nil), l.sent...)
}

// tracingDriver is modernc's SQLite driver recording every query its connections run.
type tracingDriver struct{}

func (tracingDriver) Open(name string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	return tracingConn{c}, nil
}

type tracingConn struct{ driver.Conn }

func (c tracingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	sqliteTraced.add(query, args)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c tracingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c tracingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}
