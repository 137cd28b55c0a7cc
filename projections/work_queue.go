package projections

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// WorkQueueView is the officials' work queue: one row per dossier still in an agency's hands, with
// who holds it and the deadline it is racing. Finished dossiers leave the queue.
//
// Each row carries the agency responsible for the dossier now (responsible_agency), because a
// transfer names only a unit: a unit that is itself an agency identifier is that agency; a
// department code names a department of the agency the dossier was sent to for its part
// (inter-agency work) or, otherwise, of the competent agency that decides it.
//
// A row also carries its place in the queue as indexed columns — (sort_rank, due_key, code,
// dossier_id), see queuePlace — so that every page is a range of an index read in order, and
// work_queue_agencies holds one row per agency involved in the dossier (received it, decides it,
// holds it, or does an open part of a parallel step), with the same place: an agency's queue is a
// range of that table's key, never a filter applied in Go.
//
// work_queue_counts counts the rows of the queues a page shows unfiltered — an agency's own, the
// dossiers it is involved in, every dossier — by rank and, for running clocks, by the day they
// are due (queueCountKey): a queue's total, its overdue and due-soon dossiers and the per-agency
// summary are sums of these rows plus an index count of a day's dossiers at most, whatever the
// number of dossiers open. Counting the index instead read every open dossier of the queue: 6×
// from 100,000 to 1,000,000 dossiers for the summary, 3.4× for the reception's page (session 9).
type WorkQueueView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (WorkQueueView) Name() string { return "work_queue" }
func (WorkQueueView) Tables() []string {
	return []string{"work_queue", "work_queue_agencies", "work_queue_counts"}
}
func (WorkQueueView) SchemaVersion() int                       { return 3 } // 3: work_queue_counts
func (WorkQueueView) WithPrefix(prefix string) engine.Consumer { return WorkQueueView{Prefix: prefix} }
func (v WorkQueueView) table() string                          { return v.Prefix + "work_queue" }
func (v WorkQueueView) agencyTable() string                    { return v.Prefix + "work_queue_agencies" }
func (v WorkQueueView) countsTable() string                    { return v.Prefix + "work_queue_counts" }

// queueOrder is the order of every queue and the key of its pages.
const queueOrder = "sort_rank, due_key, code"

func (v WorkQueueView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	// One index per filter, each followed by the queue's order, so that a filtered page is read in
	// order from its index and stops after the page.
	if err := execAll(ctx, db, createTable(d, v.table(), `
			dossier_id TEXT PRIMARY KEY,
			sort_rank INTEGER NOT NULL,
			due_key TEXT NOT NULL,
			code TEXT NOT NULL,
			responsible_agency TEXT NOT NULL,
			holder_unit TEXT NOT NULL,
			holder_official_id TEXT NOT NULL,
			procedure_code TEXT NOT NULL,
			field_code TEXT NOT NULL,
			status TEXT NOT NULL,
			acceptance_deadline TEXT,
			state_json TEXT NOT NULL,
			version BIGINT NOT NULL`, "dossier_id",
		tableIndex{"_order", queueOrder},
		tableIndex{"_responsible", "responsible_agency, " + queueOrder},
		tableIndex{"_unit", "holder_unit, " + queueOrder},
		tableIndex{"_official", "holder_official_id, " + queueOrder},
		tableIndex{"_procedure", "procedure_code, " + queueOrder},
		tableIndex{"_field", "field_code, " + queueOrder},
		tableIndex{"_status", "status, " + queueOrder})); err != nil {
		return err
	}
	// The key is the whole row: an agency's queue is read from the key alone.
	withoutRowID := ""
	if d == engine.SQLite {
		withoutRowID = " WITHOUT ROWID"
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+v.agencyTable()+` (
			agency TEXT NOT NULL,
			sort_rank INTEGER NOT NULL,
			due_key TEXT NOT NULL,
			code TEXT NOT NULL,
			dossier_id TEXT NOT NULL,
			PRIMARY KEY (agency, `+queueOrder+`, dossier_id))`+withoutRowID); err != nil {
		return err
	}
	// Read by ranges of the key alone (a scope, then a rank, then days): no secondary index.
	if _, err := db.ExecContext(ctx, createKeyTable(d, v.countsTable(), `
			scope TEXT NOT NULL,
			agency TEXT NOT NULL,
			sort_rank INTEGER NOT NULL,
			due_day TEXT NOT NULL,
			n BIGINT NOT NULL,
			PRIMARY KEY (scope, agency, sort_rank, due_day)`)); err != nil {
		return err
	}
	return keepStatesInline(ctx, db, d, v.table())
}

