package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// splitSQLiteReadModels moves the read models of a SQLite store made before they had a file of
// their own (sqliteReadModelsPath) out of the log's file at path into that file, with every table
// kept beside them: the outbox, the access log, sessions, idempotency keys, the alarms. Those are
// copied, not rebuilt — the outbox's state and the access log cannot be rebuilt from the log —,
// and the read models keep their checkpoints, so a node started after it catches up nothing. It
// reports false when the store has nothing to move (made after, or split already). No node may
// have the store open while it runs; it holds the log file's write lock from before the copy to
// the drop, so that a node left running fails to write rather than writes what the copy misses.
//
// Crash-safe in two steps: the tables are copied into a file beside the target, which is renamed
// into place only once complete (sqliteReadModelsPath takes any file at that name for the read
// models); then they are dropped from the log's file. Run again after a crash between the two, it
// drops what the first run copied.
func splitSQLiteReadModels(ctx context.Context, path string, out io.Writer) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	logDB, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		return false, err
	}
	defer logDB.Close()
	moving, err := readModelTablesIn(ctx, logDB)
	if err != nil || len(moving) == 0 {
		return false, err
	}
	// BEGIN IMMEDIATE (the DSN's _txlock): no other connection writes to the file until the drop
	// commits, while the copy reads it through another.
	tx, err := logDB.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	readPath := readModelsFileBeside(path)
	if _, err := os.Stat(readPath); errors.Is(err, fs.ErrNotExist) {
		if err := copyTablesInto(ctx, path, readPath, moving, out); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	} else if err := holdsTables(ctx, readPath, moving); err != nil {
		return false, err
	}
	return true, dropMovedTables(ctx, tx, moving, out)
}

// readModelTablesIn returns the tables of the log's file that are not the log's own: every table
// but those a new store and its personal-data keys create (learnt from a scratch store, so that a
// table added to either stays where it belongs) and SQLite's own.
func readModelTablesIn(ctx context.Context, logDB *sql.DB) ([]string, error) {
	scratch, err := os.MkdirTemp("", "motcua-log-tables-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	store, err := sqlite.Open(ctx, filepath.Join(scratch, "motcua.db"))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if _, err := shred.OpenSQLKeys(ctx, store.DB()); err != nil {
		return nil, err
	}
	own, err := tableNames(ctx, store.DB())
	if err != nil {
		return nil, err
	}
	all, err := tableNames(ctx, logDB)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t string) bool { return slices.Contains(own, t) || strings.HasPrefix(t, "sqlite_") }), nil
}

// tableNames lists the tables of db, in the order they were made.
func tableNames(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// copyTablesInto copies tables, with their indexes, triggers and AUTOINCREMENT counters, from the
// SQLite file at from into a new file at to, through a file beside it renamed into place once the
// copy is committed and every table's rows counted equal.
func copyTablesInto(ctx context.Context, from, to string, tables []string, out io.Writer) error {
	partial := to + ".partial"
	for _, f := range []string{partial, partial + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := sqlite.CreatePrivate(partial); err != nil {
		return err
	}
	// A rollback journal while copying, so that the file is whole in itself when renamed; the
	// backend turns it to WAL when it first opens it.
	db, err := sql.Open("sqlite", partial+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(DELETE)&_pragma=synchronous(FULL)")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, from); err != nil {
		return fmt.Errorf("attach %s: %w", from, err)
	}
	if err := copyAttachedTables(ctx, conn, tables, out); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE src`); err != nil {
		return err
	}
	if err := errors.Join(conn.Close(), db.Close()); err != nil {
		return err
	}
	if err := os.Rename(partial, to); err != nil {
		return err
	}
	return syncDir(filepath.Dir(to))
}

// copyAttachedTables copies tables from the attached schema src into main in one transaction.
func copyAttachedTables(ctx context.Context, conn *sql.Conn, tables []string, out io.Writer) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	type schemaObject struct{ kind, table, sql string }
	rows, err := tx.QueryContext(ctx, `SELECT type, tbl_name, sql FROM src.sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'index', 'trigger') ORDER BY rowid`)
	if err != nil {
		return err
	}
	var objects []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.kind, &o.table, &o.sql); err != nil {
			rows.Close()
			return err
		}
		if slices.Contains(tables, o.table) {
			objects = append(objects, o)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	// The tables, their rows, then their indexes and triggers: an index built once over the rows
	// costs less than kept up row by row.
	for _, o := range objects {
		if o.kind == "table" {
			if _, err := tx.ExecContext(ctx, o.sql); err != nil {
				return fmt.Errorf("create %s: %w", o.table, err)
			}
		}
	}
	for _, table := range tables {
		quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
		copied, err := tx.ExecContext(ctx, `INSERT INTO main.`+quoted+` SELECT * FROM src.`+quoted)
		if err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		n, err := copied.RowsAffected()
		if err != nil {
			return err
		}
		var inLog int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM src.`+quoted).Scan(&inLog); err != nil {
			return err
		}
		if n != inLog {
			return fmt.Errorf("copy %s: %d rows copied of %d", table, n, inLog)
		}
		fmt.Fprintf(out, "copied %s: %d rows\n", table, n)
	}
	for _, o := range objects {
		if o.kind != "table" {
			if _, err := tx.ExecContext(ctx, o.sql); err != nil {
				return fmt.Errorf("create an %s on %s: %w", o.kind, o.table, err)
			}
		}
	}
	// AUTOINCREMENT's counters as they were: a row deleted at the end of a table (an outbox
	// message delivered) must not have its id given again. A file has sqlite_sequence once it
	// holds such a table.
	var counters int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM src.sqlite_master WHERE name = 'sqlite_sequence') +
		(SELECT count(*) FROM main.sqlite_master WHERE name = 'sqlite_sequence')`).Scan(&counters); err != nil {
		return err
	}
	if counters == 2 {
		in, args := sqlInList(tables)
		if _, err := tx.ExecContext(ctx, `DELETE FROM main.sqlite_sequence WHERE name IN (`+in+`)`, args...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM src.sqlite_sequence WHERE name IN (`+in+`)`,
			args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// holdsTables checks that the SQLite file at path holds every table: a read models' file found
// beside a log's file that still holds them must be a copy a split made before it stopped.
func holdsTables(ctx context.Context, path string, tables []string) error {
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		return err
	}
	defer db.Close()
	held, err := tableNames(ctx, db)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if !slices.Contains(held, t) {
			return fmt.Errorf("both %s and the log's file hold read models, and it lacks %s: move it away and run again", path, t)
		}
	}
	return nil
}

// dropMovedTables drops the tables copied out of the log's file, with their AUTOINCREMENT
// counters, and commits tx. Their pages go to the file's free list, which new events reuse.
func dropMovedTables(ctx context.Context, tx *sql.Tx, tables []string, out io.Writer) error {
	for _, table := range tables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE "`+strings.ReplaceAll(table, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("drop %s from the log's file: %w", table, err)
		}
	}
	var counters int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'`).Scan(&counters); err != nil {
		return err
	}
	if counters > 0 {
		in, args := sqlInList(tables)
		if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name IN (`+in+`)`, args...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(out, "dropped %d tables from the log's file\n", len(tables))
	return nil
}

// sqlInList returns the placeholders of an IN list of values, and its arguments.
func sqlInList(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", "), args
}

// sqliteLogPath returns the log's file of the SQLite store storage names, if it names one.
func sqliteLogPath(storage *storeFlags) (string, bool) {
	storeURL := storage.url
	if storeURL == "" {
		storeURL = defaultStoreURL(storage.dataDir)
	}
	return strings.CutPrefix(storeURL, "sqlite:")
}
