-- Metadata.PrevHash: the hex SHA-256 of the stream's previous event, set by the hash chain decorator so
-- a stream's history is tamper-evident; empty for events appended without it.
ALTER TABLE eventstore.events ADD COLUMN prev_hash text NOT NULL DEFAULT '';
