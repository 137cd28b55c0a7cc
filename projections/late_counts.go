package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
)

// The late dashboard's summaries of a period — the dossiers resolved late and the apologies issued
// in it, and the steps of those late dossiers that overran, by unit and by official — are read
// from counters process control's fold keeps, so that a year's summaries read rows in proportion
// to its lines and its calendar, never to the late dossiers (docs/projections.md, "The late
// dashboard's grain"). They have the shape of the II.06a counters (resolution_report.go): a scope
// (every agency's, or one agency's: the dossiers it received or decides), a span (a Vietnam civil
// day, month or year) and its first day, then the line: the competent agency, the receiving unit,
// the field and the procedure — every filter the dashboard takes —, and for the overrun the unit
// the step was handed to and its responsible official.

// lateCountKeyColumns key a row of control_late_counts. A row with no unit and no official counts
// dossiers (resolved late, apologies); the others count overrunning steps.
var lateCountKeyColumns = []string{"scope", "span", "period_start", "competent_agency", "receiving_unit", "field_code", "procedure_code",
	"unit", "official_id"}

// lateCountNameColumns name a row's line: the latest names written (the greatest, so that any order of
// folding gives the same table).
var lateCountNameColumns = []string{"procedure_name", "field_name", "official_name"}

// lateCountColumns are a row's counters: overrun hours are kept in hundredths, as each step's
// overrun is rounded (workingHours), so that sums are exact; pending_acceptances counts the online
// submissions not answered yet, late or not (lateListTotal takes away those not late at now).
var lateCountColumns = []string{"resolved_late", "apologies", "late_acceptances", "overrun_steps", "overrun_centihours", "pending_acceptances"}

func (v ProcessControlView) lateCounts() string { return v.Prefix + "control_late_counts" }

func (v ProcessControlView) lateRollups() string { return v.Prefix + "control_late_rollups" }

// lateCountsTable creates the counters: a summary reads ranges of the key (scope, span,
// period_start), so no secondary index.
func (v ProcessControlView) lateCountsTable(d engine.Dialect) string {
	return createCounterTable(d, v.lateCounts(), lateCountKeyColumns, lateCountNameColumns, lateCountColumns)
}

// The unfiltered dashboard (an agency scope alone, what officials open) shows its period summaries
// along one dimension at a time, so it reads them from rollups of the same counters: per scope,
// month or year and its first day, one row per agency, procedure or field (the dossiers resolved
// late, apologies and acceptances answered late) and per unit or official (the overrun steps).
// Those are bounded by the catalog — ≈ 550 rows a year at 100,000 dossiers and at 1,000,000 —,
// where the line rows grow towards the cross-product of the catalog's agencies, units, fields,
// procedures and officials (2,603 rows a year at 100,000, 5,319 at 1,000,000). A day has too few
// late dossiers for that: rolled up, October 2026's days would be 3,480 rows at 100,000 against
// 2,104 line rows, 10,739 against 11,183 at 1,000,000; so days have none, and a period's days are
// read from the line rows. A filter on the receiving unit, procedure or field bounds the line
// rows, which it keeps reading. The rollups are a sibling table rather than marked rows of
// control_late_counts: a year's months read a range of period_start, past which the line key's
// columns cannot narrow the read, so marked rows would be read among every line row of the range.

// The dimensions of control_late_rollups.
const (
	rollupAgency    = "agency"    // the competent agency
	rollupProcedure = "procedure" // the procedure, its name
	rollupField     = "field"     // the field, its name
	rollupUnit      = "unit"      // the unit an overrun step was handed to
	rollupOfficial  = "official"  // a step's responsible official, their name
)

// lateRollupKeyColumns key a row of control_late_rollups.
var lateRollupKeyColumns = []string{"scope", "span", "period_start", "dimension", "group_key"}

// lateRollupsTable creates the rollups: the summary reads ranges of the key (scope, span,
// period_start), every dimension of them.
func (v ProcessControlView) lateRollupsTable(d engine.Dialect) string {
	return createCounterTable(d, v.lateRollups(), lateRollupKeyColumns, []string{"name"}, lateCountColumns)
}

