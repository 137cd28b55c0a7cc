package main

import (
	"context"
	"flag"

	"github.com/motcua/motcua/cmd/motcua/wiring"
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
	// migrateReadModels creates or migrates every read model's tables.
	migrateReadModels bool
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
}

// openDeployment opens the store named by flags as opts say. Close it when done.
func openDeployment(ctx context.Context, flags *storeFlags, opts openOptions) (*deployment, error) {
	b, err := openBackend(ctx, flags.url, flags.dataDir, opts.migrateStore)
	if err != nil {
		return nil, err
	}
	opened := &deployment{backend: b}
	if opts.personalData {
		if opened.events, err = wiring.Decorate(ctx, b.Store, b.ReadDB); err != nil {
			b.Close()
			return nil, err
		}
	}
	if opts.migrateReadModels {
		if err := migrateReadModels(ctx, b.ReadDB, b.Dialect()); err != nil {
			b.Close()
			return nil, err
		}
	}
	return opened, nil
}
