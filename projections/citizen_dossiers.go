package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
)

// CitizenDossiersView finds a signed-in citizen's dossiers: one row per dossier, holding the blind
// index of its applicant's identity number (ApplicantIndexKey), never the number. It is fed the
// log through the personal-data decorator like every read model, so it indexes the number as the
// applicant gave it even though the store keeps it sealed; an erasure rebuilds the read models, the
// erased applicant then reads as a placeholder, which has no index — and their list is empty.
//
// The key is the deployment's, so the view is not among All's keyless read models: the wiring adds
// it wherever it runs, rebuilds or erases them (cmd/motcua/citizens.go).
type CitizenDossiersView struct {
	Key    ApplicantIndexKey
	Prefix string // table name prefix; empty for the serving tables
}

func (CitizenDossiersView) Name() string       { return "citizen_dossiers" }
func (CitizenDossiersView) Tables() []string   { return []string{"citizen_dossiers"} }
func (CitizenDossiersView) SchemaVersion() int { return 1 }
func (v CitizenDossiersView) WithPrefix(prefix string) engine.Consumer {
	return CitizenDossiersView{Key: v.Key, Prefix: prefix}
}
func (v CitizenDossiersView) table() string { return v.Prefix + "citizen_dossiers" }

// Migrate creates the table; a citizen's list is read through the index on (applicant, since,
// dossier_id), newest first.
func (v CitizenDossiersView) Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return execAll(ctx, db, createTable(d, v.table(), `
			dossier_id TEXT PRIMARY KEY,
			applicant TEXT NOT NULL,
			since BIGINT NOT NULL`, "dossier_id", tableIndex{suffix: "_by_applicant", columns: "applicant, since"}))
}

// Apply indexes the applicant of every submission and receipt, and the number an approved
// correction gives: the fold of that batch alone.
func (v CitizenDossiersView) Apply(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	return engine.ApplyFold(ctx, tx, batch, v.NewFold(false))
}

// NewFold folds batches into the rows they give the dossiers they name, written at the flush in
// multi-row statements: a statement for each submission and receipt made the citizens' index one
// of the slowest consumers of a new node. Nothing is read back (fresh or not): a row is written
// whole, or only its applicant where the table keeps its first moment.
func (v CitizenDossiersView) NewFold(bool) engine.Fold {
	return &citizenFold{view: v, rows: map[string]*citizenRow{}}
}

// citizenRow is what the fold's events make of a dossier's row.
type citizenRow struct {
	applicant string // the blind index; "" when the dossier is nobody's now
	since     int64  // the moment the row is written with, µs; the table keeps its own if it has one
	// removed: the dossier was nobody's at some point of the fold, so the table's row (and with it
	// its moment) goes before the fold's is written.
	removed bool
}

type citizenFold struct {
	view  CitizenDossiersView
	rows  map[string]*citizenRow
	order []string // the dossiers in the order first met
}

func (f *citizenFold) Held() int { return len(f.rows) }

// Add indexes the applicant of every submission and receipt, and the number an approved
// correction gives. A receipt after an online submission keeps the dossier's first moment and takes
// the applicant as the desk recorded it; an applicant without an index (erased, or no number)
// leaves the dossier to nobody.
func (f *citizenFold) Add(_ context.Context, _ engine.Querier, batch engine.Batch) error {
	if len(f.view.Key) == 0 {
		return fmt.Errorf("%s: no blind index key", f.view.Name())
	}
	all, err := batch.DossierEvents()
	if err != nil {
		return err
	}
	for i, e := range all {
		var applicant domain.Applicant
		var at time.Time
		switch e := e.(type) {
		case domain.Submitted:
			applicant, at = e.Applicant, e.SubmittedAt
		case domain.Received:
			applicant, at = e.Applicant, e.ReceivedAt
		case domain.CorrectionApproved:
			// An approved correction of the identification number moves the dossier to the person
			// it now names (an erased applicant's correction reads with no changes).
			number, corrected := correctedIDNumber(e)
			if !corrected {
				continue
			}
			applicant, at = domain.Applicant{IDNumber: number}, e.ApprovedAt
		default:
			continue // no other event names the applicant
		}
		id := strings.TrimPrefix(batch.Events[i].Stream, "dossier-")
		row := f.rows[id]
		if row == nil {
			row = &citizenRow{}
			f.rows[id] = row
			f.order = append(f.order, id)
		}
		index := f.view.Key.Of(applicant.IDNumber)
		switch {
		case index == "":
			row.applicant, row.removed = "", true
		case row.applicant == "":
			row.applicant, row.since = index, at.UTC().UnixMicro()
		default:
			row.applicant = index
		}
	}
	return nil
}

