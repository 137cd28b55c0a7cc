package main

import (
	"context"
	"crypto/rand"
	"database/sql"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/engine"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/timers"
)

// migrateTables creates or migrates every table motcua keeps beside the event store, whichever
// features a node turns on: the read models, the engine's checkpoints, the outbox and the
// portal's indexes on it, the portal poller's cursor, the timers, the access log, the idempotency
// keys, the public budgets shared by the nodes. Each step is harmless when its tables exist;
// together, run under engine.LockSchema, they leave nothing for a node to create while another
// creates it.
func migrateTables(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := engine.MigrateEngine(ctx, db); err != nil {
		return err
	}
	if d == engine.PostgreSQL {
		if err := engine.MigrateLeases(ctx, db); err != nil {
			return err
		}
	}
	if err := migrateReadModels(ctx, db, d); err != nil {
		return err
	}
	for _, step := range []func(context.Context, *sql.DB, engine.Dialect) error{
		delivery.Migrate, portal.Migrate, inbound.Migrate, timers.Migrate,
	} {
		if err := step(ctx, db, d); err != nil {
			return err
		}
	}
	// The access log's schema does not depend on its blind-index key, which lives in the data
	// directory of the nodes that record reads: any key of the right length makes the tables.
	log, err := accesslog.New(db, d, []byte(rand.Text()+rand.Text()))
	if err != nil {
		return err
	}
	if err := log.Migrate(ctx); err != nil {
		return err
	}
	if err := mhttp.MigrateRateLimits(ctx, db); err != nil {
		return err
	}
	return mhttp.MigrateIdempotencyKeys(ctx, db)
}
