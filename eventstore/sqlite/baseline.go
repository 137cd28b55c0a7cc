package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// BareInsert is the benchmark baseline (a bench.Baseline): the rows Append writes, written instead by
// plain INSERTs in one immediate transaction per batch into a table with the same columns and no
// constraint or index — the rate this file sustains for durable commits of these rows. It lives in the
// same file, with the same pragmas.
type BareInsert struct{ store *Store }

const bareInsertTable = "bench_bare_insert"

// NewBareInsert creates the baseline's table, empty. Drop it when the benchmark is done.
func (s *Store) NewBareInsert(ctx context.Context) (*BareInsert, error) {
	for _, stmt := range []string{
		`DROP TABLE IF EXISTS ` + bareInsertTable,
		`CREATE TABLE ` + bareInsertTable + ` (stream TEXT, version INTEGER, event_id TEXT, type TEXT, data TEXT, metadata TEXT, recorded_at TEXT)`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("eventstore/sqlite: create the bare insert baseline table: %w", err)
		}
	}
	return &BareInsert{store: s}, nil
}

// Insert writes events as rows firstVersion… of stream in one transaction. Like Append, it takes the
// store's write slot, so both queue for SQLite's single writer the same way.
func (b *BareInsert) Insert(ctx context.Context, stream string, firstVersion uint64, events []eventstore.EventData) error {
	select {
	case b.store.writeSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.store.writeSlot }()
	tx, err := b.store.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	recordedAt := time.Now().UTC().Format(recordedAtLayout)
	for i, e := range events {
		metadata, err := json.Marshal(e.Metadata)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+bareInsertTable+` VALUES (?, ?, ?, ?, ?, ?, ?)`,
			stream, firstVersion+uint64(i), e.ID.String(), e.Type, string(e.Data), string(metadata), recordedAt); err != nil {
			return fmt.Errorf("eventstore/sqlite: bare insert: %w", err)
		}
	}
	return tx.Commit()
}

// Drop removes the baseline's table.
func (b *BareInsert) Drop(ctx context.Context) error {
	_, err := b.store.db.ExecContext(ctx, `DROP TABLE IF EXISTS `+bareInsertTable)
	return err
}
