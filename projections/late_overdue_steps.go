package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
)

// The late dashboard's open overdue dossiers' overrunning steps — those that ended after their
// deadline, and those still running past it at now — by the unit they were handed to and their
// responsible official, are read from counters process control's fold keeps, as the open overdue
// dossiers themselves are (late_overdue.go), so that the summary reads rows in proportion to its
// units, officials, lines and the calendar, never to the open overdue set.
//
// A step that ended late has fixed hours, measured as it ended (overrunStep): it is counted under
// its dossier's statutory due day and hour. A step still running is overrun at now when its
// dossier is overdue at now and its deadline is before now: both are "before now", so it is
// counted under the later of the two days — and of the two hours —, and every row of a period
// before this hour holds steps overrun at now. Its hours at now are the working time from its
// deadline to the end of its deadline's day, fixed, plus the working time from the next day's
// start to now (less the working time from now to the end of today, when its deadline is today),
// the same for every step due that day: so rows are kept per deadline day too, holding their
// running steps and the sum of the first part, and the summary measures the second once per
// deadline day with the calendar in force. The rows of the periods before this hour are read as
// the open overdue counts are — whole years, this year's months, this month's days, today's hours
// —; what is left is read from the handovers, an hour's worth at most: the steps of the dossiers
// due in this hour before now, and the steps running past a deadline in this hour before now of
// the dossiers due before it (through an index of the running steps' deadlines).

// overdueStepKeyColumns key a row of control_overdue_steps: the scope (as control_overdue_counts'),
// the span and its first day, the dossiers' line, the unit the steps were handed to, their
// responsible official and, for running steps, the Vietnam day of their deadline ("" for those
// that ended).
var overdueStepKeyColumns = []string{"scope", "span", "period_start", "competent_agency", "receiving_unit", "field_code", "procedure_code",
	"unit", "official_id", "deadline_day"}

// overdueStepCountColumns are a row's counters: the steps that ended late and their overrun in
// hundredths of an hour, as the period counters keep them (overrunStep); the steps running and the
// sum of the working milliseconds from each one's deadline to the end of its day (dayRemainder).
var overdueStepCountColumns = []string{"ended_steps", "ended_centihours", "running_steps", "running_day_rest_ms"}

// overdueStepEveryLineKeyColumns key a row of control_overdue_steps_every_line: the same counters
// summed over every line (competent agency, receiving unit, field, procedure), which the
// unfiltered dashboard reads — rows bounded by the units, officials and deadline days present
// times the calendar, where a year's line rows grow towards their cross-product with the
// province (docs/projections.md). A filtered dashboard reads the line rows, its filter bounding them.
var overdueStepEveryLineKeyColumns = []string{"scope", "span", "period_start", "unit", "official_id", "deadline_day"}

func (v ProcessControlView) overdueSteps() string { return v.Prefix + "control_overdue_steps" }

func (v ProcessControlView) overdueStepsEveryLine() string {
	return v.Prefix + "control_overdue_steps_every_line"
}

// overdueStepsTable creates the counters: the summary reads ranges of the key (scope, span,
// period_start), so no secondary index.
func (v ProcessControlView) overdueStepsTable(d engine.Dialect) string {
	return createCounterTable(d, v.overdueSteps(), overdueStepKeyColumns, []string{"official_name"}, overdueStepCountColumns)
}

// overdueStepsEveryLineTable creates the counters summed over every line, read as the line rows are.
func (v ProcessControlView) overdueStepsEveryLineTable(d engine.Dialect) string {
	return createCounterTable(d, v.overdueStepsEveryLine(), overdueStepEveryLineKeyColumns, []string{"official_name"}, overdueStepCountColumns)
}

// runningStepsIndex indexes the deadlines of the steps still running — the handovers not ended,
// a few per open dossier —: the summary reads today's range of it.
func (v ProcessControlView) runningStepsIndex() string {
	h := v.handovers()
	return `CREATE INDEX IF NOT EXISTS ` + h + `_running ON ` + h + ` (deadline) WHERE ended_at IS NULL`
}

