package projections

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/motcua/motcua/engine"
)

// The late dashboard's open dossiers overdue now — by agency, procedure and field, and by the unit
// holding them — are counted from counters process control's fold keeps per statutory due day, as
// the work queue's overdue counts are (work_queue_counts): a dossier in progress whose clock runs,
// or stopped after its due date, is counted under the Vietnam day of its statutory due date — and
// under its hour —, its line (the dashboard's filters) and its holder. Overdue at now are those due
// before this hour — the counter rows, whole years, then months of this year, then days of this
// month, then today's hours — and those due in this hour before now, read from control_late's
// open_overdue range of this hour alone. So the summary reads rows in proportion to its lines and
// the calendar, not to the open overdue set, which the generated province grows with its history
// (≈ 6,000 dossiers at 1,000,000), nor to the dossiers due on a working day (≈ 4,000 there, ≈
// 20,000 in a province receiving 5 million a year), which the hour's counters spare it reading one
// by one.

// overdueCountKeyColumns key a row of control_overdue_counts: the scope (every agency's, the
// competent agency's, the receiving unit's when another), the span and its first day, the line and
// the unit holding the dossiers.
var overdueCountKeyColumns = []string{"scope", "span", "period_start", "competent_agency", "receiving_unit", "field_code", "procedure_code",
	"holder_unit"}

var overdueCountColumns = append(slices.Clone(overdueCountKeyColumns), "procedure_name", "field_name", "dossiers")

func (v ProcessControlView) overdueCounts() string { return v.Prefix + "control_overdue_counts" }

// overdueCountsTable creates the counters: the summary reads ranges of the key (scope, span,
// period_start), so no secondary index.
func (v ProcessControlView) overdueCountsTable(d engine.Dialect) string {
	return createCounterTable(d, v.overdueCounts(), overdueCountKeyColumns, []string{"procedure_name", "field_name"}, []string{"dossiers"})
}

// overdueCounted is what control_overdue_counts holds for one dossier, a function of its summary
// row: its due day and hour, line and holder; counted false when it is in none.
type overdueCounted struct {
	counted                           bool
	day                               civilDay
	hour                              civilHour
	competent, receiving, field, proc string
	holder                            string
	procedureName, fieldName          string
}

// overdueCountedOf counts a dossier as the open_overdue list selects it (lateRanges): in progress,
// with a statutory due date, its clock running or stopped after that date — so that at any now
// it is overdue exactly when its due date is before now.
func overdueCountedOf(r *summaryRow) overdueCounted {
	if !r.open() || r.DueDate.IsZero() || (!r.PausedAt.IsZero() && !r.PausedAt.After(r.DueDate)) {
		return overdueCounted{}
	}
	return overdueCounted{counted: true, day: dayOf(r.DueDate), hour: hourOf(r.DueDate), competent: r.CompetentAgency, receiving: r.ReceivingUnit,
		field: r.FieldCode, proc: r.ProcedureCode, holder: r.HolderUnit, procedureName: r.ProcedureName, fieldName: r.FieldName}
}

// overdueCountRow keys a row of the table: its period begins on start, or at hour for spanHour.
type overdueCountRow struct {
	scope, span                       string
	start                             civilDay
	hour                              civilHour
	competent, receiving, field, proc string
	holder                            string
}

func (r overdueCountRow) strings() []string {
	return []string{r.scope, r.span, periodStart(r.span, r.start, r.hour), r.competent, r.receiving, r.field, r.proc, r.holder}
}

// periodStart is a counter row's period_start: its first day, or its hour for spanHour.
func periodStart(span string, start civilDay, hour civilHour) string {
	if span == spanHour {
		return hour.String()
	}
	return start.String()
}

// overdueSpan is a span a dossier is counted under and where its period begins.
type overdueSpan struct {
	span  string
	start civilDay
	hour  civilHour
}

