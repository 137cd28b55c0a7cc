package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/eventstoretest"
)

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return openTestStore(t, filepath.Join(t.TempDir(), "events.db"))
	})
}

func openTestStore(t testing.TB, path string, options ...Option) *Store {
	t.Helper()
	store, err := Open(context.Background(), path, options...)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return store
}

func testEvent(label string) eventstore.EventData {
	return eventstore.EventData{
		ID:   eventstore.NewEventID(),
		Type: "sqlite.test_happened.v1",
		Data: fmt.Appendf(nil, `{"label":%q}`, label),
		Metadata: eventstore.Metadata{
			Actor:      eventstore.Actor{ID: "system", Name: "sqlite test", Role: "system"},
			OccurredAt: time.Now(),
		},
	}
}

func TestDuplicateIDsThatAreNotARetry(t *testing.T) {
	ctx := context.Background()
	store := openTestStore(t, filepath.Join(t.TempDir(), "events.db"))
	a, b := testEvent("a"), testEvent("b")
	if _, err := store.Append(ctx, "dossier-1", eventstore.NoStream, a, b); err != nil {
		t.Fatalf("Append: %v", err)
	}
	c := testEvent("c")
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"same ids in another stream", "dossier-2", []eventstore.EventData{a, b}},
		{"same ids in another order", "dossier-1", []eventstore.EventData{b, a}},
		{"an id twice in one append", "dossier-3", []eventstore.EventData{c, c}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Append(ctx, tc.stream, eventstore.Any, tc.events...)
			if !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Fatalf("error = %v, want ErrDuplicateEvent", err)
			}
			all, err := store.ReadAll(ctx, eventstore.Start, 100)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if len(all) != 2 {
				t.Fatalf("the log has %d events, want the original 2", len(all))
			}
		})
	}
}

func TestReopenKeepsEventsAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	first, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	written, err := first.Append(ctx, "dossier-1", eventstore.NoStream, testEvent("a"), testEvent("b"))
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	reopened := openTestStore(t, path)
	var migrationsApplied int
	if err := reopened.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM eventstore_schema_migrations`).Scan(&migrationsApplied); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if migrationsApplied != len(migrations) {
		t.Fatalf("%d migrations recorded after reopening, want %d (each once)", migrationsApplied, len(migrations))
	}
	result, err := reopened.Append(ctx, "dossier-1", eventstore.Exact(2), testEvent("c"))
	if err != nil {
		t.Fatalf("Append after reopening: %v", err)
	}
	if result.Version != 3 || !written.Position.Less(result.Position) {
		t.Fatalf("append after reopening = %+v, want version 3 after position %s", result, written.Position)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	store := openTestStore(t, path)
	if _, err := store.DB().ExecContext(ctx, `INSERT INTO eventstore_schema_migrations (version, applied_at) VALUES (?, 'later')`, len(migrations)+1); err != nil {
		t.Fatalf("record a future migration: %v", err)
	}
	if newer, err := Open(ctx, path); err == nil {
		newer.Close()
		t.Fatal("Open accepted a file whose schema is newer than the code")
	}
}

func TestOpenRefusesPathsThatAreNotPlainFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:events.db", "events.db?_pragma=journal_mode(DELETE)"} {
		if store, err := Open(context.Background(), path); err == nil {
			store.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	ctx := context.Background()
	store := openTestStore(t, filepath.Join(t.TempDir(), "events.db"))
	if _, err := store.Append(ctx, "dossier-1", eventstore.NoStream, testEvent("a")); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for _, statement := range []string{`UPDATE events SET type = 'changed'`, `DELETE FROM events`} {
		if _, err := store.DB().ExecContext(ctx, statement); err == nil {
			t.Errorf("%s succeeded on the append-only events table", statement)
		}
	}
}

// TestStoresSharingAFile opens two stores on one file, as two processes would: appends through
// either are serialised by SQLite's write lock (no lost or duplicated versions), and a subscription
// on one sees the other's appends through polling, since no in-process broadcast reaches it.
func TestStoresSharingAFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "events.db")
	writerStore := openTestStore(t, path)
	readerStore := openTestStore(t, path, WithPollInterval(20*time.Millisecond))

	const perStore, writersPerStore = 15, 3
	var wg sync.WaitGroup
	var successes sync.Map
	for _, store := range []*Store{writerStore, readerStore} {
		for range writersPerStore {
			wg.Go(func() {
				for appended := 0; appended < perStore; {
					events, err := store.ReadStream(ctx, "dossier-shared", 0)
					if err != nil {
						t.Errorf("ReadStream: %v", err)
						return
					}
					event := testEvent("contended")
					_, err = store.Append(ctx, "dossier-shared", eventstore.Exact(uint64(len(events))), event)
					if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
						continue
					}
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					successes.Store(event.ID, true)
					appended++
				}
			})
		}
	}
	wg.Wait()
	stream, err := readerStore.ReadStream(ctx, "dossier-shared", 0)
	if err != nil {
		t.Fatalf("ReadStream: %v", err)
	}
	if want := 2 * writersPerStore * perStore; len(stream) != want {
		t.Fatalf("stream has %d events, want %d", len(stream), want)
	}
	for i, event := range stream {
		if _, ok := successes.Load(event.ID); !ok || event.Version != uint64(i+1) {
			t.Fatalf("event %d: %s v%d, acknowledged %v", i, event.ID, event.Version, ok)
		}
	}

	// Live delivery across stores: only polling can wake readerStore's subscription.
	last := stream[len(stream)-1].Position
	crossing := testEvent("from the other store")
	received := make(chan eventstore.RecordedEvent, 1)
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- readerStore.Subscribe(subCtx, last, func(_ context.Context, event eventstore.RecordedEvent) error {
			received <- event
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond) // let the subscription go idle, waiting
	if _, err := writerStore.Append(ctx, "dossier-other", eventstore.NoStream, crossing); err != nil {
		t.Fatalf("Append: %v", err)
	}
	select {
	case event := <-received:
		if event.ID != crossing.ID {
			t.Fatalf("subscription received %s, want %s", event.ID, crossing.ID)
		}
	case err := <-done:
		t.Fatalf("Subscribe ended: %v", err)
	case <-ctx.Done():
		t.Fatal("the subscription never saw the other store's append")
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
}

// Appends are durable at commit (synchronous=FULL); the read-model pool on the same file skips the
// fsync (NORMAL), keeps temporary data in memory, and otherwise behaves the same: WAL, immediate
// write transactions, busy timeout.
func TestReadModelPoolSkipsOnlyTheFsync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	store := openTestStore(t, path)
	readModels, err := sql.Open("sqlite", ReadModelDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer readModels.Close()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var value string
		if err := db.QueryRow(`PRAGMA ` + name).Scan(&value); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return value
	}
	for _, check := range []struct {
		pragma      string
		store, pool string
	}{
		{"synchronous", "2", "1"}, // FULL, NORMAL
		{"journal_mode", "wal", "wal"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()), fmt.Sprint(busyTimeout.Milliseconds())},
		{"foreign_keys", "1", "1"},
		{"temp_store", "0", "2"}, // DEFAULT (files), MEMORY
		{"cache_size", "-65536", "-65536"},
	} {
		if got := pragma(store.DB(), check.pragma); got != check.store {
			t.Errorf("store: PRAGMA %s = %s, want %s", check.pragma, got, check.store)
		}
		if got := pragma(readModels, check.pragma); got != check.pool {
			t.Errorf("read-model pool: PRAGMA %s = %s, want %s", check.pragma, got, check.pool)
		}
	}
	// Its write transactions take the write lock at BEGIN, as the store's do: a second writer
	// waits instead of failing at its first write with SQLITE_BUSY mid-transaction.
	tx, err := readModels.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := store.Append(ctx, "s-1", eventstore.Any, testEvent("blocked")); err == nil {
		t.Fatal("an append went through while a read-model transaction held the write lock")
	}
}

// CountAfter takes the log's sequence numbers for dense: appends that fail — a stale expected
// version, a repeated event id (alone and inside a batch that had already written), a batch whose
// second append fails after its first wrote — must leave no gap, and neither may an append whose
// context ends before it commits.
func TestSequenceHasNoGaps(t *testing.T) {
	ctx := context.Background()
	store := openTestStore(t, filepath.Join(t.TempDir(), "events.db"))
	mustAppend := func(stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) {
		t.Helper()
		if _, err := store.Append(ctx, stream, expected, events...); err != nil {
			t.Fatalf("Append(%s): %v", stream, err)
		}
	}
	first := testEvent("first")
	mustAppend("dossier-1", eventstore.NoStream, first, testEvent("second"))
	if _, err := store.Append(ctx, "dossier-1", eventstore.NoStream, testEvent("stale")); err == nil {
		t.Fatal("an append at a stale expected version succeeded")
	}
	if _, err := store.Append(ctx, "dossier-2", eventstore.NoStream, testEvent("fresh"), first); err == nil {
		t.Fatal("an append repeating another stream's event id succeeded")
	}
	err := store.AppendBatch(ctx, []StreamAppend{
		{Stream: "dossier-3", Expected: eventstore.NoStream, Events: []eventstore.EventData{testEvent("written, then undone")}},
		{Stream: "dossier-1", Expected: eventstore.NoStream, Events: []eventstore.EventData{testEvent("stale in a batch")}},
	})
	if err == nil {
		t.Fatal("a batch with a stale append succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := store.Append(cancelled, "dossier-4", eventstore.NoStream, testEvent("never")); err == nil {
		t.Fatal("an append with an ended context succeeded")
	}
	mustAppend("dossier-2", eventstore.NoStream, testEvent("after the failures"))
	mustAppend("dossier-1", eventstore.Exact(2), testEvent("third"))

	rows, err := store.DB().QueryContext(ctx, `SELECT seq FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if want++; seq != want {
			t.Fatalf("event %d has seq %d: a failed append left a gap", want, seq)
		}
	}
	if want != 4 {
		t.Fatalf("the log holds %d events, want 4", want)
	}
	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, from := range append([]eventstore.Position{{}}, positionsOf(all)...) {
		n, err := store.CountAfter(ctx, from)
		if err != nil || n != len(all)-i {
			t.Errorf("CountAfter(%s) = %d, %v; ReadAll has %d after it", from, n, err, len(all)-i)
		}
	}
}

func positionsOf(events []eventstore.RecordedEvent) []eventstore.Position {
	out := make([]eventstore.Position, len(events))
	for i, e := range events {
		out[i] = e.Position
	}
	return out
}
