package eventstoretest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

func runConcurrencyTests(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Run("concurrent writers on one stream", func(t *testing.T) {
		ctx := testContext(t)
		store := open(t)
		const stream, writers = "dossier-contended", 20
		rounds := 8
		if testing.Short() {
			rounds = 3
		}

		// In each round every writer tries to append at the same expected version: exactly one may win.
		var winners []eventstore.EventData
		for round := range rounds {
			version := uint64(round)
			attempts := newEvents(fmt.Sprintf("round%d", round), writers)
			results := make([]eventstore.AppendResult, writers)
			errs := make([]error, writers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					<-start
					results[w], errs[w] = store.Append(ctx, stream, eventstore.Exact(version), attempts[w])
				})
			}
			close(start)
			wg.Wait()

			winner := -1
			for w, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("round %d: writers %d and %d both appended at version %d", round, winner, w, version)
					}
					winner = w
					continue
				}
				requireWrongExpectedVersion(t, err, stream, eventstore.Exact(version), version+1)
			}
			if winner < 0 {
				t.Fatalf("round %d: no writer appended at version %d", round, version)
			}
			if results[winner].Version != version+1 {
				t.Fatalf("round %d: winner's Version = %d, want %d", round, results[winner].Version, version+1)
			}
			winners = append(winners, attempts[winner])
		}

		stored := mustReadStream(ctx, t, store, stream, 0)
		requireIDs(t, "contended stream", stored, winners)
		for i, event := range stored {
			if event.Version != uint64(i+1) {
				t.Fatalf("event %d has version %d: the stream has a hole", i, event.Version)
			}
		}
		if log := readWholeLog(ctx, t, store, 100); len(log) != rounds {
			t.Fatalf("the global log has %d events, want %d (losers must write nothing)", len(log), rounds)
		}
	})

	t.Run("stress: writers and subscribers", func(t *testing.T) { runStress(t, open(t)) })
}

// acknowledged is where an event landed according to the Append that stored it.
type acknowledged struct {
	stream  string
	version uint64
}

// runStress has 16 writers append single- and multi-event batches to many streams, half of them on
// shared streams with Any and half on their own streams with Exact, while 3 subscribers, starting at
// different moments, read the global log from the start. Every subscriber must see every
// acknowledged event exactly once, in an order consistent with each stream's versions.
func runStress(t *testing.T, store eventstore.Store) {
	ctx := testContext(t)
	const writers, subscribers, sharedStreams = 16, 3, 12
	appendsPerWriter := 40
	if testing.Short() {
		appendsPerWriter = 10
	}

	var (
		ackMu    sync.Mutex
		acked    = map[[16]byte]acknowledged{}
		ackCount atomic.Int64
	)
	sentinel := newEvent("sentinel")
	subscriptionCtx, stopSubscriptions := context.WithCancel(ctx)
	defer stopSubscriptions()

	// Subscriber i starts once i/subscribers of the expected appends are acknowledged, so they cover
	// catch-up from a cold start, catch-up racing with writers, and mostly-live reading.
	expectedAppends := int64(writers * appendsPerWriter)
	waits := make([]func(*testing.T) []eventstore.RecordedEvent, subscribers)
	var started sync.WaitGroup
	for i := range subscribers {
		threshold := expectedAppends * int64(i) / subscribers
		started.Go(func() {
			for ackCount.Load() < threshold && subscriptionCtx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			waits[i] = subscribeUntil(subscriptionCtx, store, eventstore.Start, &sentinel, nil)
		})
	}

	var writing sync.WaitGroup
	writeErrs := make(chan error, writers)
	for w := range writers {
		writing.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			ownStream := fmt.Sprintf("dossier-own-%d", w)
			ownVersion := uint64(0)
			for a := range appendsPerWriter {
				events := newEvents(fmt.Sprintf("w%d-a%d", w, a), 1+rng.IntN(3)*rng.IntN(2)) // mostly single events
				stream, expected := fmt.Sprintf("dossier-shared-%d", rng.IntN(sharedStreams)), eventstore.Any
				if w%2 == 1 {
					stream, expected = ownStream, eventstore.Exact(ownVersion)
				}
				result, err := store.Append(ctx, stream, expected, events...)
				if err != nil {
					writeErrs <- fmt.Errorf("writer %d append %d to %s: %w", w, a, stream, err)
					return
				}
				if stream == ownStream {
					ownVersion = result.Version
				}
				ackMu.Lock()
				for i, event := range events {
					acked[event.ID] = acknowledged{stream: stream, version: result.Version - uint64(len(events)-1-i)}
				}
				ackMu.Unlock()
				ackCount.Add(1)
			}
		})
	}
	writing.Wait()
	close(writeErrs)
	for err := range writeErrs {
		t.Error(err)
	}
	if t.Failed() {
		stopSubscriptions()
		started.Wait()
		return
	}
	// Every write is acknowledged, so the sentinel lands after all of them.
	mustAppend(ctx, t, store, "dossier-sentinel", eventstore.NoStream, sentinel)
	started.Wait()

	for i, wait := range waits {
		received := wait(t)
		what := fmt.Sprintf("subscriber %d", i)
		if last := received[len(received)-1]; last.ID != sentinel.ID {
			t.Fatalf("%s: last event %s is not the sentinel", what, last.ID)
		}
		received = received[:len(received)-1]
		requireStrictlyIncreasingPositions(t, what, received)
		if len(received) != len(acked) {
			t.Errorf("%s received %d events, want the %d acknowledged", what, len(received), len(acked))
		}
		nextVersion := map[string]uint64{}
		for _, event := range received {
			want, ok := acked[event.ID]
			if !ok {
				t.Fatalf("%s received event %s (%s v%d) that no writer appended", what, event.ID, event.Stream, event.Version)
			}
			if event.Stream != want.stream || event.Version != want.version {
				t.Fatalf("%s received event %s as %s v%d, but it was acknowledged as %s v%d",
					what, event.ID, event.Stream, event.Version, want.stream, want.version)
			}
			if nextVersion[event.Stream]+1 != event.Version {
				t.Fatalf("%s received %s v%d after v%d: out of stream order, missing or repeated",
					what, event.Stream, event.Version, nextVersion[event.Stream])
			}
			nextVersion[event.Stream] = event.Version
		}
	}
}
