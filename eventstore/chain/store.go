package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// Store is an eventstore.Store that links every appended event to its stream's previous one by
// setting Metadata.PrevHash. Reads pass through unchanged.
type Store struct {
	inner eventstore.Store
}

var _ eventstore.Store = (*Store)(nil)

// Unwrap returns the store the chain decorates (eventstore.Wrapper).
func (s *Store) Unwrap() eventstore.Store { return s.inner }

// Wrap returns store with hash-chained appends. The backend must keep an event's data bytes and
// metadata exactly (SQLite, PostgreSQL and EventStoreDB all do).
func Wrap(store eventstore.Store) *Store { return &Store{inner: store} }

// maxAnyRetries bounds how often an append with a version-free condition (any, stream exists) re-reads
// the head after another writer moved it; each retry means that writer succeeded.
const maxAnyRetries = 100

// Append implements eventstore.Store. Linking needs the previous event's hash, so an append is
// always made with an exact expected version: an Exact or NoStream condition is passed on as it is,
// after reading the event it names; Any and StreamExists read the stream's head and append exactly
// after it, again if another writer got there first.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if version, exact := expected.Version(); exact {
		prev, err := s.hashAt(ctx, stream, expected, version)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		return s.inner.Append(ctx, stream, expected, link(stream, version, prev, events)...)
	}
	var lastErr error
	for range maxAnyRetries {
		version, prev, err := s.head(ctx, stream)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if !expected.Allows(version) {
			return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: version}
		}
		result, err := s.inner.Append(ctx, stream, eventstore.Exact(version), link(stream, version, prev, events)...)
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return result, err
		}
		lastErr = err
	}
	return eventstore.AppendResult{}, fmt.Errorf("chain: append to %q: the stream moved on %d times in a row: %w", stream, maxAnyRetries, lastErr)
}

// link returns events as they will be stored after version of stream, whose hash is prev: each
// records its predecessor's hash. OccurredAt is cut to microseconds, the precision every backend
// keeps, so that the hash of the event as read back is the one its successor records.
func link(stream string, version uint64, prev string, events []eventstore.EventData) []eventstore.EventData {
	linked := make([]eventstore.EventData, len(events))
	for i, e := range events {
		e.Metadata.OccurredAt = e.Metadata.OccurredAt.Truncate(time.Microsecond)
		e.Metadata.PrevHash = prev
		linked[i] = e
		prev = Hash(stream, version+uint64(i)+1, e)
	}
	return linked
}

// hashAt returns the hash of the event at version of stream (the stream's seed for version 0). When
// the stream is shorter, it answers the append's version error itself: appending with a made-up link
// could succeed if the stream reached version meanwhile.
func (s *Store) hashAt(ctx context.Context, stream string, expected eventstore.ExpectedVersion, version uint64) (string, error) {
	if version == 0 {
		return StreamSeed(stream), nil
	}
	events, err := s.inner.ReadStream(ctx, stream, version)
	if err != nil {
		return "", err
	}
	if len(events) > 0 && events[0].Version == version {
		return recordedHash(events[0]), nil
	}
	current, prev, err := s.head(ctx, stream)
	if err != nil {
		return "", err
	}
	if current != version {
		return "", &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: current}
	}
	return prev, nil
}

// head returns the stream's current version and the hash of its last event.
func (s *Store) head(ctx context.Context, stream string) (uint64, string, error) {
	events, err := s.inner.ReadStream(ctx, stream, 1)
	if err != nil {
		return 0, "", err
	}
	if len(events) == 0 {
		return 0, StreamSeed(stream), nil
	}
	last := events[len(events)-1]
	return last.Version, recordedHash(last), nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]eventstore.RecordedEvent, error) {
	return s.inner.ReadStream(ctx, stream, fromVersion)
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return s.inner.ReadAll(ctx, after, limit)
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	return s.inner.Subscribe(ctx, after, handle)
}

// Close implements eventstore.Store.
func (s *Store) Close() error { return s.inner.Close() }