// dayRemainder is the working time from t to the end of its Vietnam day with cal, in milliseconds.
func dayRemainder(cal *calendar.Calendar, t time.Time) int64 {
	return cal.WorkingTimeBetween(t, dayStart(dayOf(t)+1)).Milliseconds()
}

// runningStep is a step of an open dossier not ended yet, with a deadline: the unit it was handed
// to, its responsible official (the one it was handed to), its deadline's day and the working time
// from its deadline to the end of that day, measured by the fold.
type runningStep struct {
	unit, officialID, officialName string
	deadline                       civilDay
	deadlineHour                   civilHour
	dayRest                        int64
}

// overdueStepsCounted is what control_overdue_steps holds for one dossier: nothing unless
// control_overdue_counts counts it (overdueCountedOf); else its steps that ended late under its
// due day and its running steps under the later of its due day and their deadline's.
type overdueStepsCounted struct {
	dossier overdueCounted
	ended   []overrunStep
	running []runningStep
}

// overdueStepsCountedOf returns what the counters hold for the dossier: its summary's overdue
// count, its steps that ended late and the running steps of its log — which holds every step not
// ended (the current one, the open parts of a parallel step, the originals on their way).
func overdueStepsCountedOf(dossier overdueCounted, overruns []overrunStep, log *handoverLog, cal *calendar.Calendar) overdueStepsCounted {
	if !dossier.counted {
		return overdueStepsCounted{}
	}
	// A copy: the fold changes the dossier's list in place, and what the counters hold must stay.
	c := overdueStepsCounted{dossier: dossier, ended: slices.Clone(overruns)}
	for _, h := range log.rows {
		deadline := exactTime(h.deadline)
		if !h.endedAt.IsZero() || deadline.IsZero() {
			continue
		}
		c.running = append(c.running, runningStep{unit: h.toUnit, officialID: h.toID, officialName: h.toName, deadline: dayOf(deadline),
			deadlineHour: hourOf(deadline), dayRest: dayRemainder(cal, deadline)})
	}
	return c
}

func (c overdueStepsCounted) equal(o overdueStepsCounted) bool {
	return c.dossier == o.dossier && slices.Equal(c.ended, o.ended) && slices.Equal(c.running, o.running)
}

// overdueStepRow keys a row of control_overdue_steps, or of control_overdue_steps_every_line when
// everyLine (its line empty); its period begins on start, or at hour for spanHour.
type overdueStepRow struct {
	everyLine                         bool
	scope, span                       string
	start                             civilDay
	hour                              civilHour
	competent, receiving, field, proc string
	unit, official                    string
	deadline                          string
}

// strings are the row's key as its table's key columns hold it.
func (r overdueStepRow) strings() []string {
	if r.everyLine {
		return []string{r.scope, r.span, periodStart(r.span, r.start, r.hour), r.unit, r.official, r.deadline}
	}
	return []string{r.scope, r.span, periodStart(r.span, r.start, r.hour), r.competent, r.receiving, r.field, r.proc, r.unit, r.official, r.deadline}
}

// overdueStepSums are a row's changes and its official's name.
type overdueStepSums struct {
	endedSteps, endedCentihours, runningSteps, runningDayRest int64
	officialName                                              string
}

func (s *overdueStepSums) zero() bool {
	return s.endedSteps == 0 && s.endedCentihours == 0 && s.runningSteps == 0 && s.runningDayRest == 0
}

// overdueStepChanges are the counters' changes a fold holds until its flush.
type overdueStepChanges map[overdueStepRow]*overdueStepSums

// add adds o's changes to s's (mergeChanges).
func (s *overdueStepSums) add(o *overdueStepSums) {
	s.endedSteps, s.endedCentihours = s.endedSteps+o.endedSteps, s.endedCentihours+o.endedCentihours
	s.runningSteps, s.runningDayRest = s.runningSteps+o.runningSteps, s.runningDayRest+o.runningDayRest
	s.officialName = max(s.officialName, o.officialName)
}

