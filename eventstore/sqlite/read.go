package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	rows, err := s.stmts.readStream.QueryContext(ctx, stream, min(fromVersion, math.MaxInt64))
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read stream %q: %w", stream, err)
	}
	events, err := scanEvents(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read stream %q: %w", stream, err)
	}
	return events, nil
}

// ReadAll implements eventstore.Store. SQLite has one writer at a time and a transaction's rows
// become visible together at commit, so a reader never sees a sequence number before every smaller
// one is visible: the log can be read up to its end.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("eventstore/sqlite: read all: limit %d is not positive", limit)
	}
	rows, err := s.stmts.readAll.QueryContext(ctx, lastSeqNotAfter(after), limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %s: %w", after, err)
	}
	events, err := scanEvents(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %s: %w", after, err)
	}
	return events, nil
}

// CountAfter implements eventstore.Counter.
func (s *Store) CountAfter(ctx context.Context, after eventstore.Position) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE seq > ?`, lastSeqNotAfter(after)).Scan(&n); err != nil {
		return 0, fmt.Errorf("eventstore/sqlite: count after %s: %w", after, err)
	}
	return n, nil
}

// lastSeqNotAfter is the greatest sequence number whose position {seq, seq} is not after p.
func lastSeqNotAfter(p eventstore.Position) int64 {
	seq := p.Commit
	if p.Prepare < p.Commit {
		seq-- // {Commit, Commit} itself comes after p
	}
	return int64(min(seq, math.MaxInt64))
}

func scanEvents(rows *sql.Rows, capacity int) (events []eventstore.RecordedEvent, err error) {
	defer func() { err = errors.Join(err, rows.Close()) }()
	events = make([]eventstore.RecordedEvent, 0, capacity)
	// The metadata is decoded at once and not kept: one buffer for every row, where a []byte
	// destination had database/sql copy each row's into a new slice.
	var metadata sql.RawBytes
	for rows.Next() {
		var (
			event      eventstore.RecordedEvent
			seq        uint64
			id         string
			recordedAt string
		)
		if err := rows.Scan(&seq, &event.Stream, &event.Version, &id, &event.Type, &event.Data, &metadata, &recordedAt); err != nil {
			return nil, err
		}
		if event.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("event at seq %d: id: %w", seq, err)
		}
		if err := eventstore.DecodeMetadata(metadata, &event.Metadata); err != nil {
			return nil, fmt.Errorf("event at seq %d: metadata: %w", seq, err)
		}
		if event.RecordedAt, err = time.Parse(recordedAtLayout, recordedAt); err != nil {
			return nil, fmt.Errorf("event at seq %d: recorded_at: %w", seq, err)
		}
		event.Position = eventstore.Position{Commit: seq, Prepare: seq}
		events = append(events, event)
	}
	return events, rows.Err()
}