// Flush deletes the rows of the dossiers that were nobody's at some point, then writes the rows
// the fold ends with, keeping the moment of a row the table still has; it holds nothing after.
func (f *citizenFold) Flush(ctx context.Context, tx *sql.Tx, batch engine.Batch) error {
	var removed []string
	rows := make([][]any, 0, len(f.order))
	for _, id := range f.order {
		row := f.rows[id]
		if row.removed {
			removed = append(removed, id)
		}
		if row.applicant != "" {
			rows = append(rows, []any{id, row.applicant, row.since})
		}
	}
	table := f.view.table()
	if err := deleteByID(ctx, tx, batch.Dialect, table, removed, maxParameters); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, batch, table, []string{"dossier_id", "applicant", "since"}, rows,
		"ON CONFLICT (dossier_id) DO UPDATE SET applicant = excluded.applicant"); err != nil {
		return err
	}
	clear(f.rows)
	f.order = f.order[:0]
	return nil
}

// correctedIDNumber is the identification number an approved correction gives, if it changes it.
func correctedIDNumber(e domain.CorrectionApproved) (string, bool) {
	if e.Applicant == nil {
		return "", false
	}
	for _, c := range e.Applicant.Changes {
		if c.Field == domain.FieldApplicantIDNumber {
			return c.New, true
		}
	}
	return "", false
}

// CitizenDossier is one dossier of a citizen's list: its id and its public status now (the public
// status view's, the same the lookup page and the live feed show). A dossier the public view has
// not reached yet shows as submitted, with no code.
type CitizenDossier struct {
	DossierID string
	Since     time.Time
	Status    PublicStatus
}

// CitizenDossiersOf returns a page of the dossiers whose applicant has the blind index applicant,
// newest first (keyset pagination on since and dossier id), with their live status judged at now.
// An empty index (a number without one) selects nothing.
func CitizenDossiersOf(ctx context.Context, db *sql.DB, applicant string, req PageRequest, now time.Time) (Page[CitizenDossier], error) {
	if applicant == "" {
		return Page[CitizenDossier]{Items: []CitizenDossier{}}, nil
	}
	args := []any{applicant}
	where := "c.applicant = $1"
	if len(req.After) > 0 {
		if len(req.After) != 2 {
			return Page[CitizenDossier]{}, ErrBadCursor
		}
		since, err := strconv.ParseInt(req.After[0], 10, 64)
		if err != nil {
			return Page[CitizenDossier]{}, ErrBadCursor
		}
		args = append(args, since, req.After[1])
		where += " AND (c.since < $2 OR (c.since = $2 AND c.dossier_id < $3))"
	}
	size := req.Size()
	rows, err := db.QueryContext(ctx, `SELECT c.dossier_id, c.since, p.state_json, p.steps_json
		FROM citizen_dossiers c LEFT JOIN public_status p ON p.dossier_id = c.dossier_id
		WHERE `+where+` ORDER BY c.since DESC, c.dossier_id DESC LIMIT `+strconv.Itoa(size+1), args...)
	if err != nil {
		return Page[CitizenDossier]{}, err
	}
	defer rows.Close()
	var out []CitizenDossier
	for rows.Next() {
		var d CitizenDossier
		var since int64
		var stateJSON, stepsJSON sql.NullString
		if err := rows.Scan(&d.DossierID, &since, &stateJSON, &stepsJSON); err != nil {
			return Page[CitizenDossier]{}, err
		}
		d.Since = time.UnixMicro(since).UTC()
		d.Status = PublicStatus{Status: domain.StatusSubmitted, DossierID: d.DossierID, Steps: []PublicStep{}}
		if stateJSON.Valid {
			var state publicFields
			var steps []PublicStep
			if err := json.Unmarshal([]byte(stateJSON.String), &state); err != nil {
				return Page[CitizenDossier]{}, err
			}
			if err := json.Unmarshal([]byte(stepsJSON.String), &steps); err != nil {
				return Page[CitizenDossier]{}, err
			}
			d.Status = publicStatusOf(state.dossier(), steps, now)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return Page[CitizenDossier]{}, err
	}
	page := PageOf(out, size, func(d CitizenDossier) Cursor {
		return Cursor{strconv.FormatInt(d.Since.UnixMicro(), 10), d.DossierID}
	})
	// Counted through the index: a citizen has a handful of dossiers, a company a few thousand.
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM citizen_dossiers WHERE applicant = $1`, applicant).Scan(&page.Total)
	return page, err
}
