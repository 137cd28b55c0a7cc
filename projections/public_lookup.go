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

// publicFields are the members of a stored dossier state that the public status shows or judges
// lateness by (publicStatusOf, Dossier.Late), under the state's own JSON names: decoding only these
// leaves the rest of the state — acceptance windows, parts, due dates, supplements — unparsed, a
// third of the lookup's decoding.
type publicFields struct {
	ID              string                `json:"id"`
	Version         uint64                `json:"version"`
	Status          domain.Status         `json:"status"`
	Code            domain.DossierCode    `json:"code"`
	Procedure       domain.ProcedureRef   `json:"procedure"`
	Applicant       domain.Applicant      `json:"applicant"`
	Channel         domain.Channel        `json:"channel"`
	ReceivingUnit   string                `json:"receiving_unit"`
	CompetentAgency string                `json:"competent_agency"`
	SubmittedAt     time.Time             `json:"submitted_at"`
	ReceivedAt      time.Time             `json:"received_at"`
	AppointmentDate time.Time             `json:"appointment_date"`
	ReturnedAt      time.Time             `json:"returned_at"`
	Step            string                `json:"step"`
	Holder          domain.Handler        `json:"holder"`
	Apology         *domain.ApologyIssued `json:"apology"`
	Results         []domain.ResultReady  `json:"results"`
}

func (f publicFields) dossier() domain.Dossier {
	return domain.Dossier{ID: f.ID, Version: f.Version, Status: f.Status, Code: f.Code, Procedure: f.Procedure, Applicant: f.Applicant,
		Channel: f.Channel, ReceivingUnit: f.ReceivingUnit, CompetentAgency: f.CompetentAgency, SubmittedAt: f.SubmittedAt,
		ReceivedAt: f.ReceivedAt, AppointmentDate: f.AppointmentDate, ReturnedAt: f.ReturnedAt, Step: f.Step, Holder: f.Holder,
		Apology: f.Apology, Results: f.Results}
}
