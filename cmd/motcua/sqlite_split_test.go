package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/sqlite"
	"github.com/motcua/motcua/projections"
)

// A SQLite store made before the read models had a file of their own — a province's history with
// every read model caught up in the log's one file — is split by `motcua migrate`: every table
// that is not the log's or its keys' moves, row for row, with its indexes, triggers and
// AUTOINCREMENT counter (one set as if 4,242 outbox messages had been delivered and deleted); the
// log's file keeps the events and the keys; the backend then opens two files; a second migrate
// moves nothing. A split stopped after its copy was renamed into place is finished by the next.
func TestMigrateMovesASingleFileStoresReadModelsIntoAFileOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logFile, readFile := filepath.Join(dir, "motcua.db"), filepath.Join(dir, "motcua-readmodels.db")
	store, err := sqlite.Open(ctx, logFile)
	if err != nil {
		t.Fatal(err)
	}
	// As a store made before: every table beside the log in its file (sqliteReadModelsPath).
	if err := migrateTables(ctx, store.DB(), engine.SQLite); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"bench", "generate", "--data", dir, "--dossiers", "150", "--days", "20", "--end", "2026-11-27T09:00:00Z", "--seed", "5", "--progress", "1h"},
		{"projections", "rebuild", "--data", dir},
	} {
		var out bytes.Buffer
		if err := run(ctx, args, &out, &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
	}
	if _, err := os.Stat(readFile); err == nil {
		t.Fatal("the store made before got a read models' file before its split")
	}
	logDB := openSQLiteForTest(t, logFile)
	if _, err := logDB.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES ('deliveries', 4242)`); err != nil {
		t.Fatal(err)
	}
	moving, err := readModelTablesIn(ctx, logDB)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"projection_checkpoints", "public_status", "control_handovers", "deliveries", "access_log", "idempotency_keys"} {
		if !slices.Contains(moving, want) {
			t.Fatalf("the tables to move %v lack %s", moving, want)
		}
	}
	before := map[string]string{}
	for _, table := range moving {
		before[table] = tableContents(t, logDB, table)
	}
	if !strings.Contains(before["public_status"], "|") || !strings.Contains(before["projection_checkpoints"], "|") {
		t.Fatalf("the read models hold nothing to move: %q, %q", before["public_status"], before["projection_checkpoints"])
	}
	beforeSchema := movedSchemaOf(t, logDB, moving)
	logDB.Close()
	// A copy a split left unfinished, which the next one replaces.
	if err := os.WriteFile(readFile+".partial", []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--data", dir}, &out, io.Discard); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "now in a file of their own") || !strings.Contains(out.String(), "copied public_status: ") {
		t.Errorf("migrate said:\n%s", out.String())
	}
	if _, err := os.Stat(readFile + ".partial"); err == nil {
		t.Error("the unfinished copy is still there")
	}
	logDB, readDB := openSQLiteForTest(t, logFile), openSQLiteForTest(t, readFile)
	logTables, err := tableNames(ctx, logDB)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range moving {
		if slices.Contains(logTables, table) {
			t.Errorf("the log's file still holds %s", table)
		}
		if got := tableContents(t, readDB, table); got != before[table] {
			t.Errorf("%s moved as\n%s\nwant\n%s", table, got, before[table])
		}
	}
	if !slices.Contains(logTables, "events") || !slices.Contains(logTables, "shred_keys") {
		t.Errorf("the log's file holds %v, want the events and the keys", logTables)
	}
	if got := movedSchemaOf(t, readDB, moving); got != beforeSchema {
		t.Errorf("the moved tables' schema is\n%s\nwant\n%s", got, beforeSchema)
	}
	var deliveries, events int
	if err := readDB.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'`).Scan(&deliveries); err != nil || deliveries != 4242 {
		t.Errorf("the outbox's counter is %d (%v), want 4242", deliveries, err)
	}
	if err := logDB.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_sequence WHERE name IN ('deliveries', 'access_log')`).Scan(&deliveries); err != nil || deliveries != 0 {
		t.Errorf("the log's file keeps %d counters of moved tables (%v)", deliveries, err)
	}
	if err := logDB.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'events'`).Scan(&events); err != nil || events == 0 {
		t.Errorf("the log's own counter is %d (%v)", events, err)
	}
	logDB.Close()
	readDB.Close()

	// The backend now opens the two files, and the read models are where they were: no read
	// model has anything to catch up.
	b, err := openBackend(ctx, "", dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := sqliteFileOf(t, b.ReadDB); got != readFile {
		t.Errorf("ReadDB is on %s, want %s", got, readFile)
	}
	for _, name := range projections.Names() {
		lag, err := engine.MeasureLag(ctx, b.Store, b.ReadDB, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if lag.Events != 0 || lag.Position.Commit == 0 {
			t.Errorf("after the split %s is at %s, %d events behind", name, lag.Position, lag.Events)
		}
	}
	b.Close()
	out.Reset()
	if err := run(ctx, []string{"migrate", "--data", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "copied") || strings.Contains(out.String(), "now in a file of their own") {
		t.Errorf("a second migrate moved something:\n%s", out.String())
	}

	t.Run("another writer", func(t *testing.T) {
		// A node left running holds the log's file: the split waits for its write lock, and
		// gives up with nothing moved.
		other := t.TempDir()
		otherLog := filepath.Join(other, "motcua.db")
		store, err := sqlite.Open(ctx, otherLog)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		if err := migrateTables(ctx, store.DB(), engine.SQLite); err != nil {
			t.Fatal(err)
		}
		writer, err := store.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer writer.Rollback()
		waiting, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if split, err := splitSQLiteReadModels(waiting, otherLog, io.Discard); err == nil || split {
			t.Fatalf("the split went on beside a writer: %v, %v", split, err)
		}
		if _, err := os.Stat(filepath.Join(other, "motcua-readmodels.db")); err == nil {
			t.Error("the split beside a writer left a read models' file")
		}
	})

	t.Run("stopped after its copy", func(t *testing.T) {
		// The first step alone, as a split stopped between its two leaves the store.
		other := t.TempDir()
		for _, f := range []string{"motcua.db", "motcua-readmodels.db"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(other, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		otherLog := filepath.Join(other, "motcua.db")
		db := openSQLiteForTest(t, otherLog)
		if _, err := db.ExecContext(ctx, `CREATE TABLE projection_checkpoints (name TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		split, err := splitSQLiteReadModels(ctx, otherLog, io.Discard)
		if err != nil || !split {
			t.Fatalf("the unfinished split was not finished: %v, %v", split, err)
		}
		tables, err := tableNames(ctx, openSQLiteForTest(t, otherLog))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(tables, "projection_checkpoints") {
			t.Error("the log's file still holds the read models' checkpoints")
		}
	})
}

// openSQLiteForTest opens the SQLite file at path with the store's settings.
func openSQLiteForTest(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteFileOf is the file db's main schema is on.
func sqliteFileOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	var seq int
	var name, file string
	if err := db.QueryRowContext(context.Background(), `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

// tableContents is every row of table, each as its values joined by "|", sorted.
func tableContents(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT * FROM "`+table+`"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		values := make([]any, len(columns))
		dest := make([]any, len(columns))
		for i := range values {
			dest[i] = &values[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(values...)+"|")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// movedSchemaOf is the definitions of tables and of their indexes and triggers, in order of name.
func movedSchemaOf(t *testing.T, db *sql.DB, tables []string) string {
	t.Helper()
	in, args := sqlInList(tables)
	rows, err := db.QueryContext(context.Background(), `SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
		WHERE tbl_name IN (`+in+`) ORDER BY type, name`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}