// inQueue reports whether a dossier in status s is still waiting on an agency (or on its applicant,
// which the agency follows up).
func inQueue(s domain.Status) bool {
	return s == domain.StatusSubmitted || s == domain.StatusResultReady || s.Open()
}

// The ranks of a queue, in its order: what its holder must act on first comes first.
const (
	rankRunning         = 0 // the clock runs: ordered by the moment it is due, overdue ones first
	rankResultWaiting   = 1 // result ready in time, waiting to be handed back: no deadline races
	rankSuspended       = 2 // paused: processing suspended
	rankWaitingForApply = 3 // paused: the applicant owes documents
)

// noDueKey stands for "no deadline": after every due moment.
const noDueKey = "9999-12-31T23:59:59.999999Z"

// queuePlace is a row's place in the queue: its rank, then the moment it is due.
//
// For a dossier whose clock runs, the working hours left shrink with the due moment for any
// fixed now, so ordering by due moment is ordering by working hours left, and those due before
// now are exactly the overdue ones: the order is an index order that does not change with now. A
// result ready after its appointment date stays overdue, at that date, among them; one ready in
// time races nothing any more and comes next; paused dossiers come last, since nobody at the
// agency can move them.
func queuePlace(d domain.Dossier, acceptance time.Time) (rank int, dueKind DueKind, dueAt time.Time) {
	dueKind, dueAt = dueOf(d, acceptance)
	switch {
	case d.Status == domain.StatusSuspended:
		rank = rankSuspended
	case d.Status == domain.StatusSupplementRequested && d.PendingSupplement != nil:
		rank = rankWaitingForApply
	case d.Status == domain.StatusResultReady && len(d.Results) > 0 && !(!dueAt.IsZero() && d.Results[0].ReadyAt.After(dueAt)):
		rank = rankResultWaiting
	}
	return rank, dueKind, dueAt
}

// dueOf is the deadline a dossier races.
func dueOf(d domain.Dossier, acceptance time.Time) (DueKind, time.Time) {
	switch {
	case d.Status == domain.StatusSubmitted:
		return DueAcceptance, acceptance
	case d.Status == domain.StatusProcessing && !d.StepDeadline.IsZero():
		return DueStep, d.StepDeadline
	case !d.AppointmentDate.IsZero():
		return DueAppointment, d.AppointmentDate
	}
	return "", time.Time{}
}

func dueKeyOf(t time.Time) string {
	if t.IsZero() {
		return noDueKey
	}
	return sqlTime(t).String
}

// involvedAgencies lists the agencies involved in d, each once (domain.Dossier.AgencyInvolved).
func involvedAgencies(d domain.Dossier) []string {
	agencies := make([]string, 0, 3+len(d.OpenParts))
	add := func(a string) {
		if a != "" && !slices.Contains(agencies, a) {
			agencies = append(agencies, a)
		}
	}
	add(d.ReceivingUnit)
	add(d.CompetentAgency)
	add(d.HolderAgency)
	for _, p := range d.OpenParts {
		add(p.Agency)
	}
	slices.Sort(agencies)
	return agencies
}

