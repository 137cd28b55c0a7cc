package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cluster shared by the tests of one test binary, started by the first test that needs it.
var (
	sharedMu      sync.Mutex
	sharedCluster *Cluster
	sharedErr     error
	databaseCount atomic.Int64
)

// Main runs the tests of a package and then stops the shared cluster, if a test started it. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with more to do before it exits: it runs the tests, stops the shared
// cluster and returns the exit code of m.Run.
func Run(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	if sharedCluster != nil {
		if err := sharedCluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stopping the shared cluster:", err)
		}
		sharedCluster = nil
	}
	sharedMu.Unlock()
	return code
}

// Shared returns the test binary's cluster, starting it on first use. It fails tb when PostgreSQL is
// missing, saying how to install it: a backend that cannot be tested must not pass silently.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedCluster == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sharedCluster, sharedErr = StartCluster(ctx)
	}
	if sharedErr != nil {
		tb.Fatalf("pgtest: cannot start PostgreSQL: %v", sharedErr)
	}
	return sharedCluster
}

// Start returns the DSN of the shared cluster's "postgres" database.
func Start(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).DSN("postgres")
}

// Restart restarts the shared cluster, dropping every connection to it.
func Restart(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Shared(tb).Restart(ctx); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
}

// NewDatabase creates an empty database on the shared cluster for this test alone and returns its
// DSN; the database is dropped when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	cluster := Shared(tb)
	name := databaseName(tb.Name(), databaseCount.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a test that failed half-way may leave connections behind.
		if err := cluster.exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return cluster.DSN(name)
}

// clusterTurn lets one test at a time use the shared cluster (NewDatabaseInTurn).
var clusterTurn sync.Mutex

// NewDatabaseInTurn is NewDatabase for a test that must have the cluster to itself while other
// tests of the binary (on SQLite, say) run in parallel: it waits for the cluster's turn and keeps it
// until the test ends. The global log of eventstore/postgres reads up to the cluster-wide
// transaction horizon, so another test's running transaction, even in another database, would hold
// back this test's reads of a log it has finished writing.
func NewDatabaseInTurn(tb testing.TB) string {
	tb.Helper()
	clusterTurn.Lock()
	tb.Cleanup(clusterTurn.Unlock)
	return NewDatabase(tb)
}

// exec runs an administrative statement on the cluster's "postgres" database.
func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

var notIdentifierChars = regexp.MustCompile(`[^a-z0-9_]+`)

// databaseName derives a readable, unique name (at most PostgreSQL's 63 bytes) from the test's name.
func databaseName(testName string, n int64) string {
	name := notIdentifierChars.ReplaceAllString(strings.ToLower(testName), "_")
	suffix := fmt.Sprintf("_%d", n)
	if len(name) > 50 {
		name = name[len(name)-50:] // the end of a subtest path is the most specific part
	}
	return "t_" + strings.Trim(name, "_") + suffix
}
