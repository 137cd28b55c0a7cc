package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/motcua/motcua/eventstore"
)

// appendSQL appends a batch in one statement, and so in one round trip and one implicit
// transaction: it reads the stream's head, checks the expected version against it, and inserts the
// events after it. A concurrent append that read the same head fails on the (stream, version)
// unique constraint when this one commits. The result row holds the head before the append and the
// version, xid and sequence number of the last inserted event, or zeros when the check failed.
const appendSQL = `
WITH head AS (
	SELECT coalesce(max(version), 0) AS version FROM eventstore.events WHERE stream = $1
), appended AS (
	INSERT INTO eventstore.events (stream, version, id, type, data,
		actor_id, actor_name, actor_role, actor_agency, correlation_id, causation_id, occurred_at, prev_hash,
		idempotency_key, request_hash)
	SELECT $1, head.version + e.n, e.id, e.type, e.data,
		e.actor_id, e.actor_name, e.actor_role, e.actor_agency, e.correlation_id, e.causation_id, e.occurred_at, e.prev_hash,
		e.idempotency_key, e.request_hash
	FROM head, unnest($2::uuid[], $3::text[], $4::json[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::uuid[], $10::uuid[], $11::timestamptz[], $12::text[], $13::text[], $14::text[])
		WITH ORDINALITY AS e(id, type, data, actor_id, actor_name, actor_role, actor_agency,
			correlation_id, causation_id, occurred_at, prev_hash, idempotency_key, request_hash, n)
	WHERE head.version BETWEEN $15 AND $16
	RETURNING version, xid, seq
)
SELECT head.version, coalesce(last.version, 0), coalesce(last.xid, '0'), coalesce(last.seq, 0)
FROM head LEFT JOIN (SELECT version, xid, seq FROM appended ORDER BY version DESC LIMIT 1) AS last ON true`

// appendOneSQL is appendSQL for the most common append, a single event, with scalar parameters: it
// spares both ends the array encoding and the unnest.
const appendOneSQL = `
WITH head AS (
	SELECT coalesce(max(version), 0) AS version FROM eventstore.events WHERE stream = $1
), appended AS (
	INSERT INTO eventstore.events (stream, version, id, type, data,
		actor_id, actor_name, actor_role, actor_agency, correlation_id, causation_id, occurred_at, prev_hash,
		idempotency_key, request_hash)
	SELECT $1, head.version + 1, $2::uuid, $3::text, $4::json,
		$5::text, $6::text, $7::text, $8::text, $9::uuid, $10::uuid, $11::timestamptz, $12::text, $13::text, $14::text
	FROM head
	WHERE head.version BETWEEN $15 AND $16
	RETURNING version, xid, seq
)
SELECT head.version, coalesce(appended.version, 0), coalesce(appended.xid, '0'), coalesce(appended.seq, 0)
FROM head LEFT JOIN appended ON true`

// PostgreSQL error codes and the constraints Append relies on.
const (
	uniqueViolation      = "23505"
	deadlockDetected     = "40P01"
	streamVersionUnique  = "events_stream_version"
	eventIDUnique        = "events_id"
	maxConflictRetries   = 100
	conflictRetryBackoff = time.Millisecond
	// maxConnectionRetries spans about eight seconds of doubling waits: a database restart.
	maxConnectionRetries = 13
)

// appendBatch is an append's events as the column arrays appendSQL takes.
type appendBatch struct {
	ids, correlationIDs, causationIDs                             []pgtype.UUID
	types, actorIDs, actorNames, actorRoles, agencies, prevHashes []string
	idempotencyKeys, requestHashes                                []string
	data                                                          [][]byte
	occurredAt                                                    []time.Time
}

func newAppendBatch(events []eventstore.EventData) appendBatch {
	n := len(events)
	b := appendBatch{
		ids: make([]pgtype.UUID, n), correlationIDs: make([]pgtype.UUID, n), causationIDs: make([]pgtype.UUID, n),
		types: make([]string, n), actorIDs: make([]string, n), actorNames: make([]string, n),
		actorRoles: make([]string, n), agencies: make([]string, n), prevHashes: make([]string, n),
		idempotencyKeys: make([]string, n), requestHashes: make([]string, n),
		data: make([][]byte, n), occurredAt: make([]time.Time, n),
	}
	for i, e := range events {
		m := e.Metadata
		b.ids[i], b.correlationIDs[i], b.causationIDs[i] = pgUUID(e.ID), pgUUID(m.CorrelationID), pgUUID(m.CausationID)
		b.types[i], b.data[i], b.occurredAt[i] = e.Type, e.Data, m.OccurredAt
		b.actorIDs[i], b.actorNames[i], b.actorRoles[i], b.agencies[i] = m.Actor.ID, m.Actor.Name, m.Actor.Role, m.Actor.Agency
		b.prevHashes[i] = m.PrevHash
		b.idempotencyKeys[i], b.requestHashes[i] = m.IdempotencyKey, m.RequestHash
	}
	return b
}

// appendArgs returns the parameters $1…$14 of appendOneSQL for one event, of appendSQL for several.
func appendArgs(stream string, events []eventstore.EventData) []any {
	if len(events) == 1 {
		e, m := events[0], events[0].Metadata
		return []any{stream, pgUUID(e.ID), e.Type, e.Data, m.Actor.ID, m.Actor.Name, m.Actor.Role, m.Actor.Agency,
			pgUUID(m.CorrelationID), pgUUID(m.CausationID), m.OccurredAt, m.PrevHash, m.IdempotencyKey, m.RequestHash}
	}
	b := newAppendBatch(events)
	return []any{stream, b.ids, b.types, b.data, b.actorIDs, b.actorNames, b.actorRoles, b.agencies,
		b.correlationIDs, b.causationIDs, b.occurredAt, b.prevHashes, b.idempotencyKeys, b.requestHashes}
}