// queueKey is a row's place as written: its index entries are found by it, and the counters it
// counts in by its place, agencies and responsible agency.
type queueKey struct {
	rank        int
	due         string
	code        string
	agencies    []string
	responsible string
}

// samePlace reports whether the row's index rows stay as they are.
func (k queueKey) samePlace(o queueKey) bool {
	return k.rank == o.rank && k.due == o.due && k.code == o.code && slices.Equal(k.agencies, o.agencies)
}

// The scopes of work_queue_counts, each with an agency but the first: every dossier; those waiting
// on the agency (responsible_agency, the per-agency summary); those it is involved in (its
// "involved" queue); those waiting on it that it is involved in (its own queue: the scope and
// responsible filters together).
const (
	countScopeAll         = "all"
	countScopeResponsible = "responsible"
	countScopeInvolved    = "involved"
	countScopeOwn         = "own"
)

// queueCountKey keys a counter row: a scope and its agency, a rank and, for a running clock, the
// day (UTC, the due key's first ten characters) it is due; the other ranks race no deadline a
// count asks about.
type queueCountKey struct {
	scope, agency string
	rank          int
	day           string
}

// countKeys are the counter rows the row counts in.
func (k queueKey) countKeys() []queueCountKey {
	day := ""
	if k.rank == rankRunning {
		day = dueDay(k.due)
	}
	keys := []queueCountKey{{countScopeAll, "", k.rank, day}, {countScopeResponsible, k.responsible, k.rank, day}}
	for _, a := range k.agencies {
		keys = append(keys, queueCountKey{countScopeInvolved, a, k.rank, day})
		if a == k.responsible {
			keys = append(keys, queueCountKey{countScopeOwn, a, k.rank, day})
		}
	}
	return keys
}

// dueDay is the day of a due key: its date, which orders days as the keys order moments.
func dueDay(due string) string { return due[:min(len(due), len(time.DateOnly))] }

// queueRow is one dossier's row while it is folded.
type queueRow struct {
	id         string
	dossier    domain.Dossier
	acceptance sql.NullString
	version    uint64
	queued     bool     // in the queue after the events folded so far
	stored     bool     // the table holds a row for it, placed at written
	written    queueKey // the stored row's place and agencies
	dirty      bool     // changed since the last flush
	touched    int      // the fold's event count when an event last moved the row
}

// reset forgets the dossier, as deleting its row does: a later event starts again from a new dossier.
func (r *queueRow) reset() {
	r.dossier, r.acceptance, r.queued = domain.Dossier{Status: domain.StatusNew}, sql.NullString{}, false
}

// queueState is the part of a folded dossier the queue keeps: what a work item shows and what
// Evolve reads to fold later events. Like publicState it leaves out what Evolve only overwrites or
// appends to and the queue never shows — the components, the rules, appraisal, signature, payments,
// rating — and of the applicant all but the name and type: the row is written at every move of an
// open dossier, and it is half as large. The files stay: a work item lists them.
func queueState(d domain.Dossier) domain.Dossier {
	d.Applicant = domain.Applicant{Type: d.Applicant.Type, Name: d.Applicant.Name}
	d.Components, d.Rules, d.Appraisal, d.Signature, d.Payments, d.Rating = nil, domain.Rules{}, nil, nil, nil, nil
	return d
}