// overrunStep is a step of a dossier that ended after its deadline: the unit it was handed to, its
// responsible official (Handover.Responsible), and its overrun in hundredths of a working hour,
// measured when the fold saw it end. A dossier's are kept on its summary row (overrun_steps), so
// the fold knows what the counters hold for it without reading its handovers.
type overrunStep struct {
	Seq          int64  `json:"s"`
	Unit         string `json:"u"`
	OfficialID   string `json:"o,omitempty"`
	OfficialName string `json:"n,omitempty"`
	Centihours   int64  `json:"h"`
}

// overrunOf returns the overrun of a handover that ended after its deadline, measured with cal;
// false for one that did not.
func overrunOf(h *handoverRow, cal *calendar.Calendar) (overrunStep, bool) {
	deadline, ended := exactTime(h.deadline), exactTime(h.endedAt)
	if deadline.IsZero() || ended.IsZero() || !ended.After(deadline) {
		return overrunStep{}, false
	}
	s := overrunStep{Seq: h.seq, Unit: h.toUnit, OfficialID: h.toID, OfficialName: h.toName,
		Centihours: int64(math.Round(cal.WorkingTimeBetween(deadline, ended).Hours() * 100))}
	if s.OfficialID == "" {
		s.OfficialID, s.OfficialName = h.endedByID, h.endedByName
	}
	return s, true
}

// noteOverruns records, from the handovers added or changed since the last flush, the dossier's
// steps that ended late (a correction may rename a step's unit or official after it ended); it
// reports whether the list changed.
func (d *controlDossier) noteOverruns(cal *calendar.Calendar) bool {
	changed := false
	for _, h := range d.log.rows {
		if h.stored && !h.changed {
			continue
		}
		s, late := overrunOf(h, cal)
		if !late {
			continue
		}
		i := slices.IndexFunc(d.overruns, func(o overrunStep) bool { return o.Seq == s.Seq })
		switch {
		case i < 0:
			d.overruns = append(d.overruns, s)
			slices.SortFunc(d.overruns, func(a, b overrunStep) int { return int(a.Seq - b.Seq) })
		case d.overruns[i] == s:
			continue
		default:
			d.overruns[i] = s
		}
		changed = true
	}
	return changed
}

// overrunColumn is the value of the summary's overrun_steps column: NULL when none.
func overrunColumn(steps []overrunStep) (sql.NullString, error) {
	if len(steps) == 0 {
		return sql.NullString{}, nil
	}
	text, err := json.Marshal(steps)
	return sql.NullString{String: string(text), Valid: true}, err
}

func parseOverrunColumn(text sql.NullString) ([]overrunStep, error) {
	if !text.Valid || text.String == "" {
		return nil, nil
	}
	var steps []overrunStep
	if err := json.Unmarshal([]byte(text.String), &steps); err != nil {
		return nil, fmt.Errorf("process control: overrun steps %q: %w", text.String, err)
	}
	return steps, nil
}

// lateLine is the line a dossier's late counts are filed under: the summary row's, as it stands.
type lateLine struct {
	CompetentAgency, ReceivingUnit, FieldCode, ProcedureCode string
	ProcedureName, FieldName                                 string
}

// lateCounted is what the counters hold for one dossier: a function of its summary row and its
// overrun steps. The counts follow the row — a succession or a corrected procedure moves them to
// the dossier's new line, as the dashboard's lists move it —, on the day it was resolved late
// (its overrun steps with it), on the day of its apology, and on the day of its online submission
// when that was answered (or withdrawn) after its acceptance deadline, or not answered yet
// (pending).
type lateCounted struct {
	line                                         lateLine
	resolvedLate, apology, lateAccepted, pending bool
	resolvedDay, apologyDay, submitted           civilDay
	overruns                                     []overrunStep
}

