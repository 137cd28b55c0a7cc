package portal

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/delivery"
)

// The portal's acknowledgements are its delivery rows: a DongBoHoSoMC delivery in state sent is a
// document the portal acknowledged (client.go returns no error otherwise). What the indicator and
// the reconciliation ask of them is answered from the deliveries table, through these indexes.
var portalIndexes = []string{
	`CREATE INDEX IF NOT EXISTS deliveries_dvcqg_period ON deliveries (occurred_at) WHERE destination = 'dvcqg'`,
	`CREATE INDEX IF NOT EXISTS deliveries_dvcqg_dossier ON deliveries (dossier_id, id) WHERE destination = 'dvcqg'`,
}

// Migrate creates the delivery tables (delivery.Migrate must have run) and the indexes the
// indicator and the reconciliation read.
func Migrate(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := d.Check(); err != nil {
		return err
	}
	for _, statement := range portalIndexes {
		if _, err := db.ExecContext(ctx, statement); err != nil {
			return fmt.Errorf("portal: migrate: %w", err)
		}
	}
	return nil
}

// latestStates selects, for each dossier whose public state changed in [$1, $2), the DongBoHoSoMC
// delivery of its latest change in the period (skipped ones — erased applicants — left out).
const latestStates = `FROM deliveries d
	WHERE d.destination = 'dvcqg' AND d.kind IN ('create', 'update', 'update+progress')
		AND d.occurred_at >= $1 AND d.occurred_at < $2 AND d.state <> 'skipped'
		AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.destination = 'dvcqg' AND e.dossier_id = d.dossier_id
			AND e.id > d.id AND e.kind IN ('create', 'update', 'update+progress') AND e.occurred_at < $2 AND e.state <> 'skipped')`

// Synced is QĐ 766's "synced" indicator over a period: of the dossiers whose public state changed
// in it, how many the portal acknowledged in their latest state of the period.
type Synced struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Dossiers     int64     `json:"dossiers"`
	Acknowledged int64     `json:"acknowledged"`
}

// Percent is the indicator: 100 when no dossier changed.
func (s Synced) Percent() float64 {
	if s.Dossiers == 0 {
		return 100
	}
	return 100 * float64(s.Acknowledged) / float64(s.Dossiers)
}

// SyncedIndicator computes the indicator over [from, to) in one aggregate query.
func SyncedIndicator(ctx context.Context, db *sql.DB, from, to time.Time) (Synced, error) {
	s := Synced{From: from, To: to}
	err := db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.state = 'sent' THEN 1 ELSE 0 END), 0) `+latestStates,
		from.UnixMilli(), to.UnixMilli()).Scan(&s.Dossiers, &s.Acknowledged)
	if err != nil {
		return s, fmt.Errorf("portal: the synced indicator: %w", err)
	}
	return s, nil
}

// Reconciled says what Reconcile did.
type Reconciled struct {
	Dossiers     int64 `json:"dossiers"`     // whose public state changed in the period
	Acknowledged int64 `json:"acknowledged"` // in their latest state
	Requeued     int64 `json:"requeued"`     // latest state not acknowledged: its delivery is due again now
	// Unrecorded counts the dossiers of the period the outbox never recorded a portal delivery
	// for (every change before the origin): their latest state is now recorded, as a create.
	Unrecorded int64 `json:"unrecorded"`
}

// Reconcile compares, for the dossiers whose public state changed in [from, to), the portal's
// acknowledgements with the log's latest state, and makes every unacknowledged latest state due
// again: its delivery row (dead or failing) goes back to pending with a fresh count of attempts,
// under its own idempotency key — a portal that did take it acknowledges it again without applying
// it twice, and the full state it carries supersedes every earlier one. Then, when store is given,
// it records the latest state of the dossiers alive in the period that have no portal delivery at
// all (ReconcileUnrecorded). Pages of pageSize rows.
func Reconcile(ctx context.Context, db *sql.DB, store Reader, from, to, now time.Time, pageSize int) (Reconciled, error) {
	if pageSize <= 0 || pageSize > 500 {
		pageSize = 500
	}
	r, err := requeueUnacknowledged(ctx, db, from, to, now, pageSize)
	if err != nil || store == nil {
		return r, err
	}
	r.Unrecorded, err = ReconcileUnrecorded(ctx, db, store, from, to, now, pageSize)
	return r, err
}

// requeueUnacknowledged is Reconcile's first half: the delivery rows of unacknowledged latest states.
func requeueUnacknowledged(ctx context.Context, db *sql.DB, from, to, now time.Time, pageSize int) (Reconciled, error) {
	var r Reconciled
	after := int64(0)
	for {
		rows, err := db.QueryContext(ctx, `SELECT d.id, d.state `+latestStates+` AND d.id > $3 ORDER BY d.id LIMIT $4`,
			from.UnixMilli(), to.UnixMilli(), after, pageSize)
		if err != nil {
			return r, fmt.Errorf("portal: reconcile: %w", err)
		}
		var stale []int64
		n := 0
		for rows.Next() {
			var id int64
			var state string
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return r, err
			}
			n++
			after = id
			r.Dossiers++
			if state == "sent" {
				r.Acknowledged++
			} else {
				stale = append(stale, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, err
		}
		for _, id := range stale {
			res, err := db.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, done_at = 0
				WHERE id = $2 AND state IN ('pending', 'dead')`, now.UnixMilli(), id)
			if err != nil {
				return r, fmt.Errorf("portal: reconcile %d: %w", id, err)
			}
			changed, err := res.RowsAffected()
			if err != nil {
				return r, err
			}
			r.Requeued += changed
		}
		if n < pageSize {
			return r, nil
		}
	}
}

