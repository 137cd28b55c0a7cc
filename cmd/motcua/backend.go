package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/esdb"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// backend is an event store and the SQL database that holds the read models.
type backend struct {
	// Store is the store as opened, undecorated: openDeployment stacks its decorators (wiring.Decorate).
	Store eventstore.Store
	// ReadDB holds the read models and serves their queries, with the tables kept beside them that
	// no replay brings back (the outbox, the access log, sessions, idempotency keys).
	ReadDB *sql.DB
	// ProjectionDB is the same database, for the projections' own writes: on SQLite a pool that
	// commits without fsync (sqlite.ReadModelDSN), since read models are rebuilt from the log.
	ProjectionDB *sql.DB
	// KeysDB holds the personal-data keys (eventstore/shred): the store's own database on SQLite and
	// PostgreSQL, so that a backup of the log carries the keys that open it; ReadDB on EventStoreDB.
	KeysDB *sql.DB
	Kind   string
	// schemaCurrent, when set, checks that the store's schema is migrated (PostgreSQL).
	schemaCurrent func(ctx context.Context) error
	// migrateStore, when set, migrates the store's schema (PostgreSQL).
	migrateStore func(ctx context.Context) error
	close        []func() error
}

// ready is the readiness check of GET /readyz: the event store and the read database answer, and
// the store's schema is current. The read models are migrated at every start, so they always are.
// It reads the stored events, undecorated: answering needs no key.
func (b *backend) ready() func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := b.ReadDB.PingContext(ctx); err != nil {
			return fmt.Errorf("read database: %w", err)
		}
		if _, err := b.Store.ReadAll(ctx, eventstore.Start, 1); err != nil {
			return fmt.Errorf("event store: %w", err)
		}
		if b.schemaCurrent != nil {
			return b.schemaCurrent(ctx)
		}
		return nil
	}
}

// Dialect is the SQL dialect of the database the read models live in: PostgreSQL's own with the
// postgres store, an SQLite file with the others (EventStoreDB keeps them in <data>/readmodels.db).
func (b *backend) Dialect() engine.Dialect {
	if b.Kind == "postgres" {
		return engine.PostgreSQL
	}
	return engine.SQLite
}

func (b *backend) Close() error {
	var errs []error
	for i := len(b.close) - 1; i >= 0; i-- {
		errs = append(errs, b.close[i]())
	}
	return errors.Join(errs...)
}

// openBackend opens the store named by storeURL:
//
//	sqlite:PATH (default: sqlite:<data>/motcua.db; read models in a file beside it, sqliteReadModelsPath)
//	postgres://… or postgresql://…  (read models in the same database)
//	esdb://…, esdb+discover://…, kurrentdb://…  (read models in <data>/readmodels.db)
//
// PostgreSQL's schema is migrated unless migrate is false.
func openBackend(ctx context.Context, storeURL, dataDir string, migrate bool) (*backend, error) {
	if storeURL == "" {
		storeURL = defaultStoreURL(dataDir)
		if err := ensurePrivateDir(dataDir); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.HasPrefix(storeURL, "sqlite:"):
		path := strings.TrimPrefix(storeURL, "sqlite:")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		readPath, err := sqliteReadModelsPath(ctx, store.DB(), path)
		if err != nil {
			store.Close()
			return nil, err
		}
		if readPath == path {
			// A store made before the read models had a file of their own keeps them in its one file.
			projectionDB, err := openReadModelPool(path)
			if err != nil {
				store.Close()
				return nil, err
			}
			return &backend{Store: store, ReadDB: store.DB(), ProjectionDB: projectionDB, KeysDB: store.DB(), Kind: "sqlite",
				close: []func() error{store.Close, projectionDB.Close}}, nil
		}
		if err := sqlite.CreatePrivate(readPath); err != nil {
			store.Close()
			return nil, err
		}
		readDB, err := openReadDB(readPath)
		if err != nil {
			store.Close()
			return nil, err
		}
		projectionDB, err := openReadModelPool(readPath)
		if err != nil {
			readDB.Close()
			store.Close()
			return nil, err
		}
		return &backend{Store: store, ReadDB: readDB, ProjectionDB: projectionDB, KeysDB: store.DB(), Kind: "sqlite",
			close: []func() error{store.Close, readDB.Close, projectionDB.Close}}, nil
	case strings.HasPrefix(storeURL, "postgres://"), strings.HasPrefix(storeURL, "postgresql://"):
		store, err := postgres.Open(ctx, storeURL)
		if err != nil {
			return nil, err
		}
		db := stdlib.OpenDBFromPool(store.Pool())
		if migrate {
			if err := migrateLocked(ctx, db, store.Migrate); err != nil {
				db.Close()
				store.Close()
				return nil, err
			}
		}
		return &backend{Store: store, ReadDB: db, ProjectionDB: db, KeysDB: db, Kind: "postgres", schemaCurrent: store.SchemaCurrent,
			migrateStore: store.Migrate, close: []func() error{store.Close, db.Close}}, nil
	case strings.HasPrefix(storeURL, "esdb://"), strings.HasPrefix(storeURL, "esdb+discover://"), strings.HasPrefix(storeURL, "kurrentdb://"), strings.HasPrefix(storeURL, "kurrentdb+discover://"):
		store, err := esdb.Open(ctx, storeURL)
		if err != nil {
			return nil, err
		}
		if err := ensurePrivateDir(dataDir); err != nil {
			store.Close()
			return nil, err
		}
		path := filepath.Join(dataDir, "readmodels.db")
		if err := sqlite.CreatePrivate(path); err != nil {
			store.Close()
			return nil, err
		}
		db, err := openReadDB(path)
		if err != nil {
			store.Close()
			return nil, err
		}
		projectionDB, err := openReadModelPool(path)
		if err != nil {
			db.Close()
			store.Close()
			return nil, err
		}
		return &backend{Store: store, ReadDB: db, ProjectionDB: projectionDB, KeysDB: db, Kind: "esdb",
			close: []func() error{store.Close, db.Close, projectionDB.Close}}, nil
	}
	return nil, fmt.Errorf("--store %q: expected sqlite:PATH, postgres://…, esdb://… or kurrentdb://…", storeURL)
}

