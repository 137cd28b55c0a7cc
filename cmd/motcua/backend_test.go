package main

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/shred"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// On SQLite the projections write through a pool that skips the fsync; queries and the
// crypto-shredding keys — which no replay can bring back — stay on durable ones.
func TestSQLiteBackendKeepsKeysDurableAndReadModelsFast(t *testing.T) {
	b, err := openBackend(context.Background(), "", t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	synchronous := func(db *sql.DB) int {
		t.Helper()
		var level int
		if err := db.QueryRow(`PRAGMA synchronous`).Scan(&level); err != nil {
			t.Fatal(err)
		}
		return level
	}
	if got := synchronous(b.ReadDB); got != 2 {
		t.Errorf("ReadDB: synchronous = %d, want 2 (FULL)", got)
	}
	if got := synchronous(b.KeysDB); got != 2 {
		t.Errorf("KeysDB: synchronous = %d, want 2 (FULL)", got)
	}
	if got := synchronous(b.ProjectionDB); got != 1 {
		t.Errorf("ProjectionDB: synchronous = %d, want 1 (NORMAL)", got)
	}
}

// A new SQLite store keeps its read models (and the tables beside them) in a file of their own,
// and the personal-data keys with the log; a store made before that keeps everything in its one
// file, as it was.
func TestSQLiteBackendKeepsTheReadModelsInAFileOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	fileOf := func(db *sql.DB) string {
		t.Helper()
		var seq int
		var name, file string
		if err := db.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		return file
	}
	holds := func(db *sql.DB, table string) bool {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	open := func(storeURL, dir string) *backend {
		t.Helper()
		b, err := openBackend(ctx, storeURL, dir, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrateTables(ctx, b.ReadDB, b.Dialect()); err != nil {
			t.Fatal(err)
		}
		if _, err := shred.OpenSQLKeys(ctx, b.KeysDB); err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("new", func(t *testing.T) {
		dir := t.TempDir()
		for range 2 { // made, then opened again
			b := open("", dir)
			logFile, readFile := filepath.Join(dir, "motcua.db"), filepath.Join(dir, "motcua-readmodels.db")
			if got := fileOf(b.KeysDB); got != logFile {
				t.Errorf("the keys are in %s, want %s", got, logFile)
			}
			for name, db := range map[string]*sql.DB{"ReadDB": b.ReadDB, "ProjectionDB": b.ProjectionDB} {
				if got := fileOf(db); got != readFile {
					t.Errorf("%s is on %s, want %s", name, got, readFile)
				}
			}
			if !holds(b.KeysDB, "events") || !holds(b.KeysDB, "shred_keys") || holds(b.KeysDB, "projection_checkpoints") {
				t.Error("the log's file should hold the events and the keys, and no read model")
			}
			if holds(b.ReadDB, "events") || holds(b.ReadDB, "shred_keys") || !holds(b.ReadDB, "projection_checkpoints") {
				t.Error("the read models' file should hold the read models, and neither events nor keys")
			}
			// Connections given back stay open for the next queries, as on the store's own pool.
			var held []*sql.Conn
			for range sqlite.IdleConns {
				conn, err := b.ReadDB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, conn)
			}
			for _, conn := range held {
				conn.Close()
			}
			if idle := b.ReadDB.Stats().Idle; idle < sqlite.IdleConns {
				t.Errorf("ReadDB keeps %d connections idle, want %d", idle, sqlite.IdleConns)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("named path", func(t *testing.T) {
		dir := t.TempDir()
		b := open("sqlite:"+filepath.Join(dir, "province.db"), t.TempDir())
		defer b.Close()
		if got, want := fileOf(b.ReadDB), filepath.Join(dir, "province-readmodels.db"); got != want {
			t.Errorf("ReadDB is on %s, want %s", got, want)
		}
	})

	t.Run("made before", func(t *testing.T) {
		dir := t.TempDir()
		logFile := filepath.Join(dir, "motcua.db")
		store, err := sqlite.Open(ctx, logFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.MigrateEngine(ctx, store.DB()); err != nil {
			t.Fatal(err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}
		b := open("", dir)
		defer b.Close()
		for name, db := range map[string]*sql.DB{"ReadDB": b.ReadDB, "ProjectionDB": b.ProjectionDB, "KeysDB": b.KeysDB} {
			if got := fileOf(db); got != logFile {
				t.Errorf("%s is on %s, want the store's one file %s", name, got, logFile)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "motcua-readmodels.db")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a store made before should get no read models' file: %v", err)
		}
	})
}
