package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newEvent(label string) eventstore.EventData {
	data, _ := json.Marshal(map[string]string{"label": label})
	return eventstore.EventData{
		ID:   eventstore.NewEventID(),
		Type: "test.happened.v1",
		Data: data,
		Metadata: eventstore.Metadata{
			Actor:      eventstore.Actor{ID: "can-bo-1", Name: "Nguyễn Văn An", Role: "official", Agency: "UBND xã"},
			OccurredAt: time.Now().Truncate(time.Microsecond),
		},
	}
}

func mustAppend(ctx context.Context, t *testing.T, store eventstore.Store, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	result, err := store.Append(ctx, stream, expected, events...)
	if err != nil {
		t.Fatalf("Append(%q): %v", stream, err)
	}
	return result
}

// subscription collects what a background Subscribe delivers.
type subscription struct {
	events chan eventstore.RecordedEvent
	done   chan error
}

func subscribe(ctx context.Context, t *testing.T, store eventstore.Store, after eventstore.Position) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	s := &subscription{events: make(chan eventstore.RecordedEvent, 1000), done: make(chan error, 1)}
	go func() {
		s.done <- store.Subscribe(ctx, after, func(_ context.Context, e eventstore.RecordedEvent) error {
			s.events <- e
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe ended with %v, want context.Canceled", err)
		}
	})
	return s
}

// expect waits for the next events and checks they are want, in order.
func (s *subscription) expect(t *testing.T, within time.Duration, want ...eventstore.EventData) {
	t.Helper()
	deadline := time.After(within)
	for i, w := range want {
		select {
		case got := <-s.events:
			if got.ID != w.ID {
				t.Fatalf("subscription delivered %s (%s v%d) as event %d, want %s", got.ID, got.Stream, got.Version, i, w.ID)
			}
		case err := <-s.done:
			t.Fatalf("subscription ended with %v before event %d", err, i)
		case <-deadline:
			t.Fatalf("subscription delivered %d of %d events within %s", i, len(want), within)
		}
	}
}

// expectNothing checks that the subscription delivers nothing for a while.
func (s *subscription) expectNothing(t *testing.T, during time.Duration) {
	t.Helper()
	select {
	case got := <-s.events:
		t.Fatalf("subscription delivered %s (%s v%d), want nothing yet", got.ID, got.Stream, got.Version)
	case <-time.After(during):
	}
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.NewDatabase(t)
	const nodes = 4
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		store, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		stores[i] = store
	}
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, store := range stores {
		wg.Go(func() { errs[i] = store.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Migrate: %v", i, err)
		}
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatalf("Migrate on an up-to-date schema: %v", err)
	}
	var applied, distinct int
	if err := stores[0].Pool().QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM eventstore.schema_migrations").Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("schema_migrations holds %d rows for %d versions: each migration must be applied once", applied, distinct)
	}
	mustAppend(ctx, t, stores[nodes-1], "dossier-1", eventstore.NoStream, newEvent("after migrating"))
}

