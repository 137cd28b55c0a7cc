package eventstoretest

import (
	"errors"
	"testing"

	"github.com/motcua/motcua/eventstore"
)

func runIdempotencyTests(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Run("retry returns the original result", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		const stream = "dossier-retry"
		firstBatch := newEvents("first", 2)
		original := mustAppend(ctx, t, store, stream, eventstore.NoStream, firstBatch...)
		secondBatch := newEvents("second", 1)
		originalSecond := mustAppend(ctx, t, store, stream, eventstore.Exact(2), secondBatch...)

		retries := []struct {
			name     string
			expected eventstore.ExpectedVersion
			events   []eventstore.EventData
			want     eventstore.AppendResult
		}{
			{"first batch with its original, now stale, no-stream", eventstore.NoStream, firstBatch, original},
			{"first batch with a stale exact version", eventstore.Exact(0), firstBatch, original},
			{"first batch with any", eventstore.Any, firstBatch, original},
			{"first batch with stream exists", eventstore.StreamExists, firstBatch, original},
			{"second batch with its original exact version", eventstore.Exact(2), secondBatch, originalSecond},
			{"second batch with any", eventstore.Any, secondBatch, originalSecond},
		}
		for _, retry := range retries {
			t.Run(retry.name, func(t *testing.T) {
				got, err := store.Append(ctx, stream, retry.expected, retry.events...)
				if err != nil {
					t.Fatalf("retried Append: %v", err)
				}
				if got != retry.want {
					t.Fatalf("retried Append = %+v, want the original %+v", got, retry.want)
				}
			})
		}

		stored := mustReadStream(ctx, t, store, stream, 0)
		requireIDs(t, "stream after retries", stored, append(firstBatch, secondBatch...))
		if log := readWholeLog(ctx, t, store, 100); len(log) != 3 {
			t.Fatalf("the global log has %d events after retries, want 3", len(log))
		}
	})

	t.Run("partly duplicate ids are rejected", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		const stream = "dossier-partial"
		stored := newEvents("stored", 2)
		mustAppend(ctx, t, store, stream, eventstore.NoStream, stored...)

		fresh := newEvent("fresh")
		attempts := []struct {
			name   string
			events []eventstore.EventData
		}{
			{"new event first, stored one second", []eventstore.EventData{fresh, stored[1]}},
			{"stored event first, new one second", []eventstore.EventData{stored[0], fresh}},
			{"stored events with one more after them", []eventstore.EventData{stored[0], stored[1], fresh}},
		}
		for _, attempt := range attempts {
			t.Run(attempt.name, func(t *testing.T) {
				_, err := store.Append(ctx, stream, eventstore.Any, attempt.events...)
				if !errors.Is(err, eventstore.ErrDuplicateEvent) {
					t.Fatalf("error = %v, want errors.Is ErrDuplicateEvent", err)
				}
				requireIDs(t, "stream after a rejected append", mustReadStream(ctx, t, store, stream, 0), stored)
				if log := readWholeLog(ctx, t, store, 100); len(log) != len(stored) {
					t.Fatalf("the global log has %d events after a rejected append, want %d", len(log), len(stored))
				}
			})
		}

		// The fresh event was never written, so it can still be appended on its own.
		if result := mustAppend(ctx, t, store, stream, eventstore.Exact(2), fresh); result.Version != 3 {
			t.Fatalf("Version = %d, want 3", result.Version)
		}
	})
}
