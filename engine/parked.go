package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// The log is immutable: an event a read model cannot apply — one that does not decode, or that
// holds what the database refuses — stays in it for good, and a read model that waited for it to
// apply would never move again, nor would any event after it show. So a read model that fails on
// an event by the event's own fault, again and again while its database answers, parks the event:
// it records it in projection_parked_events, in the same transaction as the checkpoint that moves
// past it, logs an ERROR, raises motcua_projection_parked_events, and goes on. A rebuild parks the
// same way. Failures that are the database's (an outage, a full disk, a lock, a lost connection)
// never park anything: the read model stalls and retries until the database is back, as before.
// See docs/projections.md.

// DefaultParkAfter is how many attempts a runner makes at an event, the stall's backoff between
// them, before it parks the event.
const DefaultParkAfter = 3

// parkedTable lists the events each read model has passed over.
const parkedTable = "projection_parked_events"

// ParkedEvent is an event a read model passed over because it could not apply it.
type ParkedEvent struct {
	Projection string
	Position   eventstore.Position
	EventID    string
	Stream     string
	Version    uint64
	Type       string
	Error      string
	ParkedAt   time.Time
}

func migrateParked(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+parkedTable+` (
		projection TEXT NOT NULL,
		commit_position BIGINT NOT NULL,
		prepare_position BIGINT NOT NULL,
		event_id TEXT NOT NULL,
		stream TEXT NOT NULL,
		version BIGINT NOT NULL,
		event_type TEXT NOT NULL,
		error TEXT NOT NULL,
		parked_at TEXT NOT NULL,
		PRIMARY KEY (projection, commit_position, prepare_position))`)
	return err
}

// parkEvent records, in tx, that the projection name passes over e because of cause.
func parkEvent(ctx context.Context, tx *sql.Tx, name string, e eventstore.RecordedEvent, cause error) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+parkedTable+` (projection, commit_position, prepare_position, event_id, stream, version, event_type, error, parked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (projection, commit_position, prepare_position) DO NOTHING`,
		name, int64(e.Position.Commit), int64(e.Position.Prepare), e.ID.String(), domain.SanitizeText(e.Stream), int64(e.Version),
		domain.SanitizeText(e.Type), domain.SanitizeText(cause.Error()), time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("%s: park %s: %w", name, e.Position, err)
	}
	return nil
}

// CountParked returns how many events the projection name has parked (db: the read database, or a
// transaction on it).
func CountParked(ctx context.Context, db rowQuerier, name string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+parkedTable+` WHERE projection = $1`, name).Scan(&n)
	return n, err
}

// ParkedEvents lists the events the projection name has parked, in log order, at most limit.
func ParkedEvents(ctx context.Context, db *sql.DB, name string, limit int) ([]ParkedEvent, error) {
	rows, err := db.QueryContext(ctx, `SELECT commit_position, prepare_position, event_id, stream, version, event_type, error, parked_at
		FROM `+parkedTable+` WHERE projection = $1 ORDER BY commit_position, prepare_position LIMIT $2`, name, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ParkedEvent
	for rows.Next() {
		p := ParkedEvent{Projection: name}
		var commit, prepare, version int64
		var at string
		if err := rows.Scan(&commit, &prepare, &p.EventID, &p.Stream, &version, &p.Type, &p.Error, &at); err != nil {
			return nil, err
		}
		p.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		p.Version = uint64(version)
		p.ParkedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// eventAtFault reports whether err — a projection failing on one event — is the event's own fault
// (it does not decode, the database refuses what it holds, the projection panics on it) rather
// than the database's: an outage, a lost connection, a full disk, a lock, a conflict with another
// transaction, a cancelled context. Only the former may be parked.
func eventAtFault(err error) bool {
	var applyErr *ApplyError
	if !errors.As(err, &applyErr) {
		return false
	}
	// Not io.EOF nor io.ErrUnexpectedEOF: a truncated payload fails to decode with them. A
	// connection lost mid-statement is caught by the runner's ping before it parks anything.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) {
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) >= 2 {
		switch pgErr.Code[:2] {
		// connection, transaction rollback (serialization, deadlock), insufficient resources (disk
		// full, memory), object not in prerequisite state (lock not available), operator
		// intervention (shutdown, cancel), system error, internal error
		case "08", "40", "53", "55", "57", "58", "XX":
			return false
		}
		return true
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_INTERRUPT,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL,
			sqlite3.SQLITE_NOTADB:
			return false
		}
	}
	return true
}

// parkDecision decides what applyIsolated does with an event the projection failed on by its own
// fault: record it as parked (in tx, or wherever its caller keeps parked events) and pass it, or
// stop there.
type parkDecision func(ctx context.Context, tx *sql.Tx, e eventstore.RecordedEvent, err error) (passed bool, _ error)

// applyIsolated applies the batch's events to c in tx one at a time, each under a savepoint, after a batch
// holding them failed. An event the projection fails on by its own fault is rolled back to its
// savepoint and, when park says so, parked and passed; otherwise, and on any other
// failure, applyIsolated stops with the error. It returns the last event applied or parked (zero
// when none) and the events parked; what it applied stays in tx either way.
func applyIsolated(ctx context.Context, tx *sql.Tx, c Consumer, batch Batch, park parkDecision) (last eventstore.Position, parked []eventstore.RecordedEvent, err error) {
	for i, e := range batch.Events {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT apply_event`); err != nil {
			return last, parked, err
		}
		applyErr := applyTo(ctx, tx, c, batch.Slice(i, i+1))
		if applyErr == nil {
			if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT apply_event`); err != nil {
				return last, parked, err
			}
			last = e.Position
			continue
		}
		if ctx.Err() != nil || !eventAtFault(applyErr) {
			return last, parked, applyErr
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT apply_event`); err != nil {
			return last, parked, err
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT apply_event`); err != nil {
			return last, parked, err
		}
		passed, err := park(ctx, tx, e, applyErr)
		if err != nil {
			return last, parked, err
		}
		if !passed {
			return last, parked, applyErr
		}
		parked = append(parked, e)
		last = e.Position
	}
	return last, parked, nil
}