// insertInOpenTransaction stores an event the way a slow append would: inside a transaction that has
// taken its transaction id and not committed yet.
func insertInOpenTransaction(ctx context.Context, t *testing.T, store *postgres.Store, stream string, event eventstore.EventData) pgx.Tx {
	t.Helper()
	tx, err := store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	_, err = tx.Exec(ctx, `
		INSERT INTO eventstore.events (stream, version, id, type, data, actor_id, actor_name, actor_role,
			actor_agency, correlation_id, causation_id, occurred_at)
		VALUES ($1, 1, $2, $3, $4, '', '', '', '', $2, $2, now())`, stream, event.ID, event.Type, event.Data)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// A plain sequence hands out numbers in insert order, but transactions commit in another order: a
// reader checkpointing on it would pass the slow writer's row before it commits and never see it.
func TestReadersNeverSkipAnEventCommittedOutOfOrder(t *testing.T) {
	ctx := testContext(t)
	store, _ := openStore(t)
	live := subscribe(ctx, t, store, eventstore.Start)

	slow := newEvent("slow: inserted first, committed last")
	slowTx := insertInOpenTransaction(ctx, t, store, "dossier-slow", slow)
	fast := newEvent("fast: inserted and committed while the slow one is open")
	fastResult := mustAppend(ctx, t, store, "dossier-fast", eventstore.NoStream, fast)

	visible, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(visible) != 0 {
		t.Fatalf("ReadAll returned %s while an older transaction is still open: a reader checkpointing on it would skip that transaction's event", visible[0].ID)
	}
	live.expectNothing(t, 300*time.Millisecond)

	if err := slowTx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != slow.ID || all[1].ID != fast.ID {
		t.Fatalf("ReadAll after the slow commit returned %d events, want the slow then the fast event", len(all))
	}
	if all[1].Position != fastResult.Position || !all[0].Position.Less(all[1].Position) {
		t.Fatalf("positions %s, %s: want increasing, the second being the fast append's %s", all[0].Position, all[1].Position, fastResult.Position)
	}
	live.expect(t, 10*time.Second, slow, fast)
}

// A transaction left open holds every reader back, so the store's sessions end idle transactions
// after the write timeout; readers then move on.
func TestStuckWriterHoldsReadersBackOnlyUntilTheWriteTimeout(t *testing.T) {
	ctx := testContext(t)
	const writeTimeout = 500 * time.Millisecond
	store, _ := openStore(t, postgres.WithWriteTimeout(writeTimeout))
	stuckTx := insertInOpenTransaction(ctx, t, store, "dossier-stuck", newEvent("never committed"))

	event := newEvent("committed behind the stuck writer")
	mustAppend(ctx, t, store, "dossier-1", eventstore.NoStream, event)
	stuckSince := time.Now()
	if page, err := store.ReadAll(ctx, eventstore.Start, 10); err != nil || len(page) != 0 {
		t.Fatalf("ReadAll while the stuck transaction is open: %d events, %v; want none yet", len(page), err)
	}
	var page []eventstore.RecordedEvent
	for len(page) == 0 {
		if time.Since(stuckSince) > 20*writeTimeout {
			t.Fatalf("readers still held back %s after the write timeout of %s", time.Since(stuckSince), writeTimeout)
		}
		time.Sleep(50 * time.Millisecond)
		var err error
		if page, err = store.ReadAll(ctx, eventstore.Start, 10); err != nil {
			t.Fatal(err)
		}
	}
	if len(page) != 1 || page[0].ID != event.ID {
		t.Fatalf("after the timeout ReadAll returned %d events, want only the committed one", len(page))
	}
	if err := stuckTx.Commit(ctx); err == nil {
		t.Fatal("the stuck transaction committed after the write timeout; it should have been ended")
	}
}

// Transaction ids are the cluster's: a long transaction in another database of the same server
// (another application's, another test's) held every reader of this log back until it ended.
// Only this database's running transactions hold the horizon now; this one's still do.
func TestAnotherDatabasesTransactionDoesNotHoldReadersBack(t *testing.T) {
	ctx := testContext(t)
	store, _ := openStore(t)
	other, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	otherTx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer otherTx.Rollback(context.Background())
	if _, err := otherTx.Exec(ctx, `CREATE TABLE long_running (n INT)`); err != nil { // takes an xid
		t.Fatal(err)
	}
	event := newEvent("appended while another database's transaction runs")
	mustAppend(ctx, t, store, "dossier-1", eventstore.NoStream, event)
	page, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].ID != event.ID {
		t.Fatalf("ReadAll returned %d events while another database's transaction ran, want the one appended", len(page))
	}
	if n, err := store.CountAfter(ctx, eventstore.Start); err != nil || n != 1 {
		t.Fatalf("CountAfter: %d, %v; want 1", n, err)
	}

	// A transaction of this database still holds the horizon.
	held := insertInOpenTransaction(ctx, t, store, "dossier-slow", newEvent("slow"))
	later := newEvent("committed behind this database's open transaction")
	mustAppend(ctx, t, store, "dossier-2", eventstore.NoStream, later)
	if page, err := store.ReadAll(ctx, page[0].Position, 10); err != nil || len(page) != 0 {
		t.Fatalf("ReadAll behind this database's open transaction: %d events, %v; want none", len(page), err)
	}
	if err := held.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if page, err := store.ReadAll(ctx, page[0].Position, 10); err != nil || len(page) != 1 || page[0].ID != later.ID {
		t.Fatalf("ReadAll once the open transaction ended: %d events, %v", len(page), err)
	}
}

