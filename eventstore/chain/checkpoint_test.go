package chain_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newCheckpointer(t *testing.T, store eventstore.Store, key ed25519.PrivateKey) *chain.Checkpointer {
	t.Helper()
	c, err := chain.NewCheckpointer(store, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func appendEvents(t *testing.T, store eventstore.Store, stream string, n int) {
	t.Helper()
	if _, err := store.Append(testContext(t), stream, eventstore.Any, newEvents(stream, n)...); err != nil {
		t.Fatal(err)
	}
}

func verifyAll(t *testing.T, store eventstore.Store, keys ...ed25519.PrivateKey) chain.Report {
	t.Helper()
	public := make([]ed25519.PublicKey, len(keys))
	for i, k := range keys {
		public[i] = k.Public().(ed25519.PublicKey)
	}
	report, err := chain.NewVerifier(store, public...).VerifyAll(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func TestCheckpointCoversTheBacklogInBoundedSteps(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	key := newKey(t)
	for i := range 5 {
		appendEvents(t, store, fmt.Sprintf("dossier-%d", i), 5)
	}
	c := newCheckpointer(t, store, key)
	c.MaxEvents = 10
	written, err := c.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 25 events: 10, 10, then the last 5 with the first two checkpoints' own 4 events. The third
	// checkpoint's own events wait for the next business event.
	if len(written) != 3 || written[0].Events != 10 || written[1].Events != 10 || written[2].Events != 9 || written[2].Total != 29 {
		t.Fatalf("written = %+v, want three checkpoints of 10, 10 and 9 events", written)
	}
	for i, cp := range written {
		if cp.Sequence != uint64(i+1) {
			t.Fatalf("checkpoint %d has sequence %d", i, cp.Sequence)
		}
	}
	if again, err := c.Checkpoint(ctx); err != nil || len(again) != 0 {
		t.Fatalf("with only checkpoint events new, Checkpoint wrote %+v (err %v), want nothing", again, err)
	}
	appendEvents(t, store, "dossier-late", 1)
	again, err := c.Checkpoint(ctx)
	if err != nil || len(again) != 1 || again[0].Events != 3 {
		t.Fatalf("after one more event, Checkpoint wrote %+v (err %v), want one covering it and the third checkpoint's two events", again, err)
	}
	report := verifyAll(t, store, key)
	if !report.Intact() || report.Checkpoints != 4 || report.Checkpointed != report.Events-2 || report.Unlinked != 0 {
		t.Fatalf("report = %+v, want intact with every event but the last checkpoint's own two covered", report)
	}
}

func TestCheckpointWritersOnOneStoreNeverFork(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	key := newKey(t)
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*10)
	for w := range writers {
		c := newCheckpointer(t, store, key) // one per node
		wg.Go(func() {
			for round := range 10 {
				appendEvents(t, store, fmt.Sprintf("dossier-%d", w), 1+round%3)
				if _, err := c.Checkpoint(ctx); err != nil && !errors.Is(err, chain.ErrCheckpointRace) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	appendEvents(t, store, "dossier-last", 1)
	if _, err := newCheckpointer(t, store, key).Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	report := verifyAll(t, store, key)
	if !report.Intact() || report.Checkpointed != report.Events-2 {
		t.Fatalf("report = %+v, want intact with every event but the last checkpoint's two covered", report)
	}
}

func TestVerificationTrustsOnlyTheGivenKeys(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	retired, current, stranger := newKey(t), newKey(t), newKey(t)
	appendEvents(t, store, "dossier-1", 2)
	if _, err := newCheckpointer(t, store, retired).Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, "dossier-1", 2)
	if _, err := newCheckpointer(t, store, current).Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}

	if report := verifyAll(t, store, retired, current); !report.Intact() || report.Checkpoints != 2 {
		t.Fatalf("with the retired and the current key: %+v, want intact with 2 checkpoints", report)
	}
	report := verifyAll(t, store, current, stranger)
	if report.Intact() || report.Checkpoints != 1 {
		t.Fatalf("without the retired key: %+v, want checkpoint 1 refused", report)
	}
	f := report.Findings[0]
	if f.Kind != chain.KindCheckpoint || f.Checkpoint != 1 || f.Detail != fmt.Sprintf("signed by key %q, which is not trusted", chain.KeyID(retired.Public().(ed25519.PublicKey))) {
		t.Fatalf("finding = %s, want checkpoint 1 signed by an untrusted key", f)
	}
}

func TestVerifierReadsNewCheckpointsBetweenCalls(t *testing.T) {
	ctx := testContext(t)
	store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
	key := newKey(t)
	c := newCheckpointer(t, store, key)
	verifier := chain.NewVerifier(store, key.Public().(ed25519.PublicKey))
	const stream = "dossier-1"

	appendEvents(t, store, stream, 2)
	report, err := verifier.VerifyStream(ctx, stream)
	if err != nil || !report.Intact() || report.Latest != nil || report.Checkpointed != 0 {
		t.Fatalf("before any checkpoint: %+v (err %v), want intact and not checkpointed", report, err)
	}
	if _, err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, stream, 1)
	if _, err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	report, err = verifier.VerifyStream(ctx, stream)
	if err != nil || !report.Intact() || report.Latest == nil || report.Latest.Sequence != 2 || report.Checkpointed != 3 {
		t.Fatalf("after two checkpoints: %+v (err %v), want all 3 events checkpointed, latest 2", report, err)
	}
}

func TestRunCheckpointsAfterEnoughEventsOrEnoughTime(t *testing.T) {
	cases := []struct {
		name        string
		interval    time.Duration
		afterEvents int
		events      int
	}{
		{"enough events", time.Hour, 3, 3},
		{"enough time", 20 * time.Millisecond, 1000, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := chain.Wrap(openSQLite(t, filepath.Join(t.TempDir(), "events.db")))
			key := newKey(t)
			// A first checkpoint, so that "enough time" counts from a real one.
			appendEvents(t, store, "dossier-0", 1)
			if _, err := newCheckpointer(t, store, key).Checkpoint(testContext(t)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(testContext(t))
			done := make(chan error, 1)
			go func() {
				done <- newCheckpointer(t, store, key).Run(ctx, tc.interval, tc.afterEvents, 5*time.Millisecond)
			}()
			t.Cleanup(func() {
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("Run returned %v, want context.Canceled", err)
				}
			})
			appendEvents(t, store, "dossier-1", tc.events)
			deadline := time.Now().Add(20 * time.Second)
			for {
				if report := verifyAll(t, store, key); report.Checkpoints == 2 {
					if !report.Intact() || report.Latest.Total != uint64(tc.events)+3 {
						t.Fatalf("report = %+v, want the second checkpoint over the new events", report)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("no second checkpoint was written")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
