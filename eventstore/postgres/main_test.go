package postgres_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/eventstoretest"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(appendChildEnv); dsn != "" {
		runAppendChild(dsn) // this process is the writer that TestKillWriterLosesNoAcknowledgedEvent kills
		return
	}
	pgtest.Main(m)
}

// openStore opens a migrated store on a fresh database, closed when the test ends.
func openStore(t testing.TB, opts ...postgres.Option) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	return openStoreAt(t, dsn, opts...), dsn
}

// openStoreAt opens a store on an existing database, migrating it.
func openStoreAt(t testing.TB, dsn string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Log through the test, so reconnection warnings show with the test that caused them.
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := postgres.Open(ctx, dsn, append([]postgres.Option{postgres.WithLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return store
}

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		store, _ := openStore(t)
		return store
	})
}