// listenerPID waits for the store's LISTEN connection to be listening and returns its backend pid.
func listenerPID(ctx context.Context, t *testing.T, store *postgres.Store, not int32) int32 {
	t.Helper()
	for {
		var pid int32
		err := store.Pool().QueryRow(ctx, `
			SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'motcua-eventstore-listener'
				AND query LIKE 'LISTEN %' AND pid <> $1`, not).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatal("the store's LISTEN connection did not come (back)")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The subscriber and the writer are separate stores, as on two nodes: the subscriber only learns of
// appends by NOTIFY (it polls once an hour).
func TestSubscriptionSurvivesATerminatedListener(t *testing.T) {
	ctx := testContext(t)
	subscriber, dsn := openStore(t, postgres.WithPollInterval(time.Hour))
	writer := openStoreAt(t, dsn)
	live := subscribe(ctx, t, subscriber, eventstore.Start)
	firstPID := listenerPID(ctx, t, subscriber, 0)

	before := newEvent("before the listener is terminated")
	mustAppend(ctx, t, writer, "dossier-1", eventstore.NoStream, before)
	live.expect(t, 10*time.Second, before)

	if _, err := writer.Pool().Exec(ctx, "SELECT pg_terminate_backend($1)", firstPID); err != nil {
		t.Fatal(err)
	}
	listenerPID(ctx, t, subscriber, firstPID)

	after := []eventstore.EventData{newEvent("after 1"), newEvent("after 2")}
	mustAppend(ctx, t, writer, "dossier-1", eventstore.Exact(1), after...)
	live.expect(t, 10*time.Second, after...)
	live.expectNothing(t, 100*time.Millisecond)
}

func TestSubscriptionAndAppendsSurviveADatabaseRestart(t *testing.T) {
	ctx := testContext(t)
	subscriber, dsn := openStore(t, postgres.WithPollInterval(200*time.Millisecond))
	writer := openStoreAt(t, dsn)
	live := subscribe(ctx, t, subscriber, eventstore.Start)

	var before, after []eventstore.EventData
	for i := range 5 {
		before = append(before, newEvent(fmt.Sprintf("before %d", i)))
		after = append(after, newEvent(fmt.Sprintf("after %d", i)))
	}
	for i, e := range before {
		mustAppend(ctx, t, writer, "dossier-1", eventstore.Exact(uint64(i)), e)
	}
	live.expect(t, 10*time.Second, before...)

	pgtest.Restart(t)

	// The writer's pooled connections all died with the server: Append reconnects.
	for i, e := range after {
		mustAppend(ctx, t, writer, "dossier-1", eventstore.Exact(uint64(len(before)+i)), e)
	}
	live.expect(t, 20*time.Second, after...)
	live.expectNothing(t, 300*time.Millisecond)
}

// Metadata is stored in columns, so every field must make the round trip, in single-event appends
// and in batches alike.
func TestMetadataRoundTrips(t *testing.T) {
	ctx := testContext(t)
	store, _ := openStore(t)
	withMetadata := func(label, prevHash string) eventstore.EventData {
		e := newEvent(label)
		e.Metadata.CorrelationID, e.Metadata.CausationID = eventstore.NewEventID(), eventstore.NewEventID()
		e.Metadata.PrevHash = prevHash
		return e
	}
	single := withMetadata("single", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	batch := []eventstore.EventData{withMetadata("batch 1", "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"), withMetadata("batch 2", "")}
	mustAppend(ctx, t, store, "dossier-1", eventstore.NoStream, single)
	mustAppend(ctx, t, store, "dossier-1", eventstore.Exact(1), batch...)

	stored, err := store.ReadStream(ctx, "dossier-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]eventstore.EventData{single}, batch...)
	if len(stored) != len(want) {
		t.Fatalf("read %d events, want %d", len(stored), len(want))
	}
	for i, got := range stored {
		w := want[i]
		if got.ID != w.ID || got.Type != w.Type || string(got.Data) != string(w.Data) {
			t.Errorf("event %d: %s %q %s, want %s %q %s", i, got.ID, got.Type, got.Data, w.ID, w.Type, w.Data)
		}
		if !got.Metadata.OccurredAt.Equal(w.Metadata.OccurredAt) {
			t.Errorf("event %d occurred at %s, want %s", i, got.Metadata.OccurredAt, w.Metadata.OccurredAt)
		}
		got.Metadata.OccurredAt = w.Metadata.OccurredAt
		if got.Metadata != w.Metadata {
			t.Errorf("event %d metadata = %+v, want %+v", i, got.Metadata, w.Metadata)
		}
	}
}

// Counting the log is a read the caller bounds, not a write the write timeout bounds: a province's
// ten million events took longer than that to count, and the catch-up that counted them failed.
// Here the count waits behind a lock for longer than the sessions' statement timeout.
func TestCountAfterOutlivesTheWriteTimeout(t *testing.T) {
	ctx := testContext(t)
	const writeTimeout = 200 * time.Millisecond
	store, dsn := openStore(t, postgres.WithWriteTimeout(writeTimeout))
	mustAppend(ctx, t, store, "dossier-1", eventstore.NoStream, newEvent("counted"))
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	locking, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locking.Exec(ctx, `LOCK TABLE eventstore.events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const held = 5 * writeTimeout
	released := make(chan error, 1)
	go func() {
		time.Sleep(held)
		released <- locking.Rollback(context.Background())
	}()
	n, err := store.CountAfter(ctx, eventstore.Start)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if err != nil || n != 1 {
		t.Fatalf("CountAfter behind a lock held for %s, longer than the write timeout: %d, %v; want 1", held, n, err)
	}
}

// The store's connections start no parallel workers — starting them cost more than the bounded
// reads motcua sends — and price random reads as for tables in memory or on SSD, unless the DSN
// asks otherwise.
func TestConnectionsRunWithoutParallelWorkersUnlessTheDSNAsks(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.NewDatabase(t)
	for _, c := range []struct{ dsn, workers, randomPageCost string }{
		{dsn, "0", "1.1"},
		{dsn + "&max_parallel_workers_per_gather=2&random_page_cost=4", "2", "4"},
	} {
		store, err := postgres.Open(ctx, c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var workers, randomPageCost string
		err = store.Pool().QueryRow(ctx, `SELECT current_setting('max_parallel_workers_per_gather'), current_setting('random_page_cost')`).
			Scan(&workers, &randomPageCost)
		store.Close()
		if err != nil {
			t.Fatal(err)
		}
		if workers != c.workers || randomPageCost != c.randomPageCost {
			t.Errorf("DSN %q: max_parallel_workers_per_gather = %s, random_page_cost = %s; want %s, %s", c.dsn, workers, randomPageCost,
				c.workers, c.randomPageCost)
		}
	}
}

// Pending is asked at every poll of a subscription that reached the head, where nothing follows,
// and the lag gauges' count up to a limit at every scrape. Both plans PostgreSQL may keep for a
// prepared statement — the custom plan of its first five runs and the generic one after — walk the
// log's primary key from the position; a prepared EXISTS got a generic plan that read the whole
// log to find nothing (7.8 s at ten million events).
func TestReadsFromThePositionInEveryPlan(t *testing.T) {
	ctx := testContext(t)
	store, dsn := openStore(t)
	// A log long enough for the planner to weigh reading all of it against the index, analysed.
	if _, err := store.Pool().Exec(ctx, `INSERT INTO eventstore.events (stream, version, id, type, data, actor_id, actor_name,
		actor_role, actor_agency, correlation_id, causation_id, occurred_at)
		SELECT 'bulk-' || g, 1, gen_random_uuid(), 'bulk', '{}', '', '', '', '', gen_random_uuid(), gen_random_uuid(), now()
		FROM generate_series(1, 50000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `ANALYZE eventstore.events`); err != nil {
		t.Fatal(err)
	}
	head := mustAppend(ctx, t, store, "dossier-last", eventstore.NoStream, newEvent("last")).Position
	for _, c := range []struct {
		after eventstore.Position
		want  bool
	}{{eventstore.Start, true}, {head, false}} {
		if pending, err := store.Pending(ctx, c.after); err != nil || pending != c.want {
			t.Errorf("Pending(%s) = %v, %v; want %v", c.after, pending, err, c.want)
		}
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `PREPARE pending(xid8, bigint) AS `+postgres.PendingSQL); err != nil {
		t.Fatal(err)
	}
	// The lag gauges' count up to a limit, at every scrape: from the start of the log, where a
	// sequential scan and a sort of what follows would be a plan's other choice, and at the head.
	if _, err := conn.Exec(ctx, `PREPARE count_up_to(xid8, bigint, bigint) AS `+postgres.CountUpToSQL); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		for _, statement := range []string{
			fmt.Sprintf(`pending('%d', %d)`, head.Commit, head.Prepare),
			fmt.Sprintf(`count_up_to('%d', %d, 10000)`, head.Commit, head.Prepare),
			fmt.Sprintf(`count_up_to('%d', %d, 10000)`, eventstore.Start.Commit, eventstore.Start.Prepare),
		} {
			var plan string
			if err := conn.QueryRow(ctx, `EXPLAIN (FORMAT JSON) EXECUTE `+statement).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			if scans := logScans(t, plan); len(scans) == 0 || slices.ContainsFunc(scans, func(scan string) bool { return scan != "events_global_order" }) {
				t.Errorf("with %s, %s reads the log by %v, not by walking its primary key:\n%s", mode, statement, scans, plan)
			}
		}
	}
	if n, err := store.CountAfterUpTo(ctx, eventstore.Start, 10000); err != nil || n != 10000 {
		t.Errorf("CountAfterUpTo(start, 10000) = %d, %v; want 10000", n, err)
	}
}

// logScans returns how each node of an EXPLAIN (FORMAT JSON) plan reads the log's table: the index's
// name, or the node's type when it reads no index (a sequential scan). The horizon's subqueries
// read the catalog, not the log.
func logScans(t *testing.T, plan string) []string {
	t.Helper()
	var nodes []map[string]any
	if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
		t.Fatal(err)
	}
	var scans []string
	var walk func(node map[string]any)
	walk = func(node map[string]any) {
		if node["Relation Name"] == "events" {
			if index, ok := node["Index Name"].(string); ok {
				scans = append(scans, index)
			} else {
				scans = append(scans, fmt.Sprint(node["Node Type"]))
			}
		}
		children, _ := node["Plans"].([]any)
		for _, child := range children {
			if c, ok := child.(map[string]any); ok {
				walk(c)
			}
		}
	}
	for _, n := range nodes {
		if root, ok := n["Plan"].(map[string]any); ok {
			walk(root)
		}
	}
	return scans
}
