package engine_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

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

// subscribedChannel is an in-process transport with one subscriber to the event topic, whose
// messages it returns.
func subscribedChannel(ctx context.Context, t *testing.T) (*engine.Transport, <-chan *message.Message) {
	t.Helper()
	transport := engine.NewGoChannelTransport(quiet)
	t.Cleanup(func() { transport.Close() })
	subscriber, err := transport.Subscriber("test")
	if err != nil {
		t.Fatal(err)
	}
	messages, err := subscriber.Subscribe(ctx, engine.DefaultTopic)
	if err != nil {
		t.Fatal(err)
	}
	return transport, messages
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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	transport, messages := subscribedChannel(ctx, t)
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

// A forwarder whose subscription hands it the very event every consumer here has applied passes
// over it: the next message names that event as the one before it, and the event goes out no more.
func TestForwarderPassesOverTheEventTheConsumersStandAt(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	log := seedDossiers(t, store)
	if len(log) < 4 {
		t.Fatalf("the seeded log has %d events, want at least 4", len(log))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	transport, messages := subscribedChannel(ctx, t)
	from, applied := log[0].Position, log[1].Position
	forwarder := &engine.Forwarder{Store: store, Publisher: transport.Publisher, Topic: engine.DefaultTopic, Logger: quiet,
		Applied: func() (eventstore.Position, bool) { return applied, true }}
	done := make(chan error, 1)
	go func() { done <- forwarder.Run(ctx, from) }()

	prevs := map[eventstore.Position]eventstore.Position{}
	deadline := time.After(20 * time.Second)
	for len(prevs) < len(log)-2 {
		select {
		case msg := <-messages:
			e, prev, err := engine.DecodeMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			if !applied.Less(e.Position) {
				t.Fatalf("the event at %s was published, every consumer having applied %s", e.Position, applied)
			}
			prevs[e.Position] = prev
			msg.Ack()
		case err := <-done:
			t.Fatalf("the forwarder stopped: %v", err)
		case <-deadline:
			t.Fatalf("only %d events published", len(prevs))
		}
	}
	if got := prevs[log[2].Position]; got != applied {
		t.Fatalf("the first event published names %s as the one before it, want %s", got, applied)
	}
}

// subscriptionsStore records where each of its subscriptions starts.
type subscriptionsStore struct {
	eventstore.Store
	mu     sync.Mutex
	starts []eventstore.Position
}

func (s *subscriptionsStore) Subscribe(ctx context.Context, after eventstore.Position, handle func(context.Context, eventstore.RecordedEvent) error) error {
	s.mu.Lock()
	s.starts = append(s.starts, after)
	s.mu.Unlock()
	return s.Store.Subscribe(ctx, after, handle)
}

// A forwarder on an in-process transport publishes nothing every consumer here has applied, and
// nothing at all while none takes deliveries: when they have got ahead of it (caught up in bulk
// from the store) it reads on from where they stand, and its first message there names their
// position as the event before it, so each consumer sees the log continue.
func TestForwarderPublishesNothingTheConsumersHaveApplied(t *testing.T) {
	t.Parallel()
	sqliteStore := openSQLite(t)
	log := seedDossiers(t, sqliteStore)
	if len(log) < 4 {
		t.Fatalf("the seeded log has %d events, want at least 4", len(log))
	}
	store := &subscriptionsStore{Store: sqliteStore}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	transport, messages := subscribedChannel(ctx, t)
	applied := log[len(log)/2].Position
	var takingDeliveries atomic.Bool // none at first: every consumer is caught up in bulk
	forwarder := &engine.Forwarder{Store: store, Publisher: transport.Publisher, Topic: engine.DefaultTopic, Logger: quiet,
		Applied: func() (eventstore.Position, bool) { return applied, takingDeliveries.Load() }}
	done := make(chan error, 1)
	go func() { done <- forwarder.Run(ctx, eventstore.Start) }()

	select {
	case msg := <-messages:
		e, _, _ := engine.DecodeMessage(msg)
		t.Fatalf("the event at %s was published while no consumer took deliveries", e.Position)
	case err := <-done:
		t.Fatalf("the forwarder stopped: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	takingDeliveries.Store(true)

	var published []eventstore.Position
	prevs := map[eventstore.Position]eventstore.Position{}
	deadline := time.After(20 * time.Second)
	for len(published) < len(log)-len(log)/2-1 {
		select {
		case msg := <-messages:
			e, prev, err := engine.DecodeMessage(msg)
			if err != nil {
				t.Fatal(err)
			}
			published = append(published, e.Position)
			prevs[e.Position] = prev
			msg.Ack()
		case err := <-done:
			t.Fatalf("the forwarder stopped: %v", err)
		case <-deadline:
			t.Fatalf("only %d events published: %v", len(published), published)
		}
	}
	// The in-process channel hands messages over in any order: the runners put them back in order.
	before := applied
	for _, e := range log[len(log)/2+1:] {
		got, ok := prevs[e.Position]
		if !ok {
			t.Fatalf("published %v, want the events after %s", published, applied)
		}
		if got != before {
			t.Errorf("the event at %s names %s as the one before it, want %s", e.Position, got, before)
		}
		before = e.Position
	}
	select {
	case msg := <-messages:
		e, _, _ := engine.DecodeMessage(msg)
		t.Fatalf("the event at %s was published as well", e.Position)
	case <-time.After(100 * time.Millisecond):
	}
	store.mu.Lock()
	starts := store.starts
	store.mu.Unlock()
	if len(starts) != 2 || starts[0] != eventstore.Start || starts[1] != applied {
		t.Fatalf("subscriptions started after %v, want the start and then %s (read on from where the consumers stand)", starts, applied)
	}
}
