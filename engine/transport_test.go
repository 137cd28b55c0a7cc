package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// newTestEngine runs the public status view and the journal over store. The gap timeout is long, so
// that everything after the first catch-up must come through the transport.
func newTestEngine(store *sqlite.Store, transport *engine.Transport) *engine.Engine {
	e := engine.NewEngine(store, store.DB(), engine.SQLite, projections.PublicStatusView{}, journal{})
	e.Transport = transport
	e.Logger = quiet
	for _, r := range e.Runners {
		r.GapTimeout = time.Hour
	}
	return e
}

func TestGoChannelCarriesEveryEventOnceInOrder(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	e := newTestEngine(store, nil)
	runEngine(t, e)
	log := seedDossiers(t, store) // appended while the engine runs: all of it travels live
	last := log[len(log)-1].Position
	waitFor(t, e, last)
	checkJournal(t, store.DB(), log)
	checkPublicStatus(t, store.DB(), log)
	for _, name := range []string{"public_status", "test_journal"} {
		if got := checkpointOf(t, store.DB(), name); got != last {
			t.Errorf("%s checkpoint %s, want %s", name, got, last)
		}
	}
}

func TestReplayingTheLogAgainChangesNothing(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	seedDossiers(t, store)
	transport := engine.NewGoChannelTransport(quiet)
	t.Cleanup(func() { transport.Close() })
	e := newTestEngine(store, transport)
	runEngine(t, e)
	log := readLog(t, store)
	waitFor(t, e, log[len(log)-1].Position)
	before := dump(t, store.DB(), "public_status")

	// A second forwarder publishes the whole log again from the start, as after a crash that lost
	// its checkpoint: every message is a duplicate. The journal's primary key would reject an event
	// applied twice, failing the projection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replay := &engine.Forwarder{Store: store, Publisher: transport.Publisher, Topic: engine.DefaultTopic, Logger: quiet}
	done := make(chan error, 1)
	go func() { done <- replay.Run(ctx, eventstore.Start) }()
	// Then one more event, applied once, whichever way it arrives first.
	marker := appendMarker(t, store)
	waitFor(t, e, marker)
	time.Sleep(100 * time.Millisecond) // let the replay's last duplicates arrive too
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("replay: %v", err)
	}
	for _, r := range e.Runners {
		if err := r.Stalled(); err != nil {
			t.Fatalf("%s stalled on the replay: %v", r.Consumer.Name(), err)
		}
	}
	if after := dump(t, store.DB(), "public_status"); after != before {
		t.Errorf("the replay changed public_status:\n%s\nwas\n%s", after, before)
	}
	checkJournal(t, store.DB(), readLog(t, store))
}

// appendMarker appends one event that is not a dossier's and returns its position.
func appendMarker(t testing.TB, store eventstore.Store) eventstore.Position {
	t.Helper()
	res, err := store.Append(context.Background(), "test-marker", eventstore.Any, eventstore.EventData{
		ID: eventstore.NewEventID(), Type: "test.marker.v1", Data: []byte(`{}`),
		Metadata: eventstore.Metadata{CorrelationID: eventstore.NewEventID(), OccurredAt: time.Now()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}
