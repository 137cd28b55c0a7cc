package chain_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/eventstoretest"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// The decorator must keep every promise of the event store contract, idempotent retries included.
func TestConformanceOnSQLite(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	})
}

func TestAppendLinksEachEventToItsPredecessor(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	const stream = "dossier-linked"
	appends := []struct {
		name     string
		expected eventstore.ExpectedVersion
		events   int
	}{
		{"no stream, two events", eventstore.NoStream, 2},
		{"exact", eventstore.Exact(2), 1},
		{"any", eventstore.Any, 3},
		{"stream exists", eventstore.StreamExists, 1},
	}
	for _, a := range appends {
		if _, err := store.Append(ctx, stream, a.expected, newEvents(a.name, a.events)...); err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
	}
	stored, err := store.ReadStream(ctx, stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 7 {
		t.Fatalf("stream has %d events, want 7", len(stored))
	}
	want := chain.StreamSeed(stream)
	for _, e := range stored {
		if e.Metadata.PrevHash != want {
			t.Fatalf("version %d records prev_hash %s, want %s", e.Version, e.Metadata.PrevHash, want)
		}
		want = chain.Hash(e.Stream, e.Version, e.EventData)
	}
}

func TestAppendAnswersVersionErrorsLikeTheContract(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	const stream = "dossier-versions"
	if _, err := store.Append(ctx, stream, eventstore.NoStream, newEvents("first", 2)...); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		actual   uint64
	}{
		{"exact beyond the head", stream, eventstore.Exact(5), 2},
		{"exact behind the head", stream, eventstore.Exact(1), 2},
		{"no stream on an existing stream", stream, eventstore.NoStream, 2},
		{"stream exists on a missing stream", "dossier-missing", eventstore.StreamExists, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Append(ctx, tc.stream, tc.expected, newEvents(tc.name, 1)...)
			var wrong *eventstore.WrongExpectedVersionError
			if !errors.As(err, &wrong) || wrong.Actual != tc.actual || wrong.Expected != tc.expected {
				t.Fatalf("error = %v, want a WrongExpectedVersionError with actual %d", err, tc.actual)
			}
		})
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openSQLite(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func newEvents(label string, n int) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	for i := range events {
		events[i] = eventstore.EventData{
			ID:   eventstore.NewEventID(),
			Type: "chain.test_happened.v1",
			Data: []byte(fmt.Sprintf(`{"label":%q,"n":%d,"note":"Hồ sơ đã tiếp nhận"}`, label, i)),
			Metadata: eventstore.Metadata{
				Actor:         eventstore.Actor{ID: "can-bo-1", Name: "Nguyễn Thị Lan", Role: "reception", Agency: "000.00.06.H56"},
				CorrelationID: uuid.New(), CausationID: uuid.New(),
				OccurredAt: time.Now(),
			},
		}
	}
	return events
}

// The idempotency key is part of an event's hash when it has one, and an event without one hashes
// exactly as before the key existed (so no stored chain breaks).
func TestTheIdempotencyKeyIsHashedOnlyWhenPresent(t *testing.T) {
	event := eventstore.EventData{
		ID: uuid.MustParse("01950f6e-0000-7000-8000-000000000001"), Type: "dossier.transferred.v1", Data: []byte(`{"to_unit":"PQLXD"}`),
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "tiepnhan1", Name: "Cán bộ", Role: "reception"},
			OccurredAt: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), PrevHash: chain.StreamSeed("dossier-1")},
	}
	// The hash of this event as the chain computed it before idempotency keys.
	const unkeyed = "1ba90fd16a1a671f2c933b20d04d8c4a2d5149c5b3685faaa8a65f35aefb1f9b"
	if got := chain.Hash("dossier-1", 2, event); got != unkeyed {
		t.Fatalf("an event without a key hashes to %s, want the unchanged %s", got, unkeyed)
	}
	keyed := event
	keyed.Metadata.IdempotencyKey, keyed.Metadata.RequestHash = "transfer-7f3a", "ab"
	otherKey := keyed
	otherKey.Metadata.IdempotencyKey = "transfer-7f3b"
	if a, b := chain.Hash("dossier-1", 2, keyed), chain.Hash("dossier-1", 2, otherKey); a == unkeyed || a == b {
		t.Fatal("the idempotency key does not change the event's hash: it could be altered unnoticed")
	}
}
