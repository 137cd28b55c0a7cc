package projections_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/projections"
)

// On PostgreSQL the late dashboard reads the late sets and, for each of their rows, the dossier's
// summary by its key — never the whole summary table, which grows with every dossier received.
// Left to itself the planner hashed all of control_dossiers as soon as a list held a few hundred
// rows (800 ms at 100,000 dossiers). Here 30,000 summaries and lists of 750 rows: every query the
// dashboard sends is explained, and none may scan control_dossiers; the counts are the lists'.
func TestLateDashboardOnPostgreSQLReadsNoSummaryOutsideItsLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := postgresBackend(t)
	if err := (projections.ProcessControlView{}).Migrate(ctx, b.db, engine.PostgreSQL); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	const dossiers, every = 30000, 40 // every 40th dossier is in each list
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_dossiers (dossier_id, code, receiving_unit, register_unit,
			competent_agency, procedure_code, procedure_name, field_code, field_name, received_at, due_date, appointment_date,
			resolved_at, resolved_due_date)
		SELECT 'd-' || lpad(i::text, 6, '0'), 'H56-' || i, 'unit-' || (i % 7), 'unit-' || (i % 7), 'agency-' || (i % 5),
			'proc-' || (i % 11), 'Thủ tục ' || (i % 11), 'field-' || (i % 3), 'Lĩnh vực ' || (i % 3),
			to_char(timestamp '2026-01-01' + i * interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
			to_char(timestamp '2026-02-01' + i * interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
			to_char(timestamp '2026-02-01' + i * interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
			CASE WHEN i % 2 = 0 THEN to_char(timestamp '2026-03-01' + i * interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
			CASE WHEN i % 2 = 0 THEN to_char(timestamp '2026-02-01' + i * interval '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
		FROM generate_series(1, $1) AS i`, dossiers); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_late (list, key, dossier_id)
		SELECT 'open_overdue', due_date, dossier_id FROM control_dossiers WHERE resolved_at IS NULL AND substr(dossier_id, 3)::int % $1 = 1
		UNION ALL SELECT 'resolved_late', resolved_at, dossier_id FROM control_dossiers WHERE resolved_at IS NOT NULL AND substr(dossier_id, 3)::int % $1 = 0;
		`, every); err != nil {
		t.Fatal(err)
	}
	// The counters the fold would have written for the resolved-late list: its dossiers by the
	// Vietnam day and month of their resolution.
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_late_counts (scope, span, period_start, competent_agency, receiving_unit,
			field_code, procedure_code, unit, official_id, procedure_name, field_name, official_name, resolved_late)
		SELECT '*', span, period_start, competent_agency, receiving_unit, field_code, procedure_code, '', '', '', '', '', COUNT(*)
		FROM (SELECT d.*, s.span, CASE s.span WHEN 'day' THEN to_char(l.key::timestamp + interval '7 hours', 'YYYY-MM-DD')
				ELSE to_char(l.key::timestamp + interval '7 hours', 'YYYY-MM') || '-01' END AS period_start
			FROM control_late l JOIN control_dossiers d ON d.dossier_id = l.dossier_id, (VALUES ('day'), ('month')) AS s(span)
			WHERE l.list = 'resolved_late') resolved
		GROUP BY span, period_start, competent_agency, receiving_unit, field_code, procedure_code`); err != nil {
		t.Fatal(err)
	}
	// And their rollups of months, which the unfiltered dashboard reads: by agency, procedure and
	// field.
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_late_rollups (scope, span, period_start, dimension, group_key, name, resolved_late)
		SELECT scope, span, period_start, 'agency', competent_agency, '', SUM(resolved_late) FROM control_late_counts
			WHERE span = 'month' GROUP BY scope, span, period_start, competent_agency
		UNION ALL SELECT scope, span, period_start, 'procedure', procedure_code, MAX(procedure_name), SUM(resolved_late) FROM control_late_counts
			WHERE span = 'month' GROUP BY scope, span, period_start, procedure_code
		UNION ALL SELECT scope, span, period_start, 'field', field_code, MAX(field_name), SUM(resolved_late) FROM control_late_counts
			WHERE span = 'month' GROUP BY scope, span, period_start, field_code`); err != nil {
		t.Fatal(err)
	}
	// And those for the open overdue list: its dossiers by the Vietnam day, month and year of their
	// due date.
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_overdue_counts (scope, span, period_start, competent_agency, receiving_unit,
			field_code, procedure_code, holder_unit, procedure_name, field_name, dossiers)
		SELECT '*', span, period_start, competent_agency, receiving_unit, field_code, procedure_code, COALESCE(holder_unit, ''),
			MAX(procedure_name), MAX(field_name), COUNT(*)
		FROM (SELECT d.*, s.span, CASE s.span WHEN 'day' THEN to_char(l.key::timestamp + interval '7 hours', 'YYYY-MM-DD')
				WHEN 'month' THEN to_char(l.key::timestamp + interval '7 hours', 'YYYY-MM') || '-01'
				ELSE to_char(l.key::timestamp + interval '7 hours', 'YYYY') || '-01-01' END AS period_start
			FROM control_late l JOIN control_dossiers d ON d.dossier_id = l.dossier_id, (VALUES ('day'), ('month'), ('year')) AS s(span)
			WHERE l.list = 'open_overdue') overdue
		GROUP BY span, period_start, competent_agency, receiving_unit, field_code, procedure_code, COALESCE(holder_unit, '')`); err != nil {
		t.Fatal(err)
	}
	// Every dossier's steps: one that ended, and for those in progress one still running, its
	// deadline in the two days before now — some today, some before; the summary reads today's
	// through the running steps' index, never every handover.
	if _, err := b.db.ExecContext(ctx, `INSERT INTO control_handovers (dossier_id, seq, kind, from_unit, from_official_id, from_official_name,
			to_unit, to_official_id, to_official_name, handed_at, step, deadline, calendar_version, note, ended_at, end_kind, ended_by_id, ended_by_name)
		SELECT dossier_id, 1000, 'transfer', receiving_unit, 'cb-0', 'Cán bộ 0', 'unit-' || (i % 13), 'cb-' || (i % 17), 'Cán bộ ' || (i % 17),
			received_at, 'Thẩm định', to_char(due_date::timestamp, 'YYYY-MM-DD"T"HH24:MI:SS".000000Z"'), 'vn', '', to_char(due_date::timestamp + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS".000000Z"'),
			'transfer', 'cb-1', 'Cán bộ 1'
		FROM (SELECT dossier_id, receiving_unit, received_at, due_date, substr(dossier_id, 3)::int AS i FROM control_dossiers) d
		UNION ALL
		SELECT dossier_id, 2000, 'transfer', receiving_unit, 'cb-0', 'Cán bộ 0', 'unit-' || (i % 13), 'cb-' || (i % 17), 'Cán bộ ' || (i % 17),
			received_at, 'Trình ký', to_char($1::timestamp - (i % 48) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS".000000Z"'), 'vn', '', NULL, NULL, NULL, NULL
		FROM (SELECT dossier_id, receiving_unit, received_at, resolved_at, substr(dossier_id, 3)::int AS i FROM control_dossiers) d
		WHERE resolved_at IS NULL`, now.Format("2006-01-02 15:04:05")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `ANALYZE control_dossiers; ANALYZE control_late; ANALYZE control_handovers`); err != nil {
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
	filter := projections.LateFilter{Agency: projections.AllAgencies(), Now: now,
		Period: projections.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 6, 1, 0, 0, 0, 0, domain.VietnamTime)}}
	dash, err := projections.LateDashboardOf(ctx, db, filter, calendar.Default(), projections.PageRequest{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var overdue, resolvedLate int
	if err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE list = 'open_overdue'), COUNT(*) FILTER (WHERE list = 'resolved_late' AND key < $1)
		FROM control_late`, filter.Period.To.UTC().Format("2006-01-02T15:04:05.000000Z")).Scan(&overdue, &resolvedLate); err != nil {
		t.Fatal(err)
	}
	if overdue < 300 || resolvedLate < 300 {
		t.Fatalf("lists of %d and %d rows: too short to tell a scan from lookups", overdue, resolvedLate)
	}
	if dash.OpenOverdue.Total != overdue || dash.ResolvedLate.Total != resolvedLate {
		t.Errorf("the dashboard counts %d open overdue and %d resolved late, the lists hold %d and %d",
			dash.OpenOverdue.Total, dash.ResolvedLate.Total, overdue, resolvedLate)
	}

	explained, runningExplained := 0, false
	for _, q := range sent.queries() {
		if !strings.Contains(q.sql, "control_late") && !strings.Contains(q.sql, "control_handovers") {
			continue
		}
		var plan []map[string]any
		var raw []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
			t.Fatalf("explain %s: %v", q.sql, err)
		}
		if err := json.Unmarshal(raw, &plan); err != nil {
			t.Fatal(err)
		}
		if scans := sequentialScans(plan[0]["Plan"], "control_dossiers"); scans > 0 {
			t.Errorf("the query scans every dossier's summary:\n%s\n%s", q.sql, raw)
		}
		if scans := sequentialScans(plan[0]["Plan"], "control_handovers"); scans > 0 {
			t.Errorf("the query scans every handover:\n%s\n%s", q.sql, raw)
		}
		if strings.Contains(q.sql, "h.deadline >= ") {
			runningExplained = true
		}
		explained++
	}
	if explained < 5 || !runningExplained {
		t.Fatalf("%d of the dashboard's queries explained (today's running steps: %v), want its lists and summaries", explained, runningExplained)
	}
}

// sequentialScans counts the plan's sequential scans of table.
func sequentialScans(node any, table string) int {
	n, ok := node.(map[string]any)
	if !ok {
		return 0
	}
	count := 0
	if n["Node Type"] == "Seq Scan" && n["Relation Name"] == table {
		count++
	}
	children, _ := n["Plans"].([]any)
	for _, child := range children {
		count += sequentialScans(child, table)
	}
	return count
}

// queryRecorder keeps the statements sent through pgx, with their arguments.
type queryRecorder struct {
	mu   sync.Mutex
	sent []recordedQuery
}

type recordedQuery struct {
	sql  string
	args []any
}

func (r *queryRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, recordedQuery{data.SQL, append([]any(nil), data.Args...)})
	return ctx
}

func (r *queryRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *queryRecorder) queries() []recordedQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedQuery(nil), r.sent...)
}
