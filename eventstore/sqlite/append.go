package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/motcua/motcua/eventstore"
)

// recordedAtLayout is fixed-width UTC, so recorded_at sorts as text and reads well in the sqlite3 shell.
const recordedAtLayout = "2006-01-02T15:04:05.000000000Z"

// encodedEvent is an event ready for the INSERT, encoded before the write lock is taken.
type encodedEvent struct {
	id       string
	typ      string
	data     string // TEXT, so SQLite's JSON functions read it (they take a BLOB for JSONB)
	metadata string
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	encoded := make([]encodedEvent, len(events))
	for i, event := range events {
		metadata, err := json.Marshal(event.Metadata)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: append to %q: encode metadata of event %s: %w", stream, event.ID, err)
		}
		encoded[i] = encodedEvent{id: event.ID.String(), typ: event.Type, data: string(event.Data), metadata: string(metadata)}
	}

	select {
	case s.writeSlot <- struct{}{}:
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: append to %q: waiting to write: %w", stream, ctx.Err())
	}
	result, wrote, err := s.appendInTx(ctx, stream, expected, encoded)
	<-s.writeSlot
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if wrote {
		s.committed.notify()
	}
	return result, nil
}

// appendInTx runs one append transaction; wrote is false when the append was an idempotent retry.
// The caller holds the write slot.
func (s *Store) appendInTx(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events []encodedEvent) (result eventstore.AppendResult, wrote bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see DSN
	if err != nil {
		return result, false, fmt.Errorf("eventstore/sqlite: append to %q: begin: %w", stream, err)
	}
	result, wrote, err = s.appendTo(ctx, tx, stream, expected, events)
	if err != nil || !wrote {
		// Nothing to keep: a failure, or a retry that only read. The rollback error of an
		// already-finished transaction is meaningless.
		_ = tx.Rollback()
		return result, false, err
	}
	if err := tx.Commit(); err != nil {
		return result, false, fmt.Errorf("eventstore/sqlite: append to %q: commit: %w", stream, err)
	}
	return result, true, nil
}

// appendTo appends events to stream inside tx.
func (s *Store) appendTo(ctx context.Context, tx *sql.Tx, stream string, expected eventstore.ExpectedVersion, events []encodedEvent) (result eventstore.AppendResult, wrote bool, err error) {
	var current uint64
	if err := tx.StmtContext(ctx, s.stmts.streamVersion).QueryRowContext(ctx, stream).Scan(&current); err != nil {
		return result, false, fmt.Errorf("eventstore/sqlite: append to %q: read stream version: %w", stream, err)
	}
	if !expected.Allows(current) {
		// A retry of an append that already succeeded meets a stream that has moved on.
		previous, err := findPreviousAppend(ctx, tx, stream, events)
		if errors.Is(err, errNotStored) {
			return result, false, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: current}
		}
		return previous, false, err
	}

	recordedAt := time.Now().UTC().Format(recordedAtLayout)
	insert := tx.StmtContext(ctx, s.stmts.insertEvent)
	var lastSeq int64
	for i, event := range events {
		version := current + uint64(i) + 1
		inserted, err := insert.ExecContext(ctx, stream, version, event.id, event.typ, event.data, event.metadata, recordedAt)
		if isUniqueViolation(err) {
			// The id check is left to the UNIQUE index, which the insert consults anyway; only now
			// is it worth finding out whether this is a retry.
			previous, err := findPreviousAppend(ctx, tx, stream, events)
			if errors.Is(err, errNotStored) {
				return result, false, fmt.Errorf("eventstore/sqlite: append to %q: insert version %d: %w", stream, version, err)
			}
			return previous, false, err
		}
		if err != nil {
			return result, false, fmt.Errorf("eventstore/sqlite: append to %q: insert version %d: %w", stream, version, err)
		}
		if lastSeq, err = inserted.LastInsertId(); err != nil {
			return result, false, fmt.Errorf("eventstore/sqlite: append to %q: read sequence: %w", stream, err)
		}
	}
	seq := uint64(lastSeq)
	return eventstore.AppendResult{
		Version:  current + uint64(len(events)),
		Position: eventstore.Position{Commit: seq, Prepare: seq},
	}, true, nil
}