func lateCountedOf(r *summaryRow, overruns []overrunStep) lateCounted {
	c := lateCounted{line: lateLine{CompetentAgency: r.CompetentAgency, ReceivingUnit: r.ReceivingUnit, FieldCode: r.FieldCode,
		ProcedureCode: r.ProcedureCode, ProcedureName: r.ProcedureName, FieldName: r.FieldName}}
	if judge(r.ResolvedAt, r.ResolvedDueDate) == VerdictLate {
		// A copy: the fold changes the dossier's list in place as its steps end or are corrected,
		// and what the counters hold must stay what was written.
		c.resolvedLate, c.resolvedDay, c.overruns = true, dayOf(r.ResolvedAt), slices.Clone(overruns)
	}
	if !r.ApologyAt.IsZero() {
		c.apology, c.apologyDay = true, dayOf(r.ApologyAt)
	}
	// As late_acceptances selects them (lateSets), less the ones not answered yet.
	if answered := firstNonZeroTime(r.RespondedAt, r.WithdrawnAt); !r.SubmittedAt.IsZero() && !answered.IsZero() && answered.After(r.AcceptanceDeadline) {
		c.lateAccepted, c.submitted = true, dayOf(r.SubmittedAt)
	}
	if r.pendingAcceptance() {
		c.pending, c.submitted = true, dayOf(r.SubmittedAt)
	}
	return c
}

func (c lateCounted) equal(o lateCounted) bool {
	return c.line == o.line && c.resolvedLate == o.resolvedLate && c.apology == o.apology && c.lateAccepted == o.lateAccepted && c.pending == o.pending &&
		c.resolvedDay == o.resolvedDay && c.apologyDay == o.apologyDay && c.submitted == o.submitted && slices.Equal(c.overruns, o.overruns)
}

// lateCountKey is a counter row's day and line, before its spans and scopes.
type lateCountKey struct {
	day                               civilDay
	competent, receiving, field, proc string
	unit, official                    string
}

// lateCounters are the counters of a row of control_late_counts or control_late_rollups, in the
// order of lateCountColumns.
type lateCounters struct {
	resolvedLate, apologies, lateAcceptances, steps, centihours, pendingAcceptances int64
}

func (c *lateCounters) add(o lateCounters) {
	c.resolvedLate += o.resolvedLate
	c.apologies += o.apologies
	c.lateAcceptances += o.lateAcceptances
	c.steps += o.steps
	c.centihours += o.centihours
	c.pendingAcceptances += o.pendingAcceptances
}

// fell reports whether the change takes from some counter: a submission answered leaves the
// pending ones, so rows fall to zero as a matter of course.
func (c lateCounters) fell() bool {
	return c.resolvedLate < 0 || c.apologies < 0 || c.lateAcceptances < 0 || c.steps < 0 || c.centihours < 0 || c.pendingAcceptances < 0
}

// values are the counters as a row's values, in the order of lateCountColumns.
func (c lateCounters) values() []any {
	return []any{c.resolvedLate, c.apologies, c.lateAcceptances, c.steps, c.centihours, c.pendingAcceptances}
}

// lateCountSums are a row's counters and names.
type lateCountSums struct {
	lateCounters
	procedureName, fieldName, officialName string
}

// add adds o's changes to s's (mergeChanges).
func (s *lateCountSums) add(o *lateCountSums) {
	s.lateCounters.add(o.lateCounters)
	s.procedureName, s.fieldName, s.officialName = max(s.procedureName, o.procedureName), max(s.fieldName, o.fieldName),
		max(s.officialName, o.officialName)
}

// lateCountsZero holds of a counter row of control_late_counts or control_late_rollups that
// counts nothing: deleted, so that a table folded live equals one rebuilt.
var lateCountsZero = strings.Join(lateCountColumns, " = 0 AND ") + " = 0"

// lateCountChanges are the counters' changes a fold holds until its flush.
type lateCountChanges map[lateCountKey]*lateCountSums

func (m lateCountChanges) at(k lateCountKey, l lateLine) *lateCountSums {
	s := m[k]
	if s == nil {
		s = &lateCountSums{}
		m[k] = s
	}
	s.procedureName, s.fieldName = max(s.procedureName, l.ProcedureName), max(s.fieldName, l.FieldName)
	return s
}

// mergeChanges adds the counters' changes of o, counted apart on another goroutine, to m's.
func mergeChanges[K comparable, S any, P interface {
	*S
	add(*S)
}](m, o map[K]P) {
	for k, s := range o {
		if t := m[k]; t != nil {
			t.add(s)
		} else {
			m[k] = s
		}
	}
}

