package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/eventstore"
)

const eventColumns = `xid, seq, stream, version, id, type, data,
	actor_id, actor_name, actor_role, actor_agency, correlation_id, causation_id, occurred_at, prev_hash,
	idempotency_key, request_hash, recorded_at`

// readAllSQL returns the global log after a position, only up to the safe horizon: rows whose
// writing transaction is older than every transaction still running. Any row a later reader could
// see but this one cannot belongs to a running transaction, whose xid is at or above the horizon,
// so it can never land before a position already returned. pg_current_snapshot() is the
// statement's own snapshot, so every row below its horizon that committed is visible to this query.
const readAllSQL = `
SELECT ` + eventColumns + `
FROM eventstore.events
WHERE (xid, seq) > ($1::xid8, $2::bigint) AND xid < ` + horizonSQL + `
ORDER BY xid, seq
LIMIT $3`

// horizonSQL is the oldest transaction that was running when the statement's snapshot was taken
// and may write to this database (the snapshot's xmax when none): transaction ids are the
// cluster's, so pg_snapshot_xmin alone let a long transaction in another database of the same
// server — another application's, or another test's — hold every reader of this log back. A
// running transaction is left out only when pg_stat_activity shows it belongs to a session
// connected to another database; one that ended meanwhile, a prepared one, or one whose session
// the role may not inspect (without pg_read_all_stats) still counts, so the horizon is never
// later than the plain xmin would allow for this database's writers.
const horizonSQL = `(
	SELECT coalesce(
		(SELECT running.xid FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
			WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
				WHERE a.backend_xid = running.xid::xid AND a.datid IS NOT NULL
					AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
			ORDER BY running.xid LIMIT 1),
		pg_snapshot_xmax(pg_current_snapshot())))`

// pendingSQL finds an event after a position that is committed but not yet below the horizon,
// held back by an older transaction that is still running. It is the first of the log's order,
// not EXISTS: the subscription runs it at every poll from the head, where nothing follows, and
// the generic plan PostgreSQL keeps for a prepared EXISTS (it expects a third of the log to
// follow any position) read the whole log to find nothing — 7.8 s at ten million events, every
// poll. Ordered and limited, each plan walks the log's primary key from the position.
const pendingSQL = `SELECT true FROM eventstore.events WHERE (xid, seq) > ($1::xid8, $2::bigint) ORDER BY xid, seq LIMIT 1`

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	from := int64(min(fromVersion, math.MaxInt64))
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM eventstore.events WHERE stream = $1 AND version >= $2 ORDER BY version`, stream, from)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %q: %w", stream, err)
	}
	events, err := scanEvents(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stream %q: %w", stream, err)
	}
	return events, nil
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: read all: limit %d is not positive", limit)
	}
	if after.Prepare > math.MaxInt64 {
		return nil, fmt.Errorf("postgres: read all: position %s is not one of this store's", after)
	}
	rows, err := s.pool.Query(ctx, readAllSQL, after.Commit, int64(after.Prepare), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read all after %s: %w", after, err)
	}
	events, err := scanEvents(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read all after %s: %w", after, err)
	}
	return events, nil
}

// CountAfter implements eventstore.Counter: the events ReadAll would return, below the same horizon.
func (s *Store) CountAfter(ctx context.Context, after eventstore.Position) (int, error) {
	// Counting a province's log (ten million rows) takes longer than the sessions' write timeout
	// allows a statement: the count is a read the caller's context bounds, so its transaction
	// lifts the timeout (the catch-up of a 1 M-dossier store failed on it after ten minutes).
	var n int
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM eventstore.events
			WHERE (xid, seq) > ($1::xid8, $2::bigint) AND xid < `+horizonSQL,
			after.Commit, int64(after.Prepare)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: count after %s: %w", after, err)
	}
	return n, nil
}

// CountAfterUpTo implements eventstore.CappedCounter: the first limit events' keys in the log's
// order, read from the primary key alone, within the sessions' timeouts.
func (s *Store) CountAfterUpTo(ctx context.Context, after eventstore.Position, limit int) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, countUpToSQL, after.Commit, int64(after.Prepare), limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count after %s up to %d: %w", after, limit, err)
	}
	return n, nil
}

// countUpToSQL counts the events after ($1, $2), up to $3, below the horizon: it walks the primary key
// from the position in every plan (TestReadsFromThePositionInEveryPlan), as Pending does.
const countUpToSQL = `SELECT count(*) FROM (SELECT 1 FROM eventstore.events
	WHERE (xid, seq) > ($1::xid8, $2::bigint) AND xid < ` + horizonSQL + ` ORDER BY xid, seq LIMIT $3::bigint) AS counted`

// Pending reports whether committed events after the position wait behind the safe horizon: a
// reader of the global log that has reached the position will see more once the transactions
// holding the horizon end.
func (s *Store) Pending(ctx context.Context, after eventstore.Position) (bool, error) {
	var pending bool
	err := s.pool.QueryRow(ctx, pendingSQL, after.Commit, int64(after.Prepare)).Scan(&pending)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: look for pending events after %s: %w", after, err)
	}
	return pending, nil
}

func scanEvents(rows pgx.Rows, capacity int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	events := make([]eventstore.RecordedEvent, 0, capacity)
	for rows.Next() {
		var (
			e       eventstore.RecordedEvent
			seq     int64
			version int64
			m       = &e.Metadata
		)
		if err := rows.Scan(&e.Position.Commit, &seq, &e.Stream, &version, &e.ID, &e.Type, &e.Data,
			&m.Actor.ID, &m.Actor.Name, &m.Actor.Role, &m.Actor.Agency, &m.CorrelationID, &m.CausationID,
			&m.OccurredAt, &m.PrevHash, &m.IdempotencyKey, &m.RequestHash, &e.RecordedAt); err != nil {
			return nil, err
		}
		if seq < 0 || version < 1 {
			return nil, errors.New("corrupt event row: negative sequence or version")
		}
		e.Position.Prepare, e.Version = uint64(seq), uint64(version)
		events = append(events, e)
	}
	return events, rows.Err()
}
