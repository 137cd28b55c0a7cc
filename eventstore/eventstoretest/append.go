package eventstoretest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

func runAppendTests(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Run("versions start at 1 and grow", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		first := newEvent("first")
		result := mustAppend(ctx, t, store, "dossier-1", eventstore.NoStream, first)
		if result.Version != 1 {
			t.Fatalf("first append: Version = %d, want 1", result.Version)
		}
		more := newEvents("more", 3)
		result = mustAppend(ctx, t, store, "dossier-1", eventstore.Exact(1), more...)
		if result.Version != 4 {
			t.Fatalf("second append of 3 events: Version = %d, want 4", result.Version)
		}

		stored := mustReadStream(ctx, t, store, "dossier-1", 0)
		requireIDs(t, "ReadStream", stored, append([]eventstore.EventData{first}, more...))
		for i, event := range stored {
			if event.Stream != "dossier-1" || event.Version != uint64(i+1) {
				t.Fatalf("event %d is %q v%d, want %q v%d", i, event.Stream, event.Version, "dossier-1", i+1)
			}
		}
		if last := stored[len(stored)-1]; last.Position != result.Position {
			t.Fatalf("AppendResult.Position = %s, want the last event's position %s", result.Position, last.Position)
		}
		requireStrictlyIncreasingPositions(t, "ReadStream", stored)
	})

	t.Run("expected version", func(t *testing.T) {
		cases := []struct {
			name        string
			existing    int // events already in the stream
			expected    eventstore.ExpectedVersion
			wantSuccess bool
		}{
			{"any on a new stream", 0, eventstore.Any, true},
			{"any on an existing stream", 2, eventstore.Any, true},
			{"no stream on a new stream", 0, eventstore.NoStream, true},
			{"no stream on an existing stream", 2, eventstore.NoStream, false},
			{"exact 0 on a new stream", 0, eventstore.Exact(0), true},
			{"exact 0 on an existing stream", 1, eventstore.Exact(0), false},
			{"stream exists on a new stream", 0, eventstore.StreamExists, false},
			{"stream exists on an existing stream", 1, eventstore.StreamExists, true},
			{"exact matching version", 3, eventstore.Exact(3), true},
			{"exact behind the stream", 3, eventstore.Exact(2), false},
			{"exact ahead of the stream", 3, eventstore.Exact(4), false},
			{"exact on a new stream", 0, eventstore.Exact(5), false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testContext(t)
				store := open(t)
				const stream = "dossier-expected"
				if tc.existing > 0 {
					mustAppend(ctx, t, store, stream, eventstore.NoStream, newEvents("existing", tc.existing)...)
				}
				event := newEvent("attempt")
				result, err := store.Append(ctx, stream, tc.expected, event)
				if !tc.wantSuccess {
					requireWrongExpectedVersion(t, err, stream, tc.expected, uint64(tc.existing))
					if got := mustReadStream(ctx, t, store, stream, 0); len(got) != tc.existing {
						t.Fatalf("after a failed append the stream has %d events, want %d", len(got), tc.existing)
					}
					return
				}
				if err != nil {
					t.Fatalf("Append(%s) on a stream at version %d: %v", tc.expected, tc.existing, err)
				}
				if want := uint64(tc.existing + 1); result.Version != want {
					t.Fatalf("Version = %d, want %d", result.Version, want)
				}
				stored := mustReadStream(ctx, t, store, stream, uint64(tc.existing+1))
				requireIDs(t, "appended event", stored, []eventstore.EventData{event})
			})
		}
	})

	t.Run("failed append writes nothing", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		original := newEvents("original", 2)
		mustAppend(ctx, t, store, "dossier-a", eventstore.NoStream, original...)
		mustAppend(ctx, t, store, "dossier-b", eventstore.NoStream, newEvent("other stream"))
		before := readWholeLog(ctx, t, store, 100)

		rejected := newEvents("rejected", 3)
		_, err := store.Append(ctx, "dossier-a", eventstore.Exact(1), rejected...)
		requireWrongExpectedVersion(t, err, "dossier-a", eventstore.Exact(1), 2)

		requireIDs(t, "stream after failed append", mustReadStream(ctx, t, store, "dossier-a", 0), original)
		after := readWholeLog(ctx, t, store, 100)
		if len(after) != len(before) {
			t.Fatalf("the global log grew from %d to %d events after a failed append", len(before), len(after))
		}
		// The rejected ids were not consumed: they can still be appended.
		result := mustAppend(ctx, t, store, "dossier-a", eventstore.Exact(2), rejected...)
		if result.Version != 5 {
			t.Fatalf("Version = %d after appending the once-rejected events, want 5", result.Version)
		}
	})

	t.Run("invalid appends", func(t *testing.T) {
		valid := func() eventstore.EventData { return newEvent("valid") }
		cases := []struct {
			name   string
			stream string
			events []eventstore.EventData
		}{
			{"empty stream name", "", []eventstore.EventData{valid()}},
			{"no events", "dossier-invalid", nil},
			{"event without id", "dossier-invalid", []eventstore.EventData{valid(), func() eventstore.EventData {
				e := valid()
				e.ID = uuid.Nil
				return e
			}()}},
			{"event without type", "dossier-invalid", []eventstore.EventData{func() eventstore.EventData {
				e := valid()
				e.Type = ""
				return e
			}()}},
			{"data that is not JSON", "dossier-invalid", []eventstore.EventData{valid(), func() eventstore.EventData {
				e := valid()
				e.Data = []byte(`{"unterminated": `)
				return e
			}()}},
			{"empty data", "dossier-invalid", []eventstore.EventData{func() eventstore.EventData {
				e := valid()
				e.Data = nil
				return e
			}()}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testContext(t)
				store := open(t)
				_, err := store.Append(ctx, tc.stream, eventstore.Any, tc.events...)
				if !errors.Is(err, eventstore.ErrInvalidAppend) {
					t.Fatalf("error = %v, want errors.Is ErrInvalidAppend", err)
				}
				if got := readWholeLog(ctx, t, store, 10); len(got) != 0 {
					t.Fatalf("an invalid append wrote %d events", len(got))
				}
			})
		}
	})

	t.Run("metadata round-trips", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		// UTC+7 (Vietnam) at microsecond precision: PostgreSQL timestamps keep microseconds, and an
		// instant must survive whatever zone the backend stores it in.
		vietnam := time.FixedZone("ICT", 7*60*60)
		event := eventstore.EventData{
			ID:   eventstore.NewEventID(),
			Type: "dossier.received.v1",
			Data: []byte(`{"dossier_code":"000.00.01.H12-250314-0001","applicant":"Nguyễn Văn Ấn","pages":[1,2,3],"urgent":true}`),
			Metadata: eventstore.Metadata{
				Actor: eventstore.Actor{
					ID:     "can-bo-042",
					Name:   "Trần Thị Ngọc Ánh",
					Role:   "one_stop_officer",
					Agency: "UBND phường Bến Nghé",
				},
				CorrelationID: uuid.New(),
				CausationID:   uuid.New(),
				OccurredAt:    time.Date(2025, 3, 14, 9, 26, 53, 123456000, vietnam),
				// The retried request is recognised from the events it produced (docs/api.md).
				IdempotencyKey: "nộp-hồ-sơ 01HZ",
				RequestHash:    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			},
		}
		before := time.Now()
		mustAppend(ctx, t, store, "dossier-metadata", eventstore.NoStream, event)
		after := time.Now()

		fromStream := mustReadStream(ctx, t, store, "dossier-metadata", 1)
		fromLog := readWholeLog(ctx, t, store, 10)
		for what, events := range map[string][]eventstore.RecordedEvent{"ReadStream": fromStream, "ReadAll": fromLog} {
			if len(events) != 1 {
				t.Fatalf("%s returned %d events, want 1", what, len(events))
			}
			requireSameEvent(t, event, events[0])
			// Backends may stamp the time on another machine (a database server): allow for clock skew.
			const skew = time.Minute
			recordedAt := events[0].RecordedAt
			if recordedAt.IsZero() || recordedAt.Before(before.Add(-skew)) || recordedAt.After(after.Add(skew)) {
				t.Fatalf("%s: RecordedAt = %s, want a time near %s", what, recordedAt, before)
			}
		}
	})
}
