package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
)

// WorkQueueView is the officials' work queue: one row per dossier still in an agency's hands, with
// who holds it and the deadline it is racing. Finished dossiers leave the queue.
//
// Each row carries the agency responsible for the dossier now (responsible_agency), because a
// transfer names only a unit: a unit that is itself an agency identifier is that agency; a
// department code names a department of the agency the dossier was sent to for its part
// (inter-agency work) or, otherwise, of the competent agency that decides it.
type WorkQueueView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (WorkQueueView) Name() string                             { return "work_queue" }
func (WorkQueueView) Tables() []string                         { return []string{"work_queue"} }
func (WorkQueueView) SchemaVersion() int                       { return 1 }
func (WorkQueueView) WithPrefix(prefix string) engine.Consumer { return WorkQueueView{Prefix: prefix} }
func (v WorkQueueView) table() string                          { return v.Prefix + "work_queue" }

func (v WorkQueueView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := execAll(ctx, db, createTable(d, v.table(), `
			dossier_id TEXT PRIMARY KEY,
			responsible_agency TEXT NOT NULL,
			holder_official_id TEXT NOT NULL,
			holder_unit TEXT NOT NULL,
			status TEXT NOT NULL,
			acceptance_deadline TEXT,
			state_json TEXT NOT NULL,
			version BIGINT NOT NULL`, "dossier_id",
		tableIndex{"_agency", "responsible_agency, holder_unit"}, tableIndex{"_official", "holder_official_id"})); err != nil {
		return err
	}
	return keepStatesInline(ctx, db, d, v.table())
}

// inQueue reports whether a dossier in status s is still waiting on an agency (or on its applicant,
// which the agency follows up).
func inQueue(s domain.Status) bool {
	return s == domain.StatusSubmitted || s == domain.StatusResultReady || s.Open()
}

// queueRow is one dossier's row while a batch is folded into it.
type queueRow struct {
	id         string
	dossier    domain.Dossier
	acceptance sql.NullString
	version    uint64
	stored     bool // the table had the row before the batch
	queued     bool // the row exists (in the table or after the events folded so far)
}

// reset forgets the dossier, as deleting its row does: a later event starts again from a new dossier.
func (r *queueRow) reset() {
	r.dossier, r.acceptance, r.queued = domain.Dossier{Status: domain.StatusNew}, sql.NullString{}, false
}

// Apply folds a batch into the rows it touches, as PublicStatusView.Apply does: a few set
// queries read the rows, every event is folded in memory, and each row is written (or deleted) once.
func (v WorkQueueView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	decoded, ids, err := decodeBatch(batch)
	if err != nil || len(ids) == 0 {
		return err
	}
	rows := make(map[string]*queueRow, len(ids))
	order := make([]*queueRow, len(ids)) // first touched first, so rows are written in a repeatable order
	for i, id := range ids {
		order[i] = &queueRow{id: id}
		order[i].reset()
		rows[id] = order[i]
	}
	if err := v.loadRows(ctx, tx, batch.Dialect, order); err != nil {
		return err
	}
	for _, de := range decoded {
		re, e, row := de.re, de.e, rows[de.id]
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
	}
	return v.writeRows(ctx, tx, batch, order)
}

// loadRows fills the rows that exist already with their stored state.
func (v WorkQueueView) loadRows(ctx context.Context, tx *sql.Tx, d engine.Dialect, rows []*queueRow) error {
	byID := make(map[string]*queueRow, len(rows))
	ids := make([]string, len(rows))
	for i, row := range rows {
		byID[row.id], ids[i] = row, row.id
	}
	statements := chunkStatements{tx: tx, build: func(n int) string {
		return `SELECT dossier_id, state_json, acceptance_deadline FROM ` + v.table() + ` WHERE dossier_id IN (` + placeholders(d, n, 1, 1) + `)`
	}}
	defer statements.close()
	return statements.queryByIDs(ctx, ids, func(result *sql.Rows) error {
		var id, stateJSON string
		var acceptance sql.NullString
		if err := result.Scan(&id, &stateJSON, &acceptance); err != nil {
			return err
		}
		row := byID[id]
		if err := json.Unmarshal([]byte(stateJSON), &row.dossier); err != nil {
			return err
		}
		row.acceptance, row.stored, row.queued = acceptance, true, true
		return nil
	})
}