// count adds (sign 1) or takes back (sign -1) what c counts.
func (m lateCountChanges) count(c lateCounted, sign int64) {
	l := c.line
	if c.resolvedLate {
		m.at(lateCountKey{day: c.resolvedDay, competent: l.CompetentAgency, receiving: l.ReceivingUnit, field: l.FieldCode, proc: l.ProcedureCode}, l).resolvedLate += sign
		for _, s := range c.overruns {
			sums := m.at(lateCountKey{day: c.resolvedDay, competent: l.CompetentAgency, receiving: l.ReceivingUnit, field: l.FieldCode,
				proc: l.ProcedureCode, unit: s.Unit, official: s.OfficialID}, l)
			sums.steps += sign
			sums.centihours += sign * s.Centihours
			sums.officialName = max(sums.officialName, s.OfficialName)
		}
	}
	if c.apology {
		m.at(lateCountKey{day: c.apologyDay, competent: l.CompetentAgency, receiving: l.ReceivingUnit, field: l.FieldCode, proc: l.ProcedureCode}, l).apologies += sign
	}
	if c.lateAccepted {
		m.at(lateCountKey{day: c.submitted, competent: l.CompetentAgency, receiving: l.ReceivingUnit, field: l.FieldCode, proc: l.ProcedureCode}, l).lateAcceptances += sign
	}
	if c.pending {
		m.at(lateCountKey{day: c.submitted, competent: l.CompetentAgency, receiving: l.ReceivingUnit, field: l.FieldCode, proc: l.ProcedureCode}, l).pendingAcceptances += sign
	}
}

// lateCountRow keys a row of the table.
type lateCountRow struct {
	scope, span string
	start       civilDay
	key         lateCountKey // its day unused
}

func (r lateCountRow) values() []any {
	k := r.key
	return []any{r.scope, r.span, r.start.String(), k.competent, k.receiving, k.field, k.proc, k.unit, k.official}
}

// lateRollupRow keys a row of control_late_rollups.
type lateRollupRow struct {
	scope, span      string
	start            civilDay
	dimension, group string
}

// lateRollupSums are a rollup row's counters and its group's name.
type lateRollupSums struct {
	name string
	lateCounters
}

// lateCountWrites are what a flush adds for the changes: the day, month and year rows they fall
// in, under every agency and under the agencies that received and decide the dossiers, as
// increments in key order (flushCounters does the same for II.06a, and says why), and the same
// to the month's and year's rollups.
func (v ProcessControlView) lateCountWrites(changes lateCountChanges) []counterWrite {
	if len(changes) == 0 {
		return nil
	}
	rows := make(map[lateCountRow]*lateCountSums, len(changes)*6)
	rollups := lateRollupChanges{}
	for k, c := range changes {
		line := k
		line.day = 0
		scopes := counterGroup{ReceivingUnit: k.receiving, CompetentAgency: k.competent}.scopes()
		for _, span := range [3]struct {
			span  string
			start civilDay
		}{{spanDay, k.day}, {spanMonth, k.day.monthStart()}, {spanYear, k.day.yearStart()}} {
			for _, scope := range scopes {
				r := lateCountRow{scope: scope, span: span.span, start: span.start, key: line}
				sum := rows[r]
				if sum == nil {
					sum = &lateCountSums{}
					rows[r] = sum
				}
				sum.add(c)
				if span.span != spanDay {
					rollups.add(scope, span.span, span.start, k, c)
				}
			}
		}
	}
	type keyed struct {
		row     lateCountRow
		strings []string
	}
	keys := make([]keyed, 0, len(rows))
	for r := range rows {
		keys = append(keys, keyed{r, keyStrings(r)})
	}
	slices.SortFunc(keys, func(a, b keyed) int { return slices.Compare(a.strings, b.strings) })
	w := counterWrite{table: v.lateCounts(), keyColumns: lateCountKeyColumns, nameColumns: lateCountNameColumns, counterColumns: lateCountColumns,
		zero: lateCountsZero, rows: make([][]any, len(keys))}
	for i, k := range keys {
		s := rows[k.row]
		if s.fell() {
			w.fell = append(w.fell, k.row.values()...) // may have fallen to zero
		}
		w.rows[i] = append(append(k.row.values(), s.procedureName, s.fieldName, s.officialName), s.lateCounters.values()...)
	}
	return []counterWrite{w, v.lateRollupWrite(rollups)}
}

