package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/motcua/motcua/eventstore"
)

// BareInsert is the benchmark baseline (a bench.Baseline): the rows Append writes, written instead by
// one bare INSERT per batch into a plain table with the same columns and no constraint, index,
// version check or transaction id — the rate the database itself sustains for durable commits of
// these rows with the same concurrency. It lives beside the events, in the same database.
type BareInsert struct{ pool *pgxpool.Pool }

const bareInsertTable = "eventstore.bench_bare_insert"

// NewBareInsert creates the baseline's table, empty. Drop it when the benchmark is done.
func (s *Store) NewBareInsert(ctx context.Context) (*BareInsert, error) {
	_, err := s.pool.Exec(ctx, `
		DROP TABLE IF EXISTS `+bareInsertTable+`;
		CREATE TABLE `+bareInsertTable+` (
			stream text, version bigint, id uuid, type text, data json,
			actor_id text, actor_name text, actor_role text, actor_agency text,
			correlation_id uuid, causation_id uuid, occurred_at timestamptz, prev_hash text,
			recorded_at timestamptz DEFAULT now()
		)`)
	if err != nil {
		return nil, fmt.Errorf("postgres: create the bare insert baseline table (is the schema migrated?): %w", err)
	}
	return &BareInsert{pool: s.pool}, nil
}

// Insert writes events as rows firstVersion… of stream: a single-row INSERT … VALUES for one event,
// an INSERT … SELECT FROM unnest for several, each in its own transaction.
func (b *BareInsert) Insert(ctx context.Context, stream string, firstVersion uint64, events []eventstore.EventData) error {
	var err error
	if len(events) == 1 {
		e, m := events[0], events[0].Metadata
		_, err = b.pool.Exec(ctx, `
			INSERT INTO `+bareInsertTable+` (stream, version, id, type, data, actor_id, actor_name, actor_role,
				actor_agency, correlation_id, causation_id, occurred_at, prev_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			stream, int64(firstVersion), pgUUID(e.ID), e.Type, e.Data, m.Actor.ID, m.Actor.Name, m.Actor.Role,
			m.Actor.Agency, pgUUID(m.CorrelationID), pgUUID(m.CausationID), m.OccurredAt, m.PrevHash)
	} else {
		batch := newAppendBatch(events)
		_, err = b.pool.Exec(ctx, `
			INSERT INTO `+bareInsertTable+` (stream, version, id, type, data, actor_id, actor_name, actor_role,
				actor_agency, correlation_id, causation_id, occurred_at, prev_hash)
			SELECT $1, $2 + e.n - 1, e.id, e.type, e.data, e.actor_id, e.actor_name, e.actor_role,
				e.actor_agency, e.correlation_id, e.causation_id, e.occurred_at, e.prev_hash
			FROM unnest($3::uuid[], $4::text[], $5::json[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::uuid[], $11::uuid[], $12::timestamptz[], $13::text[])
				WITH ORDINALITY AS e(id, type, data, actor_id, actor_name, actor_role, actor_agency,
					correlation_id, causation_id, occurred_at, prev_hash, n)`,
			stream, int64(firstVersion), batch.ids, batch.types, batch.data, batch.actorIDs, batch.actorNames,
			batch.actorRoles, batch.agencies, batch.correlationIDs, batch.causationIDs, batch.occurredAt, batch.prevHashes)
	}
	if err != nil {
		return fmt.Errorf("postgres: bare insert: %w", err)
	}
	return nil
}

// Drop removes the baseline's table.
func (b *BareInsert) Drop(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, "DROP TABLE IF EXISTS "+bareInsertTable); err != nil {
		return fmt.Errorf("postgres: drop the bare insert baseline table: %w", err)
	}
	return nil
}
