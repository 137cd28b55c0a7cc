package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/motcua/motcua/commands"
)

// catalogRefreshEvery is how often a node reads the catalog's changes other nodes recorded. The
// use cases that take a procedure from the catalog read them first anyway (a receipt is decided on
// the latest change); this keeps the pages' lists of procedures and agencies current.
const catalogRefreshEvery = 2 * time.Second

// seedCatalog records the catalog file (--catalog, else the demo's) as the catalog stream's first
// change on a deployment's first start; later starts fold the stream and leave the file unread
// (docs/catalog.md, "The catalog's history"). It runs under the schema lock, so two nodes starting
// together seed once.
func seedCatalog(ctx context.Context, app *commands.App, logger *slog.Logger) error {
	seeded, err := app.SeedCatalog(ctx, app.Catalog())
	if err != nil {
		return err
	}
	h := app.CatalogHistory()
	if seeded {
		logger.Info("catalog seeded from its file", "revision", h.Revision)
	} else {
		logger.Info("catalog folded from its stream", "revision", h.Revision)
	}
	return nil
}

// followCatalog keeps this node's catalog current with the stream until ctx ends. A failed read
// (the database away a moment) is logged and tried again at the next tick.
func followCatalog(ctx context.Context, app *commands.App, logger *slog.Logger) error {
	ticker := time.NewTicker(catalogRefreshEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if err := app.RefreshCatalog(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("catalog refresh", "err", err)
			}
		}
	}
}