// count adds (sign 1) or takes back (sign -1) the dossier's steps under their day, month, year and
// hour, in every scope the dossier falls in, on its line's rows (overdueStepWrites sums them into
// every line's, and writes the hours there alone).
func (m overdueStepChanges) count(c overdueStepsCounted, sign int64) {
	if !c.dossier.counted {
		return
	}
	d := c.dossier
	scopes := counterGroup{ReceivingUnit: d.receiving, CompetentAgency: d.competent}.scopes()
	at := func(day civilDay, hour civilHour, unit, official, name, deadline string) []*overdueStepSums {
		var out []*overdueStepSums
		for _, span := range overdueSpans(day, hour) {
			for _, scope := range scopes {
				r := overdueStepRow{scope: scope, span: span.span, start: span.start, hour: span.hour, competent: d.competent, receiving: d.receiving,
					field: d.field, proc: d.proc, unit: unit, official: official, deadline: deadline}
				s := m[r]
				if s == nil {
					s = &overdueStepSums{}
					m[r] = s
				}
				s.officialName = max(s.officialName, name)
				out = append(out, s)
			}
		}
		return out
	}
	for _, e := range c.ended {
		for _, s := range at(d.day, d.hour, e.Unit, e.OfficialID, e.OfficialName, "") {
			s.endedSteps += sign
			s.endedCentihours += sign * e.Centihours
		}
	}
	for _, r := range c.running {
		for _, s := range at(max(d.day, r.deadline), max(d.hour, r.deadlineHour), r.unit, r.officialID, r.officialName, r.deadline.String()) {
			s.runningSteps += sign
			s.runningDayRest += sign * r.dayRest
		}
	}
}

// overdueStepWrites are what a flush adds for the changes: increments in key order
// (overdueCountWrite says why), the line rows, then those of every line — their sums, made here
// once per flush rather than on each count —, then the rows left with no step deleted.
func (v ProcessControlView) overdueStepWrites(changes overdueStepChanges) []counterWrite {
	var lines, everyLine []overdueStepRow
	var lineSums, everyLineSums []*overdueStepSums
	sums := overdueStepChanges{}
	for r, s := range changes {
		if r.everyLine || s.zero() {
			continue
		}
		// The hours go to every line's rows alone: only the unfiltered dashboard reads them, and
		// the line rows are the most numerous a flush writes (docs/benchmarks.md, session 28).
		if r.span != spanHour {
			lines, lineSums = append(lines, r), append(lineSums, s)
		}
		key := overdueStepRow{everyLine: true, scope: r.scope, span: r.span, start: r.start, hour: r.hour, unit: r.unit, official: r.official, deadline: r.deadline}
		sum := sums[key]
		if sum == nil {
			sum = &overdueStepSums{}
			sums[key] = sum
		}
		sum.endedSteps += s.endedSteps
		sum.endedCentihours += s.endedCentihours
		sum.runningSteps += s.runningSteps
		sum.runningDayRest += s.runningDayRest
		sum.officialName = max(sum.officialName, s.officialName)
	}
	// Set, not added, into the changes: the writes worked out again sum the same lines again.
	// Lines whose changes cancel out leave every line's row as it is.
	for key, sum := range sums {
		changes[key] = sum
		if !sum.zero() {
			everyLine, everyLineSums = append(everyLine, key), append(everyLineSums, sum)
		}
	}
	return []counterWrite{
		overdueStepWrite(v.overdueSteps(), overdueStepKeyColumns, lines, lineSums),
		overdueStepWrite(v.overdueStepsEveryLine(), overdueStepEveryLineKeyColumns, everyLine, everyLineSums),
	}
}

