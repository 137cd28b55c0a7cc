// Package accesslog records who read whose personal data: every time an official is shown a
// dossier's applicant (name, identity number, contacts) — the dossier page and its JSON, its history,
// its control sheet, its printed forms, a register or work queue that lists applicants — one entry
// names the official (id, name, roles, agency), the moment, the dossier or the list with its filter,
// and the route. Law 91/2025/QH15 on personal data protection and NĐ 356/2025/NĐ-CP (in force
// 1/1/2026) expect the controller to say who processed a person's data; this is that answer.
//
// The log is a table of its own, append-only (the database refuses UPDATE, DELETE and TRUNCATE by
// trigger), and no code here changes or removes an entry. It is not in a dossier's stream: a read
// must not change the dossier's version. It is not a read model either: it is not fed by the log
// of events and could not be rebuilt from it (docs/architecture.md).
//
// An entry holds no personal data of the applicant: the dossier by its id and code, and the
// applicant by a keyed blind index of their identity number (HMAC-SHA256 under the deployment's
// index key), so "who looked at my data" can be answered for a person who presents their number,
// while the table alone links nobody. An erasure destroys the applicant's data, not these entries.
package accesslog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// Entry is one read of personal data.
type Entry struct {
	// Seq orders the log; assigned when the entry is recorded.
	Seq int64 `json:"seq"`
	// At is when the data was read (UTC, microseconds).
	At time.Time `json:"at"`
	// Who read it: the official's id and name, every role their token held, and their agency.
	OfficialID   string   `json:"official_id"`
	OfficialName string   `json:"official_name"`
	Roles        []string `json:"roles"`
	Agency       string   `json:"agency"`
	// Route is the method and route pattern that showed the data, e.g. "GET /api/v1/dossiers/{ref}".
	Route string `json:"route"`
	// DossierID and DossierCode name the one dossier read; empty for a list of many.
	DossierID   string `json:"dossier_id,omitempty"`
	DossierCode string `json:"dossier_code,omitempty"`
	// List names a list of many dossiers read at once (register, work_queue) and Filter what it
	// was asked for (its parameters, URL-encoded in sorted order).
	List   string `json:"list,omitempty"`
	Filter string `json:"filter,omitempty"`
	// CorrelationID is the request's, as in the application log and in any event it caused.
	CorrelationID string `json:"correlation_id,omitempty"`
	// applicant is the blind index of the applicant's identity number; never shown.
	applicant string
}

// Read is what a route showed, as the edge tells it: one dossier (with its applicant's identity
// number, which the log turns into the blind index and never stores), or a list and its filter.
type Read struct {
	OfficialID, OfficialName, Agency string
	Roles                            []string
	Route                            string
	DossierID, DossierCode           string
	ApplicantIDNumber                string
	List, Filter                     string
	CorrelationID                    string
}

// Query selects entries: of one dossier, of one applicant (by identity number), or all; newest first.
type Query struct {
	DossierID         string
	ApplicantIDNumber string
}

// Log is the access log in a SQL database.
type Log struct {
	db       *sql.DB
	dialect  engine.Dialect
	indexKey projections.ApplicantIndexKey
	now      func() time.Time

	mu    sync.Mutex
	ready bool
}

// ErrIndexKey is an index key too short to key a blind index.
var ErrIndexKey = errors.New("access log: the blind index key must have at least 32 bytes")

// New returns the log kept in db, written in dialect (named by the wiring, never guessed), whose
// blind index of applicants is keyed with indexKey (at least 32 bytes, kept outside the database:
// with the table and the key, an identity number can be tried against the index).
func New(db *sql.DB, dialect engine.Dialect, indexKey []byte) (*Log, error) {
	key, err := projections.NewApplicantIndexKey(indexKey)
	if err != nil {
		return nil, ErrIndexKey
	}
	if dialect != engine.SQLite && dialect != engine.PostgreSQL {
		return nil, fmt.Errorf("access log: unknown SQL dialect %q", dialect)
	}
	return &Log{db: db, dialect: dialect, indexKey: key, now: time.Now}, nil
}

// WithClock makes the log date its entries with now (tests).
func (l *Log) WithClock(now func() time.Time) *Log { l.now = now; return l }

// Migrate creates the table, its indexes and the triggers that keep it append-only; harmless when
// they exist. Record and List call it on first use.
func (l *Log) Migrate(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready {
		return nil
	}
	statements := sqliteSchema
	if l.dialect == engine.PostgreSQL {
		statements = postgresSchema
	}
	for _, stmt := range statements {
		if _, err := l.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("access log: migrate: %w", err)
		}
	}
	l.ready = true
	return nil
}

// The columns after seq; roles are comma-separated (a role code holds no comma).
const columns = `at, official_id, official_name, roles, agency, route, dossier_id, dossier_code, applicant, list, filter, correlation_id`

