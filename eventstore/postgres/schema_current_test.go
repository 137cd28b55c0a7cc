package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// A schema with a migration missing is not current: a node started with --no-migrate on it must
// say it is not ready.
func TestSchemaCurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.NewDatabase(t)
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.SchemaCurrent(ctx); err == nil {
		t.Fatal("an unmigrated database is reported current")
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.SchemaCurrent(ctx); err != nil {
		t.Fatalf("a migrated database: %v", err)
	}
	if _, err := store.Pool().Exec(ctx, "DELETE FROM eventstore.schema_migrations WHERE version = (SELECT max(version) FROM eventstore.schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	if err := store.SchemaCurrent(ctx); err == nil {
		t.Fatal("a database missing its latest migration is reported current")
	}
}