// overdueStepWrite is what a flush adds for keys and their sums, rows of one table, in the order
// of their keys.
func overdueStepWrite(t string, keyColumns []string, keys []overdueStepRow, sums []*overdueStepSums) counterWrite {
	w := counterWrite{table: t, keyColumns: keyColumns, nameColumns: []string{"official_name"}, counterColumns: overdueStepCountColumns,
		zero: "ended_steps = 0 AND running_steps = 0"}
	// Each key's strings are built once: built in the comparison, they were half of a 1 M
	// rebuild's time in writing these rows (a sort compares each key ≈ log2(n) times). The sort
	// moves indexes, not the keys: a key is ≈ 200 bytes of strings, and moving them under the
	// collector's write barriers, then looking each one up again, was most of this function's time
	// in a new PostgreSQL node at 1 M (BenchmarkOverdueStepWrites).
	strings := make([][]string, len(keys))
	order := make([]int32, len(keys))
	for i, k := range keys {
		strings[i], order[i] = k.strings(), int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return slices.Compare(strings[a], strings[b]) })
	w.rows = make([][]any, len(order))
	for i, at := range order {
		s := sums[at]
		key := make([]any, 0, len(keyColumns)+1+len(overdueStepCountColumns))
		for _, part := range strings[at] {
			key = append(key, part)
		}
		if s.endedSteps < 0 || s.runningSteps < 0 {
			w.fell = append(w.fell, key...) // may have fallen to no step
		}
		w.rows[i] = append(key, s.officialName, s.endedSteps, s.endedCentihours, s.runningSteps, s.runningDayRest)
	}
	return w
}

// What openOverdueStepsQuery's statement answers.
type openOverdueStepsAnswer int

const (
	openOverdueStepsCounterRows openOverdueStepsAnswer = iota // the counter rows packed (packedRows), each a unit, official and deadline day
	openOverdueStepsRowsRead                                  // how many counter rows the sums read
)

// overdueStepCounterValues are the values of a packed counter row: the unit, the official and
// their name, the deadline day, its steps and the milliseconds of overrun the row fixes (the
// ended steps' and the running steps' rest of their deadline day). A row keyed by a deadline day
// counts running steps alone, one keyed by none ("") ended steps alone (overdueStepChanges.count).
const overdueStepCounterValues = 6

// openOverdueStepsQuery returns the statement reading the counter rows of the periods before
// overdueStepsCountedUntil under f (countersBefore), and its arguments; "" when there is none to
// read.
func openOverdueStepsQuery(db *sql.DB, f LateFilter, answer openOverdueStepsAnswer) (string, []any) {
	// Each row packed by the store, its sums in as few values as they are used in: at 1,000,000
	// dossiers the rows are thousands (2,835 this month), read one by one 4.2 ms, packed 2.3.
	columns := packedRow(db, "unit", "official_id", "official_name", "deadline_day", "(ended_steps + running_steps)",
		"(ended_centihours * 36000 + running_day_rest_ms)") + " AS counter_row"
	if answer == openOverdueStepsRowsRead {
		columns = "COUNT(*) AS n"
	}
	parts, args := countersBefore(f, columns, overdueStepsTableFor(f), overdueStepsCountedUntil(f))
	switch {
	case len(parts) == 0:
		return "", nil
	case answer == openOverdueStepsRowsRead:
		return `SELECT SUM(n) FROM (` + strings.Join(parts, " UNION ALL ") + `) counted`, args
	}
	// Not grouped: addOverdueStepCounters sums them by unit and official as it reads them, and
	// SQLite's GROUP BY sorted them first (≈ 1.3× the read at 1,000,000 dossiers).
	return packedRows(db, "counter_row", strings.Join(parts, " UNION ALL ")), args
}

// overdueStepsTableFor returns the counters f reads: those of every line when no line filter is
// set (the agency scope is a key column of both), else the line rows, which the filter bounds.
func overdueStepsTableFor(f LateFilter) string {
	if !f.filtersLines() {
		return "control_overdue_steps_every_line"
	}
	return "control_overdue_steps"
}

// overdueStepsCountedUntil is where the counters f reads stop and the handovers take over: this
// hour's start for every line's rows, which keep hours, today's for the line rows, which do not
// (overdueStepWrites) — a filtered dashboard reads today's steps of its lines one by one.
func overdueStepsCountedUntil(f LateFilter) time.Time {
	if !f.filtersLines() {
		return hourOf(f.Now).start()
	}
	return dayStart(dayOf(f.Now))
}