// lateRollupChanges are the rollups' changes a flush writes.
type lateRollupChanges map[lateRollupRow]*lateRollupSums

func (m lateRollupChanges) at(r lateRollupRow, name string) *lateRollupSums {
	s := m[r]
	if s == nil {
		s = &lateRollupSums{}
		m[r] = s
	}
	s.name = max(s.name, name)
	return s
}

// add rolls a line row's change up into the rows of its span and scope: its dossiers' counts to
// its agency, procedure and field, its overrun steps to its unit and official — a step without an
// official counts under its unit alone, as the summaries read the line rows. A change that nets
// to nothing is left out.
func (m lateRollupChanges) add(scope, span string, start civilDay, k lateCountKey, c *lateCountSums) {
	row := func(dimension, group string) lateRollupRow {
		return lateRollupRow{scope: scope, span: span, start: start, dimension: dimension, group: group}
	}
	if c.resolvedLate != 0 || c.apologies != 0 || c.lateAcceptances != 0 || c.pendingAcceptances != 0 {
		for _, g := range [3]struct{ dimension, group, name string }{{rollupAgency, k.competent, ""},
			{rollupProcedure, k.proc, c.procedureName}, {rollupField, k.field, c.fieldName}} {
			s := m.at(row(g.dimension, g.group), g.name)
			s.resolvedLate += c.resolvedLate
			s.apologies += c.apologies
			s.lateAcceptances += c.lateAcceptances
			s.pendingAcceptances += c.pendingAcceptances
		}
	}
	if c.steps != 0 || c.centihours != 0 {
		s := m.at(row(rollupUnit, k.unit), "")
		s.steps += c.steps
		s.centihours += c.centihours
		if k.official != "" {
			s := m.at(row(rollupOfficial, k.official), c.officialName)
			s.steps += c.steps
			s.centihours += c.centihours
		}
	}
}

func (r lateRollupRow) strings() []string {
	return []string{r.scope, r.span, r.start.String(), r.dimension, r.group}
}

// lateRollupWrite is what a flush adds to the rollups: their changes as increments in key order,
// as lateCountWrites does the line rows'.
func (v ProcessControlView) lateRollupWrite(changes lateRollupChanges) counterWrite {
	w := counterWrite{table: v.lateRollups(), keyColumns: lateRollupKeyColumns, nameColumns: []string{"name"}, counterColumns: lateCountColumns,
		zero: lateCountsZero}
	keys := make([]lateRollupRow, 0, len(changes))
	for r := range changes {
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool { return slices.Compare(keys[i].strings(), keys[j].strings()) < 0 })
	w.rows = make([][]any, len(keys))
	for i, k := range keys {
		s := changes[k]
		if s.fell() {
			w.fell = append(w.fell, k.scope, k.span, k.start.String(), k.dimension, k.group) // may have fallen to zero
		}
		w.rows[i] = append([]any{k.scope, k.span, k.start.String(), k.dimension, k.group, s.name}, s.lateCounters.values()...)
	}
	return w
}

func keyStrings(r lateCountRow) []string {
	k := r.key
	return []string{r.scope, r.span, r.start.String(), k.competent, k.receiving, k.field, k.proc, k.unit, k.official}
}

// The bounds standing for an unbounded period's ends: every counter row lies between them.
var (
	lateCountsSince = civilDayOf(1900, time.January, 1)
	lateCountsUntil = civilDayOf(3000, time.January, 1)
)

// What lateCountsQuery's statement answers.
type lateCountsAnswer int

const (
	lateCountsByGroup  lateCountsAnswer = iota // each range's sums by line or by rollup group, for the caller to net
	lateCountsTotals                           // the dossiers resolved late, apologies and acceptances answered late, in all
	lateCountsRowsRead                         // how many counter rows the sums read
)

