package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

// Append appends events to stream if its version matches expected.
//
// EventStoreDB checks event IDs itself only in some cases: reliably when an append is retried with
// the same exact expected version, and with Any or StreamExists only while the IDs are in the
// server's in-memory cache. To give the contract's idempotency in every case, an Any or
// StreamExists append first reads the stream and looks for its IDs; a failed append is explained by
// reading the stream too (was it a retry, a partial duplicate, or a real version conflict?).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	if err := validateStreamName(stream); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	if id, repeated := repeatedID(events); repeated {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w: event %s appears twice in one append",
			stream, eventstore.ErrDuplicateEvent, id)
	}
	proposed, err := proposedEvents(events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	name := s.serverStream(stream)

	if _, exact := expected.Version(); !exact {
		stored, err := s.storedEvents(ctx, name)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: look for the event ids: %w", stream, err)
		}
		previous, found, err := findPreviousAppend(stored, events)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
		}
		if found {
			return previous, nil
		}
	}

	written, err := s.client.AppendToStream(ctx, name, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, proposed...)
	if err != nil {
		if isWrongExpectedVersion(err) {
			return s.explainRejectedAppend(ctx, stream, expected, events, err)
		}
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	return s.appendResult(ctx, stream, written)
}

// expectedRevision maps our 1-based expected version onto the server's 0-based expected revision:
// a stream at version n has its last event at revision n-1.
func expectedRevision(expected eventstore.ExpectedVersion) esdb.ExpectedRevision {
	if version, exact := expected.Version(); exact {
		if version == 0 {
			return esdb.NoStream{}
		}
		return esdb.Revision(version - 1)
	}
	if expected.IsAny() {
		return esdb.Any{}
	}
	return esdb.StreamExists{}
}

// proposedEvents encodes events for the client: payload as JSON content, our Metadata as the
// event's user metadata (JSON), and our event ID as the server's event ID.
func proposedEvents(events []eventstore.EventData) ([]esdb.EventData, error) {
	proposed := make([]esdb.EventData, len(events))
	for i, event := range events {
		metadata, err := json.Marshal(event.Metadata)
		if err != nil {
			return nil, fmt.Errorf("encode metadata of event %s: %w", event.ID, err)
		}
		proposed[i] = esdb.EventData{
			EventID:     event.ID,
			EventType:   event.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        event.Data,
			Metadata:    metadata,
		}
	}
	return proposed, nil
}

// repeatedID finds an event ID used twice in one append; the server would store both copies.
func repeatedID(events []eventstore.EventData) (uuid.UUID, bool) {
	seen := make(map[uuid.UUID]struct{}, len(events))
	for _, event := range events {
		if _, ok := seen[event.ID]; ok {
			return event.ID, true
		}
		seen[event.ID] = struct{}{}
	}
	return uuid.Nil, false
}

// storedEvent is what idempotency checks need of an event already in the stream.
type storedEvent struct {
	id       uuid.UUID
	version  uint64
	position eventstore.Position
}

// storedEvents lists the events of a stream (by its server name), oldest first.
func (s *Store) storedEvents(ctx context.Context, name string) ([]storedEvent, error) {
	events, err := s.readServerStream(ctx, name, esdb.Start{}, readWholeStream)
	if err != nil {
		return nil, err
	}
	stored := make([]storedEvent, len(events))
	for i, event := range events {
		stored[i] = storedEvent{id: event.EventID, version: event.EventNumber + 1, position: toPosition(event.Position)}
	}
	return stored, nil
}

// findPreviousAppend looks for events' IDs among a stream's stored events. All of them stored
// consecutively and in order means the append is a retry: its original result is returned. None
// stored means it is new. Anything else is eventstore.ErrDuplicateEvent.
func findPreviousAppend(stored []storedEvent, events []eventstore.EventData) (eventstore.AppendResult, bool, error) {
	index := make(map[uuid.UUID]int, len(stored))
	for i, event := range stored {
		index[event.id] = i
	}
	found := 0
	consecutive := true
	first := -1
	for i, event := range events {
		at, ok := index[event.ID]
		if !ok {
			consecutive = false
			continue
		}
		found++
		if i == 0 {
			first = at
		}
		if first < 0 || at != first+i {
			consecutive = false
		}
	}
	switch {
	case found == 0:
		return eventstore.AppendResult{}, false, nil
	case found == len(events) && consecutive:
		last := stored[first+len(events)-1]
		return eventstore.AppendResult{Version: last.version, Position: last.position}, true, nil
	default:
		return eventstore.AppendResult{}, false, fmt.Errorf("%w: %d of the %d events are already stored, but this is not a retry of the append that stored them",
			eventstore.ErrDuplicateEvent, found, len(events))
	}
}

// appendResult turns the server's answer into ours. When the server recognised a retry by its event
// IDs, older servers answer without a position; the original position is then read back.
func (s *Store) appendResult(ctx context.Context, stream string, written *esdb.WriteResult) (eventstore.AppendResult, error) {
	result := eventstore.AppendResult{
		Version:  written.NextExpectedVersion + 1,
		Position: eventstore.Position{Commit: written.CommitPosition, Prepare: written.PreparePosition},
	}
	if result.Position != eventstore.Start {
		return result, nil
	}
	last, err := s.readServerStream(ctx, s.serverStream(stream), esdb.Revision(written.NextExpectedVersion), 1)
	if err == nil && len(last) == 0 {
		err = errors.New("the event is not in the stream")
	}
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: read back the position of version %d: %w",
			stream, result.Version, err)
	}
	result.Position = toPosition(last[0].Position)
	return result, nil
}

// explainRejectedAppend tells apart the reasons the server gives one answer for: a real version
// conflict, a retry of an append that is already stored (with another expected version than the
// original's, or racing with it), and a partial duplicate ("corrupted idempotency" on the server).
func (s *Store) explainRejectedAppend(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events []eventstore.EventData, rejection error) (eventstore.AppendResult, error) {
	stored, err := s.storedEvents(ctx, s.serverStream(stream))
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: read the stream after %v: %w", stream, rejection, err)
	}
	previous, found, err := findPreviousAppend(stored, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/esdb: append to %q: %w", stream, err)
	}
	if found {
		return previous, nil
	}
	actual, ok := actualVersion(rejection)
	if !ok {
		// The stream as read now: one round trip later than the rejection, but still a version it had.
		actual = uint64(len(stored))
		if len(stored) > 0 {
			actual = stored[len(stored)-1].version
		}
	}
	return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, Actual: actual}
}

func isWrongExpectedVersion(err error) bool {
	esdbErr, ok := errors.AsType[*esdb.Error](err)
	return ok && esdbErr.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion)
}

// The v4 client keeps the server's current revision only in its error text:
// "wrong expected version: expecting '…' but got '<revision>|no_stream'".
var currentRevisionInError = regexp.MustCompile(`but got '([^']*)'`)

// actualVersion reads the stream's version at the time of the rejection out of the client's error.
func actualVersion(rejection error) (uint64, bool) {
	match := currentRevisionInError.FindStringSubmatch(rejection.Error())
	if match == nil {
		return 0, false
	}
	if match[1] == "no_stream" {
		return 0, true
	}
	revision, err := strconv.ParseUint(match[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return revision + 1, true
}