// overdueStepsFromHandoversQueries return the statements streaming the overrunning steps the
// counters leave to the handovers (those after overdueStepsCountedUntil), each with its arguments:
// those of the open overdue dossiers due since then and before now, then the steps running past a
// deadline since then and before now of those due before. Each row is a step's unit, responsible
// official and name, deadline and end.
func overdueStepsFromHandoversQueries(db *sql.DB, f LateFilter) []stepsQuery {
	since := sqlTime(overdueStepsCountedUntil(f))
	// The responsible official (Handover.Responsible): the one the step was handed to, else the
	// one who ended it.
	const columns = `SELECT h.to_unit,
		CASE WHEN h.to_official_id <> '' THEN h.to_official_id ELSE COALESCE(h.ended_by_id, '') END,
		CASE WHEN h.to_official_id <> '' THEN h.to_official_name ELSE COALESCE(h.ended_by_name, '') END,
		h.deadline, h.ended_at`
	dueSince := lateConditions(LateListOpenOverdue, f, time.Time{})
	dueSince.add("l.key >= ?", since)
	dueSince.add("h.deadline IS NOT NULL AND (h.ended_at > h.deadline OR (h.ended_at IS NULL AND h.deadline < ?))", sqlTime(f.Now))
	// The running steps of the deadlines since then, through their index, each with its dossier's
	// summary: in the open_overdue list (lateSets, lateRanges) before then.
	var running conditions
	running.add("h.ended_at IS NULL")
	running.add("h.deadline >= ?", since)
	running.add("h.deadline < ?", sqlTime(f.Now))
	running.add("d.received_at IS NOT NULL AND d.resolved_at IS NULL AND d.closed_at IS NULL")
	running.add("d.due_date < ?", since)
	running.add("COALESCE(d.paused_at, ?) > d.due_date", sqlTime(f.Now))
	lateFilters(&running, f)
	dossier := ` JOIN control_dossiers d ON d.dossier_id = h.dossier_id`
	if isPostgresDB(db) {
		// As lateFrom: a lookup the planner cannot turn into a hash of every dossier.
		dossier = ` CROSS JOIN LATERAL (SELECT * FROM control_dossiers s WHERE s.dossier_id = h.dossier_id OFFSET 0) d`
	}
	return []stepsQuery{
		{columns + lateFrom(db) + ` JOIN control_handovers h ON h.dossier_id = d.dossier_id` + dueSince.where(), dueSince.args},
		{columns + ` FROM control_handovers h` + dossier + running.where(), running.args},
	}
}

// stepsQuery is a statement and its arguments.
type stepsQuery struct {
	query string
	args  []any
}

// overdueStepSum sums the overrunning steps of one unit or official: the counters' hours exactly,
// in milliseconds, and the steps read from the handovers hour by hour, each rounded as the
// dossier's sheet shows it.
type overdueStepSum struct {
	steps int
	ms    int64
	hours float64
}

