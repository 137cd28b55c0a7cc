// Package eventstore defines motcua's event store contract: append-only streams with optimistic
// concurrency and a single global log that subscribers read from a checkpoint, with the semantics of
// EventStoreDB/KurrentDB. Every backend (sqlite, postgres, esdb) implements Store and passes the shared
// conformance suite in eventstore/eventstoretest.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Store is the event store every backend implements.
//
// Streams are numbered from version 1: the first event in a stream has Version 1 and a stream's
// version is the number of events in it (0 when it does not exist).
type Store interface {
	// Append writes events atomically at the end of stream, if the stream's current version matches
	// expected. A retried append whose event IDs are all already in the stream, in the same order,
	// is a no-op that succeeds and returns the original result (idempotency by event ID). An append
	// whose event IDs are only partly present fails with ErrDuplicateEvent.
	// A version mismatch fails with a *WrongExpectedVersionError (errors.Is ErrWrongExpectedVersion).
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...EventData) (AppendResult, error)

	// ReadStream returns the events of stream with Version >= fromVersion, in order. A stream that
	// does not exist reads as empty, without error.
	ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of the global log strictly after the given position, in
	// global order. Readers that checkpoint on the last position they saw never skip an event: a
	// backend only returns events once no event can later appear before them.
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// Subscribe calls handle for every event of the global log after the given position: first the
	// events already stored (catch-up), then new ones as they are committed (live), each exactly
	// once and in global order. It blocks until ctx ends (returning ctx.Err()) or handle returns an
	// error (returning it).
	Subscribe(ctx context.Context, after Position, handle func(context.Context, RecordedEvent) error) error

	Close() error
}

// Counter is implemented by stores that count the global log without reading it: CountAfter is the
// number of events ReadAll would return after the position, read to the end. A progress bar or a
// lag gauge that read the whole log to count it would cost as much as the work it watches.
type Counter interface {
	CountAfter(ctx context.Context, after Position) (int, error)
}

// CappedCounter is implemented by stores that count the events after a position up to a limit
// without reading them: CountAfterUpTo is min(limit, the events ReadAll would return after it).
// The lag gauges count to a limit at every scrape; read through the decorators, each event counted
// was unsealed and decoded — ten consumers 10,000 events behind read 100,000 events a scrape, a
// tenth of a catch-up's CPU at a scrape every 5 s.
type CappedCounter interface {
	CountAfterUpTo(ctx context.Context, after Position, limit int) (int, error)
}

// CappedCounterOf returns store's CappedCounter, looking through decorators; false when there is none.
func CappedCounterOf(store Store) (CappedCounter, bool) { return through[CappedCounter](store) }

// Wrapper is implemented by decorators (hash chain, crypto-shredding): Unwrap returns the store
// they decorate, which holds the same events.
type Wrapper interface {
	Unwrap() Store
}

// CounterOf returns store's Counter, looking through decorators; false when there is none.
func CounterOf(store Store) (Counter, bool) { return through[Counter](store) }

// through returns the first of store and the stores it decorates (Wrapper) that implements T.
func through[T any](store Store) (T, bool) {
	for store != nil {
		if c, ok := store.(T); ok {
			return c, true
		}
		w, ok := store.(Wrapper)
		if !ok {
			break
		}
		store = w.Unwrap()
	}
	var none T
	return none, false
}

// ExpectedVersion is the optimistic-concurrency condition of an append.
type ExpectedVersion struct {
	kind    expectedKind
	version uint64
}

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectExact
	expectStreamExists
)

