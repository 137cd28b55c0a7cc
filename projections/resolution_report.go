package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// ResolutionReportView feeds the statistics report on receiving and resolving dossiers (form
// II.06a/VPCP/KSTT, regulations §6) from counters, so that a report reads a number of rows bounded
// by the lines it shows and the calendar, never by the dossiers (docs/projections.md, "Counters
// for the II.06a report"):
//
//   - resolution_counts: per scope (every agency, or one agency: the dossiers it received or
//     decides) × Vietnam civil day, month and year × field × procedure × channel, the dossiers
//     received, resolved (early, on time, late under both the law's and the QĐ 766 indicator's
//     rule; by rejection), withdrawn, and the changes of the stock of dossiers in progress and of
//     those overdue under each rule. The stock at a day's start is the sum of the changes of the
//     days before it, so "carried over" and "in progress at the end, within time or overdue
//     against the clock as it stood then" come from the same rows for any day, whatever happened
//     after;
//   - resolution_open: the open set — a received dossier until it is resolved or withdrawn, and a
//     submission whose supplement requests the indicator will count — with its clock in force:
//     what the fold needs to write the changes an event makes;
//   - resolution_procedures: the latest names of each field and procedure code.
type ResolutionReportView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (ResolutionReportView) Name() string { return "resolution_report" }
func (ResolutionReportView) Tables() []string {
	return []string{"resolution_counts", "resolution_open", "resolution_procedures"}
}

// SchemaVersion 3: counters and the open set replace the summary copy and the clock history.
// 5: the dossiers handed to and taken from another agency by a succession.
func (ResolutionReportView) SchemaVersion() int { return 5 } // 4: counters and open set WITHOUT ROWID on SQLite
func (ResolutionReportView) WithPrefix(prefix string) engine.Consumer {
	return ResolutionReportView{Prefix: prefix}
}
func (v ResolutionReportView) countsTable() string     { return v.Prefix + "resolution_counts" }
func (v ResolutionReportView) openTable() string       { return v.Prefix + "resolution_open" }
func (v ResolutionReportView) proceduresTable() string { return v.Prefix + "resolution_procedures" }

// counterKeyColumns key a counter row: whose dossiers it counts (an agency's — those it received
// or decides —, or allAgencies'), the span it covers, and the line and channel it counts.
var counterKeyColumns = []string{"scope", "span", "period_start", "field_code", "procedure_code", "channel"}

// allAgencies is the scope of the rows counting every agency's dossiers: no agency identifier
// (QCVN 102) holds an asterisk.
const allAgencies = "*"

// The counters of a row, in the order of counterColumns.
const (
	countReceived = iota
	countResolvedEarly
	countResolvedOnTime
	countResolvedLate
	countResolvedByRejection
	countWithdrawn
	countIndicatorEarly
	countIndicatorOnTime
	countIndicatorLate
	// countOpenChange is the change of the stock in progress: +1 on the day of receipt, -1 on the day
	// of the resolution or withdrawal.
	countOpenChange
	// countOverdueChange and countIndicatorOverdueChange are the changes of the stock in progress
	// and overdue under each rule (openDossier.overdueSince).
	countOverdueChange
	countIndicatorOverdueChange
	// countTakenOver and countHandedOver are the dossiers a succession (domain.AgencySucceeded) moved
	// into an agency's scope and out of one; they are written to the scopes that changed only, never
	// to allAgencies (flushCounters).
	countTakenOver
	countHandedOver
	counterCount
)

var counterColumns = [counterCount]string{"received", "resolved_early", "resolved_on_time", "resolved_late", "resolved_by_rejection", "withdrawn",
	"indicator_early", "indicator_on_time", "indicator_late", "open_change", "overdue_change", "indicator_overdue_change", "taken_over", "handed_over"}

// resolutionCounters are the counters of one row.
type resolutionCounters [counterCount]int64

// The spans a counter row covers: a report sums whole years, months and days (counterRanges).
const (
	spanDay   = "day"
	spanMonth = "month"
	spanYear  = "year"
	// spanHour: the open overdue dossiers' counters (late_overdue.go) count each one under the
	// hour of its due moment too, so that the dossiers due earlier today are read from counters.
	spanHour = "hour"
)

var openColumns = []string{"dossier_id", "receiving_unit", "competent_agency", "field_code", "procedure_code", "channel", "received_at",
	"clock_since", "due_date", "indicator_due_date", "paused_at", "supplement_requests", "indicator_supplement_limit"}

var procedureColumns = []string{"field_code", "procedure_code", "field_name", "procedure_name", "named_at"}

func (v ResolutionReportView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	// A report reads ranges of the key (scope, span, period_start): no secondary index to write.
	statements := []string{createCounterTable(d, v.countsTable(), counterKeyColumns, nil, counterColumns[:])}
	// The open set is read by key alone, by the fold: no secondary index to write.
	statements = append(statements, createKeyTable(d, v.openTable(), `
			dossier_id TEXT NOT NULL PRIMARY KEY,
			receiving_unit TEXT NOT NULL, competent_agency TEXT NOT NULL, field_code TEXT NOT NULL,
			procedure_code TEXT NOT NULL, channel TEXT NOT NULL,
			received_at TEXT, clock_since TEXT, due_date TEXT, indicator_due_date TEXT, paused_at TEXT,
			supplement_requests INTEGER NOT NULL, indicator_supplement_limit INTEGER NOT NULL`),
		`CREATE TABLE IF NOT EXISTS `+v.proceduresTable()+` (
			field_code TEXT NOT NULL, procedure_code TEXT NOT NULL,
			field_name TEXT NOT NULL, procedure_name TEXT NOT NULL, named_at TEXT NOT NULL,
			PRIMARY KEY (field_code, procedure_code))`)
	return execAll(ctx, db, statements)
}

