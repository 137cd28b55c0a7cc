package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// breakingStore is a store whose first subscriptions end with an error after a few events, as a
// PostgreSQL subscription (or the personal-data decorator reading a key in it) does when the
// database goes away.
type breakingStore struct {
	eventstore.Store
	breaks atomic.Int32 // subscriptions still to break
	after  int          // events each breaking subscription hands over first
}

var errDatabaseAway = errors.New("the database system is shutting down")

func (s *breakingStore) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	if s.breaks.Add(-1) < 0 {
		return s.Store.Subscribe(ctx, after, handle)
	}
	handed := 0
	err := s.Store.Subscribe(ctx, after, func(ctx context.Context, e eventstore.RecordedEvent) error {
		if handed == s.after {
			return errDatabaseAway
		}
		handed++
		return handle(ctx, e)
	})
	return err
}

// TestForwarderRidesOutABrokenSubscription: a forwarder whose subscription breaks resubscribes after
// what it published, so every event reaches the broker once and in order, and it keeps running
// (before, it returned the error and serve exited: one database restart took a node down).
func TestForwarderRidesOutABrokenSubscription(t *testing.T) {
	t.Parallel()
	sqliteStore := openSQLite(t)
	log := seedDossiers(t, sqliteStore)
	store := &breakingStore{Store: sqliteStore, after: 3}
	store.breaks.Store(3)

	transport := engine.NewGoChannelTransport(quiet)
	t.Cleanup(func() { transport.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subscriber, err := transport.Subscriber("test")
	if err != nil {
		t.Fatal(err)
	}
	messages, err := subscriber.Subscribe(ctx, engine.DefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	forwarder := &engine.Forwarder{Store: store, Publisher: transport.Publisher, Topic: engine.DefaultTopic, Logger: quiet}
	done := make(chan error, 1)
	go func() { done <- forwarder.Run(ctx, eventstore.Start) }()

	seen := map[eventstore.Position]int{}
	links := map[eventstore.Position]eventstore.Position{} // each message's event → the event before it
	deadline := time.After(20 * time.Second)
	for len(seen) < len(log) {
		select {
		case msg := <-messages:
			e, prev, err := engine.DecodeMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			seen[e.Position]++
			links[e.Position] = prev
			msg.Ack()
		case err := <-done:
			t.Fatalf("the forwarder stopped after %d of %d events: %v", len(seen), len(log), err)
		case <-deadline:
			t.Fatalf("only %d of %d events published", len(seen), len(log))
		}
	}
	prev := eventstore.Start
	for _, e := range log {
		if seen[e.Position] != 1 {
			t.Errorf("event at %s published %d times, want once", e.Position, seen[e.Position])
		}
		if links[e.Position] != prev {
			t.Errorf("event at %s follows %s in its message, want %s", e.Position, links[e.Position], prev)
		}
		prev = e.Position
	}
	if left := store.breaks.Load(); left >= 0 {
		t.Errorf("%d subscriptions were still to break: the test did not break any", left+1)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("forwarder: %v, want it to run until cancelled", err)
	}
}