// writeRows upserts the rows still queued and deletes the others, many per statement.
func (v WorkQueueView) writeRows(ctx context.Context, tx *sql.Tx, batch engine.Batch, rows []*queueRow) error {
	d := batch.Dialect
	var fresh, stored [][]any
	var gone []string
	for _, row := range rows {
		if !row.queued {
			if row.stored {
				gone = append(gone, row.id)
			}
			continue
		}
		dossier := row.dossier
		state, err := json.Marshal(dossier)
		if err != nil {
			return err
		}
		values := []any{row.id, responsibleAgency(dossier), dossier.Holder.OfficialID, dossier.Holder.Unit, string(dossier.Status),
			row.acceptance, string(state), int64(row.version)}
		if row.stored {
			stored = append(stored, values)
		} else {
			fresh = append(fresh, values)
		}
	}
	columns := []string{"dossier_id", "responsible_agency", "holder_official_id", "holder_unit", "status", "acceptance_deadline", "state_json", "version"}
	const upsert = `ON CONFLICT (dossier_id) DO UPDATE SET responsible_agency = excluded.responsible_agency,
		holder_official_id = excluded.holder_official_id, holder_unit = excluded.holder_unit, status = excluded.status,
		acceptance_deadline = excluded.acceptance_deadline, state_json = excluded.state_json, version = excluded.version`
	if err := insertNewRows(ctx, tx, batch, v.table(), columns, fresh, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch.Dialect, v.table(), columns, stored, upsert); err != nil {
		return err
	}
	deletes := chunkStatements{tx: tx, build: func(n int) string {
		return `DELETE FROM ` + v.table() + ` WHERE dossier_id IN (` + placeholders(d, n, 1, 1) + `)`
	}}
	defer deletes.close()
	for chunk := range slices.Chunk(gone, publicRowsPerStatement) {
		stmt, err := deletes.forRows(ctx, len(chunk))
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, anySlice(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// responsibleAgency is the agency whose officials the dossier waits on now (see WorkQueueView).
func responsibleAgency(d domain.Dossier) string {
	switch {
	case domain.ValidUnitCode(d.Holder.Unit):
		return d.Holder.Unit
	case d.HolderAgency != "" && d.HolderAgency != d.ReceivingUnit:
		return d.HolderAgency
	case d.CompetentAgency != "":
		return d.CompetentAgency
	}
	return d.ReceivingUnit
}

// WorkQueueFilter selects a work queue.
type WorkQueueFilter struct {
	// Agency is whose dossiers may be listed: an agency's queue holds those it is responsible for
	// now; one official's queue (OfficialID) those the agency is involved in. Every item is checked
	// against it, and a scope of no agency lists nothing.
	Agency     AgencyScope
	Unit       string // only those held by this unit (department or agency code)
	OfficialID string // only those assigned to this official
}

// DueKind says which deadline a work item races.
type DueKind string

const (
	DueAcceptance  DueKind = "acceptance"  // an online submission must be accepted or sent back (8 working hours)
	DueStep        DueKind = "step"        // the current step's deadline
	DueAppointment DueKind = "appointment" // the appointment date promised to the applicant
)

// WorkItem is one dossier of a work queue.
type WorkItem struct {
	DossierID         string        `json:"dossier_id"`
	Code              string        `json:"code,omitempty"`
	Status            domain.Status `json:"status"`
	ProcedureCode     string        `json:"procedure_code"`
	ProcedureName     string        `json:"procedure_name"`
	ApplicantName     string        `json:"applicant_name"`
	ResponsibleAgency string        `json:"responsible_agency"`
	HolderUnit        string        `json:"holder_unit"`
	HolderOfficialID  string        `json:"holder_official_id,omitempty"`
	HolderOfficial    string        `json:"holder_official,omitempty"`
	Step              string        `json:"step,omitempty"`
	ArrivedAt         time.Time     `json:"arrived_at,omitzero"` // submitted or received
	AppointmentDate   time.Time     `json:"appointment_date,omitzero"`
	DueKind           DueKind       `json:"due_kind,omitempty"`
	DueAt             time.Time     `json:"due_at,omitzero"`
	// RemainingHours is the working time left until DueAt, negative once overdue. For a dossier
	// whose clock is paused (waiting for a supplement, suspended) it is what was left when it paused.
	RemainingHours float64 `json:"remaining_hours"`
	Overdue        bool    `json:"overdue"`
	Paused         bool    `json:"paused"`
	Version        uint64  `json:"version"`
}

// WorkQueueOf lists the dossiers matching f, overdue first, then by the working hours left; paused
// dossiers come last, since nobody at the agency can move them.
func WorkQueueOf(ctx context.Context, db *sql.DB, f WorkQueueFilter, cal *calendar.Calendar, now time.Time) ([]WorkItem, error) {
	query := `SELECT state_json, acceptance_deadline FROM work_queue WHERE 1 = 1`
	var args []any
	arg := func(clause string, v any) {
		args = append(args, v)
		query += strings.Replace(clause, "?", "$"+strconv.Itoa(len(args)), 1)
	}
	if f.Agency.none() {
		return []WorkItem{}, nil
	}
	if !f.Agency.All() && f.OfficialID == "" {
		arg(" AND responsible_agency = ?", f.Agency.Agency())
	}
	if f.Unit != "" {
		arg(" AND holder_unit = ?", f.Unit)
	}
	if f.OfficialID != "" {
		arg(" AND holder_official_id = ?", f.OfficialID)
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := []WorkItem{}
	for rows.Next() {
		var stateJSON string
		var acceptance sql.NullString
		if err := rows.Scan(&stateJSON, &acceptance); err != nil {
			return nil, err
		}
		var d domain.Dossier
		if err := json.Unmarshal([]byte(stateJSON), &d); err != nil {
			return nil, err
		}
		if !f.Agency.covers(d) {
			continue
		}
		items = append(items, workItemOf(d, parseSQLTime(acceptance), cal, now))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Paused != b.Paused {
			return !a.Paused
		}
		if a.RemainingHours != b.RemainingHours {
			return a.RemainingHours < b.RemainingHours
		}
		return a.Code < b.Code
	})
	return items, nil
}

func workItemOf(d domain.Dossier, acceptanceDeadline time.Time, cal *calendar.Calendar, now time.Time) WorkItem {
	item := WorkItem{
		DossierID: d.ID, Code: string(d.Code), Status: d.Status, ProcedureCode: d.Procedure.Code, ProcedureName: d.Procedure.Name,
		ApplicantName: d.Applicant.Name, ResponsibleAgency: responsibleAgency(d), HolderUnit: d.Holder.Unit,
		HolderOfficialID: d.Holder.OfficialID, HolderOfficial: d.Holder.OfficialName, Step: d.Step,
		ArrivedAt: d.ReceivedAt, AppointmentDate: d.AppointmentDate, Version: d.Version,
	}
	switch {
	case d.Status == domain.StatusSubmitted:
		item.ArrivedAt = d.SubmittedAt
		item.DueKind, item.DueAt = DueAcceptance, acceptanceDeadline
	case d.Status == domain.StatusProcessing && !d.StepDeadline.IsZero():
		item.DueKind, item.DueAt = DueStep, d.StepDeadline
	case !d.AppointmentDate.IsZero():
		item.DueKind, item.DueAt = DueAppointment, d.AppointmentDate
	}
	// The clock stops while the applicant owes documents or processing is suspended.
	clock := now
	switch {
	case d.Status == domain.StatusSuspended:
		item.Paused, clock = true, d.SuspendedAt
	case d.Status == domain.StatusSupplementRequested && d.PendingSupplement != nil:
		item.Paused, clock = true, d.PendingSupplement.RequestedAt
	case d.Status == domain.StatusResultReady && len(d.Results) > 0:
		// The agency's part ended when the result was ready: the dossier is overdue only if that
		// was after the appointment date, however long the applicant then takes to collect it.
		clock = d.Results[0].ReadyAt
	}
	if !item.DueAt.IsZero() {
		item.RemainingHours = math.Round(cal.WorkingTimeBetween(clock, item.DueAt).Hours()*100) / 100
		// Past the date by less than a working minute (after hours, on a holiday) is late too.
		item.Overdue = !item.Paused && (item.RemainingHours < 0 || (item.RemainingHours == 0 && clock.After(item.DueAt)))
	}
	return item
}