// Apply folds the batch alone: the fold is the one implementation of the read model.
func (v ResolutionReportView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold starts folding onto the tables; fresh says they are empty.
func (v ResolutionReportView) NewFold(fresh bool) engine.Fold {
	return &resolutionFold{v: v, readBack: !fresh, heldLimit: openHeldLimit, open: map[string]*openDossier{}, absent: map[string]bool{},
		groups: map[counterGroup]int32{}, changes: map[dayGroup]*resolutionCounters{}, names: map[[2]string]procedureNames{}}
}

// civilDay is a Vietnam civil day: days since 1 January 1970 in Vietnam time, which keeps no
// daylight saving, so a day is always 86,400 seconds.
type civilDay int32

var vietnamOffset = func() int64 {
	_, offset := time.Unix(0, 0).In(domain.VietnamTime).Zone()
	return int64(offset)
}()

func dayOf(t time.Time) civilDay { return civilDay(vietnamUnitsSinceEpoch(t, 86400)) }

// vietnamUnitsSinceEpoch is how many whole units of seconds have passed from 1 January 1970 00:00
// in Vietnam time to t, rounded down (before then too).
func vietnamUnitsSinceEpoch(t time.Time, unit int64) int64 {
	s := t.Unix() + vietnamOffset
	n := s / unit
	if s%unit < 0 {
		n--
	}
	return n
}

// date is the day's calendar date.
func (d civilDay) date() (int, time.Month, int) { return time.Unix(int64(d)*86400, 0).UTC().Date() }

func (d civilDay) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

func civilDayOf(year int, month time.Month, day int) civilDay {
	return civilDay(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// civilHour is an hour of Vietnam time: hours since 1 January 1970 00:00 in Vietnam time.
type civilHour int32

func hourOf(t time.Time) civilHour { return civilHour(vietnamUnitsSinceEpoch(t, 3600)) }

// day is the civil day the hour is part of.
func (h civilHour) day() civilDay { return civilDay((int64(h) - int64(h.ofDay())) / 24) }

// ofDay is the hour's number in its day, 0 to 23.
func (h civilHour) ofDay() int { return int((int64(h)%24 + 24) % 24) }

// start is the moment the hour begins.
func (h civilHour) start() time.Time { return time.Unix(int64(h)*3600-vietnamOffset, 0).UTC() }

// String is the hour as a counter row's period_start holds it: its day and its number, "2026-12-07T08",
// so that a day's hours sort in order and within the day's bounds.
func (h civilHour) String() string { return fmt.Sprintf("%sT%02d", h.day(), h.ofDay()) }

func (d civilDay) monthStart() civilDay {
	y, m, _ := d.date()
	return civilDayOf(y, m, 1)
}

func (d civilDay) yearStart() civilDay {
	y, _, _ := d.date()
	return civilDayOf(y, time.January, 1)
}

// counterGroup is what a counter row counts by, besides its span.
type counterGroup struct {
	ReceivingUnit, CompetentAgency, FieldCode, ProcedureCode, Channel string
}

// dayGroup is a day's counters of a group, the group named by its number in the fold.
type dayGroup struct {
	day   civilDay
	group int32
}

// procedureNames are a field's and procedure's names as a receipt recorded them, and when.
type procedureNames struct {
	field, procedure string
	namedAt          string // the receipt's time, as stored
}

// later reports whether n names the procedure after (or, at the same instant, above) o: the table
// keeps the latest names whatever order the receipts are folded in.
func (n procedureNames) later(o procedureNames) bool {
	if n.namedAt != o.namedAt {
		return n.namedAt > o.namedAt
	}
	if n.procedure != o.procedure {
		return n.procedure > o.procedure
	}
	return n.field > o.field
}

// openDossier is a dossier of the open set with its clock in force.
type openDossier struct {
	id    string
	group counterGroup
	// ReceivedAt is zero for a submission not yet received, held only for the supplement requests
	// made before receipt, which the indicator counts.
	ReceivedAt time.Time
	// ClockSince is when the clock took its current state: receipt, supplement request and
	// return, suspension, resumption.
	ClockSince                                   time.Time
	DueDate, IndicatorDueDate, PausedAt          time.Time
	SupplementRequests, IndicatorSupplementLimit int

	groupID int32 // the group's number in the fold
	stored  bool  // the table holds the row
	dirty   bool  // changed since the last flush
	closed  bool  // resolved, withdrawn or refused: the row goes
}

// overdueSince returns the day after which the dossier, its clock as it stands, counts as overdue
// under rule at a day's start, as long as the clock keeps this state: judged at that moment, or
// at the moment the clock stopped when it is paused — waiting for the applicant's supplement, or
// suspended — as the domain judges it (Dossier.LegalVerdict, Dossier.IndicatorVerdict); ok is
// false when it does not while the state lasts. A day's start counts the state in force from the
// day after ClockSince's, which the change written on ClockSince's day reaches.
func (o *openDossier) overdueSince(rule verdictRule) (since civilDay, ok bool) {
	due := o.DueDate
	if rule == ruleIndicator {
		if o.SupplementRequests > o.IndicatorSupplementLimit {
			return dayOf(o.ClockSince), true
		}
		due = o.IndicatorDueDate
	}
	if !o.PausedAt.IsZero() {
		return dayOf(o.ClockSince), o.PausedAt.After(due)
	}
	if due.IsZero() {
		return dayOf(o.ClockSince), true
	}
	return max(dayOf(o.ClockSince), dayOf(due)), true
}

// resolutionFold folds events into the open set and the counters' changes.
type resolutionFold struct {
	v ResolutionReportView
	// readBack says the table may hold rows of the open set the fold does not: false for a fold
	// onto empty tables, until it forgets rows it held.
	readBack  bool
	heldLimit int // openHeldLimit
	open      map[string]*openDossier
	absent    map[string]bool // read back and not in the table
	dirty     int             // rows of open changed since the last flush
	groups    map[counterGroup]int32
	groupOf   []counterGroup
	changes   map[dayGroup]*resolutionCounters
	names     map[[2]string]procedureNames
	moves     []successionMove  // since the last flush
	prepared  *resolutionWrites // what the next flush writes, when PrepareFlush worked it out
}

// resolutionWrites is what a flush writes, each list in key order: the counters' increments, the
// open rows new to the table and those it holds, the closed dossiers' rows to delete, the names.
type resolutionWrites struct {
	counters      [][]any
	fresh, stored [][]any
	gone          []string
	names         [][]any
}

// successionMove is a dossier moved from one group to another by a succession, on a day.
type successionMove struct {
	day      civilDay
	from, to int32
}

// openHeldLimit bounds the open dossiers a fold keeps between flushes; past it, it forgets them
// and reads back the ones later events need.
const openHeldLimit = 200_000

func (f *resolutionFold) Held() int { return f.dirty + len(f.changes) + len(f.names) }

// Add folds the batch, reading back first the open rows of the dossiers it needs and does not hold.
func (f *resolutionFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	events, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	if f.readBack {
		var missing []string
		wanted := map[string]bool{}
		for i, e := range events {
			if e == nil || !movesOpenSet(e) {
				continue
			}
			id := strings.TrimPrefix(batch.Events[i].Stream, "dossier-")
			if f.open[id] == nil && !f.absent[id] && !wanted[id] {
				wanted[id] = true
				missing = append(missing, id)
			}
		}
		if err := f.load(ctx, q, batch.Dialect, missing); err != nil {
			return err
		}
	}
	for i, e := range events {
		if e != nil {
			f.fold(strings.TrimPrefix(batch.Events[i].Stream, "dossier-"), e)
		}
	}
	return nil
}

// movesOpenSet reports whether e can change a dossier's row of the open set or the counters.
func movesOpenSet(e domain.Event) bool {
	switch e := e.(type) {
	case domain.Received, domain.SupplementRequested, domain.Supplemented, domain.Suspended, domain.Resumed,
		domain.ResultReady, domain.Rejected, domain.Withdrawn, domain.ReceptionRefused, domain.AgencySucceeded:
		return true
	case domain.CorrectionApproved:
		return e.Procedure != nil
	}
	return false
}

// load reads the open rows of ids; the ones the table does not hold are remembered as absent.
func (f *resolutionFold) load(ctx context.Context, q engine.Querier, d engine.Dialect, ids []string) error {
	for start := 0; start < len(ids); start += maxParameters {
		chunk := ids[start:min(start+maxParameters, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(openColumns, ", ")+` FROM `+f.v.openTable()+
			` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, engine.StringArgs(chunk)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			o := &openDossier{stored: true}
			var received, since, due, indicatorDue, paused sql.NullString
			var supplements, limit int64
			if err := rows.Scan(&o.id, &o.group.ReceivingUnit, &o.group.CompetentAgency, &o.group.FieldCode, &o.group.ProcedureCode,
				&o.group.Channel, &received, &since, &due, &indicatorDue, &paused, &supplements, &limit); err != nil {
				rows.Close()
				return err
			}
			o.ReceivedAt, o.ClockSince, o.DueDate = parseSQLTime(received), parseSQLTime(since), parseSQLTime(due)
			o.IndicatorDueDate, o.PausedAt = parseSQLTime(indicatorDue), parseSQLTime(paused)
			o.SupplementRequests, o.IndicatorSupplementLimit = int(supplements), int(limit)
			if !o.ReceivedAt.IsZero() {
				o.groupID = f.groupID(o.group)
			}
			f.open[o.id] = o
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if f.open[id] == nil {
			f.absent[id] = true
		}
	}
	return nil
}

func (f *resolutionFold) groupID(g counterGroup) int32 {
	id, ok := f.groups[g]
	if !ok {
		id = int32(len(f.groupOf))
		f.groups[g] = id
		f.groupOf = append(f.groupOf, g)
	}
	return id
}

func (f *resolutionFold) count(day civilDay, group int32, counter int, n int64) {
	k := dayGroup{day, group}
	c := f.changes[k]
	if c == nil {
		c = &resolutionCounters{}
		f.changes[k] = c
	}
	c[counter] += n
}

func (f *resolutionFold) touch(o *openDossier) {
	if !o.dirty {
		o.dirty = true
		f.dirty++
	}
}

// exactTime is t as the table stores it, to the microsecond: a row read back judges exactly as
// the one held.
func exactTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Microsecond).UTC()
}

// clockStarts counts the dossier, from its clock's new state, in the overdue stocks it belongs to.
func (f *resolutionFold) clockStarts(o *openDossier) {
	if day, ok := o.overdueSince(ruleLegal); ok {
		f.count(day, o.groupID, countOverdueChange, 1)
	}
	if day, ok := o.overdueSince(ruleIndicator); ok {
		f.count(day, o.groupID, countIndicatorOverdueChange, 1)
	}
}

// clockEnds takes the dossier out of the overdue stocks its clock's state put it in, from the
// day after `at`, when the state ends: on a day's start after `at` the next state counts. A state
// that ended before it made the dossier overdue takes back its own change on the same day.
func (f *resolutionFold) clockEnds(o *openDossier, at time.Time) {
	end := dayOf(at)
	if day, ok := o.overdueSince(ruleLegal); ok {
		f.count(max(day, end), o.groupID, countOverdueChange, -1)
	}
	if day, ok := o.overdueSince(ruleIndicator); ok {
		f.count(max(day, end), o.groupID, countIndicatorOverdueChange, -1)
	}
}

// changeClock moves the clock of a received dossier to a new state at `at`.
func (f *resolutionFold) changeClock(o *openDossier, at time.Time, change func()) {
	at = exactTime(at)
	f.clockEnds(o, at)
	change()
	o.ClockSince = at
	f.clockStarts(o)
	f.touch(o)
}

// leave takes a received dossier out of the open set at `at`: resolved or withdrawn.
func (f *resolutionFold) leave(o *openDossier, at time.Time) {
	f.clockEnds(o, at)
	f.count(dayOf(at), o.groupID, countOpenChange, -1)
	o.closed = true
	f.touch(o)
}

// fold applies one dossier event. Times come from the events' own payloads (the facts the domain
// decided), never from when the projection runs.
func (f *resolutionFold) fold(id string, e domain.Event) {
	o := f.open[id]
	if o != nil && o.closed {
		return
	}
	received := o != nil && !o.ReceivedAt.IsZero()
	switch e := e.(type) {
	case domain.Received:
		if received {
			return
		}
		if o == nil {
			o = &openDossier{id: id}
			f.open[id] = o
			delete(f.absent, id)
		}
		f.receive(o, e)
	case domain.SupplementRequested:
		switch {
		case received:
			f.changeClock(o, e.RequestedAt, func() { o.PausedAt, o.SupplementRequests = exactTime(e.RequestedAt), e.RequestNumber })
		case e.BeforeReceipt:
			// The indicator counts the requests made before receipt too.
			if o == nil {
				o = &openDossier{id: id}
				f.open[id] = o
				delete(f.absent, id)
			}
			o.SupplementRequests = e.RequestNumber
			f.touch(o)
		}
	case domain.Supplemented:
		if received {
			f.changeClock(o, e.SupplementedAt, func() {
				o.PausedAt = time.Time{}
				if !e.NewAppointmentDate.IsZero() {
					// NĐ 61 art. 19: the time limit restarts; events recorded before the indicator's
					// date was kept give the legal one, as Evolve does.
					o.DueDate = exactTime(e.NewAppointmentDate)
					o.IndicatorDueDate = exactTime(firstNonZeroTime(e.NewIndicatorDueDate, e.NewAppointmentDate))
				}
			})
		}
	case domain.Suspended:
		if received {
			f.changeClock(o, e.SuspendedAt, func() { o.PausedAt = exactTime(e.SuspendedAt) })
		}
	case domain.Resumed:
		if received {
			f.changeClock(o, e.ResumedAt, func() {
				o.PausedAt = time.Time{}
				// Events recorded before the due dates were kept moved only the appointment date.
				o.DueDate = exactTime(firstNonZeroTime(e.NewDueDate, e.NewAppointmentDate))
				o.IndicatorDueDate = exactTime(firstNonZeroTime(e.NewIndicatorDueDate, e.NewAppointmentDate))
			})
		}
	case domain.ResultReady:
		if received {
			f.resolve(o, e.ReadyAt, false)
		}
	case domain.Rejected:
		// A written refusal after appraisal resolves the dossier: it counts as resolved, judged
		// against the due date like a result.
		if received {
			f.resolve(o, e.RejectedAt, true)
		}
	case domain.Withdrawn:
		switch {
		case received:
			at := exactTime(e.WithdrawnAt)
			f.count(dayOf(at), o.groupID, countWithdrawn, 1)
			f.leave(o, at)
		case o != nil:
			o.closed = true
			f.touch(o)
		}
	case domain.ReceptionRefused:
		if o != nil && !received {
			o.closed = true
			f.touch(o)
		}
	case domain.CorrectionApproved:
		// A corrected procedure brings its own due dates, which judge the dossier from the
		// approval on; the dossier stays counted under the procedure it was received with, so a
		// period's report already sent does not change (docs/rules.md, "Corrections with approval").
		if p := e.Procedure; received && p != nil {
			f.changeClock(o, e.ApprovedAt, func() {
				o.DueDate, o.IndicatorDueDate = exactTime(p.NewDueDate), exactTime(p.NewIndicatorDueDate)
			})
		}
	case domain.AgencySucceeded:
		if received {
			f.succeed(o, e)
		}
	}
}

// succeed moves a received dossier to its successor's group at the moment of the succession: the
// days before keep counting it where it was — a report of a period before the succession shows
// the abolished agency —, the days after count it at the successor. Its clock does not change.
func (f *resolutionFold) succeed(o *openDossier, e domain.AgencySucceeded) {
	to := o.group
	to.ReceivingUnit, to.CompetentAgency = succeeded(to.ReceivingUnit, e), succeeded(to.CompetentAgency, e)
	if to == o.group {
		return
	}
	at := exactTime(e.SucceededAt)
	day := dayOf(at)
	from := o.groupID
	f.clockEnds(o, at)
	f.count(day, from, countOpenChange, -1)
	o.group, o.groupID, o.ClockSince = to, f.groupID(to), at
	f.count(day, o.groupID, countOpenChange, 1)
	f.clockStarts(o)
	f.moves = append(f.moves, successionMove{day: day, from: from, to: o.groupID})
	f.touch(o)
}

func (f *resolutionFold) receive(o *openDossier, e domain.Received) {
	o.group = counterGroup{ReceivingUnit: domain.SanitizeText(e.ReceivingUnit), CompetentAgency: domain.SanitizeText(e.CompetentAgency),
		FieldCode: domain.SanitizeText(e.Procedure.FieldCode), ProcedureCode: domain.SanitizeText(e.Procedure.Code), Channel: domain.SanitizeText(string(e.Channel))}
	o.groupID = f.groupID(o.group)
	o.ReceivedAt, o.ClockSince = exactTime(e.ReceivedAt), exactTime(e.ReceivedAt)
	o.DueDate, o.IndicatorDueDate, o.PausedAt = exactTime(e.AppointmentDate), exactTime(e.AppointmentDate), time.Time{}
	o.IndicatorSupplementLimit = domain.DefaultRuleBook().ForDossier(domain.Dossier{Rules: e.Rules, ReceivedAt: e.ReceivedAt}).IndicatorMaxSupplementRequests
	day := dayOf(o.ReceivedAt)
	f.count(day, o.groupID, countReceived, 1)
	f.count(day, o.groupID, countOpenChange, 1)
	f.clockStarts(o)
	f.touch(o)
	names := procedureNames{field: domain.SanitizeText(e.Procedure.FieldName), procedure: domain.SanitizeText(e.Procedure.Name), namedAt: sqlTime(o.ReceivedAt).String}
	key := [2]string{o.group.FieldCode, o.group.ProcedureCode}
	if have, ok := f.names[key]; !ok || names.later(have) {
		f.names[key] = names
	}
}

// resolve counts the first result, or a written rejection, judged against the due dates in force.
func (f *resolutionFold) resolve(o *openDossier, at time.Time, rejected bool) {
	at = exactTime(at)
	day := dayOf(at)
	// No verdict (no due date) counts late, as it always has.
	switch judge(at, o.DueDate) {
	case VerdictEarly:
		f.count(day, o.groupID, countResolvedEarly, 1)
	case VerdictOnTime:
		f.count(day, o.groupID, countResolvedOnTime, 1)
	default:
		f.count(day, o.groupID, countResolvedLate, 1)
	}
	switch v := judge(at, o.IndicatorDueDate); {
	case o.SupplementRequests > o.IndicatorSupplementLimit:
		f.count(day, o.groupID, countIndicatorLate, 1)
	case v == VerdictEarly:
		f.count(day, o.groupID, countIndicatorEarly, 1)
	case v == VerdictOnTime:
		f.count(day, o.groupID, countIndicatorOnTime, 1)
	default:
		f.count(day, o.groupID, countIndicatorLate, 1)
	}
	if rejected {
		f.count(day, o.groupID, countResolvedByRejection, 1)
	}
	f.leave(o, at)
}

// PrepareFlush works out the rows the next flush writes outside the flush's transaction
// (engine.FlushPreparer): summing a million dossiers' changes into day, month and year rows and
// sorting them is seconds of work, and PostgreSQL ends a transaction left idle for longer than
// its timeout: this fold's flush of a 1 M rebuild was ended so after 8.8 M events
// (docs/benchmarks.md, session 17), as process control's and satisfaction's had been.
func (f *resolutionFold) PrepareFlush(context.Context) error {
	f.prepared = f.changedRows()
	return nil
}

// changedRows works out everything the flush writes.
func (f *resolutionFold) changedRows() *resolutionWrites {
	w := &resolutionWrites{counters: f.counterRows(), names: f.nameRows()}
	w.fresh, w.stored, w.gone = f.openRows()
	return w
}

// Flush writes the counters' changes as increments, the open rows changed and the names, then
// forgets the closed dossiers.
func (f *resolutionFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	w, _ := takePrepared(&f.prepared, func() (*resolutionWrites, error) { return f.changedRows(), nil })
	// Rows fallen to zero stay (no keys to delete), as they always have in this table.
	if len(w.counters) > 0 {
		if err := addCounters(ctx, tx, batch, f.v.countsTable(), counterKeyColumns, nil, counterColumns[:], w.counters, nil, ""); err != nil {
			return err
		}
	}
	if err := f.flushOpen(ctx, tx, batch, w); err != nil {
		return err
	}
	if len(w.names) > 0 {
		t := f.v.proceduresTable()
		if err := insertRows(ctx, tx, batch, t, procedureColumns, w.names, `ON CONFLICT (field_code, procedure_code) DO UPDATE SET
		field_name = excluded.field_name, procedure_name = excluded.procedure_name, named_at = excluded.named_at
		WHERE (excluded.named_at, excluded.procedure_name, excluded.field_name) > (`+t+`.named_at, `+t+`.procedure_name, `+t+`.field_name)`); err != nil {
			return err
		}
	}
	f.changes, f.names, f.dirty, f.moves = map[dayGroup]*resolutionCounters{}, map[[2]string]procedureNames{}, 0, nil
	if len(f.absent) > f.heldLimit {
		f.absent = map[string]bool{}
	}
	for id, o := range f.open {
		switch {
		case o.closed:
			delete(f.open, id)
			if f.readBack {
				f.absent[id] = true
			}
		default:
			o.stored, o.dirty = true, false
		}
	}
	if len(f.open) > f.heldLimit {
		f.open, f.readBack = map[string]*openDossier{}, true
	}
	return nil
}

// scopes are the counter scopes a group's dossiers count in: every agency's, and those of the
// agencies that received and decide them, once each.
func (g counterGroup) scopes() []string {
	if g.ReceivingUnit == g.CompetentAgency {
		return []string{allAgencies, g.CompetentAgency}
	}
	return []string{allAgencies, g.CompetentAgency, g.ReceivingUnit}
}

// spanGroup is a span's first day and a group.
type spanGroup struct {
	span  string
	start civilDay
	group int32
}

// counterRow keys a counter row as the table does.
type counterRow struct {
	scope, span                       string
	start                             civilDay
	fieldCode, procedureCode, channel string
}

func (a counterRow) less(b counterRow) bool {
	switch {
	case a.scope != b.scope:
		return a.scope < b.scope
	case a.span != b.span:
		return a.span < b.span
	case a.start != b.start:
		return a.start < b.start
	case a.fieldCode != b.fieldCode:
		return a.fieldCode < b.fieldCode
	case a.procedureCode != b.procedureCode:
		return a.procedureCode < b.procedureCode
	}
	return a.channel < b.channel
}

// counterRows sums the changes into the day, month and year rows they fall in, under every
// agency and under the agencies that received and decide the dossiers. Every change is
// an increment (ON CONFLICT … SET c = c + excluded.c), so folds writing the same rows in any
// order or concurrently give the same table; rows go in a fixed order, so two transactions
// writing the same rows lock them in the same order and wait for each other rather than deadlock.
// A row whose changes sum to zero is written all the same: the rows a table holds are those some
// event touched, however the log was cut into batches.
func (f *resolutionFold) counterRows() [][]any {
	if len(f.changes) == 0 && len(f.moves) == 0 {
		return nil
	}
	rows := make(map[spanGroup]*resolutionCounters, len(f.changes)*2)
	add := func(k spanGroup, c *resolutionCounters) {
		sum := rows[k]
		if sum == nil {
			sum = &resolutionCounters{}
			rows[k] = sum
		}
		for i, n := range c {
			sum[i] += n
		}
	}
	starts := map[civilDay][2]civilDay{}
	for k, c := range f.changes {
		s, ok := starts[k.day]
		if !ok {
			s = [2]civilDay{k.day.monthStart(), k.day.yearStart()}
			starts[k.day] = s
		}
		add(spanGroup{spanDay, k.day, k.group}, c)
		add(spanGroup{spanMonth, s[0], k.group}, c)
		add(spanGroup{spanYear, s[1], k.group}, c)
	}
	scoped := make(map[counterRow]*resolutionCounters, len(rows)*2)
	addScoped := func(row counterRow) *resolutionCounters {
		sum := scoped[row]
		if sum == nil {
			sum = &resolutionCounters{}
			scoped[row] = sum
		}
		return sum
	}
	for k, c := range rows {
		g := f.groupOf[k.group]
		for _, scope := range g.scopes() {
			sum := addScoped(counterRow{scope, k.span, k.start, g.FieldCode, g.ProcedureCode, g.Channel})
			for i, n := range c {
				sum[i] += n
			}
		}
	}
	// A succession hands a dossier over from the agency scopes it leaves and to those it enters; a
	// scope in both (every agency's, an agency that keeps its other role) sees it stay.
	for _, m := range f.moves {
		from, to := f.groupOf[m.from], f.groupOf[m.to]
		for _, span := range [3]struct {
			span  string
			start civilDay
		}{{spanDay, m.day}, {spanMonth, m.day.monthStart()}, {spanYear, m.day.yearStart()}} {
			for _, scope := range from.scopes() {
				if !slices.Contains(to.scopes(), scope) {
					addScoped(counterRow{scope, span.span, span.start, from.FieldCode, from.ProcedureCode, from.Channel})[countHandedOver]++
				}
			}
			for _, scope := range to.scopes() {
				if !slices.Contains(from.scopes(), scope) {
					addScoped(counterRow{scope, span.span, span.start, to.FieldCode, to.ProcedureCode, to.Channel})[countTakenOver]++
				}
			}
		}
	}
	keys := make([]counterRow, 0, len(scoped))
	for k := range scoped {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	values := make([][]any, len(keys))
	for i, k := range keys {
		row := make([]any, 0, len(counterKeyColumns)+counterCount)
		row = append(row, k.scope, k.span, k.start.String(), k.fieldCode, k.procedureCode, k.channel)
		for _, n := range scoped[k] {
			row = append(row, n)
		}
		values[i] = row
	}
	return values
}

// openRows are the open rows changed, new to the table and held by it, and the ids of the
// dossiers that left the open set, each in key order: a replay writes the same rows the same way.
func (f *resolutionFold) openRows() (fresh, stored [][]any, gone []string) {
	for _, o := range f.open {
		switch {
		case !o.dirty:
		case o.closed:
			if o.stored {
				gone = append(gone, o.id)
			}
		case o.stored:
			stored = append(stored, o.values())
		default:
			fresh = append(fresh, o.values())
		}
	}
	byID := func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) }
	slices.SortFunc(fresh, byID)
	slices.SortFunc(stored, byID)
	slices.Sort(gone)
	return fresh, stored, gone
}

// flushOpen writes the open rows changed and deletes those of dossiers that left the open set.
func (f *resolutionFold) flushOpen(ctx context.Context, tx *sql.Tx, batch engine.Batch, w *resolutionWrites) error {
	upsert := replacingUpsert("dossier_id", openColumns[1:])
	if err := insertNewRows(ctx, tx, batch, f.v.openTable(), openColumns, w.fresh, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, f.v.openTable(), openColumns, w.stored, upsert); err != nil {
		return err
	}
	return deleteByID(ctx, tx, batch.Dialect, f.v.openTable(), w.gone, maxParameters)
}

func (o *openDossier) values() []any {
	return []any{o.id, o.group.ReceivingUnit, o.group.CompetentAgency, o.group.FieldCode, o.group.ProcedureCode, o.group.Channel,
		sqlTime(o.ReceivedAt), sqlTime(o.ClockSince), sqlTime(o.DueDate), sqlTime(o.IndicatorDueDate), sqlTime(o.PausedAt),
		int64(o.SupplementRequests), int64(o.IndicatorSupplementLimit)}
}

// nameRows are, for each field and procedure code, the names of its latest receipt, in key order.
func (f *resolutionFold) nameRows() [][]any {
	if len(f.names) == 0 {
		return nil
	}
	keys := make([][2]string, 0, len(f.names))
	for k := range f.names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	values := make([][]any, len(keys))
	for i, k := range keys {
		n := f.names[k]
		values[i] = []any{k[0], k[1], n.field, n.procedure, n.namedAt}
	}
	return values
}

// verdictRule is which time limit a statistic judges dossiers against.
type verdictRule int

const (
	// ruleLegal judges against the statutory due date (Dossier.LegalVerdict): form II.06a, the
	// control sheet, the late dashboard, TT 01/2018's time criteria.
	ruleLegal verdictRule = iota
	// ruleIndicator judges against the national indicator's due date, and counts a dossier with
	// more supplement requests than allowed as late (Dossier.IndicatorVerdict): Quyết định 766.
	ruleIndicator
)

// ResolutionCounts are the columns of form II.06a, counted in dossiers.
type ResolutionCounts struct {
	ReceivedTotal            int `json:"received_total"`
	ReceivedOnline           int `json:"received_online"`
	ReceivedInPersonOrPostal int `json:"received_in_person_or_postal"`
	CarriedOver              int `json:"carried_over"` // received before the period, not resolved or withdrawn by its start
	ResolvedTotal            int `json:"resolved_total"`
	ResolvedEarly            int `json:"resolved_early"`
	ResolvedOnTime           int `json:"resolved_on_time"`
	ResolvedLate             int `json:"resolved_late"`
	ResolvedByRejection      int `json:"resolved_by_rejection"` // of the resolved, refused in writing after appraisal
	InProgressTotal          int `json:"in_progress_total"`
	InProgressWithinTime     int `json:"in_progress_within_time"`
	InProgressOverdue        int `json:"in_progress_overdue"`
	Withdrawn                int `json:"withdrawn"` // counted apart: received, then withdrawn in the period
	// TakenOver (part of ReceivedTotal) are dossiers the agency took over in the period from an
	// abolished one; HandedOver, counted apart like Withdrawn, those it handed to its successor.
	TakenOver  int `json:"taken_over"`
	HandedOver int `json:"handed_over"`
}

func (c *ResolutionCounts) add(o ResolutionCounts) {
	c.ReceivedTotal += o.ReceivedTotal
	c.ReceivedOnline += o.ReceivedOnline
	c.ReceivedInPersonOrPostal += o.ReceivedInPersonOrPostal
	c.CarriedOver += o.CarriedOver
	c.ResolvedTotal += o.ResolvedTotal
	c.ResolvedEarly += o.ResolvedEarly
	c.ResolvedOnTime += o.ResolvedOnTime
	c.ResolvedLate += o.ResolvedLate
	c.ResolvedByRejection += o.ResolvedByRejection
	c.InProgressTotal += o.InProgressTotal
	c.InProgressWithinTime += o.InProgressWithinTime
	c.InProgressOverdue += o.InProgressOverdue
	c.Withdrawn += o.Withdrawn
	c.TakenOver += o.TakenOver
	c.HandedOver += o.HandedOver
}

// ProcedureResolution is one procedure's line under its field.
type ProcedureResolution struct {
	ProcedureCode string `json:"procedure_code"`
	ProcedureName string `json:"procedure_name"`
	ResolutionCounts
}

// FieldResolution is one field's line of the report, with its procedures.
type FieldResolution struct {
	FieldCode  string                `json:"field_code"`
	FieldName  string                `json:"field_name"`
	Procedures []ProcedureResolution `json:"procedures"`
	ResolutionCounts
}

// ResolutionReport is form II.06a for an agency (or all) and a period.
type ResolutionReport struct {
	Agency string            `json:"agency,omitempty"`
	Period Period            `json:"period"`
	Fields []FieldResolution `json:"fields"`
	Total  ResolutionCounts  `json:"total"`
}

// ResolutionReportOf counts, for dossiers the agency received or decides, what was
// received in period p (which must be bounded, from a Vietnam midnight to a later one), what was
// resolved in it — early, on time or late: the first result, or a written rejection, against the
// statutory due date in force at that moment — and what was still in progress at its end, within
// time or overdue against the clock as it stood then. An apology's new date does not move the
// statutory due date: form 04 admits the lateness. Every dossier counted as received is in exactly
// one of resolved, in progress or withdrawn.
func ResolutionReportOf(ctx context.Context, db *sql.DB, agency AgencyScope, p Period) (ResolutionReport, error) {
	return resolutionReport(ctx, db, agency, p, ruleLegal)
}

// counterRange is the counter rows of one span whose first day lies in [from, to), or before to
// when sinceEver.
type counterRange struct {
	span      string
	from, to  civilDay
	sinceEver bool
	before    bool // the range lies before the period: only the stocks' changes count
	less      bool // the rows are subtracted: a month or year row was read in their place (cheaper)
}

// counterRanges are the rows a report over days [from, to) sums: the stocks at from are the sum
// of the changes before it — whole years, then whole months of from's year, then days of its month
// —, and the period is cut into its days up to the first month's start, whole months up to the
// first year's start, whole years, whole months and the last days. Each run of days within a month,
// or of months within a year, is read as the month's (year's) row less the days (months) around it
// when those are fewer rows (cheaper). So a report reads, per group, at most the years before it,
// 6 months and 15 days before from, and 2 × (15 days, 6 months), its years within the period; at
// 1,000,000 dossiers a year every group has a row every day, and a year's report from the 6th read
// 36 day rows per group, now 15 (counterRanges' test, docs/benchmarks.md, session 10).
func counterRanges(from, to civilDay) []counterRange {
	var out []counterRange
	for _, r := range wholeRanges(from, to) {
		out = append(out, cheaper(r)...)
	}
	return out
}

// wholeRanges cuts the days before [from, to) and those of it into whole years, months and days.
func wholeRanges(from, to civilDay) []counterRange {
	monthStart, yearStart := from.monthStart(), from.yearStart()
	ranges := []counterRange{{span: spanYear, to: yearStart, sinceEver: true, before: true},
		{span: spanMonth, from: yearStart, to: monthStart, before: true}, {span: spanDay, from: monthStart, to: from, before: true}}
	for day := from; day < to; {
		span, next := spanDay, day+1
		y, m, d := day.date()
		switch {
		case m == time.January && d == 1 && civilDayOf(y+1, time.January, 1) <= to:
			span, next = spanYear, civilDayOf(y+1, time.January, 1)
		case d == 1 && civilDayOf(y, m+1, 1) <= to:
			span, next = spanMonth, civilDayOf(y, m+1, 1)
		}
		if last := &ranges[len(ranges)-1]; !last.before && last.span == span && last.to == day {
			last.to = next
		} else {
			ranges = append(ranges, counterRange{span: span, from: day, to: next})
		}
		day = next
	}
	return ranges
}

// cheaper returns r, or when fewer rows, the row of the month or year r lies in less the days or
// months of it around r (r cut first at the months' or years' ends): the same sum, since a month's row counts every change its days' rows
// count, and a year's row every change its months' rows count (flushCounters writes all three).
func cheaper(r counterRange) []counterRange {
	if r.sinceEver || r.from >= r.to {
		return []counterRange{r}
	}
	y, m, _ := r.from.date()
	parent, start, end := spanMonth, civilDayOf(y, m, 1), civilDayOf(y, m+1, 1)
	units := func(from, to civilDay) int { return int(to - from) }
	switch r.span {
	case spanMonth:
		parent, start, end = spanYear, civilDayOf(y, time.January, 1), civilDayOf(y+1, time.January, 1)
		units = func(from, to civilDay) int {
			fy, fm, _ := from.date()
			ty, tm, _ := to.date()
			return (ty-fy)*12 + int(tm-fm)
		}
	case spanYear:
		return []counterRange{r}
	}
	if r.to > end { // a run across months (years) is cut at their ends
		head, tail := r, r
		head.to, tail.from = end, end
		return append(cheaper(head), cheaper(tail)...)
	}
	if units(start, r.from)+units(r.to, end)+1 >= units(r.from, r.to) {
		return []counterRange{r}
	}
	out := []counterRange{{span: parent, from: start, to: start + 1, before: r.before, less: r.less}}
	for _, around := range [2][2]civilDay{{start, r.from}, {r.to, end}} {
		if around[0] < around[1] {
			out = append(out, counterRange{span: r.span, from: around[0], to: around[1], before: r.before, less: !r.less})
		}
	}
	return out
}

// vietnamMidnight reports whether t is the start of a Vietnam civil day.
func vietnamMidnight(t time.Time) bool {
	return (t.Unix()+vietnamOffset)%86400 == 0 && t.Nanosecond() == 0
}

// counterQuery returns the statement summing the counter rows of the report over p for agency,
// those of the ranges counterRanges subtracts negated, by part (1 for the ranges before the
// period), field, procedure and channel, with its arguments; count makes it count the rows it
// reads instead.
func counterQuery(table string, agency AgencyScope, p Period, count bool) (string, []any, error) {
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return "", nil, fmt.Errorf("resolution report: the period must be bounded and not empty, got %v–%v", p.From, p.To)
	}
	if !vietnamMidnight(p.From) || !vietnamMidnight(p.To) {
		// The counters are kept per Vietnam civil day.
		return "", nil, fmt.Errorf("resolution report: the period must run from a Vietnam midnight to another, got %v–%v", p.From, p.To)
	}
	sums, added, subtracted := make([]string, counterCount), make([]string, counterCount), make([]string, counterCount)
	for i, c := range counterColumns {
		sums[i], added[i], subtracted[i] = "SUM("+c+")", c, "-"+c+" AS "+c
	}
	scope := allAgencies
	if !agency.All() {
		scope = agency.Agency() // no row's scope is empty: a scope of no agency reads nothing
	}
	var parts []string
	var args []any
	for _, r := range counterRanges(dayOf(p.From), dayOf(p.To)) {
		if r.from == r.to && !r.sinceEver {
			continue
		}
		var c conditions
		c.args = args
		c.add("scope = ?", scope)
		c.add("span = ?", r.span)
		if !r.sinceEver {
			c.add("period_start >= ?", r.from.String())
		}
		c.add("period_start < ?", r.to.String())
		args = c.args
		part, columns := 0, added
		if r.before {
			part = 1
		}
		if r.less {
			columns = subtracted
		}
		if count {
			parts = append(parts, `SELECT COUNT(*) AS n FROM `+table+c.where())
			continue
		}
		parts = append(parts, fmt.Sprintf(`SELECT %d AS part, field_code, procedure_code, channel, %s FROM %s%s`,
			part, strings.Join(columns, ", "), table, c.where()))
	}
	if count {
		return `SELECT SUM(n) FROM (` + strings.Join(parts, " UNION ALL ") + `) counted`, args, nil
	}
	// One sum per part and line over every range: the rows returned are at most two per line,
	// however many ranges the period is cut into.
	return `SELECT part, field_code, procedure_code, channel, ` + strings.Join(sums, ", ") + ` FROM (` +
		strings.Join(parts, " UNION ALL ") + `) ranges GROUP BY part, field_code, procedure_code, channel`, args, nil
}

func resolutionReport(ctx context.Context, db *sql.DB, agency AgencyScope, p Period, rule verdictRule) (ResolutionReport, error) {
	query, args, err := counterQuery("resolution_counts", agency, p, false)
	if err != nil {
		return ResolutionReport{}, err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return ResolutionReport{}, err
	}
	type sums struct {
		before, during resolutionCounters
		online         int64 // received in the period online
	}
	lines := map[reportLine]*sums{}
	for rows.Next() {
		var part int
		var k reportLine
		var channel string
		var c resolutionCounters
		dest := []any{&part, &k.field, &k.procedure, &channel}
		for i := range c {
			dest = append(dest, &c[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return ResolutionReport{}, err
		}
		s := lines[k]
		if s == nil {
			s = &sums{}
			lines[k] = s
		}
		into := &s.during
		if part == 1 {
			into = &s.before
		} else if channel == string(domain.ChannelOnline) {
			s.online += c[countReceived]
		}
		for i, n := range c {
			into[i] += n
		}
	}
	if err := rows.Close(); err != nil {
		return ResolutionReport{}, err
	}
	if err := rows.Err(); err != nil {
		return ResolutionReport{}, err
	}
	keys := make([]reportLine, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].field != keys[j].field {
			return keys[i].field < keys[j].field
		}
		return keys[i].procedure < keys[j].procedure
	})
	names, err := procedureNamesOf(ctx, db, keys)
	if err != nil {
		return ResolutionReport{}, err
	}
	report := ResolutionReport{Agency: agency.Agency(), Period: p, Fields: []FieldResolution{}}
	for _, k := range keys {
		s := lines[k]
		c := resolutionCounts(s.before, s.during, s.online, rule)
		if c.ReceivedTotal == 0 {
			continue // the group counted nothing that touches the period
		}
		if len(report.Fields) == 0 || report.Fields[len(report.Fields)-1].FieldCode != k.field {
			report.Fields = append(report.Fields, FieldResolution{FieldCode: k.field, FieldName: names[[2]string{k.field, k.procedure}].field})
		}
		f := &report.Fields[len(report.Fields)-1]
		f.Procedures = append(f.Procedures, ProcedureResolution{ProcedureCode: k.procedure, ProcedureName: names[[2]string{k.field, k.procedure}].procedure, ResolutionCounts: c})
		f.ResolutionCounts.add(c)
		report.Total.add(c)
	}
	return report, nil
}

// reportLine is a line of the report: a procedure under its field.
type reportLine struct{ field, procedure string }

// resolutionCounts turns a line's sums — of the rows before the period, of the rows within it —
// into the report's columns under rule.
func resolutionCounts(before, during resolutionCounters, online int64, rule verdictRule) ResolutionCounts {
	early, onTime, late, overdue := countResolvedEarly, countResolvedOnTime, countResolvedLate, countOverdueChange
	if rule == ruleIndicator {
		early, onTime, late, overdue = countIndicatorEarly, countIndicatorOnTime, countIndicatorLate, countIndicatorOverdueChange
	}
	c := ResolutionCounts{
		CarriedOver:              int(before[countOpenChange]),
		ReceivedOnline:           int(online),
		ReceivedInPersonOrPostal: int(during[countReceived] - online),
		ResolvedEarly:            int(during[early]),
		ResolvedOnTime:           int(during[onTime]),
		ResolvedLate:             int(during[late]),
		ResolvedByRejection:      int(during[countResolvedByRejection]),
		Withdrawn:                int(during[countWithdrawn]),
		TakenOver:                int(during[countTakenOver]),
		HandedOver:               int(during[countHandedOver]),
		InProgressTotal:          int(before[countOpenChange] + during[countOpenChange]),
		InProgressOverdue:        int(before[overdue] + during[overdue]),
	}
	c.ReceivedTotal = c.CarriedOver + c.ReceivedOnline + c.ReceivedInPersonOrPostal + c.TakenOver
	c.ResolvedTotal = c.ResolvedEarly + c.ResolvedOnTime + c.ResolvedLate
	c.InProgressWithinTime = c.InProgressTotal - c.InProgressOverdue
	return c
}

// procedureNamesOf reads the names of the lines' fields and procedures.
func procedureNamesOf(ctx context.Context, db *sql.DB, lines []reportLine) (map[[2]string]procedureNames, error) {
	out := make(map[[2]string]procedureNames, len(lines))
	codes := make([]string, 0, len(lines))
	for i, l := range lines {
		if i == 0 || lines[i-1].procedure != l.procedure || lines[i-1].field != l.field {
			codes = append(codes, l.procedure)
		}
	}
	for start := 0; start < len(codes); start += maxParameters {
		chunk := codes[start:min(start+maxParameters, len(codes))]
		rows, err := db.QueryContext(ctx, `SELECT field_code, procedure_code, field_name, procedure_name FROM resolution_procedures
			WHERE procedure_code IN (`+engine.PostgreSQL.Placeholders(len(chunk), 1, 1)+`)`, engine.StringArgs(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k [2]string
			var n procedureNames
			if err := rows.Scan(&k[0], &k[1], &n.field, &n.procedure); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = n
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CSVRecords returns the report as rows in the column order of l10n.Lang.ResolutionCSVHeader: each
// field, then its procedures, then the total, labelled totalLabel (words come from l10n).
func (r ResolutionReport) CSVRecords(totalLabel string) [][]string {
	var out [][]string
	line := func(no, fieldCode, name, procedureCode string, c ResolutionCounts) {
		out = append(out, append([]string{no, fieldCode, name, procedureCode}, countCells(c)...))
	}
	for i, f := range r.Fields {
		line(fmt.Sprint(i+1), f.FieldCode, f.FieldName, "", f.ResolutionCounts)
		for j, p := range f.Procedures {
			line(fmt.Sprintf("%d.%d", i+1, j+1), f.FieldCode, p.ProcedureName, p.ProcedureCode, p.ResolutionCounts)
		}
	}
	line("", "", totalLabel, "", r.Total)
	return out
}

func countCells(c ResolutionCounts) []string {
	values := []int{c.ReceivedTotal, c.ReceivedOnline, c.ReceivedInPersonOrPostal, c.CarriedOver,
		c.ResolvedTotal, c.ResolvedEarly, c.ResolvedOnTime, c.ResolvedLate, c.ResolvedByRejection,
		c.InProgressTotal, c.InProgressWithinTime, c.InProgressOverdue, c.Withdrawn, c.TakenOver, c.HandedOver}
	cells := make([]string, len(values))
	for i, v := range values {
		cells[i] = fmt.Sprint(v)
	}
	return cells
}
