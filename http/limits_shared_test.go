package http_test

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/eventstore/sqlite"
	mhttp "github.com/motcua/motcua/http"
)

// Behind a load balancer a client's requests land on any node: on PostgreSQL the public budget is
// counted in the database, so a client spreading its lookups over two nodes — one after another
// or all at once — gets what one node alone gives it (on SQLite, one node, the budget is counted
// in memory). The rating-secret budget is shared the same way.
func TestPublicBudgetHoldsAcrossNodes(t *testing.T) {
	const perMinute, secretsPerMinute, secretFailures = 6, 3, 3
	configure := func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = perMinute
		cfg.Limits = mhttp.Limits{SecretChecksPerMinute: secretsPerMinute, SecretFailures: secretFailures, SecretLockout: time.Minute}
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	}
	admitted := admittedLookups
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "motcua.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	single := newBackendEnv(t, store, store.DB(), configure)
	oneNode := admitted(t, []*backendEnv{single}, "198.51.100.1", "", 2*perMinute)
	if oneNode != perMinute {
		t.Fatalf("one node admitted %d of %d lookups, want %d", oneNode, 2*perMinute, perMinute)
	}

	_, nodes := twoNodesOnOnePostgreSQL(t, configure)
	if got := admitted(t, nodes, "198.51.100.1", "", 2*perMinute); got != oneNode {
		t.Fatalf("two nodes admitted %d lookups from one client taking turns, one node %d", got, oneNode)
	}
	// Another client has its own budget.
	if got := admitted(t, nodes[1:], "198.51.100.2", "", 1); got != 1 {
		t.Fatal("another client was refused")
	}
	// All at once on both nodes: the statement checks the row it locks, so none slips past.
	var concurrent atomic.Int32
	var wg sync.WaitGroup
	for i := range 4 * perMinute {
		wg.Go(func() {
			r := nodes[i%2].do("GET", "/api/v1/public/dossiers/HCM-260302-0001", "", nil, "X-Forwarded-For", "198.51.100.3")
			if r.status != http.StatusTooManyRequests {
				concurrent.Add(1)
			}
		})
	}
	wg.Wait()
	if got := int(concurrent.Load()); got != perMinute {
		t.Fatalf("two nodes admitted %d of %d concurrent lookups from one client, want %d", got, 4*perMinute, perMinute)
	}
	// Secret checks draw on their own, stricter budget, and wrong secrets lock a client out, on
	// every node: checks taking turns between the nodes count as on one.
	code := nodes[0].expect(nodes[0].do("POST", "/api/v1/dossiers", nodes[0].token("tiepnhan1", centre, commands.RoleReception), validReceipt()), http.StatusCreated).body["code"].(string)
	checkSecret := func(node *backendEnv, client, secret string) response {
		return node.do("GET", "/api/v1/public/dossiers/"+code+"/qr.png?secret="+secret, "", nil, "X-Forwarded-For", client)
	}
	for i := range secretFailures {
		if r := checkSecret(nodes[i%2], "198.51.100.4", "WRONGSECRET"); r.status != http.StatusForbidden {
			t.Fatalf("wrong secret %d: %d %s", i+1, r.status, r.raw)
		}
	}
	for _, node := range nodes {
		locked := node.expect(checkSecret(node, "198.51.100.4", "WRONGSECRET"), http.StatusTooManyRequests)
		if after := locked.header.Get("Retry-After"); after == "" || after == "0" {
			t.Fatalf("lock-out without Retry-After: %v", locked.header)
		}
	}
	checks := 0
	for i := range 2 * secretsPerMinute {
		if r := checkSecret(nodes[i%2], "198.51.100.5", "WRONG"+strconv.Itoa(i)); r.status != http.StatusTooManyRequests {
			checks++
		}
	}
	if checks != secretsPerMinute {
		t.Fatalf("two nodes admitted %d secret checks from one client, want %d", checks, secretsPerMinute)
	}
	// A minute later the budget is back, on both nodes' clocks.
	for _, n := range nodes {
		n.clock.Advance(2 * time.Minute)
	}
	if got := admitted(t, nodes, "198.51.100.1", "", 2); got != 2 {
		t.Fatalf("a minute later %d of 2 lookups admitted", got)
	}
}