// ReconcileUnrecorded records a delivery of the latest public state of every dossier alive in
// [from, to) — received or submitted before to, not closed before from — for which the outbox holds
// no portal delivery at all: a dossier whose every change predates the outbox's origin (the portal
// switched on in a deployment with history). The delivery is a create (the portal never heard of
// the dossier) about the dossier's latest event that calls for DongBoHoSoMC; its idempotency key
// is the one the consumer would have given it, so no two rows can be made for it. It pages through
// the dossiers the consumer folded, pageSize at a time, reading one dossier's events at a time.
func ReconcileUnrecorded(ctx context.Context, db *sql.DB, store Reader, from, to, now time.Time, pageSize int) (int64, error) {
	var recorded int64
	after := ""
	for {
		streams, dossiers, err := delivery.FoldedDossiers(ctx, db, after, pageSize)
		if err != nil {
			return recorded, err
		}
		for i, stream := range streams {
			after = stream
			d := dossiers[i]
			start := d.ReceivedAt
			if start.IsZero() {
				start = d.SubmittedAt
			}
			if portalCode(d) == "" || d.Status.PortalStatusCode() == 0 || !start.Before(to) ||
				(!d.ClosedAt.IsZero() && d.ClosedAt.Before(from)) {
				continue
			}
			var rows int
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE destination = 'dvcqg' AND dossier_id = $1 LIMIT 1) x`, stream).Scan(&rows)
			if err != nil {
				return recorded, fmt.Errorf("portal: reconcile %s: %w", stream, err)
			}
			if rows > 0 {
				continue
			}
			latest, err := latestSyncEvent(ctx, store, stream)
			if err != nil || latest == nil {
				return recorded, err
			}
			inserted, err := delivery.EnqueueEvent(ctx, db, DestinationName, KindCreate, *latest, now)
			if err != nil {
				return recorded, err
			}
			if inserted {
				recorded++
			}
		}
		if len(streams) < pageSize {
			return recorded, nil
		}
	}
}

// latestSyncEvent is the dossier's latest event that calls for a DongBoHoSoMC document.
func latestSyncEvent(ctx context.Context, store Reader, stream string) (*eventstore.RecordedEvent, error) {
	events, err := store.ReadStream(ctx, stream, 1)
	if err != nil {
		return nil, fmt.Errorf("portal: read %s: %w", stream, err)
	}
	var (
		d      domain.Dossier
		latest *eventstore.RecordedEvent
	)
	for i, re := range events {
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			return nil, fmt.Errorf("portal: decode %s v%d: %w", stream, re.Version, err)
		}
		after := domain.Evolve(d, e)
		if kind := plan(e, d, after); kind != "" && Services(kind)[0] == ServiceSync {
			latest = &events[i]
		}
		d = after
	}
	return latest, nil
}