// overdueSpans are the spans a dossier due on day, in hour, is counted under: its day, month and
// year, which the days before today are read from, and its hour, which today's are.
func overdueSpans(day civilDay, hour civilHour) [4]overdueSpan {
	return [4]overdueSpan{{spanDay, day, 0}, {spanMonth, day.monthStart(), 0}, {spanYear, day.yearStart(), 0}, {spanHour, hour.day(), hour}}
}

// overdueCountSums are a row's change and its names.
type overdueCountSums struct {
	dossiers                 int64
	procedureName, fieldName string
}

// overdueCountChanges are the counters' changes a fold holds until its flush.
type overdueCountChanges map[overdueCountRow]*overdueCountSums

// add adds o's changes to s's (mergeChanges).
func (s *overdueCountSums) add(o *overdueCountSums) {
	s.dossiers += o.dossiers
	s.procedureName, s.fieldName = max(s.procedureName, o.procedureName), max(s.fieldName, o.fieldName)
}

// count adds (sign 1) or takes back (sign -1) the dossier's row under its day, month, year and
// hour, in every scope it falls in.
func (m overdueCountChanges) count(c overdueCounted, sign int64) {
	if !c.counted {
		return
	}
	scopes := counterGroup{ReceivingUnit: c.receiving, CompetentAgency: c.competent}.scopes()
	for _, span := range overdueSpans(c.day, c.hour) {
		for _, scope := range scopes {
			r := overdueCountRow{scope: scope, span: span.span, start: span.start, hour: span.hour, competent: c.competent, receiving: c.receiving,
				field: c.field, proc: c.proc, holder: c.holder}
			s := m[r]
			if s == nil {
				s = &overdueCountSums{}
				m[r] = s
			}
			s.dossiers += sign
			s.procedureName, s.fieldName = max(s.procedureName, c.procedureName), max(s.fieldName, c.fieldName)
		}
	}
}

// overdueCountWrite is what a flush adds to control_overdue_counts: the changes as increments in
// key order — folds writing the same rows in any order give the same table, and two transactions
// lock them in one order —, then the rows that fell to zero deleted: the table holds the days some
// open dossier is due on now, not every day one once was.
func (v ProcessControlView) overdueCountWrite(changes overdueCountChanges) counterWrite {
	w := counterWrite{table: v.overdueCounts(), keyColumns: overdueCountKeyColumns, nameColumns: []string{"procedure_name", "field_name"},
		counterColumns: []string{"dossiers"}, zero: "dossiers = 0"}
	keys := make([]overdueCountRow, 0, len(changes))
	for r, s := range changes {
		if s.dossiers != 0 {
			keys = append(keys, r)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return slices.Compare(keys[i].strings(), keys[j].strings()) < 0 })
	w.rows = make([][]any, len(keys))
	for i, k := range keys {
		s := changes[k]
		key := make([]any, 0, len(overdueCountColumns))
		for _, part := range k.strings() {
			key = append(key, part)
		}
		if s.dossiers < 0 {
			w.fell = append(w.fell, key...) // may have fallen to zero
		}
		w.rows[i] = append(key, s.procedureName, s.fieldName, s.dossiers)
	}
	return w
}

// dayStart is the moment a Vietnam civil day begins.
func dayStart(d civilDay) time.Time { return time.Unix(int64(d)*86400-vietnamOffset, 0).UTC() }

// What openOverdueQuery's statement answers.
type openOverdueAnswer int

const (
	openOverdueByLine   openOverdueAnswer = iota // the counter rows and today's entries packed (packedRows): openOverdueByLineValues
	openOverdueRowsRead                          // how many counter rows and list entries the sums read
	openOverdueInAll                             // the dossiers in all
)

