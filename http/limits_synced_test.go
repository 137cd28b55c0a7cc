package http_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	mhttp "github.com/motcua/motcua/http"
)

// syncedNodes starts two nodes on one PostgreSQL store whose public budget of perMinute is
// synced every interval, and returns them with a connection of the test's own.
func syncedNodes(t *testing.T, perMinute int, interval time.Duration) ([]*backendEnv, *sql.DB) {
	t.Helper()
	pg, nodes := twoNodesOnOnePostgreSQL(t, func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = perMinute
		cfg.Limits = mhttp.Limits{PublicBudgetSync: interval}
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	db := stdlib.OpenDBFromPool(pg.Pool())
	t.Cleanup(func() { db.Close() })
	if err := mhttp.MigrateRateLimits(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return nodes, db
}

// windowHits is the client's public hits in the table, every window together.
func windowHits(t *testing.T, db *sql.DB, client string) int {
	t.Helper()
	var hits int
	if err := db.QueryRow(`SELECT COALESCE(sum(hits), 0) FROM public_rate_windows WHERE budget = 'public' AND client = $1`, client).Scan(&hits); err != nil {
		t.Fatal(err)
	}
	return hits
}

// waitForHits waits until the table holds want hits of the client: the nodes have synced.
func waitForHits(t *testing.T, db *sql.DB, client string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := windowHits(t, db, client); got != want; got = windowHits(t, db, client) {
		if time.Now().After(deadline) {
			t.Fatalf("the table holds %d hits of %s, want %d", got, client, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With the budget synced, one node admits exactly its budget: the first half from its memory, the
// rest through the exact statement, which counts the hits the node has not written yet; the sync
// then writes them all. The interval is long beside the requests, so the exact statement meets
// unwritten hits.
func TestSyncedPublicBudgetAdmitsExactlyTheBudgetOnOneNode(t *testing.T) {
	const perMinute = 6
	nodes, db := syncedNodes(t, perMinute, 300*time.Millisecond)
	first := nodes[0].do("GET", "/api/v1/public/dossiers/HCM-260302-0001", "", nil, "X-Forwarded-For", "198.51.100.1")
	if first.status == http.StatusTooManyRequests || first.header.Get("X-RateLimit-Limit") != "6" || first.header.Get("X-RateLimit-Remaining") != "5" || first.header.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("headers of a lookup admitted from memory: %v", first.header)
	}
	if got := 1 + admittedLookups(t, nodes[:1], "198.51.100.1", "", 2*perMinute); got != perMinute {
		t.Fatalf("one node admitted %d lookups, want %d", got, perMinute)
	}
	waitForHits(t, db, "198.51.100.1", perMinute)
}

// A client taking turns between two nodes, each node syncing before the next request, is
// admitted exactly its budget in all: each node learns the other's hits at its sync, and past half
// the budget the exact statement judges against the table.
func TestSyncedPublicBudgetHoldsAcrossNodesTakingTurns(t *testing.T) {
	const perMinute = 6
	nodes, db := syncedNodes(t, perMinute, 10*time.Millisecond)
	admitted := 0
	for i := range 3 * perMinute {
		admitted += admittedLookups(t, nodes[i%2:i%2+1], "198.51.100.2", "", 1)
		waitForHits(t, db, "198.51.100.2", admitted)
	}
	if admitted != perMinute {
		t.Fatalf("two nodes admitted %d of %d lookups taking turns, want %d", admitted, 3*perMinute, perMinute)
	}
}

// A lookup far below its budget does not wait for the budget's write: while another transaction
// holds the windows' table locked, the lookup answers at once (the exact statement would wait for
// the lock), and the sync writes its hit once the lock goes.
func TestSyncedPublicBudgetDoesNotWaitForTheDatabase(t *testing.T) {
	nodes, db := syncedNodes(t, 6, 10*time.Millisecond)
	ctx := context.Background()
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.ExecContext(ctx, `LOCK TABLE public_rate_windows IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		answered <- nodes[0].do("GET", "/api/v1/public/dossiers/HCM-260302-0001", "", nil, "X-Forwarded-For", "198.51.100.3").status
	}()
	waited := false
	select {
	case status := <-answered:
		if status == http.StatusTooManyRequests {
			t.Errorf("lookup while the table is locked: %d", status)
		}
	case <-time.After(3 * time.Second):
		waited = true
		t.Error("the lookup waited for the locked table")
	}
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	if waited {
		<-answered
	}
	waitForHits(t, db, "198.51.100.3", 1)
}

// Near its budget a client is judged by the exact statement: node A admits all but one of the
// budget, node B (which knew nothing of the client) one more, and then neither node admits another.
func TestSyncedPublicBudgetNearTheLimitIsExact(t *testing.T) {
	const perMinute = 6
	nodes, db := syncedNodes(t, perMinute, 10*time.Millisecond)
	if got := admittedLookups(t, nodes[:1], "198.51.100.4", "", perMinute-1); got != perMinute-1 {
		t.Fatalf("node A admitted %d of %d lookups", got, perMinute-1)
	}
	waitForHits(t, db, "198.51.100.4", perMinute-1)
	if got := admittedLookups(t, nodes[1:], "198.51.100.4", "", 1); got != 1 {
		t.Fatal("node B refused the budget's last lookup")
	}
	waitForHits(t, db, "198.51.100.4", perMinute)
	if got := admittedLookups(t, nodes, "198.51.100.4", "", 4); got != 0 {
		t.Fatalf("the nodes admitted %d lookups past the budget", got)
	}
	if got := windowHits(t, db, "198.51.100.4"); got != perMinute {
		t.Fatalf("the table holds %d hits, want %d", got, perMinute)
	}
}

// A sync that fails keeps its hits for the next: while the windows' table is away every sync
// fails, and once it is back the hits admitted meanwhile are written.
func TestSyncedPublicBudgetKeepsTheHitsOfAFailedSync(t *testing.T) {
	nodes, db := syncedNodes(t, 60, 10*time.Millisecond)
	admittedLookups(t, nodes[:1], "198.51.100.5", "", 1)
	waitForHits(t, db, "198.51.100.5", 1) // the node has made its tables: it will not make them again
	if _, err := db.Exec(`ALTER TABLE public_rate_windows RENAME TO public_rate_windows_away`); err != nil {
		t.Fatal(err)
	}
	if got := admittedLookups(t, nodes[:1], "198.51.100.5", "", 3); got != 3 {
		t.Fatalf("%d of 3 lookups admitted while the table was away", got)
	}
	time.Sleep(100 * time.Millisecond) // several syncs fail
	if _, err := db.Exec(`ALTER TABLE public_rate_windows_away RENAME TO public_rate_windows`); err != nil {
		t.Fatal(err)
	}
	waitForHits(t, db, "198.51.100.5", 4)
}
