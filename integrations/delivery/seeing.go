package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/engine"
)

// What the admins' page and the public lookup read of the deliveries (docs/integrations.md,
// "Seeing and repairing deliveries").

// RetryIDs makes the deliveries of the given ids due now, as Retry does for a whole state: a dead
// one comes back pending with its attempts counted from zero, a failing one (pending, failed at
// least once) is tried at once instead of at its next attempt. Ids of deliveries in any other
// state (sent, skipped, never tried) are left alone. It returns how many it changed.
func RetryIDs(ctx context.Context, db *sql.DB, now time.Time, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{now.UnixMilli()}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	// Every SET expression reads the row as it was: a dead row's lease and attempts are reset, a
	// failing row keeps them (a dispatcher may hold its lease while sending it).
	res, err := db.ExecContext(ctx, `UPDATE `+deliveriesTable+` SET
			attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END,
			lease_until = CASE WHEN state = 'dead' THEN 0 ELSE lease_until END,
			done_at = CASE WHEN state = 'dead' THEN 0 ELSE done_at END,
			state = 'pending', next_attempt_at = $1
		WHERE id IN (`+strings.Join(marks, ", ")+`) AND (state = 'dead' OR (state = 'pending' AND attempts > 0))`, args...)
	if err != nil {
		return 0, fmt.Errorf("deliveries: retry: %w", err)
	}
	return res.RowsAffected()
}

// DossierCodes returns the codes of the dossiers (by stream, dossier-<id>) as the consumer last
// folded them; a dossier without a code (an online submission not received yet) is left out. It
// reads one row per stream: callers pass a page of deliveries' streams, not more.
func DossierCodes(ctx context.Context, db *sql.DB, streams []string) (map[string]string, error) {
	codes := map[string]string{}
	if len(streams) == 0 {
		return codes, nil
	}
	args := make([]any, 0, len(streams))
	marks := make([]string, 0, len(streams))
	seen := map[string]bool{}
	for _, s := range streams {
		if !seen[s] {
			seen[s] = true
			args = append(args, s)
			marks = append(marks, fmt.Sprintf("$%d", len(args)))
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT dossier_id, state_json FROM `+dossiersTable+` WHERE dossier_id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: dossier codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var stream, raw string
		if err := rows.Scan(&stream, &raw); err != nil {
			return nil, err
		}
		var state struct {
			Dossier struct {
				Code string `json:"code"`
			} `json:"dossier"`
		}
		if err := json.Unmarshal([]byte(raw), &state); err != nil {
			return nil, fmt.Errorf("deliveries: decode the state of %s: %w", stream, err)
		}
		if state.Dossier.Code != "" {
			codes[stream] = state.Dossier.Code
		}
	}
	return codes, rows.Err()
}

// SentDelivery is what the public may know of a delivery sent about a dossier: by which
// destination, of which kind, when. Never to whom.
type SentDelivery struct {
	Destination string
	Kind        string
	SentAt      time.Time
}

// MaxSentShown bounds the deliveries SentLog.Latest returns.
const MaxSentShown = 20

// SentLog answers the public lookup's question "what was the applicant sent about this dossier?"
// with one indexed query (dossier_id, state, done_at); the officials' alarms (AlarmEventType) are
// not the applicant's and are left out. Notifications may be off, and the
// deliveries table then absent: it answers nothing, and looks again for the table at most every
// absentRecheck, so a lookup never pays more than its one query.
type SentLog struct {
	db      *sql.DB
	dialect engine.Dialect

	mu          sync.Mutex
	query       string    // once the table exists
	stmt        *sql.Stmt // the query prepared, on SQLite
	absentUntil time.Time
}

// absentRecheck is how long SentLog believes the deliveries table absent before looking again.
const absentRecheck = 30 * time.Second

// NewSentLog returns the sent log of the deliveries in db.
func NewSentLog(db *sql.DB, d engine.Dialect) *SentLog { return &SentLog{db: db, dialect: d} }

// Latest returns the latest deliveries sent about the dossier of stream (dossier-<id>), newest
// first, at most MaxSentShown; none when the deliveries table does not exist.
func (l *SentLog) Latest(ctx context.Context, stream string) ([]SentDelivery, error) {
	query, stmt, err := l.statement(ctx)
	if err != nil || query == "" {
		return nil, err
	}
	var rows *sql.Rows
	if stmt != nil {
		rows, err = stmt.QueryContext(ctx, stream)
	} else {
		rows, err = l.db.QueryContext(ctx, query, stream)
	}
	if err != nil {
		return nil, fmt.Errorf("deliveries: sent to %s: %w", stream, err)
	}
	defer rows.Close()
	var out []SentDelivery
	for rows.Next() {
		var s SentDelivery
		var at int64
		if err := rows.Scan(&s.Destination, &s.Kind, &at); err != nil {
			return nil, err
		}
		s.SentAt = time.UnixMilli(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// statement returns the query once the table exists, "" while it does not, prepared once on
// SQLite; on PostgreSQL the driver (pgx) keeps each connection's statements, and a *sql.Stmt
// over its pool would be parsed again and deallocated at every lookup (database/sql keeps no idle
// connection there: stdlib.OpenDBFromPool).
func (l *SentLog) statement(ctx context.Context) (string, *sql.Stmt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.query != "" {
		return l.query, l.stmt, nil
	}
	if time.Now().Before(l.absentUntil) {
		return "", nil, nil
	}
	exists, err := TableExists(ctx, l.db, l.dialect)
	if err != nil {
		return "", nil, err
	}
	if !exists {
		l.absentUntil = time.Now().Add(absentRecheck)
		return "", nil, nil
	}
	// The national portal's sync (destination dvcqg, integrations/portal) tells a system, not the
	// applicant: it is no notification of theirs.
	query := fmt.Sprintf(`SELECT destination, kind, done_at FROM %s
		WHERE dossier_id = $1 AND state = 'sent' AND event_type <> '%s' AND destination <> 'dvcqg' ORDER BY done_at DESC LIMIT %d`, deliveriesTable, AlarmEventType, MaxSentShown)
	if l.dialect != engine.PostgreSQL {
		stmt, err := l.db.PrepareContext(ctx, query)
		if err != nil {
			return "", nil, fmt.Errorf("deliveries: prepare the sent log: %w", err)
		}
		l.stmt = stmt
	}
	l.query = query
	return l.query, l.stmt, nil
}

// TableExists reports whether db holds the deliveries table: notifications were turned on at
// some time (or an operator's command migrated it).
func TableExists(ctx context.Context, db *sql.DB, d engine.Dialect) (bool, error) {
	if err := d.Check(); err != nil {
		return false, err
	}
	query := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if d == engine.PostgreSQL {
		query = `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = $1 AND schemaname = ANY (current_schemas(false))`
	}
	var n int
	if err := db.QueryRowContext(ctx, query, deliveriesTable).Scan(&n); err != nil {
		return false, fmt.Errorf("deliveries: look for the table: %w", err)
	}
	return n > 0, nil
}