// countersBefore returns one SELECT of columns from a counter table per span of the periods
// before until — every year before this one, this year's months before this one, this month's days
// before today, and today's hours before this one when until is this hour's start (the table keeps
// hour rows) rather than today's — over the rows of f's agency scope and filters, and their
// arguments in order: what the open overdue dossiers' counters and their steps' counters both read.
func countersBefore(f LateFilter, columns, table string, until time.Time) (parts []string, args []any) {
	today := dayOf(f.Now)
	scope := allAgencies
	if !f.Agency.All() {
		scope = f.Agency.Agency()
	}
	for _, r := range []struct {
		span     string
		from, to string
	}{{spanYear, lateCountsSince.String(), today.yearStart().String()}, {spanMonth, today.yearStart().String(), today.monthStart().String()},
		{spanDay, today.monthStart().String(), today.String()}, {spanHour, hourOf(dayStart(today)).String(), hourOf(until).String()}} {
		if r.from >= r.to { // no hour before until when it is today's start
			continue
		}
		c := lateCounterRows(args, scope, r.span, r.from, r.to, f)
		parts = append(parts, `SELECT `+columns+` FROM `+table+c.where())
		args = c.args
	}
	return parts, args
}

// openOverdueQuery returns the statement counting the open dossiers overdue at f.Now under f's
// filters (the period plays no part), and its arguments: the counter rows of the periods before
// this hour (countersBefore) and the open_overdue entries of this hour before now, each
// looked up in its summary; by line, a line may come in several rows, each with its names.
func openOverdueQuery(db *sql.DB, f LateFilter, answer openOverdueAnswer) (string, []any) {
	columns := "competent_agency, procedure_code, procedure_name, field_code, field_name, holder_unit, dossiers"
	if answer == openOverdueRowsRead {
		columns = "COUNT(*) AS n"
	}
	parts, args := countersBefore(f, columns, "control_overdue_counts", hourOf(f.Now).start())
	// As lateConditions selects the list, numbered after the counters' arguments.
	c := conditions{args: args}
	c.add("l.list = ?", LateListOpenOverdue)
	c.add("l.key >= ?", sqlTime(hourOf(f.Now).start()))
	lateRanges[LateListOpenOverdue](&c, f, time.Time{})
	lateFilters(&c, f)
	if answer == openOverdueRowsRead {
		parts = append(parts, `SELECT COUNT(*) AS n`+lateFrom(db)+c.where())
		return `SELECT SUM(n) FROM (` + strings.Join(parts, " UNION ALL ") + `) counted`, c.args
	}
	parts = append(parts, `SELECT d.competent_agency, d.procedure_code, d.procedure_name, d.field_code, d.field_name, d.holder_unit, 1 AS dossiers`+
		lateFrom(db)+c.where())
	if answer == openOverdueInAll {
		return `SELECT COALESCE(SUM(dossiers), 0) FROM (` + strings.Join(parts, " UNION ALL ") + `) overdue`, c.args
	}
	// The rows themselves, not grouped by line: the summary sums them by agency, procedure, field
	// and holder as it reads them, and SQLite's GROUP BY sorted them first (1,228 rows into 581 at
	// 1,000,000 dossiers: 4.5 ms against 2.9 without); packed, as the steps' counters are.
	return packedRows(db, packedRow(db, "competent_agency", "procedure_code", "procedure_name", "field_code", "field_name", "holder_unit",
		"dossiers"), strings.Join(parts, " UNION ALL ")), c.args
}

// openOverdueByLineValues are the values of a packed row of the open overdue dossiers by line:
// competent agency, procedure and its name, field and its name, holder, and how many dossiers.
const openOverdueByLineValues = 7

// openOverdueTotal counts the open dossiers overdue at f.Now under f's filters, as the summary does.
func openOverdueTotal(ctx context.Context, db *sql.DB, f LateFilter) (int, error) {
	if f.Agency.none() {
		return 0, nil
	}
	query, args := openOverdueQuery(db, f, openOverdueInAll)
	var total int
	err := db.QueryRowContext(ctx, query, args...).Scan(&total)
	return total, err
}