// StreamAppend is one append of a batch (AppendBatch).
type StreamAppend struct {
	Stream   string
	Expected eventstore.ExpectedVersion
	Events   []eventstore.EventData
}

// AppendBatch makes several appends in one transaction, in order: all of them or, when one fails
// (its expected version, a repeated event id), none. Each is checked and stored as Append would;
// unlike Append, a batch is never taken for the retry of an earlier one. It is for bulk loads —
// `motcua bench generate` —, whose single writer would otherwise commit once per append.
func (s *Store) AppendBatch(ctx context.Context, batch []StreamAppend) error {
	encoded := make([][]encodedEvent, len(batch))
	for i, a := range batch {
		if err := eventstore.ValidateAppend(a.Stream, a.Events); err != nil {
			return err
		}
		encoded[i] = make([]encodedEvent, len(a.Events))
		for j, event := range a.Events {
			metadata, err := json.Marshal(event.Metadata)
			if err != nil {
				return fmt.Errorf("eventstore/sqlite: append to %q: encode metadata of event %s: %w", a.Stream, event.ID, err)
			}
			encoded[i][j] = encodedEvent{id: event.ID.String(), typ: event.Type, data: string(event.Data), metadata: string(metadata)}
		}
	}
	select {
	case s.writeSlot <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("eventstore/sqlite: append a batch: waiting to write: %w", ctx.Err())
	}
	defer func() { <-s.writeSlot }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: append a batch: begin: %w", err)
	}
	for i, a := range batch {
		_, wrote, err := s.appendTo(ctx, tx, a.Stream, a.Expected, encoded[i])
		if err == nil && !wrote {
			err = fmt.Errorf("eventstore/sqlite: append to %q: %w: the batch repeats stored events", a.Stream, eventstore.ErrDuplicateEvent)
		}
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("eventstore/sqlite: append a batch: commit: %w", err)
	}
	s.committed.notify()
	return nil
}

// errNotStored: none of an append's event ids is stored.
var errNotStored = errors.New("no event id stored")

// findPreviousAppend looks the append's event ids up. If all of them are stored in stream as
// consecutive versions in the same order, the append is a retry and the original result is
// returned; if none is stored, errNotStored; otherwise eventstore.ErrDuplicateEvent.
func findPreviousAppend(ctx context.Context, tx *sql.Tx, stream string, events []encodedEvent) (eventstore.AppendResult, error) {
	placeholders := strings.TrimSuffix(strings.Repeat("?,", len(events)), ",")
	ids := make([]any, len(events))
	for i, event := range events {
		ids[i] = event.id
	}
	rows, err := tx.QueryContext(ctx, `SELECT event_id, stream, version, seq FROM events WHERE event_id IN (`+placeholders+`)`, ids...)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: append to %q: look up event ids: %w", stream, err)
	}
	type storedEvent struct {
		stream  string
		version uint64
		seq     uint64
	}
	stored := make(map[string]storedEvent, len(events))
	for rows.Next() {
		var id string
		var event storedEvent
		if err := rows.Scan(&id, &event.stream, &event.version, &event.seq); err != nil {
			rows.Close()
			return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: append to %q: look up event ids: %w", stream, err)
		}
		stored[id] = event
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/sqlite: append to %q: look up event ids: %w", stream, err)
	}

	if len(stored) == 0 {
		return eventstore.AppendResult{}, errNotStored
	}
	first, isRetry := stored[events[0].id]
	for i, event := range events {
		previous, ok := stored[event.id]
		isRetry = isRetry && ok && previous.stream == stream && previous.version == first.version+uint64(i)
	}
	if !isRetry {
		for _, event := range events {
			if previous, ok := stored[event.id]; ok {
				return eventstore.AppendResult{}, fmt.Errorf("%w: append to %q repeats event %s (stored as %q v%d) but is not a retry of the append that stored it",
					eventstore.ErrDuplicateEvent, stream, event.id, previous.stream, previous.version)
			}
		}
	}
	last := stored[events[len(events)-1].id]
	return eventstore.AppendResult{
		Version:  last.version,
		Position: eventstore.Position{Commit: last.seq, Prepare: last.seq},
	}, nil
}

func isUniqueViolation(err error) bool {
	var sqliteErr *sqlite.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
