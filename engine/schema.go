package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
)

// addSchemaVersionColumn gives a checkpoint table made before consumers declared schema versions
// its schema_version column. Its rows get 0, which no consumer declares: the tables they stand for
// are rebuilt at the next start, since nothing says which shape they have.
func addSchemaVersionColumn(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `SELECT schema_version FROM projection_checkpoints WHERE 1 = 0`); err == nil {
		return nil
	}
	_, err := db.ExecContext(ctx, `ALTER TABLE projection_checkpoints ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0`)
	if err != nil {
		// Another process may have added it meanwhile.
		if _, again := db.ExecContext(ctx, `SELECT schema_version FROM projection_checkpoints WHERE 1 = 0`); again == nil {
			return nil
		}
		return fmt.Errorf("add schema_version to projection_checkpoints: %w", err)
	}
	return nil
}

// storedSchemaVersion is the schema version of the consumer's tables as its checkpoint row records
// it; found is false when the consumer has no row yet (its tables are about to be created).
func storedSchemaVersion(ctx context.Context, db *sql.DB, name string) (version int, found bool, err error) {
	err = db.QueryRowContext(ctx, `SELECT schema_version FROM projection_checkpoints WHERE name = $1`, name).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return version, err == nil, err
}

// saveSchemaVersion records in tx that the consumer's serving tables have its schema version.
func saveSchemaVersion(ctx context.Context, tx *sql.Tx, c Consumer) error {
	_, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET schema_version = $1 WHERE name = $2`, c.SchemaVersion(), c.Name())
	return err
}

// rebuildChangedSchemas rebuilds, before the runners start, the consumers whose tables were made
// for another schema version than the one they declare: a column added to a read model would
// otherwise stall it on its next event until someone ran `motcua projections rebuild`. The serving
// tables keep answering while the fresh ones fill, as with any rebuild.
func (e *Engine) rebuildChangedSchemas(ctx context.Context, logger *slog.Logger) error {
	var stale []Consumer
	for _, r := range e.Runners {
		stored, found, err := storedSchemaVersion(ctx, e.DB, r.Consumer.Name())
		if err != nil {
			return fmt.Errorf("%s: schema version: %w", r.Consumer.Name(), err)
		}
		if found && stored != r.Consumer.SchemaVersion() {
			logger.Warn("consumer's tables are of another schema version: rebuilding them", "consumer", r.Consumer.Name(),
				"stored_version", stored, "declared_version", r.Consumer.SchemaVersion())
			stale = append(stale, r.Consumer)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	result, err := (&Rebuilder{Store: e.Store, DB: e.DB, Dialect: e.Dialect, Consumers: stale, Logger: logger}).Run(ctx)
	if err != nil {
		return fmt.Errorf("engine: rebuild for a new schema version: %w", err)
	}
	for _, c := range stale {
		logger.Info("consumer rebuilt for its schema version", "consumer", c.Name(), "version", c.SchemaVersion(),
			"events", result.Events, "duration", result.Duration, "position", result.Position)
	}
	return nil
}