// sqliteReadModelsPath returns the SQLite file the read models of the log at path live in: a file of
// their own beside the log's (motcua.db → motcua-readmodels.db), or the log's own file for a store
// made before they moved out, which holds them already (its projection_checkpoints table says so).
//
// In one file every flush of a catch-up committed where the log is read: SQLite drops a
// connection's whole page cache when another commits to its file, so the log's readers and the
// personal-data keys' lookups read their pages again after each flush, and the log's appends
// queued behind the read models' writes for the file's one write lock. Apart, a 1 M catch-up
// spent a fifth less CPU (docs/benchmarks.md, session 27). Nothing needs a transaction across the
// two: commands append to the log alone, and the read models write their rows with their
// checkpoints.
func sqliteReadModelsPath(ctx context.Context, logDB *sql.DB, path string) (string, error) {
	readPath := readModelsFileBeside(path)
	if _, err := os.Stat(readPath); err == nil {
		return readPath, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var inLog int
	if err := logDB.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'`).Scan(&inLog); err != nil {
		return "", fmt.Errorf("look for read models in %s: %w", path, err)
	}
	if inLog > 0 {
		return path, nil
	}
	return readPath, nil
}

// defaultStoreURL is the store opened without --store: SQLite in the data directory.
func defaultStoreURL(dataDir string) string { return "sqlite:" + filepath.Join(dataDir, "motcua.db") }

// readModelsFileBeside is the read models' file of the SQLite log at path: motcua.db →
// motcua-readmodels.db.
func readModelsFileBeside(path string) string {
	return strings.TrimSuffix(path, ".db") + "-readmodels.db"
}

// migrateLocked runs the PostgreSQL store's migration under the schema lock.
func migrateLocked(ctx context.Context, db *sql.DB, migrate func(context.Context) error) error {
	unlock, err := engine.LockSchema(ctx, db, engine.PostgreSQL)
	if err != nil {
		return err
	}
	defer unlock()
	return migrate(ctx)
}

// openReadDB opens the durable pool that serves the read models' queries on the SQLite file at path
// (ReadDB), keeping as many connections idle as the store's own pool (sqlite.IdleConns): with
// database/sql's default of two, 32 clients of the public lookup opened a connection for most
// requests, at a third of the rate (docs/benchmarks.md, session 27).
func openReadDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open the read models' pool on %q: %w", path, err)
	}
	db.SetMaxIdleConns(sqlite.IdleConns)
	return db, nil
}

// openReadModelPool opens the pool the projections write through on the SQLite file at path.
func openReadModelPool(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", sqlite.ReadModelDSN(path))
	if err != nil {
		return nil, fmt.Errorf("open the read-model pool on %q: %w", path, err)
	}
	db.SetMaxIdleConns(4)
	return db, nil
}
