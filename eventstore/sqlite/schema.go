package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrations are applied in order, each once, recorded in eventstore_schema_migrations by their
// 1-based index. Never edit a published migration: append a new one.
var migrations = []string{
	// 1: the events table. seq is the global log order; AUTOINCREMENT guarantees a seq is never
	// reused, so a subscriber's checkpoint stays valid even if the newest rows were ever removed.
	// The triggers keep the log append-only although read models share the file.
	`CREATE TABLE events (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		stream      TEXT    NOT NULL CHECK (stream <> ''),
		version     INTEGER NOT NULL CHECK (version > 0),
		event_id    TEXT    NOT NULL UNIQUE,
		type        TEXT    NOT NULL CHECK (type <> ''),
		data        TEXT    NOT NULL,
		metadata    TEXT    NOT NULL,
		recorded_at TEXT    NOT NULL,
		UNIQUE (stream, version)
	) STRICT;
	CREATE TRIGGER events_no_update BEFORE UPDATE ON events
	BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
	CREATE TRIGGER events_no_delete BEFORE DELETE ON events
	BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;`,
}

// migrate brings the schema up to date in one immediate transaction, so that processes opening the
// same new file at once do not both create it.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS eventstore_schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: create eventstore_schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM eventstore_schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("migrate: the file's schema version %d is newer than this build's %d", current, len(migrations))
	}
	for version := current + 1; version <= len(migrations); version++ {
		if _, err := tx.ExecContext(ctx, migrations[version-1]); err != nil {
			return fmt.Errorf("migrate: apply version %d: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO eventstore_schema_migrations (version, applied_at) VALUES (?, ?)`,
			version, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("migrate: record version %d: %w", version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// statements are the store's prepared queries, parsed once instead of on every call.
type statements struct {
	streamVersion *sql.Stmt
	insertEvent   *sql.Stmt
	readStream    *sql.Stmt
}

const eventColumns = `seq, stream, version, event_id, type, data, metadata, recorded_at`

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	queries := []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.streamVersion, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?`},
		{&st.insertEvent, `INSERT INTO events (stream, version, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&st.readStream, `SELECT ` + eventColumns + ` FROM events WHERE stream = ? AND version >= ? ORDER BY version`},
	}
	for _, q := range queries {
		stmt, err := db.PrepareContext(ctx, q.query)
		if err != nil {
			st.close()
			return fmt.Errorf("prepare %q: %w", q.query, err)
		}
		*q.stmt = stmt
	}
	return nil
}

func (st *statements) close() {
	for _, stmt := range []*sql.Stmt{st.streamVersion, st.insertEvent, st.readStream} {
		if stmt != nil {
			stmt.Close()
		}
	}
}