// countersAnswer reports whether the counters answer for the period: its bounds are Vietnam
// midnights, or unbounded — the counters are kept per Vietnam civil day.
func countersAnswer(p Period) bool {
	return (p.From.IsZero() || vietnamMidnight(p.From)) && (p.To.IsZero() || vietnamMidnight(p.To))
}

// filtersLines reports whether f keeps some lines only — a receiving unit, a procedure or a field —,
// so that the summaries read the counters' line rows rather than their rollups.
func (f LateFilter) filtersLines() bool { return f.Unit != "" || f.Procedure != "" || f.Field != "" }

// lineFilters keeps the rows under f's receiving unit, procedure and field: the counter rows'
// (prefix "") or the summary rows' (prefix "d.").
func lineFilters(c *conditions, prefix string, f LateFilter) {
	if f.Unit != "" {
		c.add(prefix+"receiving_unit = ?", f.Unit)
	}
	if f.Procedure != "" {
		c.add(prefix+"procedure_code = ?", f.Procedure)
	}
	if f.Field != "" {
		c.add(prefix+"field_code = ?", f.Field)
	}
}

// lateCounterRows selects the counter rows of one span whose periods start in [from, to), of the
// scope and under f's receiving unit, procedure and field — the late dashboard's period counters
// and its open overdue counters share the shape — after the arguments args already holds.
func lateCounterRows(args []any, scope, span string, from, to string, f LateFilter) conditions {
	c := conditions{args: args}
	c.add("scope = ?", scope)
	c.add("span = ?", span)
	c.add("period_start >= ?", from)
	c.add("period_start < ?", to)
	lineFilters(&c, "", f)
	return c
}

// lateCountsQuery returns the statement summing the counter rows of the period under f, and its
// arguments; "" when the period is empty. Under a filter on the lines (filtersLines) it reads the
// line rows of control_late_counts; unfiltered, the rollups of control_late_rollups for its whole
// months and years, and the line rows for its days (rolled up, they would be no fewer). The
// period's bounds must be Vietnam midnights, or unbounded.
//
// By group, each row is a rollup's (dimension and group_key set, its name in procedure_name) or a
// line's (dimension and group_key empty), its sums those of one range of counterRanges, negative
// for a range taken away: the caller nets them (periodCounts).
func lateCountsQuery(f LateFilter, answer lateCountsAnswer) (string, []any, error) {
	if !countersAnswer(f.Period) {
		return "", nil, fmt.Errorf("late dashboard: the period must run from a Vietnam midnight to another, got %v–%v", f.Period.From, f.Period.To)
	}
	from, to := lateCountsSince, lateCountsUntil
	if !f.Period.From.IsZero() {
		from = dayOf(f.Period.From)
	}
	if !f.Period.To.IsZero() {
		to = dayOf(f.Period.To)
	}
	scope := allAgencies
	if !f.Agency.All() {
		scope = f.Agency.Agency() // no row's scope is empty: a scope of no agency reads nothing
	}
	var parts []string
	var args []any
	for _, r := range counterRanges(from, to) {
		if r.before || r.from >= r.to {
			continue
		}
		c := lateCounterRows(args, scope, r.span, r.from.String(), r.to.String(), f)
		rolledUp := !f.filtersLines() && r.span != spanDay
		table := "control_late_counts"
		if rolledUp {
			table = "control_late_rollups"
		}
		// A range counterRanges reads in place of a cheaper month's or year's row is taken away.
		sum := "SUM"
		if r.less {
			sum = "-SUM"
		}
		sums := sum + `(resolved_late) AS resolved_late, ` + sum + `(apologies) AS apologies, ` + sum + `(late_acceptances) AS late_acceptances, ` +
			sum + `(pending_acceptances) AS pending_acceptances`
		switch answer {
		case lateCountsRowsRead:
			parts = append(parts, `SELECT COUNT(*) AS n FROM `+table+c.where())
			args = c.args
			continue
		case lateCountsTotals:
			// The rows counting each dossier once: the agencies' rollups, the line rows of no unit
			// or official.
			if rolledUp {
				c.add("dimension = ?", rollupAgency)
			} else {
				c.add("unit = ''")
				c.add("official_id = ''")
			}
			parts = append(parts, `SELECT `+sums+` FROM `+table+c.where())
			args = c.args
			continue
		}
		sums += `, ` + sum + `(overrun_steps) AS overrun_steps, ` + sum + `(overrun_centihours) AS overrun_centihours`
		if rolledUp {
			parts = append(parts, `SELECT dimension, group_key, '', '', '', '', '', MAX(name), '', '', `+sums+` FROM `+table+c.where()+
				` GROUP BY dimension, group_key`)
		} else {
			parts = append(parts, `SELECT '', '', competent_agency, field_code, procedure_code, unit, official_id, MAX(procedure_name), MAX(field_name),
			MAX(official_name), `+sums+` FROM `+table+c.where()+` GROUP BY competent_agency, field_code, procedure_code, unit, official_id`)
		}
		args = c.args
	}
	switch {
	case len(parts) == 0:
		return "", nil, nil
	case answer == lateCountsRowsRead:
		return `SELECT SUM(n) FROM (` + strings.Join(parts, " UNION ALL ") + `) counted`, args, nil
	case answer == lateCountsTotals:
		return `SELECT COALESCE(SUM(resolved_late), 0), COALESCE(SUM(apologies), 0), COALESCE(SUM(late_acceptances), 0),
			COALESCE(SUM(pending_acceptances), 0) FROM (` +
			strings.Join(parts, " UNION ALL ") + `) summed`, args, nil
	}
	return strings.Join(parts, " UNION ALL "), args, nil
}

