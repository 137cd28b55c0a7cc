package projections

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// Verdict judges work finished against its deadline, as the process-control sheet (TT 01/2018 form
// 05) and report II.06a do: early (trước hạn) when finished on a day before the deadline's day, on
// time (đúng hạn) when finished on the deadline's day and not after it, late (quá hạn) after it.
// Days are Vietnam civil days.
type Verdict string

const (
	VerdictEarly  Verdict = "early"
	VerdictOnTime Verdict = "on_time"
	VerdictLate   Verdict = "late"
)

// judge returns the verdict on work finished at done with the given deadline; "" when either is unknown.
func judge(done, deadline time.Time) Verdict {
	switch {
	case done.IsZero() || deadline.IsZero():
		return ""
	case done.After(deadline):
		return VerdictLate
	case civilDate(done) < civilDate(deadline):
		return VerdictEarly
	}
	return VerdictOnTime
}

func civilDate(t time.Time) string { return t.In(domain.VietnamTime).Format(time.DateOnly) }

// workingHours is the working time from `from` to `to`, in hours.
func workingHours(cal *calendar.Calendar, from, to time.Time) float64 {
	return roundHours(cal.WorkingTimeBetween(from, to).Hours())
}

// roundHours keeps two decimals: a hundredth of an hour is well under a minute.
func roundHours(h float64) float64 { return math.Round(h*100) / 100 }

// Kinds of handover on the process-control sheet.
const (
	HandoverSubmission  = "submission"   // filed online; the desk must accept or answer within the acceptance deadline
	HandoverReception   = "reception"    // received at the desk
	HandoverTransfer    = "transfer"     // to a department or official for a step
	HandoverInterAgency = "inter_agency" // to another agency for its share (liên thông)
	HandoverParallel    = "parallel"     // to a coordinator while the step's parts run at several units at once
	HandoverPart        = "part"         // one part of a parallel step, at a unit or another agency; ends when it is completed
	HandoverResult      = "result"       // the result back to the desk, to be handed to the applicant
	// HandoverForwarding is the paper originals of a boundary-free receipt on their way from the
	// receiving centre to the competent agency, beside the dossier's own steps; it ends when they arrive.
	HandoverForwarding = "forwarding"
)

// The desk's own steps, stored as codes (l10n names them, as Lang.Step does every step); the steps
// of a procedure's workflow are the catalog's legal wording and stored as typed.
const (
	StepOnlineReception = "online_reception" // accepting a dossier filed online
	StepReception       = "reception"        // receiving at the desk until the transfer deadline
	StepReturn          = "return"           // returning the result
	StepForwarding      = "forwarding"       // paper originals travelling to the competent agency (boundary-free receipt)
)

// Kinds of note on the process-control sheet: what happened during a step (l10n names them).
const (
	NoteRefused             = "refused"
	NotePartCompleted       = "part_completed" // Param: the part's step
	NoteMoreResult          = "more_result"    // a further result of the same dossier
	NoteRejected            = "rejected"
	NoteWithdrawn           = "withdrawn"
	NoteSupplementRequested = "supplement_requested" // Param: the request's round
	NoteSupplemented        = "supplemented"         // Date: the new appointment, if any
	NoteSuspended           = "suspended"
	NoteResumed             = "resumed" // Date: the new appointment
	NoteApology             = "apology" // Date: the new appointment
	NoteAppraised           = "appraised"
	NoteSigned              = "signed"
	NoteAgencySucceeded     = "agency_succeeded" // Param: "<abolished> → <successor>"; detail: the decision
	NoteBoundaryFree        = "boundary_free"    // Param: the centre where the result is collected
)

// seqStride spaces the handovers' sequence numbers: a handover made by the event at stream version
// v has seq v×seqStride, the parts of a parallel step started by it v×seqStride+1, +2, …
const seqStride = 1000

// ProcessControlView records every handover of every dossier with the step's deadline as the
// transfer event recorded it, and when and how the step ended. It keeps the only full per-dossier
// summary (control_dossiers), and serves the process-control sheet (ControlSheetOf), the dossier
// register (RegisterPageOf) and the late-dossier dashboard (LateDashboardOf).
type ProcessControlView struct {
	Prefix string // table name prefix; empty for the serving tables
	// Calendar measures, as each step ends, its overrun in working hours for the late dashboard's
	// counters; nil for the national calendar (calendar.Default).
	Calendar *calendar.Calendar
}

func (ProcessControlView) Name() string { return "process_control" }
func (ProcessControlView) Tables() []string {
	return []string{"control_dossiers", "control_handovers", "control_notes", "control_late", "control_late_counts", "control_late_rollups", "control_overdue_counts",
		"control_overdue_steps", "control_overdue_steps_every_line"}
}

// SchemaVersion: the summary's, plus 10 for this view's own shape (2: notes and system steps as
// codes; 3: only the summary columns its queries use, the late dashboard's lists, the register's
// index; 4: handovers and notes WITHOUT ROWID on SQLite; 5: the late dashboard's counters and each
// dossier's overrun steps; 6: the open overdue dossiers' counters per due day; 7: their overrunning
// steps' counters, the running steps' deadlines indexed, the originals on their way kept in play;
// 8: the open overdue list without the dossiers paused before their due date; 9: the late
// dashboard's period counters rolled up by dimension, control_late_rollups; 10: the overrunning
// steps' counters summed over every line too, for the unfiltered dashboard; 11: the pending
// acceptances counted per submission day, their set of control_late keyed by the acceptance deadline;
// 12: the open overdue dossiers and their overrunning steps counted per due hour too).
func (ProcessControlView) SchemaVersion() int { return summarySchemaVersion + 12 }
func (v ProcessControlView) WithPrefix(prefix string) engine.Consumer {
	return ProcessControlView{Prefix: prefix, Calendar: v.Calendar}
}

// calendar is what measures the steps' overrun.
func (v ProcessControlView) calendar() *calendar.Calendar {
	if v.Calendar != nil {
		return v.Calendar
	}
	return calendar.Default()
}
func (v ProcessControlView) dossiers() string  { return v.Prefix + "control_dossiers" }
func (v ProcessControlView) handovers() string { return v.Prefix + "control_handovers" }
func (v ProcessControlView) notes() string     { return v.Prefix + "control_notes" }
func (v ProcessControlView) late() string      { return v.Prefix + "control_late" }

// controlColumns are the summary columns process control keeps: those its sheet, the register and
// the late dashboard show or select by, and those its fold reads back. The summary's other facts
// (the indicator's dates, the steps' worst verdict, payments) are other read models' business;
// every column left out is one less to write for each of a replay's rows.
var controlColumns = summaryColumnsExcept("indicator_due_date", "indicator_supplement_limit", "resolved_indicator_due_date",
	"step_deadline", "slowest_step", "first_paid_at", "paid_online", "return_channel", "received_by_id", "holder_official_id",
	"supplement_requests")

func summaryColumnsExcept(names ...string) []summaryColumn {
	var out []summaryColumn
	for _, c := range summarySchema {
		if !slices.Contains(names, c.name) {
			out = append(out, c)
		}
	}
	return out
}