var (
	// Any appends whatever the stream's version.
	Any = ExpectedVersion{kind: expectAny}
	// NoStream appends only if the stream has no events yet.
	NoStream = ExpectedVersion{kind: expectNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = ExpectedVersion{kind: expectStreamExists}
)

// Exact appends only if the stream's version is exactly v. Exact(0) is the same as NoStream.
func Exact(v uint64) ExpectedVersion {
	if v == 0 {
		return NoStream
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// Allows reports whether a stream currently at version current satisfies e.
func (e ExpectedVersion) Allows(current uint64) bool {
	switch e.kind {
	case expectNoStream:
		return current == 0
	case expectExact:
		return current == e.version
	case expectStreamExists:
		return current > 0
	default:
		return true
	}
}

// IsAny reports whether e places no condition on the stream's version.
func (e ExpectedVersion) IsAny() bool { return e.kind == expectAny }

// Version returns the exact version e expects and whether e is an exact (or no-stream) condition.
func (e ExpectedVersion) Version() (uint64, bool) {
	switch e.kind {
	case expectNoStream:
		return 0, true
	case expectExact:
		return e.version, true
	}
	return 0, false
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("version %d", e.version)
	case expectStreamExists:
		return "stream exists"
	default:
		return "any"
	}
}

// Position is a place in the global log, ordered first by Commit then by Prepare, like EventStoreDB's
// commit/prepare positions. SQLite sets both to the row's sequence number; PostgreSQL sets Commit to
// the writing transaction's id (xid8) and Prepare to the row's sequence number. The zero Position is
// before every event.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before the first event of the global log.
var Start = Position{}

// Less reports whether p comes strictly before q in the global log.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// EventData is an event to append.
type EventData struct {
	ID       uuid.UUID // unique across the store; UUID v7 (see NewEventID)
	Type     string    // stable, versioned wire name, e.g. "dossier.received.v1"
	Data     []byte    // JSON payload
	Metadata Metadata
}

// Metadata travels with every event.
type Metadata struct {
	Actor         Actor     `json:"actor"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	CausationID   uuid.UUID `json:"causation_id"`
	OccurredAt    time.Time `json:"occurred_at"`
	// PrevHash is the hex SHA-256 of the stream's previous event (of the stream name for the first
	// event), set by the eventstore/chain decorator so the history is tamper-evident. Empty on
	// events appended without it.
	PrevHash string `json:"prev_hash,omitempty"`
	// IdempotencyKey is the Idempotency-Key of the request that produced the event, and RequestHash
	// that request's fingerprint (hex SHA-256 of method, path, caller and body): a repeated request
	// is recognised from the events themselves, even when the answer kept for it was lost. Empty on
	// events of requests sent without a key.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	RequestHash    string `json:"request_hash,omitempty"`
}

// Actor is who caused an event: an official, an applicant, or the system itself.
type Actor struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Agency string `json:"agency,omitempty"`
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	EventData
	Stream     string
	Version    uint64 // 1-based position within Stream
	Position   Position
	RecordedAt time.Time
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// Version is the stream's version after the append (the Version of its last event).
	Version uint64
	// Position is the global position of the last appended event.
	Position Position
}

// NewEventID returns a time-ordered UUID v7 for a new event.
func NewEventID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

var (
	// ErrWrongExpectedVersion is matched (errors.Is) by every *WrongExpectedVersionError.
	ErrWrongExpectedVersion = errors.New("wrong expected version")
	// ErrDuplicateEvent: some, but not all, of an append's event IDs are already stored.
	ErrDuplicateEvent = errors.New("event id already stored")
	// ErrInvalidAppend: an append with no events, an empty stream name or type, or non-JSON data.
	ErrInvalidAppend = errors.New("invalid append")
)

// WrongExpectedVersionError says which condition an append failed.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64
}

func (e *WrongExpectedVersionError) Error() string {
	return fmt.Sprintf("stream %q: expected %s, found version %d", e.Stream, e.Expected, e.Actual)
}

func (e *WrongExpectedVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }

// ValidateAppend checks the parts of an append that do not depend on the backend.
func ValidateAppend(stream string, events []EventData) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream name", ErrInvalidAppend)
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: no events", ErrInvalidAppend)
	}
	for i, e := range events {
		if e.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d has no id", ErrInvalidAppend, i)
		}
		if e.Type == "" {
			return fmt.Errorf("%w: event %d has no type", ErrInvalidAppend, i)
		}
		if !json.Valid(e.Data) {
			return fmt.Errorf("%w: event %d data is not JSON", ErrInvalidAppend, i)
		}
	}
	return nil
}
