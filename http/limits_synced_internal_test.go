package http

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// The sync loop runs only while some client has hits not yet written: the first hit starts it,
// and it ends at the sync that leaves nothing unwritten, so an idle node holds no goroutine.
func TestSyncedBudgetSyncsOnlyWhileHitsAreUnwritten(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2026, 12, 6, 10, 0, 30, 0, time.UTC)
	limit := newSyncedRateLimit(&sharedRateLimit{tables: &sharedTables{db: db}, budget: "public", limit: 60, window: time.Minute,
		now: func() time.Time { return at }, logger: slog.New(slog.DiscardHandler)}, 10*time.Millisecond)
	running := func() bool { limit.mu.Lock(); defer limit.mu.Unlock(); return limit.syncing }
	if running() {
		t.Fatal("a sync loop before any hit")
	}
	for _, client := range []string{"a", "b", "a"} {
		if v, local := limit.admitLocally(client); !local || v.limited {
			t.Fatalf("a hit far below the budget was not admitted from memory: %+v", v)
		}
	}
	if !running() {
		t.Fatal("no sync loop for the unwritten hits")
	}
	waitFor(t, "the sync loop to end", func() bool { return !running() })
	rows := map[string]int{}
	r, err := db.QueryContext(ctx, `SELECT client, hits FROM public_rate_windows WHERE budget = 'public' AND window_start = $1`, at.Truncate(time.Minute).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var client string
		var hits int
		if err := r.Scan(&client, &hits); err != nil {
			t.Fatal(err)
		}
		rows[client] = hits
	}
	if rows["a"] != 2 || rows["b"] != 1 || len(rows) != 2 {
		t.Fatalf("the windows hold %v, want a: 2, b: 1", rows)
	}
}