// lateSets are the late dashboard's lists as process control keeps them: control_late holds a
// row (list, key, dossier id) for each dossier in a list, keyed by its place in the list, so that
// a list is a range of that table's key — the dossiers in it, not every dossier — and a dossier in
// no list (most of them) costs nothing more to write than its summary row. The key is a function
// of the summary row alone, so a fold knows which rows a stored dossier has without reading them.
var lateSets = [...]struct {
	list string
	key  func(r *summaryRow) time.Time
}{
	// The statutory due date of a dossier in progress whose clock runs, or stopped after that
	// date (overdueCountedOf's set): the overdue ones are those before now. A dossier whose clock
	// stopped before its due date — waiting for a supplement that may never come — can be overdue
	// at no now, so it is not in the list: a province keeps thousands of them (17,227 of the
	// 23,305 entries due before now at 1 M generated dossiers), and the list's first page walked
	// them all.
	{LateListOpenOverdue, func(r *summaryRow) time.Time {
		if r.open() && (r.PausedAt.IsZero() || r.PausedAt.After(r.DueDate)) {
			return r.DueDate
		}
		return time.Time{}
	}},
	// The appointment date of a dossier in progress whose clock runs (a paused dossier's date is
	// about to move).
	{LateListDueSoon, func(r *summaryRow) time.Time {
		if r.open() && r.Waiting == "" {
			return r.AppointmentDate
		}
		return time.Time{}
	}},
	// When a dossier resolved after its statutory due date was resolved.
	{LateListResolvedLate, func(r *summaryRow) time.Time {
		if judge(r.ResolvedAt, r.ResolvedDueDate) == VerdictLate {
			return r.ResolvedAt
		}
		return time.Time{}
	}},
	{LateListApologies, func(r *summaryRow) time.Time { return r.ApologyAt }},
	// When an online submission not answered in time — answered or withdrawn after its
	// acceptance deadline, or not answered yet — was submitted.
	{LateListLateAcceptances, func(r *summaryRow) time.Time {
		answered := firstNonZeroTime(r.RespondedAt, r.WithdrawnAt)
		if !r.SubmittedAt.IsZero() && (answered.IsZero() || answered.After(r.AcceptanceDeadline)) {
			return r.SubmittedAt
		}
		return time.Time{}
	}},
	// The acceptance deadline of an online submission not answered yet (lateCounted.pending): no
	// list of the dashboard's, but the part of late_acceptances whose lateness depends on now. The
	// counters hold how many are pending per submission day; those not yet late at now are this
	// range from now on (lateListTotal), a working day's submissions or so, where a range keyed by
	// the submission looked every pending one up (2,125 at 1,000,000 dossiers).
	{lateSetPendingAcceptances, func(r *summaryRow) time.Time {
		if r.pendingAcceptance() {
			return r.AcceptanceDeadline
		}
		return time.Time{}
	}},
}

// lateSetPendingAcceptances is control_late's set of the online submissions not answered yet.
const lateSetPendingAcceptances = "pending_acceptances"

// pendingAcceptance reports whether the row is an online submission not answered (nor withdrawn)
// yet, with an acceptance deadline: late once now passes it.
func (r *summaryRow) pendingAcceptance() bool {
	return !r.SubmittedAt.IsZero() && r.RespondedAt.IsZero() && r.WithdrawnAt.IsZero() && !r.AcceptanceDeadline.IsZero()
}

// lateKeys are a dossier's keys in each of lateSets, "" where it is not in the list.
type lateKeys [len(lateSets)]string

func (r *summaryRow) lateKeys() lateKeys {
	var k lateKeys
	for i, set := range lateSets {
		k[i] = sqlTime(set.key(r)).String
	}
	return k
}

// open reports whether the dossier is received and neither resolved nor closed.
func (r *summaryRow) open() bool {
	return !r.ReceivedAt.IsZero() && r.ResolvedAt.IsZero() && r.ClosedAt.IsZero()
}

// The control summary's secondary indexes, each over what one query selects and orders by.
var controlIndexes = []tableIndex{
	{"_code", "code"}, // ControlSheetOf
	{"_register", "register_unit, received_at"}, // RegisterPageOf: a unit's receipts, then the dossier id
}

func (v ProcessControlView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if v.Prefix == "" {
		if err := retireRegister(ctx, db); err != nil {
			return err
		}
	}
	h, n := v.handovers(), v.notes()
	defs := make([]string, 0, len(controlColumns)+1)
	for _, c := range controlColumns {
		defs = append(defs, c.definition())
	}
	defs = append(defs, "overrun_steps TEXT")
	statements := createTable(d, v.dossiers(), strings.Join(defs, ", "), "dossier_id", controlIndexes...)
	// The key is all there is to a list's row: on SQLite the table is its key's B-tree alone.
	withoutRowID := ""
	if d == engine.SQLite {
		withoutRowID = " WITHOUT ROWID"
	}
	statements = append(statements, `CREATE TABLE IF NOT EXISTS `+v.late()+` (
			list TEXT NOT NULL,
			key TEXT NOT NULL,
			dossier_id TEXT NOT NULL,
			PRIMARY KEY (list, key, dossier_id))`+withoutRowID, v.lateCountsTable(d), v.lateRollupsTable(d), v.overdueCountsTable(d), v.overdueStepsTable(d),
		v.overdueStepsEveryLineTable(d))
	// seq is the stream version of the event that made the handover, so rows sort in the dossier's
	// order and a replayed event cannot add a second row. Handovers and notes are read by dossier
	// only, through their key: on SQLite each table is its key's B-tree alone (WITHOUT ROWID), where
	// a rowid table wrote every row into two B-trees, the table's and its key's index.
	statements = append(statements, `CREATE TABLE IF NOT EXISTS `+h+` (
			dossier_id TEXT NOT NULL,
			seq BIGINT NOT NULL,
			kind TEXT NOT NULL,
			from_unit TEXT NOT NULL,
			from_official_id TEXT NOT NULL,
			from_official_name TEXT NOT NULL,
			to_unit TEXT NOT NULL,
			to_official_id TEXT NOT NULL,
			to_official_name TEXT NOT NULL,
			handed_at TEXT NOT NULL,
			step TEXT NOT NULL,
			allotted_hours DOUBLE PRECISION,
			deadline TEXT,
			calendar_version TEXT NOT NULL,
			note TEXT NOT NULL,
			ended_at TEXT,
			end_kind TEXT,
			ended_by_id TEXT,
			ended_by_name TEXT,
			PRIMARY KEY (dossier_id, seq))`+withoutRowID, v.runningStepsIndex())
	return execAll(ctx, db, append(statements,
		`CREATE TABLE IF NOT EXISTS `+n+` (
			dossier_id TEXT NOT NULL,
			version BIGINT NOT NULL,
			seq BIGINT NOT NULL,
			at TEXT NOT NULL,
			kind TEXT NOT NULL,
			param TEXT NOT NULL,
			on_date TEXT,
			detail TEXT NOT NULL,
			by_name TEXT NOT NULL,
			PRIMARY KEY (dossier_id, version))`+withoutRowID))
}

