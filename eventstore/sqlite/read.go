package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
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
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %s: %w", after, err)
	}
	defer conn.Close()
	var events []eventstore.RecordedEvent
	err = conn.Raw(func(dc any) error {
		var err error
		events, err = readAllRaw(ctx, dc, lastSeqNotAfter(after), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %s: %w", after, err)
	}
	return events, nil
}

// readAllQuery reads the log's data and metadata as BLOBs: the driver copies a BLOB into a new
// []byte the event keeps, where a TEXT became a Go string that database/sql copied again.
const readAllQuery = `SELECT seq, stream, version, event_id, type, CAST(data AS BLOB), CAST(metadata AS BLOB), recorded_at
	FROM events WHERE seq > ? ORDER BY seq LIMIT ?`

// readAllRaw reads a page of the log through the driver's own rows (dc is the driver's
// connection, from sql.Conn.Raw): reading the whole log is the floor of every catch-up and
// rebuild, and database/sql's Rows.Scan — converting and copying each of eight columns, every
// event — was a sixth of reading it. The values the driver returns are fresh copies the events
// own.
func readAllRaw(ctx context.Context, dc any, afterSeq int64, limit int) ([]eventstore.RecordedEvent, error) {
	queryer, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("driver connection %T cannot query", dc)
	}
	rows, err := queryer.QueryContext(ctx, readAllQuery, []driver.NamedValue{{Ordinal: 1, Value: afterSeq}, {Ordinal: 2, Value: int64(limit)}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := make([]eventstore.RecordedEvent, 0, limit)
	row := make([]driver.Value, 8)
	for {
		if err := rows.Next(row); errors.Is(err, io.EOF) {
			return events, nil
		} else if err != nil {
			return nil, err
		}
		event, err := rawEvent(row)
		if err != nil {
			return nil, err
		}
		events = append(events, event)
	}
}

// rawEvent is the event of a row of readAllQuery, as the driver returned it.
func rawEvent(row []driver.Value) (eventstore.RecordedEvent, error) {
	var event eventstore.RecordedEvent
	seq, ok := row[0].(int64)
	if !ok {
		return event, fmt.Errorf("seq: %T", row[0])
	}
	version, okVersion := row[2].(int64)
	stream, okStream := row[1].(string)
	id, okID := row[3].(string)
	kind, okKind := row[4].(string)
	recordedAt, okRecorded := row[7].(string)
	if !okVersion || !okStream || !okID || !okKind || !okRecorded || version <= 0 {
		return event, fmt.Errorf("event at seq %d: unexpected column types %T %T %T %T %T", seq, row[1], row[2], row[3], row[4], row[7])
	}
	// A BLOB of no bytes comes back as nil.
	data, _ := row[5].([]byte)
	metadata, _ := row[6].([]byte)
	if data == nil {
		data = []byte{}
	}
	var err error
	if event.ID, err = uuid.Parse(id); err != nil {
		return event, fmt.Errorf("event at seq %d: id: %w", seq, err)
	}
	if err := eventstore.DecodeMetadata(metadata, &event.Metadata); err != nil {
		return event, fmt.Errorf("event at seq %d: metadata: %w", seq, err)
	}
	if event.RecordedAt, err = time.Parse(recordedAtLayout, recordedAt); err != nil {
		return event, fmt.Errorf("event at seq %d: recorded_at: %w", seq, err)
	}
	event.Stream, event.Version, event.Type, event.Data = stream, uint64(version), kind, data
	event.Position = eventstore.Position{Commit: uint64(seq), Prepare: uint64(seq)}
	return event, nil
}

// CountAfter implements eventstore.Counter from the last sequence number alone: the log's seq runs
// 1, 2, 3… without a gap — AUTOINCREMENT takes back the number of an insert that failed or was
// rolled back, and the triggers forbid deleting a row (TestSequenceHasNoGaps) — so the events after
// p are the numbers between p's and the last. SQLite's count(*) of a range instead reads every page
// of it: on a 10 M-event (13 GB) store a lag count took minutes of a core (session 10).
func (s *Store) CountAfter(ctx context.Context, after eventstore.Position) (int, error) {
	var last int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
		return 0, fmt.Errorf("eventstore/sqlite: count after %s: %w", after, err)
	}
	return int(max(last-lastSeqNotAfter(after), 0)), nil
}

// CountAfterUpTo implements eventstore.CappedCounter: CountAfter is already a subtraction.
func (s *Store) CountAfterUpTo(ctx context.Context, after eventstore.Position, limit int) (int, error) {
	n, err := s.CountAfter(ctx, after)
	return min(n, limit), err
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