// pgUUID lets pgx send a UUID in binary. Given a google/uuid value, pgx goes through its
// driver.Valuer (a string), which inside an array fails the binary encoding — allocating an error —
// and falls back to text, on every append.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// versionRange turns an expected version into the head versions it allows.
func versionRange(expected eventstore.ExpectedVersion) (lowest, highest int64) {
	if v, exact := expected.Version(); exact {
		return int64(v), int64(v)
	}
	if expected.Allows(0) {
		return 0, math.MaxInt64 // any
	}
	return 1, math.MaxInt64 // stream exists
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := requireDistinctIDs(events); err != nil {
		return eventstore.AppendResult{}, err
	}
	query, args := appendSQL, appendArgs(stream, events)
	if len(events) == 1 {
		query = appendOneSQL
	}
	lowest, highest := versionRange(expected)
	args = append(args, lowest, highest)
	for conflicts, reconnects := 0, 0; ; {
		var (
			head, lastVersion, lastSeq int64
			lastXID                    uint64
		)
		err := s.pool.QueryRow(ctx, query, args...).Scan(&head, &lastVersion, &lastXID, &lastSeq)
		if err == nil && lastVersion > 0 {
			s.committedLocally()
			return eventstore.AppendResult{
				Version:  uint64(lastVersion),
				Position: eventstore.Position{Commit: lastXID, Prepare: uint64(lastSeq)},
			}, nil
		}
		// Either the expected version did not match the head, or another append committed first
		// (our head was stale, or some of the event ids are taken).
		raced := err != nil
		if raced && isConnectionLoss(err) && ctx.Err() == nil && reconnects < maxConnectionRetries {
			// The append may or may not have committed. Sending it again is safe: if it did, its
			// event ids are found below and the original result returned.
			s.logger.Warn("event store: connection lost during append, retrying", "stream", stream, "error", err)
			if err := sleep(ctx, time.Duration(1<<reconnects)*time.Millisecond); err != nil {
				return eventstore.AppendResult{}, err
			}
			reconnects++
			continue
		}
		if raced {
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || !isConflict(pgErr) {
				return eventstore.AppendResult{}, fmt.Errorf("postgres: append to %q: %w", stream, err)
			}
		}
		// A retry of an earlier, successful append is not an error.
		result, found, err := s.previousAppend(ctx, stream, events)
		if err != nil || found {
			return result, err
		}
		if !raced {
			return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: uint64(head)}
		}
		if conflicts == maxConflictRetries {
			return eventstore.AppendResult{}, fmt.Errorf("postgres: append to %q: still conflicting after %d attempts", stream, conflicts+1)
		}
		conflicts++
		// Read the new head and check the expected version against it again.
		if err := sleep(ctx, time.Duration(conflicts)*conflictRetryBackoff); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
}

// isConnectionLoss tells errors of a connection that broke or of a server shutting down or starting
// up (SQLSTATE classes 08 and 57P), as opposed to errors about the statement itself.
func isConnectionLoss(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func isConflict(err *pgconn.PgError) bool {
	return err.Code == deadlockDetected ||
		err.Code == uniqueViolation && (err.ConstraintName == streamVersionUnique || err.ConstraintName == eventIDUnique)
}

func requireDistinctIDs(events []eventstore.EventData) error {
	if len(events) < 2 {
		return nil
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		if seen[e.ID] {
			return fmt.Errorf("%w: event id %s appears twice in one append", eventstore.ErrDuplicateEvent, e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

// previousAppend looks for events' ids. found is true when all of them are already stored, in order,
// at the end of an earlier append to stream: then result is what that append returned. Some but not
// all ids stored, or stored elsewhere, is ErrDuplicateEvent.
func (s *Store) previousAppend(ctx context.Context, stream string, events []eventstore.EventData) (result eventstore.AppendResult, found bool, err error) {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, stream, version, xid, seq FROM eventstore.events WHERE id = ANY($1) ORDER BY version`, ids)
	if err != nil {
		return result, false, fmt.Errorf("postgres: append to %q: look up event ids: %w", stream, err)
	}
	type stored struct {
		id      uuid.UUID
		stream  string
		version int64
		xid     uint64
		seq     int64
	}
	var matches []stored
	var m stored
	_, err = pgx.ForEachRow(rows, []any{&m.id, &m.stream, &m.version, &m.xid, &m.seq}, func() error {
		matches = append(matches, m)
		return nil
	})
	if err != nil {
		return result, false, fmt.Errorf("postgres: append to %q: look up event ids: %w", stream, err)
	}
	if len(matches) == 0 {
		return result, false, nil
	}
	duplicate := fmt.Errorf("%w: %d of the %d events appended to %q are already stored", eventstore.ErrDuplicateEvent, len(matches), len(events), stream)
	if len(matches) != len(events) {
		return result, false, duplicate
	}
	for i, match := range matches {
		if match.id != ids[i] || match.stream != stream || match.version != matches[0].version+int64(i) {
			return result, false, duplicate
		}
	}
	last := matches[len(matches)-1]
	return eventstore.AppendResult{
		Version:  uint64(last.version),
		Position: eventstore.Position{Commit: last.xid, Prepare: uint64(last.seq)},
	}, true, nil
}

// committedLocally wakes this process's subscriptions and asks notifyLoop to tell the others.
func (s *Store) committedLocally() {
	if s.subscriptions.Load() > 0 {
		s.committed.broadcast()
	}
	select {
	case s.notify <- struct{}{}:
	default: // a notification is already due; it will cover this append too
	}
}
