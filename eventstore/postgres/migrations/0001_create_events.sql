-- The event store's tables live in their own schema, so read models can share the database
-- (Store.Pool) without name clashes.

-- One row per event. Global order is (xid, seq): xid is the writing transaction's id and seq a
-- sequence number. Readers only return rows whose xid is below the oldest transaction still running
-- (pg_snapshot_xmin), so a row can never appear behind a position a reader has already passed. See
-- docs/eventstore.md.
CREATE TABLE eventstore.events (
	seq            bigint      GENERATED ALWAYS AS IDENTITY (CACHE 64),
	xid            xid8        NOT NULL DEFAULT pg_current_xact_id(),
	stream         text        NOT NULL,
	version        bigint      NOT NULL CHECK (version > 0),
	id             uuid        NOT NULL,
	type           text        NOT NULL,
	data           json        NOT NULL, -- json, not jsonb: the payload's bytes are kept exactly as appended
	actor_id       text        NOT NULL,
	actor_name     text        NOT NULL,
	actor_role     text        NOT NULL,
	actor_agency   text        NOT NULL,
	correlation_id uuid        NOT NULL,
	causation_id   uuid        NOT NULL,
	occurred_at    timestamptz NOT NULL,
	recorded_at    timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT events_global_order PRIMARY KEY (xid, seq),
	-- Optimistic concurrency: two appends that read the same stream version cannot both commit.
	CONSTRAINT events_stream_version UNIQUE (stream, version),
	-- Idempotency: an event id is stored at most once.
	CONSTRAINT events_id UNIQUE (id)
);
