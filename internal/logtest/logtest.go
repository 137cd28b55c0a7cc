// Package logtest reads the whole log for tests that compare what consumers did with what the log
// holds.
package logtest

import (
	"context"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// ReadAll reads the global log from its start, as far as the store shows it now.
func ReadAll(t testing.TB, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	after := eventstore.Start
	for {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		after = page[len(page)-1].Position
	}
}

// pender is a store whose global log may hold back committed events behind transactions still
// running (PostgreSQL's safe horizon).
type pender interface {
	Pending(ctx context.Context, after eventstore.Position) (bool, error)
}

// Settled reads the whole log once every event committed is in it. On PostgreSQL a read of the
// global log stops at the safe horizon: events committed behind a transaction still running
// anywhere in the cluster (another test's) are held back for a moment, so a test that reads the
// log right after its appends to know "everything" would miss the last ones. Decorators are seen
// through (Unwrap).
func Settled(t testing.TB, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	inner := store
	for {
		if p, ok := inner.(pender); ok {
			deadline := time.Now().Add(time.Minute)
			for {
				log := ReadAll(t, store)
				last := eventstore.Start
				if len(log) > 0 {
					last = log[len(log)-1].Position
				}
				pending, err := p.Pending(context.Background(), last)
				if err != nil {
					t.Fatal(err)
				}
				if !pending {
					return log
				}
				if time.Now().After(deadline) {
					t.Fatal("logtest: the log did not settle in a minute")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		u, ok := inner.(interface{ Unwrap() eventstore.Store })
		if !ok {
			return ReadAll(t, store)
		}
		inner = u.Unwrap()
	}
}
