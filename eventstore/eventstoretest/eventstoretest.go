// Package eventstoretest is the conformance suite every eventstore.Store backend runs. It tests only
// the contract in package eventstore, never a backend's internals, so the SQLite, PostgreSQL and
// EventStoreDB backends are held to exactly the same behaviour:
//
//	func TestConformance(t *testing.T) {
//		eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
//			store := openFreshStore(t) // empty; the backend test registers its own cleanup
//			return store
//		})
//	}
//
// With -short the concurrency and stress tests run fewer rounds and appends.
package eventstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

// Run runs every conformance test against stores made by open, which must return a fresh, empty
// store each time it is called.
func Run(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Helper()
	t.Run("Append", func(t *testing.T) { runAppendTests(t, open) })
	t.Run("Idempotency", func(t *testing.T) { runIdempotencyTests(t, open) })
	t.Run("Read", func(t *testing.T) { runReadTests(t, open) })
	t.Run("Subscribe", func(t *testing.T) { runSubscribeTests(t, open) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrencyTests(t, open) })
}

// testContext bounds a test so that a backend that hangs fails it instead of stalling the run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	timeout := 60 * time.Second
	if deadline, ok := t.Deadline(); ok {
		if remaining := time.Until(deadline) - 5*time.Second; remaining > 0 && remaining < timeout {
			timeout = remaining
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// newEvent returns a valid event whose payload names label, so a mismatch is easy to read.
func newEvent(label string) eventstore.EventData {
	data, err := json.Marshal(map[string]string{"label": label, "note": "Hồ sơ đã tiếp nhận"})
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return eventstore.EventData{
		ID:   eventstore.NewEventID(),
		Type: "conformance.test_happened.v1",
		Data: data,
		Metadata: eventstore.Metadata{
			Actor:         eventstore.Actor{ID: "system", Name: "Conformance suite", Role: "system"},
			CorrelationID: uuid.New(),
			CausationID:   uuid.New(),
			OccurredAt:    time.Now().Truncate(time.Microsecond),
		},
	}
}

// newEvents returns n events labelled prefix-1 … prefix-n.
func newEvents(prefix string, n int) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	for i := range events {
		events[i] = newEvent(fmt.Sprintf("%s-%d", prefix, i+1))
	}
	return events
}

func mustAppend(ctx context.Context, t *testing.T, store eventstore.Store, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	result, err := store.Append(ctx, stream, expected, events...)
	if err != nil {
		t.Fatalf("Append(%q, %s, %d events): %v", stream, expected, len(events), err)
	}
	return result
}

func mustReadStream(ctx context.Context, t *testing.T, store eventstore.Store, stream string, fromVersion uint64) []eventstore.RecordedEvent {
	t.Helper()
	events, err := store.ReadStream(ctx, stream, fromVersion)
	if err != nil {
		t.Fatalf("ReadStream(%q, %d): %v", stream, fromVersion, err)
	}
	return events
}

// readWholeLog pages through ReadAll from Start with the given page size, checking each page
// against the limit and that a page is empty only at the end.
func readWholeLog(ctx context.Context, t *testing.T, store eventstore.Store, pageSize int) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	after := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, after, pageSize)
		if err != nil {
			t.Fatalf("ReadAll(%s, %d): %v", after, pageSize, err)
		}
		if len(page) > pageSize {
			t.Fatalf("ReadAll(%s, %d) returned %d events, more than the limit", after, pageSize, len(page))
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// requireWrongExpectedVersion checks err is the contract's version error with the given details.
func requireWrongExpectedVersion(t *testing.T, err error, stream string, expected eventstore.ExpectedVersion, actual uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("error = %v, want errors.Is ErrWrongExpectedVersion", err)
	}
	var wrong *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wrong) {
		t.Fatalf("error %v (%T) is not a *eventstore.WrongExpectedVersionError", err, err)
	}
	if wrong.Stream != stream || wrong.Expected != expected || wrong.Actual != actual {
		t.Fatalf("WrongExpectedVersionError{Stream: %q, Expected: %s, Actual: %d}, want {%q, %s, %d}",
			wrong.Stream, wrong.Expected, wrong.Actual, stream, expected, actual)
	}
}

// requireSameEvent checks that recorded carries want's id, type, payload and metadata. Payloads are
// compared as JSON values because a backend may store JSON in a normalised form.
func requireSameEvent(t *testing.T, want eventstore.EventData, recorded eventstore.RecordedEvent) {
	t.Helper()
	got := recorded.EventData
	if got.ID != want.ID {
		t.Fatalf("event id = %s, want %s", got.ID, want.ID)
	}
	if got.Type != want.Type {
		t.Fatalf("event %s type = %q, want %q", want.ID, got.Type, want.Type)
	}
	if !sameJSON(got.Data, want.Data) {
		t.Fatalf("event %s data = %s, want %s", want.ID, got.Data, want.Data)
	}
	if got.Metadata.Actor != want.Metadata.Actor {
		t.Fatalf("event %s actor = %+v, want %+v", want.ID, got.Metadata.Actor, want.Metadata.Actor)
	}
	if got.Metadata.CorrelationID != want.Metadata.CorrelationID || got.Metadata.CausationID != want.Metadata.CausationID {
		t.Fatalf("event %s correlation/causation = %s/%s, want %s/%s", want.ID,
			got.Metadata.CorrelationID, got.Metadata.CausationID, want.Metadata.CorrelationID, want.Metadata.CausationID)
	}
	if got.Metadata.IdempotencyKey != want.Metadata.IdempotencyKey || got.Metadata.RequestHash != want.Metadata.RequestHash {
		t.Fatalf("event %s idempotency key/request hash = %q/%q, want %q/%q", want.ID,
			got.Metadata.IdempotencyKey, got.Metadata.RequestHash, want.Metadata.IdempotencyKey, want.Metadata.RequestHash)
	}
	if !got.Metadata.OccurredAt.Equal(want.Metadata.OccurredAt) {
		t.Fatalf("event %s occurred at %s, want %s", want.ID, got.Metadata.OccurredAt, want.Metadata.OccurredAt)
	}
}

func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// requireIDs checks that events carry exactly the ids of want, in order.
func requireIDs(t *testing.T, what string, events []eventstore.RecordedEvent, want []eventstore.EventData) {
	t.Helper()
	if len(events) != len(want) {
		t.Fatalf("%s: got %d events, want %d", what, len(events), len(want))
	}
	for i := range want {
		if events[i].ID != want[i].ID {
			t.Fatalf("%s: event %d is %s (%s v%d), want %s", what, i, events[i].ID, events[i].Stream, events[i].Version, want[i].ID)
		}
	}
}

// requireStrictlyIncreasingPositions checks events are in global order, each once.
func requireStrictlyIncreasingPositions(t *testing.T, what string, events []eventstore.RecordedEvent) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		if !events[i-1].Position.Less(events[i].Position) {
			t.Fatalf("%s: position %s of event %d is not after %s of event %d",
				what, events[i].Position, i, events[i-1].Position, i-1)
		}
	}
}
