package province

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

func event(label string) eventstore.EventData {
	return eventstore.EventData{ID: eventstore.NewEventID(), Type: "province.test.v1", Data: []byte(`{"label":"` + label + `"}`),
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{ID: "t", Name: "test", Role: "system"}, OccurredAt: time.Now()}}
}

// The write-behind store checks expected versions itself, serves a stream's last event from
// memory, refuses appends to a forgotten stream, and stores every append, in order, by Close.
func TestWriteBehindStoresWhatItAccepts(t *testing.T) {
	ctx := context.Background()
	backend, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	keys, err := shred.OpenSQLKeys(ctx, backend.DB())
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriteBehind(ctx, backend, keys, 1)
	if _, err := w.Append(ctx, "s-1", eventstore.NoStream, event("a"), event("b")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, "s-1", eventstore.Exact(1), event("c")); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("append at a stale version: %v, want a wrong expected version", err)
	}
	res, err := w.Append(ctx, "s-1", eventstore.Exact(2), event("c"))
	if err != nil || res.Version != 3 {
		t.Fatalf("append: %v, version %d", err, res.Version)
	}
	last, err := w.ReadStream(ctx, "s-1", 3)
	if err != nil || len(last) != 1 || string(last[0].Data) != `{"label":"c"}` {
		t.Fatalf("last event: %v %v", last, err)
	}
	w.Forget("s-1")
	if _, err := w.Append(ctx, "s-1", eventstore.Exact(3), event("d")); err == nil {
		t.Fatal("appended to a forgotten stream")
	}
	// A forgotten stream is read from the backend once the queue is stored.
	all, err := w.ReadStream(ctx, "s-1", 1)
	if err != nil || len(all) != 3 {
		t.Fatalf("forgotten stream read back: %d events, %v", len(all), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Stored() != 3 || w.Appended() != 3 {
		t.Fatalf("stored %d of %d appended", w.Stored(), w.Appended())
	}
}

// Recall gives back what was appended through it without reading the store, and a copy each time.
func TestRecallServesWhatWasAppended(t *testing.T) {
	ctx := context.Background()
	backend, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	r := NewRecall(backend)
	if _, err := r.Append(ctx, "s-1", eventstore.NoStream, event("a"), event("b")); err != nil {
		t.Fatal(err)
	}
	read, err := r.ReadStream(ctx, "s-1", 1)
	if err != nil || len(read) != 2 || read[1].Version != 2 {
		t.Fatalf("read %v %v", read, err)
	}
	read[0].Data = []byte(`{"changed":true}`)
	again, _ := r.ReadStream(ctx, "s-1", 2)
	first, _ := r.ReadStream(ctx, "s-1", 1)
	if len(again) != 1 || string(first[0].Data) != `{"label":"a"}` {
		t.Fatalf("a reader's change reached the memory: %s", first[0].Data)
	}
	r.Forget("s-1")
	fromStore, err := r.ReadStream(ctx, "s-1", 1)
	if err != nil || len(fromStore) != 2 {
		t.Fatalf("after Forget, the backend's stream: %d events, %v", len(fromStore), err)
	}
}
