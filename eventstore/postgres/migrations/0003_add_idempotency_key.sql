-- Metadata.IdempotencyKey and Metadata.RequestHash: the Idempotency-Key of the request that produced
-- the event and that request's fingerprint, so a repeated request is recognised from the events
-- themselves; empty for events of requests sent without a key. Adding a column with a constant
-- default rewrites no row.
ALTER TABLE eventstore.events
	ADD COLUMN idempotency_key text NOT NULL DEFAULT '',
	ADD COLUMN request_hash text NOT NULL DEFAULT '';
