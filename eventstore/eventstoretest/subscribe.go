package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// errSentinelSeen stops a test subscription once it has delivered a known last event.
var errSentinelSeen = errors.New("sentinel event seen")

// subscribeUntil runs a subscription from after in the background, collecting events until the one
// with stopAt's id; wait returns what it collected, checking Subscribe ended because of it.
func subscribeUntil(ctx context.Context, store eventstore.Store, after eventstore.Position, stopAt *eventstore.EventData, onEvent func(eventstore.RecordedEvent)) (wait func(t *testing.T) []eventstore.RecordedEvent) {
	var received []eventstore.RecordedEvent
	done := make(chan error, 1)
	go func() {
		done <- store.Subscribe(ctx, after, func(_ context.Context, event eventstore.RecordedEvent) error {
			received = append(received, event)
			if onEvent != nil {
				onEvent(event)
			}
			if event.ID == stopAt.ID {
				return errSentinelSeen
			}
			return nil
		})
	}()
	return func(t *testing.T) []eventstore.RecordedEvent {
		t.Helper()
		err := <-done
		if !errors.Is(err, errSentinelSeen) {
			t.Fatalf("Subscribe from %s ended with %v after %d events, want the handler's error after the sentinel %s",
				after, err, len(received), stopAt.ID)
		}
		return received
	}
}

func runSubscribeTests(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Run("catch-up then live", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		const stored, live = 40, 40
		var appended []eventstore.EventData
		for i := range stored {
			event := newEvent(fmt.Sprintf("stored-%d", i))
			mustAppend(ctx, t, store, fmt.Sprintf("dossier-%d", i%3), eventstore.Any, event)
			appended = append(appended, event)
		}
		liveEvents := newEvents("live", live)
		sentinel := newEvent("sentinel")
		appended = append(appended, liveEvents...)
		appended = append(appended, sentinel)

		// The first delivered event holds the subscription in its catch-up phase until a quarter of
		// the live events are committed, so live appends race with catch-up.
		liveStarted := make(chan struct{})
		heldOnce := false
		wait := subscribeUntil(ctx, store, eventstore.Start, &sentinel, func(eventstore.RecordedEvent) {
			if !heldOnce {
				heldOnce = true
				select {
				case <-liveStarted:
				case <-ctx.Done():
				}
			}
		})

		appendErr := make(chan error, 1)
		go func() {
			released := false
			release := func() {
				if !released {
					released = true
					close(liveStarted)
				}
			}
			defer release() // never leave the subscription held if appending fails
			for i, event := range append(liveEvents, sentinel) {
				if _, err := store.Append(ctx, fmt.Sprintf("dossier-%d", i%3), eventstore.Any, event); err != nil {
					appendErr <- err
					return
				}
				if i == live/4 {
					release()
				}
			}
			appendErr <- nil
		}()
		if err := <-appendErr; err != nil {
			t.Fatalf("live Append: %v", err)
		}
		received := wait(t)
		requireIDs(t, "subscription", received, appended)
		requireStrictlyIncreasingPositions(t, "subscription", received)
	})

	t.Run("from a mid position", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		events := newEvents("event", 10)
		for _, event := range events {
			mustAppend(ctx, t, store, "dossier-mid", eventstore.Any, event)
		}
		log := readWholeLog(ctx, t, store, 100)
		requireIDs(t, "log", log, events)

		sentinel := newEvent("sentinel")
		wait := subscribeUntil(ctx, store, log[4].Position, &sentinel, nil)
		mustAppend(ctx, t, store, "dossier-mid", eventstore.Exact(10), sentinel)
		received := wait(t)
		requireIDs(t, "subscription after the fifth event", received, append(events[5:], sentinel))
		for i, event := range received {
			if event.Version != uint64(6+i) {
				t.Fatalf("event %d has version %d, want %d", i, event.Version, 6+i)
			}
		}
	})

	t.Run("handler error stops the subscription", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		mustAppend(ctx, t, store, "dossier-handler", eventstore.NoStream, newEvents("event", 5)...)
		errRefused := errors.New("projection refused the event")
		calls := 0
		err := store.Subscribe(ctx, eventstore.Start, func(context.Context, eventstore.RecordedEvent) error {
			calls++
			if calls == 3 {
				return errRefused
			}
			return nil
		})
		if !errors.Is(err, errRefused) {
			t.Fatalf("Subscribe returned %v, want the handler's error", err)
		}
		if calls != 3 {
			t.Fatalf("handler called %d times, want 3 (none after its error)", calls)
		}
	})

	t.Run("cancel returns the context error", func(t *testing.T) {
		for _, cancelInHandler := range []bool{false, true} {
			name := "while waiting for live events"
			if cancelInHandler {
				name = "from inside the handler"
			}
			t.Run(name, func(t *testing.T) {
				ctx := testContext(t)
				store := open(t)
				mustAppend(ctx, t, store, "dossier-cancel", eventstore.NoStream, newEvents("event", 2)...)
				subCtx, cancel := context.WithCancel(ctx)
				defer cancel()
				delivered := make(chan struct{})
				done := make(chan error, 1)
				calls := 0
				go func() {
					done <- store.Subscribe(subCtx, eventstore.Start, func(context.Context, eventstore.RecordedEvent) error {
						calls++
						if calls == 2 {
							close(delivered)
							if cancelInHandler {
								cancel()
							}
						}
						return nil
					})
				}()
				var err error
				select {
				case <-delivered:
					if !cancelInHandler {
						time.Sleep(50 * time.Millisecond) // let the subscription go idle, waiting for live events
						cancel()
					}
					select {
					case err = <-done:
					case <-ctx.Done():
						t.Fatal("Subscribe did not return after its context was cancelled")
					}
				case err = <-done:
				case <-ctx.Done():
					t.Fatal("Subscribe delivered fewer than the 2 stored events")
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Subscribe returned %v, want context.Canceled", err)
				}
				if calls != 2 {
					t.Fatalf("handler called %d times, want 2", calls)
				}
			})
		}
	})
}
