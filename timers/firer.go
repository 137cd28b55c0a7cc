package timers

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
)

// EventType is the event type of an alarm's deliveries in the outbox: what `motcua deliveries
// list` shows for them, and what keeps them off the public lookup's notifications.
const EventType = delivery.AlarmEventType

// Firer fires the armed alarms that fall due. Firing an alarm is one transaction: the alarm
// changes from armed to fired only if it is still armed (a conditional update, which another
// firer on another node waits for and then finds done), and the delivery its notification calls
// for is recorded in the outbox with it. So an alarm fires once whatever the number of nodes, a
// crash before the commit leaves it armed (it fires at the next poll, after a restart at start),
// and its notification is sent by the outbox's dispatcher with an idempotency key derived from the
// alarm (Notifier).
type Firer struct {
	DB      *sql.DB
	Dialect engine.Dialect
	// Destination is the outbox destination told of each fired alarm (NotifierName), or "" to
	// fire alarms without telling anyone: they show on the work queue only.
	Destination string
	// Batch bounds how many alarms one round fires; 100 when zero.
	Batch int
	// PollInterval is how often the firer looks for due alarms; 15 s when zero.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (f *Firer) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Firer) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

// Migrate creates the tables the firer reads and writes: the alarms and, when it tells a
// destination, the outbox's deliveries.
func (f *Firer) Migrate(ctx context.Context) error {
	if err := Migrate(ctx, f.DB, f.Dialect); err != nil {
		return err
	}
	if f.Destination != "" {
		return delivery.Migrate(ctx, f.DB, f.Dialect)
	}
	return nil
}

// Run fires due alarms until ctx ends. A failing database is logged and tried again at the next
// poll.
func (f *Firer) Run(ctx context.Context) error {
	if err := f.Migrate(ctx); err != nil {
		return err
	}
	interval := f.PollInterval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	for {
		n, err := f.FireDue(ctx)
		if err != nil && ctx.Err() == nil {
			f.logger().Warn("timers: firing failed; trying again", "error", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 && err == nil {
			continue // a full batch: more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// dueAlarm is an armed alarm the firer found due.
type dueAlarm struct {
	id                 int64
	key, dossier, kind string
	due                int64
	armedBy            string
	armedVersion       int64
}

// FireDue fires one batch of due alarms, earliest first, and returns how many this firer fired
// (not counting those another firer took meanwhile).
func (f *Firer) FireDue(ctx context.Context) (int, error) {
	limit := f.Batch
	if limit <= 0 {
		limit = 100
	}
	now := f.now()
	rows, err := f.DB.QueryContext(ctx, `SELECT id, alarm_key, dossier_id, kind, due_at, armed_by, armed_version
		FROM `+alarmsTable+` WHERE state = 'armed' AND due_at <= $1 ORDER BY due_at, id LIMIT $2`, now.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("timers: list the due alarms: %w", err)
	}
	var due []dueAlarm
	for rows.Next() {
		var a dueAlarm
		if err := rows.Scan(&a.id, &a.key, &a.dossier, &a.kind, &a.due, &a.armedBy, &a.armedVersion); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	fired := 0
	for _, a := range due {
		ok, err := f.fire(ctx, a, now)
		if err != nil {
			return fired, err
		}
		if ok {
			fired++
		}
	}
	return fired, nil
}

// fire fires one alarm unless another firer did; the outbox's delivery is recorded in the same
// transaction.
func (f *Firer) fire(ctx context.Context, a dueAlarm, now time.Time) (bool, error) {
	tx, err := f.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("timers: fire %s: %w", a.key, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE `+alarmsTable+` SET state = 'fired', fired_at = $1 WHERE id = $2 AND state = 'armed'`,
		now.UnixMilli(), a.id)
	if err != nil {
		return false, fmt.Errorf("timers: fire %s: %w", a.key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err // disarmed, or fired by another firer, since it was listed
	}
	if f.Destination != "" {
		_, err := delivery.Enqueue(ctx, tx, delivery.Delivery{
			Destination: f.Destination, Key: DeliveryKey(f.Destination, a.key), DossierID: a.dossier,
			EventID: a.armedBy, EventType: EventType, Kind: a.kind, StreamVersion: uint64(a.armedVersion),
			OccurredAt: time.UnixMilli(a.due),
		}, now)
		if err != nil {
			return false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("timers: fire %s: %w", a.key, err)
	}
	f.logger().Info("alarm fired", "kind", a.kind, "dossier", a.dossier, "due", time.UnixMilli(a.due).UTC().Format(time.RFC3339))
	return true, nil
}

// DeliveryKey is the idempotency key of the delivery of the alarm with key alarmKey (dossier,
// kind, due instant) to destination: whoever fires it, however often, the outbox holds one.
func DeliveryKey(destination, alarmKey string) string {
	return destination + ":" + alarmKey
}
