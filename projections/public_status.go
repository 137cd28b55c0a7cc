package projections

import (
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

// PublicStatus is the public face of a dossier (tra cứu): what anyone holding the code may see
// without signing in (TT 01/2018 art. 16) — how far processing has gone, never the applicant's
// identity beyond a masked name.
type PublicStatus struct {
	Code            string         `json:"code,omitempty"`
	Status          domain.Status  `json:"status"`
	PortalStatus    int            `json:"portal_status"`
	ProcedureCode   string         `json:"procedure_code"`
	ProcedureName   string         `json:"procedure_name"`
	FieldName       string         `json:"field_name"`
	ReceivingUnit   string         `json:"receiving_unit"`
	CompetentAgency string         `json:"competent_agency"`
	Channel         domain.Channel `json:"channel"`
	ApplicantMasked string         `json:"applicant"`
	SubmittedAt     time.Time      `json:"submitted_at,omitzero"`
	ReceivedAt      time.Time      `json:"received_at,omitzero"`
	AppointmentDate time.Time      `json:"appointment_date,omitzero"`
	FinishedAt      time.Time      `json:"finished_at,omitzero"` // first result ready
	ReturnedAt      time.Time      `json:"returned_at,omitzero"`
	CurrentStep     string         `json:"current_step,omitempty"`
	CurrentUnit     string         `json:"current_unit,omitempty"`
	ApologyIssued   bool           `json:"apology_issued"`
	Late            bool           `json:"late"`
	Steps           []PublicStep   `json:"steps"`
	Version         uint64         `json:"version"`
	// DossierID finds what else is kept of the dossier (the notifications sent); never shown.
	DossierID string `json:"-"`
}

// PublicStep is one line of the public timeline: when the dossier reached a status or step.
type PublicStep struct {
	At     time.Time     `json:"at"`
	Status domain.Status `json:"status"`
	Step   string        `json:"step,omitempty"`
}

// PublicStatusView is the read model behind public lookup. It keeps each dossier's state as folded
// by the domain's own Evolve, so the public status follows exactly the aggregate's rules.
type PublicStatusView struct {
	Prefix string // table name prefix; empty for the serving tables
}

func (PublicStatusView) Name() string     { return "public_status" }
func (PublicStatusView) Tables() []string { return []string{"public_status"} }

// SchemaVersion 2: state_json keeps only the public fields and what Evolve reads (publicStored),
// not the whole folded dossier.
func (PublicStatusView) SchemaVersion() int { return 2 }
func (PublicStatusView) WithPrefix(prefix string) engine.Consumer {
	return PublicStatusView{Prefix: prefix}
}
func (v PublicStatusView) table() string { return v.Prefix + "public_status" }

func (v PublicStatusView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := execAll(ctx, db, createTable(d, v.table(), `
			dossier_id TEXT PRIMARY KEY,
			code TEXT UNIQUE,
			status TEXT NOT NULL,
			appointment_date TEXT,
			state_json TEXT NOT NULL,
			steps_json TEXT NOT NULL,
			version BIGINT NOT NULL`, "dossier_id")); err != nil { // looked up by code only
		return err
	}
	return keepStatesInline(ctx, db, d, v.table())
}

// keepStatesInline lets PostgreSQL keep rows of a few kilobytes — a folded dossier's JSON state is
// about 2 KB — in the table's own pages. By default a row above 2 KB is compressed and moved out of
// line (TOAST) on every write, which cost a fifth of a rebuild's time.
func keepStatesInline(ctx context.Context, db *sql.DB, d engine.Dialect, table string) error {
	if d != engine.PostgreSQL {
		return nil
	}
	_, err := db.ExecContext(ctx, `ALTER TABLE `+table+` SET (toast_tuple_target = 8160)`)
	return err
}

// publicRow is one dossier's row while it is folded.
type publicRow struct {
	id      string
	dossier domain.Dossier
	steps   []PublicStep
	version uint64
	stored  bool // the table holds the row: Flush updates it rather than inserting it
	// storedCode is the code the table holds for the row: a row whose code did not change is
	// updated without setting it, which would rewrite its index entry.
	storedCode domain.DossierCode
	dirty      bool // changed since the last flush
	touched    int  // the fold's event count when an event last moved the row
}

// foldForgetAfter is how many events of the log every read model's fold keeps holding a row no
// event moved (finished dossiers go at the next flush). A dossier in progress lives weeks: in a
// province receiving a million dossiers a year (≈ 28,000 events a day) its events lie up to about a
// million events apart, and a fold that forgot it in between read its row back from a table of
// millions at every event — catching up 10 M events ran ten times slower than 1 M. The rows held
// are the dossiers in progress, a few weeks' receipts; the engine's row budget bounds them too.
const foldForgetAfter = 2_000_000

// publicRowsPerStatement bounds the rows one statement reads or writes: enough to save PostgreSQL
// round trips, few enough that SQLite, whose parser looks numbered parameters up one by one, does
// not spend more time parsing than writing.
const publicRowsPerStatement = 100

// Apply folds a batch and writes the rows it changed: a fold of that batch alone, the same code as
// catch-up and rebuild run over hundreds of thousands of events.
func (v PublicStatusView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold starts a fold onto the view's tables (engine.Folding). The view needs no different
// path when they are fresh: a dossier whose first event is in the batch has no row yet, and any
// other row it does not hold is read back — in a fresh table too, since Flush forgets rows.
func (v PublicStatusView) NewFold(fresh bool) engine.Fold {
	return &publicStatusFold{view: v, rows: map[string]*publicRow{}}
}

// publicStatusFold holds the rows of the dossiers moving in the log, keyed by dossier id, across
// the batches folded since the last flush.
type publicStatusFold struct {
	view  PublicStatusView
	rows  map[string]*publicRow
	dirty []*publicRow // in the order they were first changed, so rows are written in a repeatable order
	added int          // events folded
}

func (f *publicStatusFold) Held() int { return len(f.rows) }

// Add folds a batch into the rows held, first reading back the rows it needs and does not hold:
// a few set queries, never one per event.
func (f *publicStatusFold) Add(ctx context.Context, q engine.Querier, batch engine.Batch) error {
	decoded, ids, err := decodeBatch(batch)
	if err != nil || len(ids) == 0 {
		return err
	}
	var missing []*publicRow
	for _, de := range decoded {
		if _, held := f.rows[de.id]; held {
			continue
		}
		row := &publicRow{id: de.id, dossier: domain.Dossier{Status: domain.StatusNew}}
		f.rows[de.id] = row
		// A stream's first event opens the dossier: no row exists before it. Any other row not
		// held is in the table (or nowhere, when the events before were parked).
		if de.re.Version > 1 {
			missing = append(missing, row)
		}
	}
	if err := f.view.loadRows(ctx, q, batch.Dialect, missing); err != nil {
		return err
	}
	for _, de := range decoded {
		re, e, row := de.re, de.e, f.rows[de.id]
		before, beforeStep := row.dossier.Status, row.dossier.Step
		row.dossier = domain.Evolve(row.dossier, e)
		row.dossier.Version = re.Version
		row.version = re.Version
		if row.dossier.Status != before || row.dossier.Step != beforeStep {
			row.steps = append(row.steps, PublicStep{At: re.Metadata.OccurredAt, Status: row.dossier.Status, Step: row.dossier.Step})
		}
		f.added++
		row.touched = f.added
		if !row.dirty {
			row.dirty = true
			f.dirty = append(f.dirty, row)
		}
	}
	// Between batches a row holds what the table would: what reading it back would give, and
	// no more (the documents, the identity) to hold in memory until the flush.
	for _, id := range ids {
		row := f.rows[id]
		row.dossier = publicState(row.dossier)
	}
	return nil
}

// Flush writes the rows changed since the last flush, then forgets those of finished dossiers,
// which rarely move again, and those no event moved for foldForgetAfter events; either is read
// back if it moves. Forgetting by events, not by flushes: a catch-up flushes every few seconds.
func (f *publicStatusFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	// A few thousand rows at a time: their encoded states are what a flush holds besides the rows.
	for rows := range slices.Chunk(f.dirty, 5000) {
		if err := f.view.writeRows(ctx, tx, batch, rows); err != nil {
			return err
		}
	}
	for id, row := range f.rows {
		if row.dossier.Status.Final() || f.added-row.touched > foldForgetAfter {
			delete(f.rows, id)
			continue
		}
		row.stored, row.dirty = true, false
	}
	f.dirty = f.dirty[:0]
	return nil
}

// loadRows fills the rows the table holds with their stored state, a hundred per query. A fold
// reads back few rows — those of dossiers it forgot and that moved again — so the queries are not
// prepared.
func (v PublicStatusView) loadRows(ctx context.Context, q engine.Querier, d engine.Dialect, rows []*publicRow) error {
	for chunk := range slices.Chunk(rows, publicRowsPerStatement) {
		byID := make(map[string]*publicRow, len(chunk))
		args := make([]any, len(chunk))
		for i, row := range chunk {
			byID[row.id], args[i] = row, row.id
		}
		result, err := q.QueryContext(ctx, `SELECT dossier_id, state_json, steps_json FROM `+v.table()+
			` WHERE dossier_id IN (`+d.Placeholders(len(chunk), 1, 1)+`)`, args...)
		if err != nil {
			return err
		}
		for result.Next() {
			var id, stateJSON, stepsJSON string
			if err := result.Scan(&id, &stateJSON, &stepsJSON); err != nil {
				result.Close()
				return err
			}
			row := byID[id]
			row.stored = true
			var state publicStored
			if err := json.Unmarshal([]byte(stateJSON), &state); err != nil {
				result.Close()
				return err
			}
			row.dossier = state.dossier()
			row.storedCode = row.dossier.Code
			if err := json.Unmarshal([]byte(stepsJSON), &row.steps); err != nil {
				result.Close()
				return err
			}
		}
		if err := errors.Join(result.Err(), result.Close()); err != nil {
			return err
		}
	}
	return nil
}

// writeRows upserts the rows, many per statement.
func (v PublicStatusView) writeRows(ctx context.Context, tx *sql.Tx, batch engine.Batch, rows []*publicRow) error {
	var fresh, stored, storedSameCode [][]any
	for _, row := range rows {
		d := row.dossier
		state, err := json.Marshal(publicStoredOf(d))
		if err != nil {
			return err
		}
		steps, err := json.Marshal(row.steps)
		if err != nil {
			return err
		}
		values := []any{row.id, nullText(string(d.Code)), string(d.Status), sqlTime(d.AppointmentDate), string(state), string(steps), int64(row.version)}
		switch {
		case !row.stored:
			fresh = append(fresh, values)
		case row.storedCode == d.Code:
			storedSameCode = append(storedSameCode, values)
		default:
			stored = append(stored, values)
		}
		row.storedCode = d.Code
	}
	columns := []string{"dossier_id", "code", "status", "appointment_date", "state_json", "steps_json", "version"}
	const upsert = `ON CONFLICT (dossier_id) DO UPDATE SET code = excluded.code, status = excluded.status,
		appointment_date = excluded.appointment_date, state_json = excluded.state_json,
		steps_json = excluded.steps_json, version = excluded.version`
	if err := insertNewRows(ctx, tx, batch, v.table(), columns, fresh, upsert); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, v.table(), columns, stored, upsert); err != nil {
		return err
	}
	// SQLite rewrites the entry of every index whose column an update sets, changed or not: the
	// code (UNIQUE) is set only where it changed — a dossier filed online gets it at its receipt.
	const upsertSameCode = `ON CONFLICT (dossier_id) DO UPDATE SET status = excluded.status,
		appointment_date = excluded.appointment_date, state_json = excluded.state_json,
		steps_json = excluded.steps_json, version = excluded.version`
	return insertRows(ctx, tx, batch, v.table(), columns, storedSameCode, upsertSameCode)
}

// publicState is the part of a folded dossier the public status view keeps (publicStored): what
// the fold holds between batches is what reading the row back gives.
func publicState(d domain.Dossier) domain.Dossier { return publicStoredOf(d).dossier() }

// publicStored is what public_status keeps of a folded dossier (state_json): the fields the lookup
// shows or judges lateness by (publicFields, embedded: a lookup decodes those alone), and those Evolve reads to
// fold later events — the open acceptance window, the open parts of a parallel step, the fees due
// and paid, the boundary-free terms, where a suspension or a payment leads back to. It leaves out
// what the public never sees and Evolve only overwrites, appends to or counts: the applicant's
// identity (the masked name stays), the documents, the rules, due dates, clocks and counters,
// appraisal, signature, payments, corrections, the rating, the results beyond the first one's time,
// the apology beyond its being issued. A table that answers anyone holding a code should not hold
// identity numbers, phones and addresses; and the whole folded dossier (≈ 1.5 KB, with its steps
// over 2 KB: one SQLite page a row) was written again at every flush and decoded by every lookup.
type publicStored struct {
	publicFields

	AcceptanceWindows  []domain.AcceptanceWindow    `json:"acceptance_windows,omitempty"` // the last one, while unanswered
	OpenParts          []domain.OpenPart            `json:"open_parts,omitempty"`
	FeesDue            int64                        `json:"fees_due,omitempty"`
	FeesPaid           int64                        `json:"fees_paid,omitempty"`
	BoundaryFree       *domain.BoundaryFreeReceived `json:"boundary_free,omitempty"`
	ResumeStatus       domain.Status                `json:"resume_status,omitempty"`
	StatusAfterPayment domain.Status                `json:"status_after_payment,omitempty"`
}

func publicStoredOf(d domain.Dossier) publicStored {
	s := publicStored{publicFields: publicFieldsOf(d), OpenParts: d.OpenParts, FeesDue: d.FeesDue, FeesPaid: d.FeesPaid,
		BoundaryFree: d.BoundaryFree, ResumeStatus: d.ResumeStatus, StatusAfterPayment: d.StatusAfterPayment}
	// Evolve answers the last window only, and only while it is unanswered.
	if n := len(d.AcceptanceWindows); n > 0 && d.AcceptanceWindows[n-1].AnsweredAt.IsZero() {
		s.AcceptanceWindows = d.AcceptanceWindows[n-1:]
	}
	return s
}

// dossier is the folded dossier as far as the view keeps it.
func (s publicStored) dossier() domain.Dossier {
	d := s.publicFields.dossier()
	d.AcceptanceWindows, d.OpenParts, d.FeesDue, d.FeesPaid = s.AcceptanceWindows, s.OpenParts, s.FeesDue, s.FeesPaid
	d.BoundaryFree, d.ResumeStatus, d.StatusAfterPayment = s.BoundaryFree, s.ResumeStatus, s.StatusAfterPayment
	return d
}

// ErrNotFound: no dossier has that code (or it is not received yet).
var ErrNotFound = errors.New("not found")

// LookupPublicStatus returns the public status of the dossier with the given code, judged late or not at now.
func LookupPublicStatus(ctx context.Context, db *sql.DB, code string, now time.Time) (PublicStatus, error) {
	var stateJSON, stepsJSON string
	err := db.QueryRowContext(ctx, `SELECT state_json, steps_json FROM public_status WHERE code = $1`, code).Scan(&stateJSON, &stepsJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return PublicStatus{}, ErrNotFound
	}
	if err != nil {
		return PublicStatus{}, err
	}
	var d domain.Dossier
	var steps []PublicStep
	if err := json.Unmarshal([]byte(stateJSON), &d); err != nil {
		return PublicStatus{}, err
	}
	if err := json.Unmarshal([]byte(stepsJSON), &steps); err != nil {
		return PublicStatus{}, err
	}
	return publicStatusOf(d, steps, now), nil
}

func publicStatusOf(d domain.Dossier, steps []PublicStep, now time.Time) PublicStatus {
	p := PublicStatus{
		Code: string(d.Code), Status: d.Status, PortalStatus: d.Status.PortalStatusCode(),
		ProcedureCode: d.Procedure.Code, ProcedureName: d.Procedure.Name, FieldName: d.Procedure.FieldName,
		ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency, Channel: d.Channel,
		ApplicantMasked: d.Applicant.MaskedName(), SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt,
		AppointmentDate: d.AppointmentDate, ReturnedAt: d.ReturnedAt, CurrentStep: d.Step, CurrentUnit: d.Holder.Unit,
		ApologyIssued: d.Apology != nil, Late: d.Late(now), Steps: steps, Version: d.Version, DossierID: d.ID,
	}
	if len(d.Results) > 0 {
		p.FinishedAt = d.Results[0].ReadyAt
	}
	if p.Steps == nil {
		p.Steps = []PublicStep{}
	}
	return p
}

// PublicStatusVersions returns the version of each of the given dossiers that the public status
// view holds (codes it does not know are left out). The live feed asks it for every watched dossier
// at once, to wake only the streams whose dossier moved.
func PublicStatusVersions(ctx context.Context, db *sql.DB, codes []string) (map[string]uint64, error) {
	const chunk = 500 // well under SQLite's and PostgreSQL's bound parameter limits
	versions := make(map[string]uint64, len(codes))
	for len(codes) > 0 {
		n := min(chunk, len(codes))
		args := make([]any, n)
		var placeholders strings.Builder
		for i, c := range codes[:n] {
			if i > 0 {
				placeholders.WriteByte(',')
			}
			placeholders.WriteString("$" + strconv.Itoa(i+1))
			args[i] = c
		}
		codes = codes[n:]
		rows, err := db.QueryContext(ctx, `SELECT code, version FROM public_status WHERE code IN (`+placeholders.String()+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var code string
			var version uint64
			if err := rows.Scan(&code, &version); err != nil {
				rows.Close()
				return nil, err
			}
			versions[code] = version
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return versions, nil
}
