package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// execer is a transaction or a database.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AlarmEventType is the event type of the deliveries the timers' firer enqueues (timers/): they
// tell officials of a deadline, not the applicant, so the public lookup's SentLog leaves them out.
const AlarmEventType = "timer.alarm"

// Enqueue records, inside tx, a delivery that no single event of the log calls for: a timer's
// alarm firing because nothing happened (timers/). The caller gives the idempotency key, which
// must start with the destination's name and identify what is told (for an alarm: the dossier,
// the kind and the instant it fell due), so that recording it again changes nothing; false when a
// delivery with that key exists already. d.EventID and d.StreamVersion name the event that armed
// it, d.OccurredAt when it fell due; it is sent like any other delivery, in order per dossier and
// destination. The caller migrates the deliveries table first (Migrate).
//
// tx is the caller's transaction, or the database itself for a repair that records one row
// (EnqueueEvent).
func Enqueue(ctx context.Context, tx execer, d Delivery, now time.Time) (bool, error) {
	if d.Destination == "" || d.Key == "" || d.DossierID == "" || d.Kind == "" || d.EventType == "" {
		return false, fmt.Errorf("delivery: enqueue needs a destination, a key, a dossier, a kind and an event type")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO `+deliveriesTable+` (destination, idempotency_key, dossier_id, event_id,
			event_type, kind, stream_version, commit_position, prepare_position, occurred_at, state, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		d.Destination, d.Key, d.DossierID, d.EventID, d.EventType, d.Kind, int64(d.StreamVersion),
		int64(d.Position.Commit), int64(d.Position.Prepare), d.OccurredAt.UnixMilli(), string(Pending), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("delivery: record the %s delivery %s: %w", d.Destination, d.Key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// EnqueueEvent records, outside the consumer, the delivery of kind about the event re to
// destination — the row the consumer records for an event it plans — for a repair that finds an
// event the outbox never recorded (one before the origin: portal reconcile). It reports false when
// the row exists already (its idempotency key is the consumer's: the two never make two rows).
func EnqueueEvent(ctx context.Context, db *sql.DB, destination, kind string, re eventstore.RecordedEvent, now time.Time) (bool, error) {
	occurred := re.Metadata.OccurredAt
	if occurred.IsZero() {
		occurred = re.RecordedAt
	}
	return Enqueue(ctx, db, Delivery{Destination: destination, Key: Key(destination, re.ID.String(), kind),
		DossierID: re.Stream, EventID: re.ID.String(), EventType: re.Type, Kind: kind,
		StreamVersion: re.Version, Position: re.Position, OccurredAt: occurred}, now)
}