// twoNodesOnOnePostgreSQL starts two servers configured alike on one PostgreSQL store, as two
// nodes behind a load balancer.
func twoNodesOnOnePostgreSQL(t *testing.T, configure func(*mhttp.Config)) (*postgres.Store, []*backendEnv) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if err := pg.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	nodes := make([]*backendEnv, 2)
	for i := range nodes {
		db := stdlib.OpenDBFromPool(pg.Pool())
		t.Cleanup(func() { db.Close() })
		nodes[i] = newBackendEnv(t, pg, db, configure)
	}
	return pg, nodes
}

// admittedLookups sends n lookups from client, the i-th to nodes[i % len(nodes)], and counts those
// not refused with 429.
func admittedLookups(t *testing.T, nodes []*backendEnv, client, query string, n int) int {
	got := 0
	for i := range n {
		r := nodes[i%len(nodes)].do("GET", "/api/v1/public/dossiers/HCM-260302-0001"+query, "", nil, "X-Forwarded-For", client)
		if r.status != http.StatusTooManyRequests {
			got++
		} else if r.header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %v", r.header)
		}
	}
	return got
}

// An operator running one node on PostgreSQL (or nodes behind a proxy that limits clients itself)
// may count the budgets in each node's memory (--public-budget node): one node then admits exactly
// its budget and writes no window to the database, and two nodes admit a client twice as much —
// what the operator chose, and why shared is the default.
func TestPublicBudgetPerNodeOnPostgreSQL(t *testing.T) {
	const perMinute = 5
	ctx := context.Background()
	pg, nodes := twoNodesOnOnePostgreSQL(t, func(cfg *mhttp.Config) {
		cfg.PublicRequestsPerMinute = perMinute
		cfg.Limits = mhttp.Limits{PerNode: true}
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	if got := admittedLookups(t, nodes[:1], "198.51.100.1", "", 3*perMinute); got != perMinute {
		t.Fatalf("one node admitted %d of %d lookups, want %d", got, 3*perMinute, perMinute)
	}
	if got := admittedLookups(t, nodes, "198.51.100.2", "", 3*perMinute); got != 2*perMinute {
		t.Fatalf("two nodes counting apart admitted %d of %d lookups taking turns, want %d", got, 3*perMinute, 2*perMinute)
	}
	db := stdlib.OpenDBFromPool(pg.Pool())
	t.Cleanup(func() { db.Close() })
	var table sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('public_rate_windows')::text`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	windows := 0
	if table.Valid {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM public_rate_windows`).Scan(&windows); err != nil {
			t.Fatal(err)
		}
	}
	if windows != 0 {
		t.Fatalf("the budget counted per node wrote %d windows to the database", windows)
	}
}

// The public budgets' windows are written at every public request: on PostgreSQL they are UNLOGGED,
// so a request's hit does not wait for the write-ahead log to reach the disk, and a table made by an
// earlier version (logged) becomes unlogged with its rows at the next migration. The wrong-secret
// lock-outs stay logged: a crash must not hand a guesser its attempts back.
func TestRateWindowsAreUnloggedOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	db := stdlib.OpenDBFromPool(pg.Pool())
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE public_rate_windows (budget TEXT NOT NULL, client TEXT NOT NULL,
		window_start BIGINT NOT NULL, hits INTEGER NOT NULL, PRIMARY KEY (budget, client, window_start));
		INSERT INTO public_rate_windows VALUES ('public', '198.51.100.1', 0, 5)`); err != nil {
		t.Fatal(err)
	}
	persistence := func(table string) string {
		var p string
		if err := db.QueryRowContext(ctx, `SELECT relpersistence FROM pg_class WHERE oid = to_regclass($1)`, table).Scan(&p); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		return p
	}
	for range 2 { // the second migration finds the table unlogged and leaves it
		if err := mhttp.MigrateRateLimits(ctx, db); err != nil {
			t.Fatal(err)
		}
		if got := persistence("public_rate_windows"); got != "u" {
			t.Fatalf("public_rate_windows relpersistence %q, want u (unlogged)", got)
		}
		if got := persistence("secret_lockouts"); got != "p" {
			t.Fatalf("secret_lockouts relpersistence %q, want p (logged)", got)
		}
	}
	var hits int
	if err := db.QueryRowContext(ctx, `SELECT hits FROM public_rate_windows WHERE client = '198.51.100.1'`).Scan(&hits); err != nil || hits != 5 {
		t.Fatalf("the window counted before the change: %d, %v; want 5", hits, err)
	}
}
