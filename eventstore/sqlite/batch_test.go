package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/eventstore"
)

// A batch lands in order, as the appends one by one would, and all or nothing: one append whose
// expected version is wrong, or that repeats a stored event, leaves the log as it was.
func TestAppendBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	store := openTestStore(t, filepath.Join(t.TempDir(), "events.db"))
	first := testEvent("first")
	if _, err := store.Append(ctx, "dossier-1", eventstore.NoStream, first); err != nil {
		t.Fatal(err)
	}
	err := store.AppendBatch(ctx, []StreamAppend{
		{Stream: "dossier-2", Expected: eventstore.NoStream, Events: []eventstore.EventData{testEvent("a"), testEvent("b")}},
		{Stream: "dossier-1", Expected: eventstore.Exact(1), Events: []eventstore.EventData{testEvent("c")}},
		{Stream: "dossier-2", Expected: eventstore.Exact(2), Events: []eventstore.EventData{testEvent("d")}},
	})
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	log, err := store.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, fmt.Sprintf("%s@%d", e.Stream, e.Version))
	}
	if want := "dossier-1@1 dossier-2@1 dossier-2@2 dossier-1@2 dossier-2@3"; strings.Join(got, " ") != want {
		t.Fatalf("log = %s, want %s", strings.Join(got, " "), want)
	}

	for name, bad := range map[string]StreamAppend{
		"a wrong expected version": {Stream: "dossier-1", Expected: eventstore.Exact(1), Events: []eventstore.EventData{testEvent("e")}},
		"a stored event again":     {Stream: "dossier-3", Expected: eventstore.NoStream, Events: []eventstore.EventData{first}},
	} {
		t.Run(name, func(t *testing.T) {
			err := store.AppendBatch(ctx, []StreamAppend{
				{Stream: "dossier-4", Expected: eventstore.NoStream, Events: []eventstore.EventData{testEvent("f")}}, bad,
			})
			if err == nil {
				t.Fatal("AppendBatch succeeded")
			}
			if name == "a wrong expected version" && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				t.Errorf("error = %v, want a wrong expected version", err)
			}
			after, err := store.ReadAll(ctx, eventstore.Start, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(log) {
				t.Fatalf("the log has %d events after a failed batch, want %d", len(after), len(log))
			}
		})
	}
}