// openOverdueSteps adds the overrunning steps of the open dossiers overdue at f.Now, under f's
// filters, to the units' and officials' lines: the counters of the periods before this hour (or
// today, filtered by line), then the handovers of the rest (overdueStepsFromHandoversQueries); the
// running steps' hours measured to now with cal, the calendar in force.
func openOverdueSteps(ctx context.Context, db *sql.DB, f LateFilter, cal *calendar.Calendar, units, officials groups[OverrunGroup]) error {
	if f.Agency.none() {
		return nil
	}
	overrunGroup := func(key, name string) *OverrunGroup { return &OverrunGroup{Key: key, Name: name} }
	unitSums, officialSums := map[string]*overdueStepSum{}, map[string]*overdueStepSum{}
	sumOf := func(sums map[string]*overdueStepSum, key string) *overdueStepSum {
		s := sums[key]
		if s == nil {
			s = &overdueStepSum{}
			sums[key] = s
		}
		return s
	}
	add := func(unit, official, name string, steps int, ms int64, hours float64) {
		units.get(unit, "", overrunGroup)
		sums := []*overdueStepSum{sumOf(unitSums, unit)}
		if official != "" {
			o := officials.get(official, name, overrunGroup)
			o.Name = max(o.Name, name)
			sums = append(sums, sumOf(officialSums, official))
		}
		for _, s := range sums {
			s.steps += steps
			s.ms += ms
			s.hours += hours
		}
	}
	if err := addOverdueStepCounters(ctx, db, f, cal, add); err != nil {
		return err
	}
	for _, q := range overdueStepsFromHandoversQueries(db, f) {
		rows, err := db.QueryContext(ctx, q.query, q.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var unit, official, name string
			var deadline, ended sql.NullString
			if err := rows.Scan(&unit, &official, &name, &deadline, &ended); err != nil {
				rows.Close()
				return err
			}
			add(unit, official, name, 1, 0, workingHours(cal, parseSQLTime(deadline), firstNonZeroTime(parseSQLTime(ended), f.Now)))
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
	}
	for _, g := range []struct {
		sums map[string]*overdueStepSum
		by   groups[OverrunGroup]
	}{{unitSums, units}, {officialSums, officials}} {
		for key, s := range g.sums {
			line := g.by[key]
			line.OverrunSteps += s.steps
			line.OverrunHours += float64(s.ms)/float64(time.Hour/time.Millisecond) + s.hours
		}
	}
	return nil
}

// overdueStepPair is a unit and an official (or none) the counters' steps were handed to.
type overdueStepPair struct{ unit, official string }

// addOverdueStepCounters reads the counter rows of the periods before overdueStepsCountedUntil under f, packed
// (openOverdueStepsQuery), and adds their steps and hours to add once per unit and official: the
// running steps' hours measured to now with cal, once per deadline day. Summing the rows of a
// pair here, rather than each row into its unit's and official's lines, keeps the cost of a row
// to one map lookup.
func addOverdueStepCounters(ctx context.Context, db *sql.DB, f LateFilter, cal *calendar.Calendar,
	add func(unit, official, name string, steps int, ms int64, hours float64)) error {
	query, args := openOverdueStepsQuery(db, f, openOverdueStepsCounterRows)
	if query == "" {
		return nil
	}
	type pairSum struct {
		name  string
		steps int64
		ms    int64
	}
	pairs := map[overdueStepPair]*pairSum{}
	// The working time from the start of the day after each deadline day to now, measured once
	// per day: negative for today's, the working time left in it after now taken back from the
	// rest of the deadline's day.
	sinceNextDay := map[string]int64{}
	var packed sql.NullString
	if err := db.QueryRowContext(ctx, query, args...).Scan(&packed); err != nil {
		return err
	}
	err := unpackRows(packed, overdueStepCounterValues, func(v []string) error {
		pair, name, deadline := overdueStepPair{unit: v[0], official: v[1]}, v[2], v[3]
		var counts [2]int64 // steps, ms
		for i := range counts {
			n, err := strconv.ParseInt(v[4+i], 10, 64)
			if err != nil {
				return fmt.Errorf("late dashboard: a counter row's value %q: %w", v[4+i], err)
			}
			counts[i] = n
		}
		steps, ms := counts[0], counts[1]
		if deadline != "" { // running steps: their hours from the day after their deadline's to now
			rest, ok := sinceNextDay[deadline]
			if !ok {
				day, err := time.ParseInLocation(time.DateOnly, deadline, time.UTC)
				if err != nil {
					return fmt.Errorf("late dashboard: a counter row's deadline day %q: %w", deadline, err)
				}
				rest = cal.WorkingTimeBetween(dayStart(civilDayOf(day.Date())+1), f.Now).Milliseconds()
				sinceNextDay[deadline] = rest
			}
			ms += steps * rest
		}
		sum := pairs[pair]
		if sum == nil {
			sum = &pairSum{}
			pairs[pair] = sum
		}
		sum.name, sum.steps, sum.ms = max(sum.name, name), sum.steps+steps, sum.ms+ms
		return nil
	})
	if err != nil {
		return err
	}
	for pair, sum := range pairs {
		add(pair.unit, pair.official, sum.name, int(sum.steps), sum.ms, 0)
	}
	return nil
}
