package main

import (
	"context"
	"database/sql"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
	"github.com/motcua/motcua/projections"
)

// Several `motcua migrate` at once on an empty PostgreSQL database — as when two nodes start
// together — all succeed and leave the schema one migration leaves: every schema step takes the
// one schema lock. Before, only the event store's took a lock, and the read models' CREATE TABLE
// IF NOT EXISTS collided in PostgreSQL's catalog (5 failures in 5 with two at once).
func TestConcurrentMigrationsOnAnEmptyDatabaseAllSucceed(t *testing.T) {
	ctx := context.Background()
	reference := pgtest.NewDatabase(t)
	if err := run(ctx, []string{"migrate", "--store", reference, "--data", t.TempDir()}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := schemaOf(t, reference)
	if !strings.Contains(want, "table public.public_status") || !strings.Contains(want, "table public.deliveries") ||
		!strings.Contains(want, "table public.access_log") || !strings.Contains(want, "table eventstore.events") {
		t.Fatalf("one migration left an incomplete schema:\n%s", want)
	}
	for round := range 2 {
		dsn := pgtest.NewDatabase(t)
		const nodes = 6
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		for i := range nodes {
			wg.Go(func() {
				var out strings.Builder
				errs[i] = run(ctx, []string{"migrate", "--store", dsn, "--data", t.TempDir()}, &out, io.Discard)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, migration %d of %d at once: %v", round, i+1, nodes, err)
			}
		}
		if got := schemaOf(t, dsn); got != want {
			t.Errorf("round %d: the schema after %d migrations at once differs from one migration's:\n%s\nwant:\n%s", round, nodes, got, want)
		}
	}
}

// schemaOf lists the tables and their columns, the indexes, triggers and functions of the
// database's own schemas, one per line, sorted.
func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`
		SELECT 'table ' || table_schema || '.' || table_name || '(' || string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) || ')'
			FROM information_schema.columns WHERE table_schema IN ('public', 'eventstore') GROUP BY table_schema, table_name
		UNION ALL SELECT 'index ' || schemaname || '.' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname IN ('public', 'eventstore')
		UNION ALL SELECT 'trigger ' || event_object_table || '.' || trigger_name || ' ' || event_manipulation
			FROM information_schema.triggers WHERE trigger_schema IN ('public', 'eventstore')
		UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname IN ('public', 'eventstore')
		UNION ALL SELECT 'migration ' || version FROM eventstore.schema_migrations
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// `motcua migrate` (and serve under the schema lock) makes the tables of every read model serve
// runs, the keyed ones too: a consumer whose table is left to the engine's start races with the
// same consumer's start on another node (the citizens' index did, until it joined migrateTables).
func TestMigrateMakesTheTablesOfEveryReadModelServeRuns(t *testing.T) {
	ctx := context.Background()
	dsn, dataDir := pgtest.NewDatabase(t), t.TempDir()
	if err := run(ctx, []string{"migrate", "--store", dsn, "--data", dataDir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	migrated := schemaOf(t, dsn)
	keyed, err := citizenReadModels(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range append(projections.All(), keyed...) {
		if err := c.Migrate(ctx, db, engine.PostgreSQL); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		if got := schemaOf(t, dsn); got != migrated {
			t.Errorf("%s made tables that motcua migrate did not:\n%s\nafter migrate:\n%s", c.Name(), got, migrated)
			migrated = got
		}
	}
}
