package engine

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// heldFold holds as many rows as it is told.
type heldFold struct{ held int }

func (f *heldFold) Add(context.Context, Querier, Batch) error   { return nil }
func (f *heldFold) Held() int                                   { return f.held }
func (f *heldFold) Flush(context.Context, *sql.Tx, Batch) error { return nil }

// A catch-up's fold is due after so many events, whatever the time they took (a slow machine
// flushing by the clock wrote the same dossiers' rows again and again), after its budget of rows,
// and after the longest interval; never with nothing folded.
func TestFoldIsDueByEventsRowsOrTime(t *testing.T) {
	events := func(n int) Batch {
		b := Batch{Events: make([]eventstore.RecordedEvent, n)}
		for i := range b.Events {
			b.Events[i].Position = eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
		}
		return b
	}
	fold := &heldFold{}
	f := &folding{fold: fold, since: time.Now()}
	if f.due(10, 100, time.Hour) {
		t.Fatal("a fold with nothing folded is due")
	}
	if err := f.add(context.Background(), nil, events(99)); err != nil {
		t.Fatal(err)
	}
	if f.due(10, 100, time.Hour) {
		t.Error("due after 99 events of 100, 0 rows, a second")
	}
	if !f.due(10, 99, time.Hour) {
		t.Error("not due after 99 events of 99")
	}
	if f.due(10, 0, time.Hour) {
		t.Error("due by events when counting events is off")
	}
	fold.held = 11
	if !f.due(10, 100, time.Hour) {
		t.Error("not due over its budget of rows")
	}
	fold.held = 0
	f.since = time.Now().Add(-2 * time.Hour)
	if !f.due(10, 100, time.Hour) {
		t.Error("not due after its longest interval")
	}
	f.written()
	if f.due(10, 1, time.Nanosecond) {
		t.Error("due right after it was written, with nothing folded since")
	}
}
