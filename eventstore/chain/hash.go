// Package chain makes an event store's history tamper-evident, the same way on every backend.
//
// Wrap decorates an eventstore.Store so that every appended event records, in Metadata.PrevHash, the
// hash of its stream's previous event (of the stream name for the first event): altering, removing or
// reordering a stored event breaks the link from the event after it. Links alone do not stop
// someone who can write the database and recomputes them, nor show that the last events of a stream
// were removed; so a Checkpointer periodically signs, with the deployment's Ed25519 key, a rolling
// hash of the whole global log together with each event's hash. Verification (VerifyAll for the whole
// store, Verifier.VerifyStream for one dossier) recomputes everything and names each event that was
// altered, removed, inserted or reordered. See docs/security.md, "Tamper evidence".
package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// eventHashDomain prefixes the canonical encoding, so an event hash can never be mistaken for the
// hash of anything else; a change of encoding gets a new prefix.
const eventHashDomain = "motcua.event.v1"

// occurredAtLayout writes OccurredAt in UTC with exactly microseconds, the precision every backend
// keeps (PostgreSQL's timestamptz has no more).
const occurredAtLayout = "2006-01-02T15:04:05.000000Z"

// StreamSeed is the PrevHash of a stream's first event: the hex SHA-256 of the stream name.
func StreamSeed(stream string) string {
	sum := sha256.Sum256([]byte(stream))
	return hex.EncodeToString(sum[:])
}

// Hash returns the hex SHA-256 of the event at version of stream, over a canonical encoding of
// everything the event store keeps of it except where it landed in the global log: stream, version,
// id, type, data (its exact bytes), the metadata including PrevHash and the idempotency key, and the
// occurred-at time.
// Each field is length-prefixed, so no two different events encode alike.
func Hash(stream string, version uint64, e eventstore.EventData) string {
	h := sha256.New()
	var buf [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(b)))
		h.Write(buf[:])
		h.Write(b)
	}
	field([]byte(eventHashDomain))
	field([]byte(stream))
	field(binary.BigEndian.AppendUint64(nil, version))
	field(e.ID[:])
	field([]byte(e.Type))
	field(e.Data)
	m := e.Metadata
	field([]byte(m.Actor.ID))
	field([]byte(m.Actor.Name))
	field([]byte(m.Actor.Role))
	field([]byte(m.Actor.Agency))
	field(m.CorrelationID[:])
	field(m.CausationID[:])
	field([]byte(m.OccurredAt.UTC().Truncate(time.Microsecond).Format(occurredAtLayout)))
	field([]byte(m.PrevHash))
	// Only events of keyed requests carry these, so every event stored before them hashes as it did.
	if m.IdempotencyKey != "" || m.RequestHash != "" {
		field([]byte(m.IdempotencyKey))
		field([]byte(m.RequestHash))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordedHash is Hash of an event as read back.
func recordedHash(e eventstore.RecordedEvent) string { return Hash(e.Stream, e.Version, e.EventData) }
