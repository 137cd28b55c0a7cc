package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/motcua/motcua/domain"
)

// PublicLookup answers public lookups by code — the busiest query the service has, asked by anyone
// — with its statement parsed once per database connection. On SQLite a statement prepared once
// does it: SQLite parsing the query anew for every lookup was a fifth of its cost. On PostgreSQL
// the driver (pgx) already keeps each connection's statements, and a *sql.Stmt would undo it:
// database/sql over pgx's pool keeps no idle connection of its own (stdlib.OpenDBFromPool), so
// a prepared statement was parsed again and deallocated at every lookup — three round trips
// where one does.
type PublicLookup struct {
	db      *sql.DB
	prepare bool // SQLite: prepare once; PostgreSQL: the driver's statement cache
	mu      sync.Mutex
	stmt    *sql.Stmt // prepared on first use: the table may not exist yet when the server starts
}

const publicLookupQuery = `SELECT state_json, steps_json FROM public_status WHERE code = $1`

// NewPublicLookup returns the lookups of the public status view in db.
func NewPublicLookup(db *sql.DB) *PublicLookup {
	return &PublicLookup{db: db, prepare: !driverCachesStatements(db)}
}

func (l *PublicLookup) statement(ctx context.Context) (*sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stmt == nil {
		stmt, err := l.db.PrepareContext(ctx, publicLookupQuery)
		if err != nil {
			return nil, err
		}
		l.stmt = stmt
	}
	return l.stmt, nil
}

func (l *PublicLookup) row(ctx context.Context, code string) (*sql.Row, error) {
	if !l.prepare {
		return l.db.QueryRowContext(ctx, publicLookupQuery, code), nil
	}
	stmt, err := l.statement(ctx)
	if err != nil {
		return nil, err
	}
	return stmt.QueryRowContext(ctx, code), nil
}

// Status returns the public status of the dossier with the given code, judged late or not at now,
// or ErrNotFound.
func (l *PublicLookup) Status(ctx context.Context, code string, now time.Time) (PublicStatus, error) {
	row, err := l.row(ctx, code)
	if err != nil {
		return PublicStatus{}, err
	}
	var stateJSON, stepsJSON []byte
	err = row.Scan(&stateJSON, &stepsJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return PublicStatus{}, ErrNotFound
	}
	if err != nil {
		return PublicStatus{}, err
	}
	var state publicFields
	var steps []PublicStep
	if err := json.Unmarshal(stateJSON, &state); err != nil {
		return PublicStatus{}, err
	}
	if err := json.Unmarshal(stepsJSON, &steps); err != nil {
		return PublicStatus{}, err
	}
	return publicStatusOf(state.dossier(), steps, now), nil
}

// publicFields are the members of a stored dossier state (publicStored) that the public status
// shows or judges lateness by (publicStatusOf, Dossier.Late): a lookup decodes only these, and
// leaves what the fold keeps for later events unparsed.
type publicFields struct {
	ID              string              `json:"id"`
	Version         uint64              `json:"version"`
	Status          domain.Status       `json:"status"`
	Code            domain.DossierCode  `json:"code,omitempty"`
	Procedure       domain.ProcedureRef `json:"procedure"`
	Applicant       publicApplicant     `json:"applicant"`
	Channel         domain.Channel      `json:"channel,omitempty"`
	ReceivingUnit   string              `json:"receiving_unit,omitempty"`
	CompetentAgency string              `json:"competent_agency,omitempty"`
	SubmittedAt     time.Time           `json:"submitted_at,omitzero"`
	ReceivedAt      time.Time           `json:"received_at,omitzero"`
	AppointmentDate time.Time           `json:"appointment_date,omitzero"`
	ReturnedAt      time.Time           `json:"returned_at,omitzero"`
	Step            string              `json:"step,omitempty"`
	Holder          domain.Handler      `json:"holder,omitzero"`
	Apology         *struct{}           `json:"apology,omitempty"` // issued: the lookup says so, nothing more
	Results         []publicResult      `json:"results,omitempty"` // the first result: when it was ready
}

type publicApplicant struct {
	Type domain.ApplicantType `json:"type"`
	Name string               `json:"name"` // masked
}

type publicResult struct {
	ReadyAt time.Time `json:"ready_at"`
}

func publicFieldsOf(d domain.Dossier) publicFields {
	f := publicFields{ID: d.ID, Version: d.Version, Status: d.Status, Code: d.Code, Procedure: d.Procedure,
		Applicant: publicApplicant{Type: d.Applicant.Type, Name: d.Applicant.MaskedName()}, Channel: d.Channel,
		ReceivingUnit: d.ReceivingUnit, CompetentAgency: d.CompetentAgency, SubmittedAt: d.SubmittedAt, ReceivedAt: d.ReceivedAt,
		AppointmentDate: d.AppointmentDate, ReturnedAt: d.ReturnedAt, Step: d.Step, Holder: d.Holder}
	if d.Apology != nil {
		f.Apology = &struct{}{}
	}
	if len(d.Results) > 0 {
		f.Results = []publicResult{{ReadyAt: d.Results[0].ReadyAt}}
	}
	return f
}

func (f publicFields) dossier() domain.Dossier {
	d := domain.Dossier{ID: f.ID, Version: f.Version, Status: f.Status, Code: f.Code, Procedure: f.Procedure,
		Applicant: domain.Applicant{Type: f.Applicant.Type, Name: f.Applicant.Name}, Channel: f.Channel,
		ReceivingUnit: f.ReceivingUnit, CompetentAgency: f.CompetentAgency, SubmittedAt: f.SubmittedAt, ReceivedAt: f.ReceivedAt,
		AppointmentDate: f.AppointmentDate, ReturnedAt: f.ReturnedAt, Step: f.Step, Holder: f.Holder}
	if f.Apology != nil {
		d.Apology = &domain.ApologyIssued{}
	}
	if len(f.Results) > 0 {
		d.Results = []domain.ResultReady{{ReadyAt: f.Results[0].ReadyAt}}
	}
	return d
}