// retireRegister drops what the register read model left once the register became a query over
// process control's summary: its table, its checkpoint and parked events, and those of the
// register's former name, "dossier_ledger" with table ledger_dossiers. Each statement finds
// nothing after the first start.
func retireRegister(ctx context.Context, db *sql.DB) error {
	for _, retired := range []struct{ name, table string }{{"register", "register_dossiers"}, {"dossier_ledger", "ledger_dossiers"}} {
		if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+retired.table); err != nil {
			return fmt.Errorf("process control: drop the retired %s: %w", retired.table, err)
		}
		if err := engine.Forget(ctx, db, retired.name); err != nil {
			return err
		}
	}
	return nil
}

// Apply folds a batch and writes what it changed: a fold of that batch alone, the same code that
// catch-up and rebuild run over hundreds of thousands of events.
func (v ProcessControlView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold starts a fold onto the view's tables (engine.Folding). Fresh tables need no other path:
// a dossier whose first event is in the batch has no rows yet, and any other dossier not held is
// read back, since Flush forgets dossiers.
func (v ProcessControlView) NewFold(fresh bool) engine.Fold {
	return &controlFold{view: v, cal: v.calendar(), held: map[string]*controlDossier{}, lateCounts: lateCountChanges{},
		overdueCounts: overdueCountChanges{}, overdueSteps: overdueStepChanges{}}
}

// controlDossier is what a fold holds of one dossier: its summary row and its handover log — the
// handovers still in play (the one it is held under, the steps running beside it) and those added
// since the last flush, with the notes added since.
type controlDossier struct {
	row     summaryRow
	written summaryRow // the summary row as the table holds it, when stored
	log     handoverLog
	late    lateKeys // the dossier's rows in control_late as the table holds them
	// overruns are the dossier's steps that ended late; counted is what the late dashboard's
	// counters hold for it (control_late_counts).
	overruns []overrunStep
	counted  lateCounted
	// overdue is what control_overdue_counts holds for it, overdueSteps what control_overdue_steps does.
	overdue      overdueCounted
	overdueSteps overdueStepsCounted
	stored       bool // the table holds the summary row
	dirty        bool // changed since the last flush
	touched      int  // the fold's event count when an event last moved the dossier
}

// controlFold holds the dossiers moving in the log across the batches folded since the last flush.
type controlFold struct {
	view ProcessControlView
	cal  *calendar.Calendar
	held map[string]*controlDossier
	// lateCounts are the late dashboard's counters' changes since the last flush.
	lateCounts lateCountChanges
	// overdueCounts and overdueSteps are the open overdue dossiers' counters' changes since the
	// last flush, and their overrunning steps'.
	overdueCounts overdueCountChanges
	overdueSteps  overdueStepChanges
	rows          int               // summary rows, handovers and notes held: what the engine's budget counts
	dirty         []*controlDossier // in the order first changed, so a replay writes rows in the same order
	added         int               // events folded so far
	prepared      *controlWrites    // what the next flush writes, when PrepareFlush worked it out
	// prepareShare and prepareParts, when set, replace controlPrepareShare and GOMAXPROCS (tests).
	prepareShare, prepareParts int
}

func (f *controlFold) Held() int { return f.rows }

// Add folds a batch into the dossiers held, first reading back those it needs and does not hold:
// a few set queries, never one per event.
func (f *controlFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	decoded, _, err := decodeBatch(batch)
	if err != nil || len(decoded) == 0 {
		return err
	}
	var missing []*controlDossier
	for _, de := range decoded {
		if f.held[de.id] != nil {
			continue
		}
		d := &controlDossier{row: summaryRow{DossierID: de.id}, log: handoverLog{id: de.id}}
		f.held[de.id] = d
		f.rows++
		// A stream's first event opens the dossier: no row exists before it. Any other dossier not
		// held is in the tables (or nowhere, when the events before were parked).
		if de.re.Version > 1 {
			missing = append(missing, d)
		}
	}
	if err := f.load(ctx, q, batch.Dialect, missing); err != nil {
		return err
	}
	for _, de := range decoded {
		d := f.held[de.id]
		f.added++
		d.touched = f.added
		d.row.fold(de.re, de.e)
		if !d.row.exists {
			continue
		}
		before := len(d.log.rows) + len(d.log.notes)
		d.log.record(de.re, de.e, d.row.ReceivingUnit)
		f.rows += len(d.log.rows) + len(d.log.notes) - before
		if !d.dirty {
			d.dirty = true
			f.dirty = append(f.dirty, d)
		}
	}
	return nil
}

// controlRowsPerQuery bounds the dossiers one read-back query asks for.
const controlRowsPerQuery = 100

// load reads back the summary rows of dossiers and their handovers still in play.
func (f *controlFold) load(ctx context.Context, q engine.Querier, dialect engine.Dialect, dossiers []*controlDossier) error {
	for chunk := range slices.Chunk(dossiers, controlRowsPerQuery) {
		byID := make(map[string]*controlDossier, len(chunk))
		args := make([]any, len(chunk))
		for i, d := range chunk {
			byID[d.row.DossierID], args[i] = d, d.row.DossierID
		}
		in := dialect.Placeholders(len(chunk), 1, 1)
		rows, err := q.QueryContext(ctx, `SELECT `+columnList(controlColumns, "")+`, overrun_steps FROM `+f.view.dossiers()+` WHERE dossier_id IN (`+in+`)`, args...)
		if err != nil {
			return err
		}
		var overruns []sql.NullString
		list, err := scanSummaryColumns(rows, controlColumns, func() []any {
			overruns = append(overruns, sql.NullString{})
			return []any{&overruns[len(overruns)-1]}
		})
		if err != nil {
			return err
		}
		for i, r := range list {
			d := byID[r.DossierID]
			d.row, d.written, d.stored = r, r, true
			d.late = d.row.lateKeys()
			if d.overruns, err = parseOverrunColumn(overruns[i]); err != nil {
				return err
			}
			d.counted = lateCountedOf(&d.row, d.overruns)
			d.overdue = overdueCountedOf(&d.row)
		}
		rows, err = q.QueryContext(ctx, `SELECT h.`+strings.Join(handoverColumnNames, ", h.")+` FROM `+f.view.handovers()+` h
			WHERE h.dossier_id IN (`+in+`) AND ((h.kind IN ('`+HandoverPart+`', '`+HandoverForwarding+`') AND h.ended_at IS NULL)
				OR h.seq = (SELECT MAX(l.seq) FROM `+f.view.handovers()+` l WHERE l.dossier_id = h.dossier_id
					AND l.kind NOT IN ('`+HandoverPart+`', '`+HandoverForwarding+`')))
			ORDER BY h.dossier_id, h.seq`, args...)
		if err != nil {
			return err
		}
		handovers, err := scanHandoverRows(rows, nil)
		if err != nil {
			return err
		}
		for i := range handovers {
			h := &handovers[i].row
			h.stored = true
			byID[handovers[i].dossierID].log.open(h)
			f.rows++
		}
		for _, d := range chunk {
			if d.stored {
				d.overdueSteps = overdueStepsCountedOf(d.overdue, d.overruns, &d.log, f.cal)
			}
		}
	}
	return nil
}

// Flush writes the summary rows, handovers and notes changed since the last flush, then keeps
// the dossiers still in progress that an event moved within the last foldForgetAfter events, each
// with its handovers still in play: a finished dossier rarely moves again, and one idle longer is
// read back if it moves. Forgetting by events, not by flushes: a catch-up flushes every few
// seconds, and forgetting what the last flush had not touched read back nearly every row.
func (f *controlFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	if err := f.write(ctx, tx, batch); err != nil {
		return err
	}
	f.rows, f.lateCounts, f.overdueCounts, f.overdueSteps = 0, lateCountChanges{}, overdueCountChanges{}, overdueStepChanges{}
	for id, d := range f.held {
		if !d.row.ClosedAt.IsZero() || f.added-d.touched > foldForgetAfter {
			delete(f.held, id)
			continue
		}
		d.stored, d.dirty = true, false
		current := d.log.current()
		kept := d.log.rows[:0]
		for _, h := range d.log.rows {
			if h == current || h.runsBeside() {
				h.stored, h.changed = true, false
				kept = append(kept, h)
			}
		}
		clear(d.log.rows[len(kept):])
		d.log.rows, d.log.notes = kept, nil
		f.rows += 1 + len(kept)
	}
	f.dirty = f.dirty[:0]
	return nil
}

// controlSummaryColumns are the columns a summary row is written with: the summary's, then the
// dossier's overrun steps.
var controlSummaryColumns = append(strings.Split(columnList(controlColumns, ""), ", "), "overrun_steps")

var lateColumnNames = []string{"list", "key", "dossier_id"}

var noteColumnNames = []string{"dossier_id", "version", "seq", "at", "kind", "param", "on_date", "detail", "by_name"}

// controlWrites are the rows a flush writes, worked out before its transaction opens.
type controlWrites struct {
	freshRows, storedRows, freshHandovers, endedHandovers, notes, lateIn, lateOut [][]any
	counters                                                                      []counterWrite // the late dashboard's counters
}

// PrepareFlush works out the rows the next flush writes, and the counters' rows, outside the
// flush's transaction (engine.FlushPreparer): at a million dossiers that took longer than
// PostgreSQL lets a transaction sit idle.
func (f *controlFold) PrepareFlush(context.Context) error {
	w, err := f.changedRows()
	f.prepared = w
	return err
}

// controlPrepareShare is the fewest dirty dossiers each goroutine of changedRows takes: below twice
// that, one goroutine works the flush out alone.
const controlPrepareShare = 512

// controlPart is what one goroutine of changedRows works out: its dossiers' rows, and the
// counters' changes they make.
type controlPart struct {
	w             controlWrites
	lateCounts    lateCountChanges
	overdueCounts overdueCountChanges
	overdueSteps  overdueStepChanges
}

// changedRows works out the rows changed since the last flush, counts the counters' changes and
// works out the counter rows they make. The dirty dossiers are shared out in order among up to
// GOMAXPROCS goroutines, each with counters' changes of its own, added up after: at a million
// dossiers process control's flushes were a catch-up's longest stage (16–18 s to work out, on one
// goroutine, while every other consumer waited for the log's reader it held back and the second
// core idled). Each dossier is one goroutine's; the calendar is safe for concurrent use.
func (f *controlFold) changedRows() (*controlWrites, error) {
	share, parts := controlPrepareShare, runtime.GOMAXPROCS(0)
	if f.prepareShare > 0 {
		share, parts = f.prepareShare, f.prepareParts
	}
	parts = max(1, min(parts, len(f.dirty)/share))
	results := make([]controlPart, parts)
	each := (len(f.dirty) + parts - 1) / parts
	var g errgroup.Group
	for i := range results {
		p := &results[i]
		if i == 0 {
			p.lateCounts, p.overdueCounts, p.overdueSteps = f.lateCounts, f.overdueCounts, f.overdueSteps
		} else {
			p.lateCounts, p.overdueCounts, p.overdueSteps = lateCountChanges{}, overdueCountChanges{}, overdueStepChanges{}
		}
		dossiers := f.dirty[min(len(f.dirty), i*each):min(len(f.dirty), (i+1)*each)]
		g.Go(func() error { return f.changedDossiers(dossiers, p) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	w := &results[0].w
	for i := 1; i < len(results); i++ {
		p := &results[i]
		w.freshRows, w.storedRows = append(w.freshRows, p.w.freshRows...), append(w.storedRows, p.w.storedRows...)
		w.freshHandovers, w.endedHandovers = append(w.freshHandovers, p.w.freshHandovers...), append(w.endedHandovers, p.w.endedHandovers...)
		w.notes, w.lateIn, w.lateOut = append(w.notes, p.w.notes...), append(w.lateIn, p.w.lateIn...), append(w.lateOut, p.w.lateOut...)
		mergeChanges(f.lateCounts, p.lateCounts)
		mergeChanges(f.overdueCounts, p.overdueCounts)
		mergeChanges(f.overdueSteps, p.overdueSteps)
	}
	w.counters = slices.Concat(f.view.lateCountWrites(f.lateCounts), []counterWrite{f.view.overdueCountWrite(f.overdueCounts)},
		f.view.overdueStepWrites(f.overdueSteps))
	return w, nil
}

// changedDossiers works out the rows of dossiers changed since the last flush into p, and counts
// their counters' changes there.
func (f *controlFold) changedDossiers(dossiers []*controlDossier, p *controlPart) error {
	w := &p.w
	for _, d := range dossiers {
		overran := d.noteOverruns(f.cal)
		if counted := lateCountedOf(&d.row, d.overruns); !counted.equal(d.counted) {
			p.lateCounts.count(d.counted, -1)
			p.lateCounts.count(counted, 1)
			d.counted = counted
		}
		if overdue := overdueCountedOf(&d.row); overdue != d.overdue {
			p.overdueCounts.count(d.overdue, -1)
			p.overdueCounts.count(overdue, 1)
			d.overdue = overdue
		}
		if steps := overdueStepsCountedOf(d.overdue, d.overruns, &d.log, f.cal); !steps.equal(d.overdueSteps) {
			p.overdueSteps.count(d.overdueSteps, -1)
			p.overdueSteps.count(steps, 1)
			d.overdueSteps = steps
		}
		// A stored row no event changed — the dossier moved by an appraisal, a signature, a
		// rating after its return (read back for it), a payment (not a column here) — is not
		// written again, nor are its lists (a function of the row), unless a step of it ended
		// late. Struct equality can only err towards writing: the same instant in another
		// location compares unequal.
		if !d.stored || d.row != d.written || overran {
			overruns, err := overrunColumn(d.overruns)
			if err != nil {
				return err
			}
			keys := d.row.lateKeys()
			for i, key := range keys {
				if key == d.late[i] {
					continue
				}
				if d.late[i] != "" {
					w.lateOut = append(w.lateOut, []any{lateSets[i].list, d.late[i], d.row.DossierID})
				}
				if key != "" {
					w.lateIn = append(w.lateIn, []any{lateSets[i].list, key, d.row.DossierID})
				}
			}
			d.late = keys
			if d.stored {
				w.storedRows = append(w.storedRows, append(d.row.valuesOf(controlColumns), overruns))
			} else {
				w.freshRows = append(w.freshRows, append(d.row.valuesOf(controlColumns), overruns))
			}
			d.written = d.row
		}
		for _, h := range d.log.rows {
			switch {
			case !h.stored:
				w.freshHandovers = append(w.freshHandovers, h.values(d.log.id))
			case h.changed:
				w.endedHandovers = append(w.endedHandovers, h.values(d.log.id))
			}
		}
		for _, n := range d.log.notes {
			w.notes = append(w.notes, []any{d.log.id, n.version, n.seq, sqlTime(n.at), n.kind, n.param, sqlTime(n.date), n.detail, n.byName})
		}
	}
	return nil
}

// write writes what changed since the last flush, many rows per statement: what PrepareFlush
// worked out, or else what changed now.
func (f *controlFold) write(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	w, err := takePrepared(&f.prepared, f.changedRows)
	if err != nil {
		return err
	}
	upsert := replacingUpsert("dossier_id", controlSummaryColumns[1:])
	if err := insertNewRows(ctx, tx, batch, f.view.dossiers(), controlSummaryColumns, w.freshRows, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, f.view.dossiers(), controlSummaryColumns, w.storedRows, upsert); err != nil {
		return err
	}
	// A stored handover ended since is written again: only how it ended changes, or whom a
	// correction says it went to.
	upsert = `ON CONFLICT (dossier_id, seq) DO UPDATE SET to_unit = excluded.to_unit, to_official_id = excluded.to_official_id,
		to_official_name = excluded.to_official_name, ended_at = excluded.ended_at, end_kind = excluded.end_kind, ended_by_id = excluded.ended_by_id, ended_by_name = excluded.ended_by_name`
	if err := insertNewRows(ctx, tx, batch, f.view.handovers(), handoverColumnNames, w.freshHandovers, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, f.view.handovers(), handoverColumnNames, w.endedHandovers, upsert); err != nil {
		return err
	}
	// Each note is an event's own: the table cannot hold it yet.
	if err := insertNewRows(ctx, tx, batch, f.view.notes(), noteColumnNames, w.notes, `ON CONFLICT (dossier_id, version) DO NOTHING`); err != nil {
		return err
	}
	// A dossier's place in a list moved or it left the list: its former row goes, then its new one
	// comes, which the table cannot hold yet.
	for chunk := range slices.Chunk(w.lateOut, controlRowsPerQuery) {
		args := make([]any, 0, 3*len(chunk))
		for _, row := range chunk {
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+f.view.late()+` WHERE (list, key, dossier_id) IN (VALUES `+
			batch.Dialect.Placeholders(len(chunk), 3, 1)+`)`, args...); err != nil {
			return err
		}
	}
	if err := insertNewRows(ctx, tx, batch, f.view.late(), lateColumnNames, w.lateIn, `ON CONFLICT (list, key, dossier_id) DO NOTHING`); err != nil {
		return err
	}
	for _, counters := range w.counters {
		if err := counters.write(ctx, tx, batch); err != nil {
			return err
		}
	}
	return nil
}

// handoverRow is one line of a dossier's handover log.
type handoverRow struct {
	seq                                              int64
	kind                                             string
	fromUnit, fromID, fromName, toUnit, toID, toName string
	handedAt, deadline                               time.Time
	step, calendar, note                             string
	allotted                                         float64
	endedAt                                          time.Time
	endKind, endedByID, endedByName                  string

	stored, changed bool // the table holds it; ended since the last flush
}

type noteRow struct {
	version, seq                int64
	at, date                    time.Time
	kind, param, detail, byName string
}

// handoverLog is what a fold knows of one dossier's handovers: the stored ones still in play (the
// latest handover and the open parts of a parallel step), then those added since the last flush.
type handoverLog struct {
	id    string
	rows  []*handoverRow
	notes []noteRow
}

// current is the handover under which the dossier is held now: the latest one that is not a part.
func (l *handoverLog) current() *handoverRow {
	for i := len(l.rows) - 1; i >= 0; i-- {
		if l.rows[i].kind != HandoverPart && l.rows[i].kind != HandoverForwarding {
			return l.rows[i]
		}
	}
	return nil
}

// finish ends the step h started, which can now be judged.
func finish(h *handoverRow, at time.Time, kind string, by eventstore.Actor) {
	if h == nil || !h.endedAt.IsZero() {
		return
	}
	h.endedAt, h.endKind, h.endedByID, h.endedByName = at, kind, by.ID, by.Name
	h.changed = true
}

// end closes the current handover.
func (l *handoverLog) end(at time.Time, kind string, by eventstore.Actor) {
	finish(l.current(), at, kind, by)
}

// openPart returns the first open part with the given step name, as the domain completes them.
func (l *handoverLog) openPart(step string) *handoverRow {
	for _, h := range l.rows {
		if h.kind == HandoverPart && h.step == step && h.endedAt.IsZero() {
			return h
		}
	}
	return nil
}

func (l *handoverLog) open(h *handoverRow) { l.rows = append(l.rows, h) }

// runsBeside reports whether h is a step running beside the one the dossier is held under — a
// part of a parallel step, the originals on their way —: the log keeps it in play until it ends,
// so that the event ending it finds it and the fold knows every step still running.
func (h *handoverRow) runsBeside() bool {
	return (h.kind == HandoverPart || h.kind == HandoverForwarding) && h.endedAt.IsZero()
}

// note attaches what happened during the current handover's step.
// kind is a Note… code; param and date are what its words need (a supplement round, a part's step,
// a new appointment date); detail is the event's own text (a reason, an opinion, a number).
func (l *handoverLog) note(re *eventstore.RecordedEvent, at time.Time, kind, param string, date time.Time, detail string) {
	var seq int64
	if h := l.current(); h != nil {
		seq = h.seq
	}
	l.notes = append(l.notes, noteRow{version: int64(re.Version), seq: seq, at: at, kind: kind, param: param, date: date, detail: detail,
		byName: re.Metadata.Actor.Name})
}

// record turns one event into handovers and notes.
func (l *handoverLog) record(re *eventstore.RecordedEvent, e domain.Event, receivingUnit string) {
	actor := re.Metadata.Actor
	seq := int64(re.Version) * seqStride
	switch e := e.(type) {
	case domain.Submitted:
		l.open(&handoverRow{seq: seq, kind: HandoverSubmission, fromName: e.Applicant.Name, toUnit: e.ReceivingUnit,
			handedAt: e.SubmittedAt, step: StepOnlineReception, deadline: e.AcceptanceDeadline, calendar: e.CalendarVersion})
	case domain.Received:
		l.end(e.ReceivedAt, "received", actor)
		// The reception step lasts until the dossier reaches the department (TransferDeadline).
		l.open(&handoverRow{seq: seq, kind: HandoverReception, fromName: e.Applicant.Name, toUnit: e.ReceivingUnit,
			toID: actor.ID, toName: actor.Name, handedAt: e.ReceivedAt, step: StepReception, deadline: e.TransferDeadline,
			calendar: e.CalendarVersion})
	case domain.ReceptionRefused:
		l.note(re, e.RefusedAt, NoteRefused, "", time.Time{}, e.Reason)
		l.end(e.RefusedAt, "refused", actor)
	case domain.Transferred:
		l.end(e.TransferredAt, HandoverTransfer, actor)
		l.open(&handoverRow{seq: seq, kind: HandoverTransfer, fromUnit: e.From.Unit, fromID: e.From.OfficialID, fromName: e.From.OfficialName,
			toUnit: e.To.Unit, toID: e.To.OfficialID, toName: e.To.OfficialName, handedAt: e.TransferredAt, step: e.Step,
			allotted: e.AllottedHours, deadline: e.StepDeadline, calendar: e.CalendarVersion, note: e.Note})
	case domain.InterAgencyTransferred:
		l.end(e.TransferredAt, HandoverInterAgency, actor)
		l.open(&handoverRow{seq: seq, kind: HandoverInterAgency, fromUnit: e.From.Unit, fromID: e.From.OfficialID, fromName: e.From.OfficialName,
			toUnit: e.ToAgency, handedAt: e.TransferredAt, step: cmp.Or(e.Step, e.Purpose), allotted: e.AllottedHours, deadline: e.StepDeadline,
			calendar: e.CalendarVersion})
	case domain.ParallelStepStarted:
		// The coordinator holds the dossier until the step's latest part is due; each part is a
		// handover of its own, judged when it is completed.
		l.end(e.StartedAt, HandoverParallel, actor)
		c := e.Coordinator
		l.open(&handoverRow{seq: seq, kind: HandoverParallel, fromUnit: e.From.Unit, fromID: e.From.OfficialID, fromName: e.From.OfficialName,
			toUnit: c.Unit, toID: c.OfficialID, toName: c.OfficialName, handedAt: e.StartedAt, step: e.Step, deadline: e.StepDeadline,
			calendar: e.CalendarVersion, note: e.Note})
		for i, p := range e.Parts {
			l.open(&handoverRow{seq: seq + int64(i) + 1, kind: HandoverPart, fromUnit: c.Unit, fromID: c.OfficialID, fromName: c.OfficialName,
				toUnit: p.Unit, handedAt: e.StartedAt, step: p.Step, allotted: p.AllottedHours, deadline: p.StepDeadline, calendar: e.CalendarVersion})
		}
	case domain.PartCompleted:
		finish(l.openPart(e.Step), e.CompletedAt, "part_completed", eventstore.Actor{ID: e.By.OfficialID, Name: e.By.OfficialName})
		l.note(re, e.CompletedAt, NotePartCompleted, e.Step, time.Time{}, e.Opinion)
	case domain.ResultReady:
		if e.Index > 1 {
			l.note(re, e.ReadyAt, NoteMoreResult, "", time.Time{}, e.ResultCode)
			return
		}
		var from string
		if h := l.current(); h != nil {
			from = h.toUnit
		}
		l.end(e.ReadyAt, HandoverResult, actor)
		l.open(&handoverRow{seq: seq, kind: HandoverResult, fromUnit: from, fromID: actor.ID, fromName: actor.Name,
			toUnit: receivingUnit, handedAt: e.ReadyAt, step: StepReturn, note: e.ResultCode})
	case domain.ResultReturned:
		l.end(e.ReturnedAt, "returned", actor)
	case domain.Rejected:
		l.note(re, e.RejectedAt, NoteRejected, "", time.Time{}, e.Reason)
		l.end(e.RejectedAt, "rejected", actor)
	case domain.Withdrawn:
		l.note(re, e.WithdrawnAt, NoteWithdrawn, "", time.Time{}, e.Reason)
		l.end(e.WithdrawnAt, "withdrawn", actor)
	case domain.SupplementRequested:
		l.note(re, e.RequestedAt, NoteSupplementRequested, strconv.Itoa(e.RequestNumber), time.Time{}, e.Reason)
	case domain.Supplemented:
		l.note(re, e.SupplementedAt, NoteSupplemented, "", e.NewAppointmentDate, "")
	case domain.Suspended:
		l.note(re, e.SuspendedAt, NoteSuspended, "", time.Time{}, e.Reason)
	case domain.Resumed:
		l.note(re, e.ResumedAt, NoteResumed, "", e.NewAppointmentDate, "")
	case domain.ApologyIssued:
		l.note(re, e.IssuedAt, NoteApology, "", e.NewAppointmentDate, e.Reason)
	case domain.Appraised:
		l.note(re, e.AppraisedAt, NoteAppraised, "", time.Time{}, string(e.Conclusion)+": "+e.Opinion)
	case domain.Signed:
		l.note(re, e.SignedAt, NoteSigned, "", time.Time{}, e.DocumentNumber)
	case domain.CorrectionApproved:
		l.correct(re, e)
	case domain.BoundaryFreeReceived:
		l.note(re, e.ReceivedAt, NoteBoundaryFree, e.CollectAt, time.Time{}, "")
		if e.ForwardOriginals {
			// Runs beside the dossier's own steps, judged by itself when the originals arrive.
			l.open(&handoverRow{seq: seq + 1, kind: HandoverForwarding, fromUnit: e.ReceivingCentre, fromID: actor.ID, fromName: actor.Name,
				toUnit: e.CompetentAgency, handedAt: e.ReceivedAt, step: StepForwarding, allotted: e.ForwardingHours,
				deadline: e.ForwardingDeadline, calendar: e.CalendarVersion})
		}
	case domain.OriginalsArrived:
		for _, h := range l.rows {
			if h.kind == HandoverForwarding {
				finish(h, e.ArrivedAt, "originals_arrived", eventstore.Actor{ID: e.By.OfficialID, Name: e.By.OfficialName})
			}
		}
	case domain.AgencySucceeded:
		// The step under way goes on at the successor with its deadline: a note, not a handover
		// judged on its own, so the succession neither makes a step late nor excuses one.
		l.note(re, e.SucceededAt, NoteAgencySucceeded, e.FromAgency+" → "+e.ToAgency, time.Time{}, e.Basis)
	}
}

var handoverColumnNames = []string{"dossier_id", "seq", "kind", "from_unit", "from_official_id", "from_official_name", "to_unit",
	"to_official_id", "to_official_name", "handed_at", "step", "allotted_hours", "deadline", "calendar_version", "note", "ended_at",
	"end_kind", "ended_by_id", "ended_by_name"}

// values returns the row's column values in the order of handoverColumnNames.
func (h *handoverRow) values(id string) []any {
	return []any{id, h.seq, h.kind, h.fromUnit, h.fromID, h.fromName, h.toUnit, h.toID, h.toName, sqlTime(h.handedAt), h.step,
		sql.NullFloat64{Float64: h.allotted, Valid: h.allotted > 0}, sqlTime(h.deadline), h.calendar, h.note, sqlTime(h.endedAt),
		nullText(h.endKind), nullText(h.endedByID), nullText(h.endedByName)}
}

func nullText(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

type storedHandover struct {
	dossierID string
	row       handoverRow
}

// scanHandoverRows reads rows of handoverColumnNames, each followed by the columns extra (when
// not nil) returns the destinations of.
func scanHandoverRows(rows *sql.Rows, extra func() []any) ([]storedHandover, error) {
	defer rows.Close()
	var out []storedHandover
	for rows.Next() {
		var s storedHandover
		h := &s.row
		var handed, deadline, ended, endKind, endedByID, endedByName sql.NullString
		var allotted sql.NullFloat64
		dest := []any{&s.dossierID, &h.seq, &h.kind, &h.fromUnit, &h.fromID, &h.fromName, &h.toUnit, &h.toID, &h.toName,
			&handed, &h.step, &allotted, &deadline, &h.calendar, &h.note, &ended, &endKind, &endedByID, &endedByName}
		if extra != nil {
			dest = append(dest, extra()...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		h.handedAt, h.deadline, h.endedAt = parseSQLTime(handed), parseSQLTime(deadline), parseSQLTime(ended)
		h.allotted, h.endKind, h.endedByID, h.endedByName = allotted.Float64, endKind.String, endedByID.String, endedByName.String
		out = append(out, s)
	}
	return out, rows.Err()
}

// Party is one side of a handover: a unit and, when known, an official.
type Party struct {
	Unit         string `json:"unit,omitempty"`
	OfficialID   string `json:"official_id,omitempty"`
	OfficialName string `json:"official_name,omitempty"`
}

// ControlNote is something that happened during a step (a supplement request, a suspension, the
// appraisal, …), shown in the sheet's note column.
//
// The read model holds codes: Kind (a Note… constant), Param and Date. The API and the pages put
// the words in Event and Detail through l10n (Lang.ControlNote); Detail holds, until then, the
// event's own text.
type ControlNote struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail,omitempty"`
	By     string    `json:"by,omitempty"`

	Kind  string    `json:"-"`
	Param string    `json:"-"` // the supplement round, or the step of a completed part
	Date  time.Time `json:"-"` // the new appointment date of a supplement, a resumption or an apology
}

// Handover is one line of the process-control sheet: who handed the dossier to whom and when, the
// step the receiver had to carry out with its allotted time and deadline (as recorded at the
// handover), and — once the step ended with the next handover, the result or a decision — the
// verdict on it. A step still running past its deadline shows how far it has overrun so far.
type Handover struct {
	No              int           `json:"no"`
	Kind            string        `json:"kind"`
	From            Party         `json:"from"`
	To              Party         `json:"to"`
	HandedAt        time.Time     `json:"handed_at"`
	Step            string        `json:"step"`
	AllottedHours   float64       `json:"allotted_hours,omitempty"`
	Deadline        time.Time     `json:"deadline,omitzero"`
	CalendarVersion string        `json:"calendar_version,omitempty"`
	EndedAt         time.Time     `json:"ended_at,omitzero"`
	EndedBy         string        `json:"ended_by,omitempty"` // transfer, inter_agency, result, received, refused, rejected, withdrawn, returned
	EndedByOfficial Party         `json:"ended_by_official,omitzero"`
	Verdict         Verdict       `json:"verdict,omitempty"`
	VerdictLabel    string        `json:"verdict_label,omitempty"` // the verdict's words: the API fills them (l10n)
	OverrunHours    float64       `json:"overrun_hours,omitempty"` // working hours past the deadline
	Ongoing         bool          `json:"ongoing,omitempty"`       // the step has not ended yet
	Note            string        `json:"note,omitempty"`
	Events          []ControlNote `json:"events,omitempty"`
	Corrected       bool          `json:"corrected,omitempty"` // an approved correction changed what this row records

	dossierID string
	seq       int64
}

// Responsible is who carried out the step: the official it was handed to, else the one who ended it.
func (h Handover) Responsible() Party {
	if h.To.OfficialID != "" {
		return h.To
	}
	return Party{Unit: h.To.Unit, OfficialID: h.EndedByOfficial.OfficialID, OfficialName: h.EndedByOfficial.OfficialName}
}

// judgeAt fills the verdict and overrun: finished steps are judged, running ones show their overrun at now.
func (h *Handover) judgeAt(cal *calendar.Calendar, now time.Time) {
	if h.Deadline.IsZero() {
		return
	}
	if h.EndedAt.IsZero() {
		h.Ongoing = true
		if now.After(h.Deadline) {
			h.OverrunHours = workingHours(cal, h.Deadline, now)
		}
		return
	}
	h.Verdict = judge(h.EndedAt, h.Deadline)
	if h.Verdict == VerdictLate {
		h.OverrunHours = workingHours(cal, h.Deadline, h.EndedAt)
	}
}

// ControlSheet is the process-control sheet of one dossier (regulations §5).
type ControlSheet struct {
	DossierID            string    `json:"dossier_id"`
	Code                 string    `json:"code,omitempty"`
	ProcedureCode        string    `json:"procedure_code"`
	ProcedureName        string    `json:"procedure_name"`
	ApplicantName        string    `json:"applicant_name"`
	Channel              string    `json:"channel"`
	ReceivingUnit        string    `json:"receiving_unit"`
	CompetentAgency      string    `json:"competent_agency"`
	CoordinatingAgencies []string  `json:"coordinating_agencies"`
	SubmittedAt          time.Time `json:"submitted_at,omitzero"`
	ReceivedAt           time.Time `json:"received_at,omitzero"`
	FirstAppointment     time.Time `json:"first_appointment_date,omitzero"`
	AppointmentDate      time.Time `json:"appointment_date,omitzero"` // in force now, an apology's new date included
	// DueDate is the statutory due date in force now: an apology does not move it (form 04 admits
	// the lateness), a completed supplement restarts it, a suspension moves it.
	DueDate    time.Time `json:"due_date,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
	// ResolvedAgainst is the statutory due date in force when resolved; ResolutionVerdict judges
	// the resolution against it.
	ResolvedAgainst     time.Time  `json:"resolved_against,omitzero"`
	ResolutionVerdict   Verdict    `json:"resolution_verdict,omitempty"`
	ReturnedAt          time.Time  `json:"returned_at,omitzero"`
	Closed              string     `json:"closed,omitempty"`
	CloseReason         string     `json:"close_reason,omitempty"`
	HolderAgency        string     `json:"-"` // for read access: officials of the agency holding it may read it
	OpenPartAgencies    []string   `json:"-"` // for read access: other agencies doing an open part of a parallel step
	Handovers           []Handover `json:"handovers"`
	OverrunMeasuredWith string     `json:"overrun_measured_with"` // calendar version used for working hours
	GeneratedAt         time.Time  `json:"generated_at"`
}

// ControlSheetOf returns the process-control sheet of the dossier with the given code or id; working
// hours of overrun are measured with cal, steps still running are judged at now. ErrNotFound when no
// such dossier is recorded.
func ControlSheetOf(ctx context.Context, db *sql.DB, ref string, cal *calendar.Calendar, now time.Time) (ControlSheet, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+columnList(controlColumns, "d")+` FROM control_dossiers d WHERE d.code = $1 OR d.dossier_id = $1`, ref)
	if err != nil {
		return ControlSheet{}, err
	}
	list, err := scanSummaryColumns(rows, controlColumns, nil)
	if err != nil {
		return ControlSheet{}, err
	}
	if len(list) == 0 {
		return ControlSheet{}, ErrNotFound
	}
	d := list[0]
	sheet := ControlSheet{
		DossierID: d.DossierID, Code: d.Code, ProcedureCode: d.ProcedureCode, ProcedureName: d.ProcedureName,
		ApplicantName: d.ApplicantName, Channel: d.Channel, ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency,
		CoordinatingAgencies: []string{}, SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt, FirstAppointment: d.FirstAppointment,
		AppointmentDate: d.AppointmentDate, DueDate: d.DueDate, ResolvedAt: d.ResolvedAt, Resolution: d.Resolution,
		ResolvedAgainst: d.ResolvedDueDate, ResolutionVerdict: judge(d.ResolvedAt, d.ResolvedDueDate), ReturnedAt: d.ReturnedAt, Closed: d.CloseKind,
		CloseReason: d.CloseReason, OverrunMeasuredWith: cal.Version(), GeneratedAt: now,
	}
	handovers, err := queryHandovers(ctx, db, []string{d.DossierID}, false, cal, now)
	if err != nil {
		return ControlSheet{}, err
	}
	notes, err := db.QueryContext(ctx, `SELECT seq, at, kind, param, on_date, detail, by_name FROM control_notes WHERE dossier_id = $1 ORDER BY version`, d.DossierID)
	if err != nil {
		return ControlSheet{}, err
	}
	defer notes.Close()
	bySeq := map[int64]int{}
	for i, h := range handovers {
		bySeq[h.seq] = i
		// Other agencies that did a share: sent the dossier (liên thông) or a part of a parallel step.
		other := h.Kind == HandoverInterAgency ||
			(h.Kind == HandoverPart && domain.ValidUnitCode(h.To.Unit) && h.To.Unit != d.CompetentAgency && h.To.Unit != d.ReceivingUnit)
		if other && !slices.Contains(sheet.CoordinatingAgencies, h.To.Unit) {
			sheet.CoordinatingAgencies = append(sheet.CoordinatingAgencies, h.To.Unit)
		}
		if other && h.Kind == HandoverPart && h.EndedAt.IsZero() {
			sheet.OpenPartAgencies = append(sheet.OpenPartAgencies, h.To.Unit)
		}
	}
	for notes.Next() {
		var seq int64
		var at, date sql.NullString
		var n ControlNote
		if err := notes.Scan(&seq, &at, &n.Kind, &n.Param, &date, &n.Detail, &n.By); err != nil {
			return ControlSheet{}, err
		}
		n.At, n.Date = parseSQLTime(at), parseSQLTime(date)
		if n.Kind == NoteCorrected {
			markCorrected(handovers, bySeq, seq, n)
			continue
		}
		if i, ok := bySeq[seq]; ok {
			handovers[i].Events = append(handovers[i].Events, n)
		}
	}
	if err := notes.Err(); err != nil {
		return ControlSheet{}, err
	}
	// The agency holding the dossier, as the aggregate keeps it: the receiving unit, then each
	// agency it was sent to for its share, until the result comes back to the desk.
	sheet.HolderAgency = d.ReceivingUnit
	for _, h := range handovers {
		switch h.Kind {
		case HandoverInterAgency:
			sheet.HolderAgency = h.To.Unit
		case HandoverResult:
			sheet.HolderAgency = d.ReceivingUnit
		}
	}
	sheet.Handovers = handovers
	return sheet, nil
}

// queryHandovers returns the handovers of the dossiers, in each dossier's order, numbered among
// all of its handovers and judged at now; with overranOnly, only those that overran at now —
// ended after their deadline (VerdictLate) or running past it —, which the store picks: the late
// dashboard's first page of open overdue dossiers holds ≈ 3.4 handovers a dossier, of which
// 1.5–1.8 overran, and each row read costs the driver as much as SQLite's search for it.
func queryHandovers(ctx context.Context, db *sql.DB, dossierIDs []string, overranOnly bool, cal *calendar.Calendar, now time.Time) ([]Handover, error) {
	if len(dossierIDs) == 0 {
		return nil, nil
	}
	var c conditions
	c.add("h.dossier_id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(dossierIDs)), ", ")+")", engine.StringArgs(dossierIDs)...)
	if overranOnly {
		// As judgeAt judges: ended after the deadline (judge), or running past it at now.
		c.add("h.deadline IS NOT NULL AND (h.ended_at > h.deadline OR (h.ended_at IS NULL AND h.deadline < ?))", sqlTime(now))
	}
	// Each numbered by the store among all of its dossier's handovers, a range of the key: a
	// window over the dossiers' handovers cost SQLite a sort of its rows (1.9 ms against 1.1 for
	// a first page's at 1,000,000 dossiers).
	rows, err := db.QueryContext(ctx, `SELECT h.`+strings.Join(handoverColumnNames, ", h.")+`,
			(SELECT COUNT(*) FROM control_handovers e WHERE e.dossier_id = h.dossier_id AND e.seq <= h.seq)
		FROM control_handovers h`+c.where()+` ORDER BY h.dossier_id, h.seq`, c.args...)
	if err != nil {
		return nil, err
	}
	var numbers []int
	stored, err := scanHandoverRows(rows, func() []any {
		numbers = append(numbers, 0)
		return []any{&numbers[len(numbers)-1]}
	})
	if err != nil {
		return nil, err
	}
	handovers := make([]Handover, 0, len(stored))
	for i, s := range stored {
		r := s.row
		h := Handover{
			No: numbers[i], Kind: r.kind, From: Party{Unit: r.fromUnit, OfficialID: r.fromID, OfficialName: r.fromName},
			To: Party{Unit: r.toUnit, OfficialID: r.toID, OfficialName: r.toName}, HandedAt: r.handedAt, Step: r.step,
			AllottedHours: r.allotted, Deadline: r.deadline, CalendarVersion: r.calendar, EndedAt: r.endedAt, EndedBy: r.endKind,
			EndedByOfficial: Party{OfficialID: r.endedByID, OfficialName: r.endedByName}, Note: r.note, dossierID: s.dossierID, seq: r.seq,
		}
		h.judgeAt(cal, now)
		handovers = append(handovers, h)
	}
	return handovers, nil
}