// lateTotals are the counters' totals of the period's lists.
type lateTotals struct {
	// pendingAcceptances are the period's submissions not answered yet, late at now or not.
	resolvedLate, apologies, lateAcceptances, pendingAcceptances int
	// openOverdue is the open dossiers overdue at now, from their counters (openOverdueQuery);
	// openOverdueCounted says the dashboard's summaries counted them.
	openOverdue        int
	openOverdueCounted bool
}

// periodTotals sums the counters' totals of the period under f.
func periodTotals(ctx context.Context, db *sql.DB, f LateFilter) (lateTotals, error) {
	var t lateTotals
	if f.Agency.none() {
		return t, nil
	}
	query, args, err := lateCountsQuery(f, lateCountsTotals)
	if err != nil || query == "" {
		return t, err
	}
	err = db.QueryRowContext(ctx, query, args...).Scan(&t.resolvedLate, &t.apologies, &t.lateAcceptances, &t.pendingAcceptances)
	return t, err
}

// lateListTotal counts the dossiers of the list under f: the open overdue ones from their counters
// per due day and today's entries (openOverdueQuery); the due-soon ones of every agency unfiltered
// on the list's key alone (lateRangeAlone); from the counters for the period's lists — those
// resolved late, the apologies, the acceptances answered late and the submissions not answered
// yet, less those whose deadline is still ahead —, else over the list's range. totals are the
// counters' totals when the caller has them (the dashboard's summaries read them), else nil.
func lateListTotal(ctx context.Context, db *sql.DB, list string, f LateFilter, dueBy time.Time, totals *lateTotals) (int, error) {
	var total int
	switch {
	case list == LateListOpenOverdue:
		if totals != nil && totals.openOverdueCounted {
			return totals.openOverdue, nil
		}
		return openOverdueTotal(ctx, db, f)
	case lateRangeAlone(list, f):
		c := lateConditions(list, f, dueBy)
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM control_late l`+c.where(), c.args...).Scan(&total)
		return total, err
	}
	counted := list == LateListResolvedLate || list == LateListApologies || list == LateListLateAcceptances
	if !counted || !countersAnswer(f.Period) {
		c := lateConditions(list, f, dueBy)
		err := db.QueryRowContext(ctx, `SELECT COUNT(*)`+lateFrom(db)+c.where(), c.args...).Scan(&total)
		return total, err
	}
	if totals == nil {
		t, err := periodTotals(ctx, db, f)
		if err != nil {
			return 0, err
		}
		totals = &t
	}
	switch list {
	case LateListResolvedLate:
		return totals.resolvedLate, nil
	case LateListApologies:
		return totals.apologies, nil
	}
	if f.Agency.none() {
		return 0, nil
	}
	// The submissions not answered yet are late once now passes their deadline: the period's
	// pending ones counted, less those not late yet.
	query, args := pendingNotLateQuery(db, f)
	var notLateYet int
	err := db.QueryRowContext(ctx, query, args...).Scan(&notLateYet)
	return totals.lateAcceptances + totals.pendingAcceptances - notLateYet, err
}

// pendingNotLateQuery returns the statement counting the period's submissions under f not
// answered yet whose acceptance deadline is now or later, and its arguments: the pending set's
// range from now on, each summary looked up for its submission's time and line.
func pendingNotLateQuery(db *sql.DB, f LateFilter) (string, []any) {
	var c conditions
	c.add("l.list = ?", lateSetPendingAcceptances)
	c.add("l.key >= ?", sqlTime(f.Now))
	c.within("d.submitted_at", f.Period)
	lateFilters(&c, f)
	return `SELECT COUNT(*)` + lateFrom(db) + c.where(), c.args
}

// periodCounts adds the period's counts to the summaries — dossiers resolved late and apologies by
// agency, procedure and field; the overrun steps of the dossiers resolved late by unit and
// official — and returns the totals of the period's lists. It rolls the line rows it reads up as
// the fold rolls them up (lateRollupChanges.add), nets them with the rollups it reads, and shows
// the groups left with something to count.
func periodCounts(ctx context.Context, db *sql.DB, f LateFilter, agencies, procedures, fields groups[LateGroup], units, officials groups[OverrunGroup]) (lateTotals, error) {
	var totals lateTotals
	if f.Agency.none() {
		return totals, nil
	}
	query, args, err := lateCountsQuery(f, lateCountsByGroup)
	if err != nil || query == "" {
		return totals, err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return totals, err
	}
	defer rows.Close()
	sums := lateRollupChanges{} // by dimension and group; scope and span unused
	for rows.Next() {
		var dimension, group string
		var k lateCountKey
		var c lateCountSums
		if err := rows.Scan(&dimension, &group, &k.competent, &k.field, &k.proc, &k.unit, &k.official, &c.procedureName, &c.fieldName, &c.officialName,
			&c.resolvedLate, &c.apologies, &c.lateAcceptances, &c.pendingAcceptances, &c.steps, &c.centihours); err != nil {
			return totals, err
		}
		if dimension == "" {
			sums.add("", "", 0, k, &c)
			continue
		}
		sums.at(lateRollupRow{dimension: dimension, group: group}, c.procedureName).add(c.lateCounters)
	}
	if err := rows.Err(); err != nil {
		return totals, err
	}
	lateGroup := func(key, name string) *LateGroup { return &LateGroup{Key: key, Name: name} }
	overrunGroup := func(key, name string) *OverrunGroup { return &OverrunGroup{Key: key, Name: name} }
	for r, s := range sums {
		if r.dimension == rollupAgency { // each dossier once, under its competent agency
			totals.resolvedLate += int(s.resolvedLate)
			totals.apologies += int(s.apologies)
			totals.lateAcceptances += int(s.lateAcceptances)
			totals.pendingAcceptances += int(s.pendingAcceptances)
		}
		late := map[string]groups[LateGroup]{rollupAgency: agencies, rollupProcedure: procedures, rollupField: fields}[r.dimension]
		if late != nil && (s.resolvedLate != 0 || s.apologies != 0) {
			g := late.get(r.group, s.name, lateGroup)
			g.ResolvedLate += int(s.resolvedLate)
			g.Apologies += int(s.apologies)
			g.Name = max(g.Name, s.name)
		}
		overrun := map[string]groups[OverrunGroup]{rollupUnit: units, rollupOfficial: officials}[r.dimension]
		if overrun != nil && s.steps != 0 {
			g := overrun.get(r.group, s.name, overrunGroup)
			g.OverrunSteps += int(s.steps)
			// Hours are summed in hundredths, exact, per group.
			g.OverrunHours += float64(s.centihours) / 100
			g.Name = max(g.Name, s.name)
		}
	}
	return totals, nil
}
