package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey names the advisory lock that serialises migrations across every node sharing the
// database (an arbitrary constant: "motcua-es" in ASCII).
const migrationLockKey int64 = 0x6d6f74637561_6573

// migration is one versioned schema change, from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: list migrations: %w", err)
	}
	migrations := make([]migration, 0, len(entries))
	for _, entry := range entries {
		prefix, name, ok := strings.Cut(strings.TrimSuffix(entry.Name(), ".sql"), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: migration file %s is not named NNNN_name.sql", entry.Name())
		}
		sql, err := fs.ReadFile(migrationFiles, "migrations/"+entry.Name())
		if err != nil {
			return nil, fmt.Errorf("postgres: read migration %s: %w", entry.Name(), err)
		}
		migrations = append(migrations, migration{version: version, name: name, sql: string(sql)})
	}
	sort.Slice(migrations, func(i, j int) bool { return migrations[i].version < migrations[j].version })
	return migrations, nil
}

// Migrate brings the event store's schema up to date. It is safe to run from several nodes at
// once: a transaction-scoped advisory lock makes them take turns, and each applies only the
// migrations it finds missing, all in one transaction.
func (s *Store) Migrate(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Schema changes may take longer than the write timeout that bounds appends.
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			CREATE SCHEMA IF NOT EXISTS eventstore;
			CREATE TABLE IF NOT EXISTS eventstore.schema_migrations (
				version    integer     PRIMARY KEY,
				name       text        NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return fmt.Errorf("create the migrations table: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT version FROM eventstore.schema_migrations")
		if err != nil {
			return err
		}
		appliedVersions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read applied migrations: %w", err)
		}
		applied := make(map[int]bool, len(appliedVersions))
		for _, v := range appliedVersions {
			applied[int(v)] = true
		}
		for _, m := range migrations {
			if applied[m.version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO eventstore.schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
			}
			s.logger.Info("event store migration applied", "version", m.version, "name", m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// SchemaCurrent reports an error unless every migration this build knows is applied: a node started
// with --no-migrate before the schema was migrated must not take traffic (GET /readyz).
func (s *Store) SchemaCurrent(ctx context.Context) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	var applied int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM eventstore.schema_migrations WHERE version <= $1",
		migrations[len(migrations)-1].version).Scan(&applied); err != nil {
		return fmt.Errorf("postgres: read applied migrations: %w", err)
	}
	if applied < len(migrations) {
		return fmt.Errorf("postgres: %d of %d schema migrations applied", applied, len(migrations))
	}
	return nil
}
