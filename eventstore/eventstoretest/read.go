package eventstoretest

import (
	"fmt"
	"testing"

	"github.com/motcua/motcua/eventstore"
)

func runReadTests(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Run("read stream from a version", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		events := newEvents("event", 5)
		mustAppend(ctx, t, store, "dossier-read", eventstore.NoStream, events[:2]...)
		mustAppend(ctx, t, store, "dossier-other", eventstore.NoStream, newEvent("other"))
		mustAppend(ctx, t, store, "dossier-read", eventstore.Exact(2), events[2:]...)

		cases := []struct {
			fromVersion uint64
			want        []eventstore.EventData
		}{
			{0, events},
			{1, events},
			{3, events[2:]},
			{5, events[4:]},
			{6, nil},
			{100, nil},
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("from %d", tc.fromVersion), func(t *testing.T) {
				got := mustReadStream(ctx, t, store, "dossier-read", tc.fromVersion)
				requireIDs(t, "ReadStream", got, tc.want)
				for i, event := range got {
					requireSameEvent(t, tc.want[i], event)
					if want := max(tc.fromVersion, 1) + uint64(i); event.Version != want || event.Stream != "dossier-read" {
						t.Fatalf("event %d is %q v%d, want %q v%d", i, event.Stream, event.Version, "dossier-read", want)
					}
				}
			})
		}
	})

	t.Run("unknown stream reads empty", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		mustAppend(ctx, t, store, "dossier-known", eventstore.NoStream, newEvent("known"))
		for _, from := range []uint64{0, 1, 7} {
			events, err := store.ReadStream(ctx, "dossier-unknown", from)
			if err != nil {
				t.Fatalf("ReadStream of an unknown stream from %d: %v", from, err)
			}
			if len(events) != 0 {
				t.Fatalf("ReadStream of an unknown stream from %d returned %d events", from, len(events))
			}
		}
	})

	t.Run("read all in global order", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		// Sequential appends, interleaving streams, some with several events.
		batches := []struct {
			stream string
			size   int
		}{
			{"dossier-x", 1}, {"dossier-y", 3}, {"dossier-x", 2}, {"dossier-z", 1},
			{"dossier-y", 1}, {"dossier-x", 4}, {"dossier-z", 2}, {"dossier-y", 1},
		}
		var appended []eventstore.EventData
		versions := map[string]uint64{}
		var lastPositions []eventstore.Position
		for i, batch := range batches {
			events := newEvents(fmt.Sprintf("batch%d", i), batch.size)
			result := mustAppend(ctx, t, store, batch.stream, eventstore.Exact(versions[batch.stream]), events...)
			versions[batch.stream] = result.Version
			appended = append(appended, events...)
			lastPositions = append(lastPositions, result.Position)
		}

		all, err := store.ReadAll(ctx, eventstore.Start, 1000)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		requireIDs(t, "ReadAll from the start", all, appended)
		requireStrictlyIncreasingPositions(t, "ReadAll from the start", all)
		for i, event := range all {
			requireSameEvent(t, appended[i], event)
		}
		// Each append's result names the position of its last event.
		end := 0
		for i, batch := range batches {
			end += batch.size
			if got := all[end-1].Position; got != lastPositions[i] {
				t.Fatalf("append %d returned position %s, but its last event is at %s", i, lastPositions[i], got)
			}
		}
		// Stream versions in the log match the streams.
		for stream := range versions {
			var inLog []eventstore.RecordedEvent
			for _, event := range all {
				if event.Stream == stream {
					inLog = append(inLog, event)
				}
			}
			fromStream := mustReadStream(ctx, t, store, stream, 0)
			if len(inLog) != len(fromStream) {
				t.Fatalf("stream %q: %d events in the global log, %d in the stream", stream, len(inLog), len(fromStream))
			}
			for i := range inLog {
				if inLog[i].ID != fromStream[i].ID || inLog[i].Version != fromStream[i].Version || inLog[i].Position != fromStream[i].Position {
					t.Fatalf("stream %q event %d: log has %s v%d at %s, stream has %s v%d at %s", stream, i,
						inLog[i].ID, inLog[i].Version, inLog[i].Position, fromStream[i].ID, fromStream[i].Version, fromStream[i].Position)
				}
			}
		}

		for _, pageSize := range []int{1, 2, 3, 7, len(appended), len(appended) + 1} {
			t.Run(fmt.Sprintf("paging by %d", pageSize), func(t *testing.T) {
				requireIDs(t, "paged ReadAll", readWholeLog(ctx, t, store, pageSize), appended)
			})
		}

		t.Run("limit", func(t *testing.T) {
			page, err := store.ReadAll(ctx, eventstore.Start, 4)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if len(page) == 0 || len(page) > 4 {
				t.Fatalf("ReadAll with limit 4 returned %d events", len(page))
			}
			requireIDs(t, "first page", page, appended[:len(page)])
		})

		t.Run("after the middle", func(t *testing.T) {
			middle := all[5].Position
			rest, err := store.ReadAll(ctx, middle, 1000)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			requireIDs(t, "ReadAll after the sixth event", rest, appended[6:])
		})

		t.Run("count", func(t *testing.T) {
			counter, ok := eventstore.CounterOf(store)
			if !ok {
				t.Skip("the store counts by reading")
			}
			for _, c := range []struct {
				after eventstore.Position
				want  int
			}{{eventstore.Start, len(all)}, {all[5].Position, len(all) - 6}, {all[len(all)-1].Position, 0}} {
				if n, err := counter.CountAfter(ctx, c.after); err != nil || n != c.want {
					t.Fatalf("CountAfter(%s) = %d, %v; ReadAll returns %d", c.after, n, err, c.want)
				}
			}
		})

		t.Run("count up to a limit", func(t *testing.T) {
			counter, ok := eventstore.CappedCounterOf(store)
			if !ok {
				t.Skip("the store counts by reading")
			}
			for _, c := range []struct {
				after eventstore.Position
				limit int
				want  int
			}{
				{eventstore.Start, 1, 1}, {eventstore.Start, 4, 4}, {eventstore.Start, len(all), len(all)},
				{eventstore.Start, len(all) + 5, len(all)}, {all[5].Position, 3, 3}, {all[5].Position, 100, len(all) - 6},
				{all[len(all)-2].Position, 100, 1}, {all[len(all)-1].Position, 100, 0},
			} {
				if n, err := counter.CountAfterUpTo(ctx, c.after, c.limit); err != nil || n != c.want {
					t.Fatalf("CountAfterUpTo(%s, %d) = %d, %v; want %d", c.after, c.limit, n, err, c.want)
				}
			}
		})

		t.Run("after the end", func(t *testing.T) {
			rest, err := store.ReadAll(ctx, all[len(all)-1].Position, 1000)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if len(rest) != 0 {
				t.Fatalf("ReadAll after the last event returned %d events", len(rest))
			}
		})
	})
}