// Apply folds a batch and writes the rows it changed: a fold of that batch alone, the same code as
// catch-up and rebuild run over hundreds of thousands of events.
func (v WorkQueueView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold starts a fold onto the view's tables (engine.Folding). A dossier whose first event is in
// a batch has no row yet; any other row the fold does not hold is read back, in fresh tables too,
// since Flush forgets rows.
func (v WorkQueueView) NewFold(fresh bool) engine.Fold {
	return &workQueueFold{view: v, rows: map[string]*queueRow{}}
}

// workQueueFold holds the rows of the dossiers moving in the log, keyed by dossier id, across the
// batches folded since the last flush.
type workQueueFold struct {
	view     WorkQueueView
	rows     map[string]*queueRow
	dirty    []*queueRow  // in the order first changed, so rows are written in a repeatable order
	added    int          // events folded so far
	prepared *queueWrites // what the next flush writes, when PrepareFlush worked it out
}

// PrepareFlush works out the rows the next flush writes outside the flush's transaction
// (engine.FlushPreparer): at a million dossiers, encoding every moved dossier's state took longer
// than PostgreSQL lets a transaction sit idle (docs/benchmarks.md, session 16).
func (f *workQueueFold) PrepareFlush(context.Context) error {
	w, err := f.view.writesOf(f.dirty)
	f.prepared = w
	return err
}

func (f *workQueueFold) Held() int { return len(f.rows) }

// Add folds a batch into the rows held, first reading back those it needs and does not hold: a few
// set queries, never one per event.
func (f *workQueueFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	decoded, ids, err := decodeBatch(batch)
	if err != nil || len(ids) == 0 {
		return err
	}
	var missing []*queueRow
	for _, de := range decoded {
		if _, held := f.rows[de.id]; held {
			continue
		}
		row := &queueRow{id: de.id}
		row.reset()
		f.rows[de.id] = row
		// A stream's first event opens the dossier: no row exists before it.
		if de.re.Version > 1 {
			missing = append(missing, row)
		}
	}
	if err := f.view.loadRows(ctx, q, batch.Dialect, missing); err != nil {
		return err
	}
	for _, de := range decoded {
		re, e, row := de.re, de.e, f.rows[de.id]
		f.added++
		row.touched = f.added
		if s, ok := e.(domain.Submitted); ok {
			row.acceptance = sqlTime(s.AcceptanceDeadline)
		}
		row.dossier = domain.Evolve(row.dossier, e)
		row.dossier.Version = re.Version
		row.version = re.Version
		row.queued = true
		if !inQueue(row.dossier.Status) {
			row.reset()
		}
		if !row.dirty {
			row.dirty = true
			f.dirty = append(f.dirty, row)
		}
	}
	// Hold no more than the table keeps: a fold may hold a quarter of a million rows.
	for _, id := range ids {
		row := f.rows[id]
		row.dossier = queueState(row.dossier)
	}
	return nil
}

// Flush writes the rows changed since the last flush, then keeps those of dossiers still in the
// queue that an event moved within the last foldForgetAfter events; any other is read back if it
// moves again (by events, not flushes: a catch-up flushes every few seconds).
func (f *workQueueFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	w, err := takePrepared(&f.prepared, func() (*queueWrites, error) { return f.view.writesOf(f.dirty) })
	if err != nil {
		return err
	}
	if err := f.view.write(ctx, tx, batch, w); err != nil {
		return err
	}
	for id, row := range f.rows {
		if !row.queued || f.added-row.touched > foldForgetAfter {
			delete(f.rows, id)
			continue
		}
		row.dirty = false
	}
	f.dirty = f.dirty[:0]
	return nil
}

// queueRowsPerStatement bounds the rows one statement reads or deletes (see publicRowsPerStatement).
const queueRowsPerStatement = 100

// loadRows fills the rows the table holds with their stored state, a hundred per query. A fold
// reads back few rows — those of dossiers it forgot and that moved again — so the queries are not
// prepared.
func (v WorkQueueView) loadRows(ctx context.Context, q engine.Querier, d engine.Dialect, rows []*queueRow) error {
	for chunk := range slices.Chunk(rows, queueRowsPerStatement) {
		byID := make(map[string]*queueRow, len(chunk))
		args := make([]any, len(chunk))
		for i, row := range chunk {
			byID[row.id], args[i] = row, row.id
		}
		result, err := q.QueryContext(ctx, `SELECT dossier_id, state_json, acceptance_deadline, sort_rank, due_key, code, responsible_agency FROM `+v.table()+
			` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, args...)
		if err != nil {
			return err
		}
		for result.Next() {
			var id, stateJSON string
			var key queueKey
			var acceptance sql.NullString
			if err := result.Scan(&id, &stateJSON, &acceptance, &key.rank, &key.due, &key.code, &key.responsible); err != nil {
				result.Close()
				return err
			}
			row := byID[id]
			if err := json.Unmarshal([]byte(stateJSON), &row.dossier); err != nil {
				result.Close()
				return err
			}
			key.agencies = involvedAgencies(row.dossier)
			row.acceptance, row.written, row.stored, row.queued = acceptance, key, true, true
		}
		if err := errors.Join(result.Err(), result.Close()); err != nil {
			return err
		}
	}
	return nil
}

var queueColumns = []string{"dossier_id", "sort_rank", "due_key", "code", "responsible_agency", "holder_unit", "holder_official_id",
	"procedure_code", "field_code", "status", "acceptance_deadline", "state_json", "version"}

var queueAgencyColumns = []string{"agency", "sort_rank", "due_key", "code", "dossier_id"}

// queueWrites are the statements' rows a flush of the queue writes, worked out before its
// transaction opens.
type queueWrites struct {
	fresh, stored, agencyRows, counts [][]any
	gone                              []string
	moved                             []any // index rows to delete, five values each
	fell                              []any // counter rows that may have fallen to zero, four values each
}

// writesOf works out what writing the rows changed takes — upserting those still queued and
// deleting the others, moving their agencies' index rows when their place or agencies changed,
// and their counts —, and marks them written.
func (v WorkQueueView) writesOf(rows []*queueRow) (*queueWrites, error) {
	var fresh, stored, agencyRows [][]any
	var gone []string
	var moved []any // index rows to delete, five values each
	counts := map[queueCountKey]int64{}
	count := func(k queueKey, n int64) {
		for _, c := range k.countKeys() {
			counts[c] += n
		}
	}
	unplace := func(row *queueRow) {
		for _, a := range row.written.agencies {
			moved = append(moved, a, row.written.rank, row.written.due, row.written.code, row.id)
		}
	}
	for _, row := range rows {
		if !row.queued {
			if row.stored {
				gone = append(gone, row.id)
				unplace(row)
				count(row.written, -1)
				row.stored = false
			}
			continue
		}
		d := row.dossier
		rank, _, due := queuePlace(d, parseSQLTime(row.acceptance))
		key := queueKey{rank: rank, due: dueKeyOf(due), code: string(d.Code), agencies: involvedAgencies(d), responsible: responsibleAgency(d)}
		state, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		values := []any{row.id, key.rank, key.due, key.code, key.responsible, d.Holder.Unit, d.Holder.OfficialID,
			d.Procedure.Code, d.Procedure.FieldCode, string(d.Status), row.acceptance, string(state), int64(row.version)}
		if row.stored {
			stored = append(stored, values)
		} else {
			fresh = append(fresh, values)
		}
		if !row.stored || !key.samePlace(row.written) {
			if row.stored {
				unplace(row)
			}
			for _, a := range key.agencies {
				agencyRows = append(agencyRows, []any{a, key.rank, key.due, key.code, row.id})
			}
		}
		if !row.stored || !key.samePlace(row.written) || key.responsible != row.written.responsible {
			if row.stored {
				count(row.written, -1)
			}
			count(key, 1)
		}
		row.written, row.stored = key, true
	}
	w := &queueWrites{fresh: fresh, stored: stored, agencyRows: agencyRows, gone: gone, moved: moved}
	w.counts, w.fell = countRowsOf(counts)
	return w, nil
}

// write writes what writesOf worked out, in tx.
func (v WorkQueueView) write(ctx context.Context, tx *sql.Tx, batch engine.Batch, w *queueWrites) error {
	if err := deleteByID(ctx, tx, batch.Dialect, v.table(), w.gone, queueRowsPerStatement); err != nil {
		return err
	}
	if err := v.deleteAgencyRows(ctx, tx, batch.Dialect, w.moved); err != nil {
		return err
	}
	upsert := replacingUpsert("dossier_id", queueColumns[1:])
	// A fresh row cannot be in the table (the fold read back every row a dossier could have), so it
	// needs no update clause: without one, no uniqueness conflict can abort a many-row statement
	// and SQLite keeps no statement journal for it.
	if err := insertNewRows(ctx, tx, batch, v.table(), queueColumns, w.fresh, `ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, v.table(), queueColumns, w.stored, upsert); err != nil {
		return err
	}
	// The index rows deleted above are gone, so none of these can be in the table.
	if err := insertNewRows(ctx, tx, batch, v.agencyTable(), queueAgencyColumns, w.agencyRows, `ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	// Increments, so folds writing the same rows in any order give the same table; then the rows
	// that fell to zero go: the table holds the days some dossier is due on now, never every day a
	// dossier once was.
	return addCounters(ctx, tx, batch, v.countsTable(), queueCountKeyColumns, nil, []string{"n"}, w.counts, w.fell, "n = 0")
}

// countRowsOf returns the counts' changes as counter rows in key order (two transactions adding
// to the same rows lock them in one order), and the keys of those that may have fallen to zero.
func countRowsOf(counts map[queueCountKey]int64) (rows [][]any, fell []any) {
	keys := make([]queueCountKey, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b queueCountKey) int {
		return cmp.Or(strings.Compare(a.scope, b.scope), strings.Compare(a.agency, b.agency), cmp.Compare(a.rank, b.rank), strings.Compare(a.day, b.day))
	})
	rows = make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.scope, k.agency, k.rank, k.day, counts[k]}
		if counts[k] < 0 {
			fell = append(fell, k.scope, k.agency, k.rank, k.day)
		}
	}
	return rows, fell
}

var queueCountKeyColumns = []string{"scope", "agency", "sort_rank", "due_day"}

// deleteAgencyRows deletes index rows by their whole key (five values each), a hundred per statement.
func (v WorkQueueView) deleteAgencyRows(ctx context.Context, tx *sql.Tx, d engine.Dialect, keys []any) error {
	const width = 5
	for start := 0; start < len(keys); start += width * queueRowsPerStatement {
		chunk := keys[start:min(start+width*queueRowsPerStatement, len(keys))]
		query := `DELETE FROM ` + v.agencyTable() + ` WHERE (agency, ` + queueOrder + `, dossier_id) IN (` + valuesList(d, len(chunk)/width, width) + `)`
		if _, err := tx.ExecContext(ctx, query, chunk...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList is a row-value list for IN: "(VALUES (?, ?), (?, ?))" on SQLite, which takes row
// values there only from a VALUES clause, and "(($1, $2), ($3, $4))" on PostgreSQL.
func valuesList(d engine.Dialect, rows, columns int) string {
	if d == engine.SQLite {
		return "VALUES " + d.Placeholders(rows, columns, 1)
	}
	return d.Placeholders(rows, columns, 1)
}

// responsibleAgency is the agency whose officials the dossier waits on now (see WorkQueueView).
func responsibleAgency(d domain.Dossier) string { return d.ResponsibleAgency() }

// queueCursor is a row's place as a page cursor.
func queueCursor(rank int, due, code, id string) Cursor {
	return Cursor{strconv.Itoa(rank), due, code, id}
}

// parseQueueCursor reads a cursor of queueCursor, or reports ErrBadCursor.
func parseQueueCursor(c Cursor) (rank int, due, code, id string, err error) {
	if len(c) != 4 {
		return 0, "", "", "", ErrBadCursor
	}
	rank, err = strconv.Atoi(c[0])
	if err != nil || rank < rankRunning || rank > rankWaitingForApply || strings.TrimSpace(c[3]) == "" {
		return 0, "", "", "", ErrBadCursor
	}
	return rank, c[1], c[2], c[3], nil
}
