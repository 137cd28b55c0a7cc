package main

import (
	"context"
	"flag"
	"github.com/motcua/motcua/domain/calendar"

	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/engine"
)

// storeURLUsage is the --store flag's usage wherever any store may be named.
const storeURLUsage = "event store URL: sqlite:PATH (default under --data), postgres://…, esdb://…, kurrentdb://…"

// storeFlags name the event store and the data directory: every subcommand that opens the store
// registers them with addStoreFlags and opens it with openDeployment.
type storeFlags struct {
	url, dataDir string
}

// addStoreFlags declares --store and --data on fs; the usages say what the subcommand keeps there.
func addStoreFlags(fs *flag.FlagSet, storeUsage, dataUsage string) *storeFlags {
	f := &storeFlags{}
	fs.StringVar(&f.url, "store", "", storeUsage)
	fs.StringVar(&f.dataDir, "data", "./data", dataUsage)
	return f
}

// openOptions say what a subcommand needs of the deployment beyond the opened backend.
type openOptions struct {
	// migrateStore migrates the PostgreSQL store's schema.
	migrateStore bool
	// migrateReadModels creates or migrates every read model's tables and every other table motcua
	// keeps beside the store (migrateTables).
	migrateReadModels bool
	// holdSchemaLock keeps the schema lock (engine.LockSchema) after opening, for a caller that
	// creates more (serve: the outbox's and the timers' origins, the demo's seed) before it calls
	// releaseSchemaLock; Close releases it too.
	holdSchemaLock bool
	// personalData opens the personal-data keys and stacks the store's decorators (wiring.Decorate);
	// without it the subcommand reads only the stored events (verification, status).
	personalData bool
}

// deployment is what a subcommand works on: the backend and, when opened with personalData, the
// event store with its decorators in their one right order.
type deployment struct {
	*backend
	// events is nil unless opened with personalData.
	events *wiring.Events
	// unlockSchema gives the schema lock back; nil unless held.
	unlockSchema func()
	// calendar is the deployment's working-day calendar (--calendar), which the read models that
	// measure working time fold with (projections.MeasuredWith); nil for the national one.
	calendar *calendar.Calendar
}

// releaseSchemaLock gives back the schema lock held since openDeployment (holdSchemaLock).
func (d *deployment) releaseSchemaLock() {
	if d.unlockSchema != nil {
		d.unlockSchema()
		d.unlockSchema = nil
	}
}

// Close releases the schema lock if still held, then closes the backend.
func (d *deployment) Close() error {
	d.releaseSchemaLock()
	return d.backend.Close()
}

// openDeployment opens the store named by flags as opts say. Close it when done.
//
// Every schema step — the store's, the personal-data keys' table, every other table — runs under
// one lock (engine.LockSchema), so several nodes, or `motcua migrate` run twice, may start together
// on an empty PostgreSQL database.
func openDeployment(ctx context.Context, flags *storeFlags, opts openOptions) (*deployment, error) {
	b, err := openBackend(ctx, flags.url, flags.dataDir, false)
	if err != nil {
		return nil, err
	}
	opened := &deployment{backend: b}
	if err := opened.migrate(ctx, opts); err != nil {
		opened.Close()
		return nil, err
	}
	if !opts.holdSchemaLock {
		opened.releaseSchemaLock()
	}
	return opened, nil
}

// migrate runs the schema steps opts ask for under the schema lock, which it leaves held.
func (d *deployment) migrate(ctx context.Context, opts openOptions) error {
	if !opts.migrateStore && !opts.migrateReadModels && !opts.personalData && !opts.holdSchemaLock {
		return nil
	}
	unlock, err := engine.LockSchema(ctx, d.ReadDB, d.Dialect())
	if err != nil {
		return err
	}
	d.unlockSchema = unlock
	if opts.migrateStore && d.migrateStore != nil {
		if err := d.migrateStore(ctx); err != nil {
			return err
		}
	}
	if opts.personalData {
		if d.events, err = wiring.Decorate(ctx, d.Store, d.KeysDB); err != nil {
			return err
		}
	}
	if opts.migrateReadModels {
		return migrateTables(ctx, d.ReadDB, d.Dialect())
	}
	return nil
}