var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS access_log (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		at BIGINT NOT NULL, official_id TEXT NOT NULL, official_name TEXT NOT NULL, roles TEXT NOT NULL,
		agency TEXT NOT NULL, route TEXT NOT NULL, dossier_id TEXT NOT NULL, dossier_code TEXT NOT NULL,
		applicant TEXT NOT NULL, list TEXT NOT NULL, filter TEXT NOT NULL, correlation_id TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS access_log_dossier ON access_log (dossier_id, seq)`,
	`CREATE INDEX IF NOT EXISTS access_log_applicant ON access_log (applicant, seq)`,
	`CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
		BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
		BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END`,
}

var postgresSchema = []string{
	`CREATE TABLE IF NOT EXISTS access_log (
		seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		at BIGINT NOT NULL, official_id TEXT NOT NULL, official_name TEXT NOT NULL, roles TEXT NOT NULL,
		agency TEXT NOT NULL, route TEXT NOT NULL, dossier_id TEXT NOT NULL, dossier_code TEXT NOT NULL,
		applicant TEXT NOT NULL, list TEXT NOT NULL, filter TEXT NOT NULL, correlation_id TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS access_log_dossier ON access_log (dossier_id, seq)`,
	`CREATE INDEX IF NOT EXISTS access_log_applicant ON access_log (applicant, seq)`,
	`CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$`,
	`CREATE OR REPLACE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
		FOR EACH ROW EXECUTE FUNCTION access_log_append_only()`,
	`CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
		FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()`,
}

// ApplicantIndex is the blind index of an identity number (projections.ApplicantIndexKey: the same
// index the citizens' read model keeps, so both answer for the same person); "" for an erased
// applicant's placeholder or no number.
func (l *Log) ApplicantIndex(idNumber string) string { return l.indexKey.Of(idNumber) }

// Record writes one entry, synchronously: when it returns nil the entry is committed, and a route
// shows the data only after that (a failure answers an error instead, so nothing is shown unlogged).
func (l *Log) Record(ctx context.Context, read Read) error {
	if err := l.Migrate(ctx); err != nil {
		return err
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO access_log (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		l.now().UTC().UnixMicro(), read.OfficialID, read.OfficialName, strings.Join(read.Roles, ","), read.Agency, read.Route,
		read.DossierID, read.DossierCode, l.ApplicantIndex(read.ApplicantIDNumber), read.List, read.Filter, read.CorrelationID)
	if err != nil {
		return fmt.Errorf("access log: record: %w", err)
	}
	return nil
}

// List returns a page of the entries q selects, newest first (keyset pagination on seq). An
// applicant's number that has no index (empty, or not a number) selects nothing.
func (l *Log) List(ctx context.Context, q Query, req projections.PageRequest) (projections.Page[Entry], error) {
	if err := l.Migrate(ctx); err != nil {
		return projections.Page[Entry]{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.DossierID != "" {
		where = append(where, "dossier_id = "+arg(q.DossierID))
	}
	if q.ApplicantIDNumber != "" {
		index := l.ApplicantIndex(q.ApplicantIDNumber)
		if index == "" {
			return projections.Page[Entry]{Items: []Entry{}}, nil
		}
		where = append(where, "applicant = "+arg(index))
	}
	filtered := len(where) > 0
	countWhere := strings.Join(where, " AND ")
	countArgs := append([]any(nil), args...)
	if len(req.After) > 0 {
		if len(req.After) != 1 {
			return projections.Page[Entry]{}, projections.ErrBadCursor
		}
		after, err := strconv.ParseInt(req.After[0], 10, 64)
		if err != nil {
			return projections.Page[Entry]{}, projections.ErrBadCursor
		}
		where = append(where, "seq < "+arg(after))
	}
	query := `SELECT seq, ` + columns + ` FROM access_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	size := req.Size()
	query += " ORDER BY seq DESC LIMIT " + strconv.Itoa(size+1)
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return projections.Page[Entry]{}, fmt.Errorf("access log: list: %w", err)
	}
	defer rows.Close()
	var entries []Entry
	for rows.Next() {
		var e Entry
		var at int64
		var roles string
		if err := rows.Scan(&e.Seq, &at, &e.OfficialID, &e.OfficialName, &roles, &e.Agency, &e.Route, &e.DossierID, &e.DossierCode,
			&e.applicant, &e.List, &e.Filter, &e.CorrelationID); err != nil {
			return projections.Page[Entry]{}, fmt.Errorf("access log: list: %w", err)
		}
		e.At = time.UnixMicro(at).UTC()
		e.Roles = []string{}
		if roles != "" {
			e.Roles = strings.Split(roles, ",")
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return projections.Page[Entry]{}, fmt.Errorf("access log: list: %w", err)
	}
	page := projections.PageOf(entries, size, func(e Entry) projections.Cursor {
		return projections.Cursor{strconv.FormatInt(e.Seq, 10)}
	})
	// A dossier's or an applicant's entries are counted through their index. The whole log is
	// not counted (a scan): with no row ever deleted, its highest seq is the count, give or take
	// the numbers a rolled-back insert used up on PostgreSQL — an estimate, said so.
	if filtered {
		err = l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_log WHERE `+countWhere, countArgs...).Scan(&page.Total)
	} else {
		err = l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM access_log`).Scan(&page.Total)
		page.TotalEstimated = l.dialect == engine.PostgreSQL
	}
	if err != nil {
		return projections.Page[Entry]{}, fmt.Errorf("access log: count: %w", err)
	}
	return page, nil
}
