package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// Policy is how often and how long a failing delivery is retried.
type Policy struct {
	// MaxAttempts is how many failed attempts make a delivery dead.
	MaxAttempts int
	// Initial is the wait after the first failure; each further failure doubles it, up to Max.
	Initial, Max time.Duration
}

// DefaultPolicy tries a delivery 30 times over roughly 10 to 20 hours before declaring it dead:
// waits of up to 10 s, 20 s, 40 s … then up to an hour.
var DefaultPolicy = Policy{MaxAttempts: 30, Initial: 10 * time.Second, Max: time.Hour}

// Backoff returns the wait after the attempts-th failure: Initial doubled per earlier failure,
// capped at Max, of which a random half is taken off ("equal jitter"), so that deliveries failing
// together (a receiver down) do not come back together.
func (p Policy) Backoff(attempts int) time.Duration {
	wait := p.Initial
	for i := 1; i < attempts && wait < p.Max; i++ {
		wait *= 2
	}
	wait = min(wait, p.Max)
	if wait <= 1 {
		return wait
	}
	half := wait / 2
	return half + rand.N(wait-half)
}

// Dispatcher sends the due deliveries to their destinations. Deliveries of one dossier to one
// destination go in the order their events have in the log: a delivery waits while an earlier one
// of the same dossier and destination is pending (a dead one no longer holds the queue). Several
// dispatchers (several nodes) may run on one database: each claims a delivery with a lease before
// sending it.
type Dispatcher struct {
	DB      *sql.DB
	Dialect engine.Dialect
	// Destinations by name; a delivery to a destination not configured here waits.
	Destinations []Destination
	Policy       Policy
	// PollInterval is how often the dispatcher looks for due deliveries; 250 ms when zero.
	PollInterval time.Duration
	// SendTimeout bounds one Send; 30 s when zero. A send under way finishes (or times out) even
	// when the dispatcher is stopped, so that what the receiver accepted is recorded as sent.
	SendTimeout time.Duration
	// Lease is how long a claimed delivery is left to its dispatcher before another may take it:
	// longer than SendTimeout. After a crash, a claimed delivery is sent again once its lease
	// ends — with the same idempotency key. 2 × SendTimeout when zero.
	Lease time.Duration
	// Workers is how many deliveries are sent at once (different dossiers); 4 when zero.
	Workers int
	Logger  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	table string // the deliveries table; deliveriesTable when empty
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

func (d *Dispatcher) sendTimeout() time.Duration {
	if d.SendTimeout > 0 {
		return d.SendTimeout
	}
	return 30 * time.Second
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return 2 * d.sendTimeout()
}

func (d *Dispatcher) policy() Policy {
	if d.Policy.MaxAttempts > 0 {
		return d.Policy
	}
	return DefaultPolicy
}

func (d *Dispatcher) tableName() string {
	if d.table != "" {
		return d.table
	}
	return deliveriesTable
}

// Run sends due deliveries until ctx ends. A failing database is logged and tried again at the
// next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := checkDestinations(d.Destinations); err != nil {
		return err
	}
	if err := Migrate(ctx, d.DB, d.Dialect); err != nil {
		return err
	}
	interval := d.PollInterval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	for {
		n, err := d.DispatchDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().Warn("deliveries: dispatch failed; trying again", "error", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 && err == nil {
			continue // more may be due (the next of the same dossiers)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

// DispatchDue sends one round of due deliveries, at most Workers at once, and returns how many it
// attempted.
func (d *Dispatcher) DispatchDue(ctx context.Context) (int, error) {
	workers := d.Workers
	if workers <= 0 {
		workers = 4
	}
	due, err := d.due(ctx, 4*workers)
	if err != nil {
		return 0, err
	}
	byName := map[string]Destination{}
	for _, dest := range d.Destinations {
		byName[dest.Name()] = dest
	}
	var (
		wg       sync.WaitGroup
		slots    = make(chan struct{}, workers)
		mu       sync.Mutex
		firstErr error
		tried    int
	)
	for _, delivery := range due {
		dest, ok := byName[delivery.Destination]
		if !ok {
			continue
		}
		claimed, err := d.claim(ctx, delivery.ID)
		if err != nil {
			mu.Lock()
			firstErr = cmpOr(firstErr, err)
			mu.Unlock()
			break // the sends under way still finish and are recorded
		}
		if !claimed {
			continue // another dispatcher took it
		}
		tried++
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := d.deliver(ctx, dest, delivery); err != nil {
				mu.Lock()
				firstErr = cmpOr(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return tried, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// due lists the deliveries that may be sent now: pending, due, not leased, and first of their
// dossier's queue to their destination.
func (d *Dispatcher) due(ctx context.Context, limit int) ([]Delivery, error) {
	t := d.tableName()
	now := d.now().UnixMilli()
	rows, err := d.DB.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM `+t+` d
		WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1
			AND NOT EXISTS (SELECT 1 FROM `+t+` e WHERE e.state = 'pending' AND e.destination = d.destination
				AND e.dossier_id = d.dossier_id AND e.id < d.id)
		ORDER BY d.id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries: list the due: %w", err)
	}
	return scanDeliveries(rows)
}

// claim takes the delivery for this dispatcher for the length of a lease; false when it is no
// longer pending or another dispatcher holds it.
func (d *Dispatcher) claim(ctx context.Context, id int64) (bool, error) {
	now := d.now()
	res, err := d.DB.ExecContext(ctx, `UPDATE `+d.tableName()+` SET lease_until = $1
		WHERE id = $2 AND state = 'pending' AND lease_until <= $3`, now.Add(d.lease()).UnixMilli(), id, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("deliveries: claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// deliver sends one claimed delivery and records the outcome. Neither is cut short by ctx ending:
// a message the receiver accepted must be recorded as sent.
func (d *Dispatcher) deliver(ctx context.Context, dest Destination, delivery Delivery) error {
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.sendTimeout())
	defer cancel()
	sendErr := dest.Send(sendCtx, delivery)
	recordCtx, cancelRecord := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelRecord()
	now := d.now()
	log := d.logger().With("destination", delivery.Destination, "delivery", delivery.ID, "key", delivery.Key,
		"kind", delivery.Kind, "attempt", delivery.Attempts+1)
	t := d.tableName()
	var err error
	if reason, skipped := IsSkip(sendErr); skipped {
		log.Info("delivery skipped", "reason", reason)
		_, err = d.DB.ExecContext(recordCtx, `UPDATE `+t+` SET state = 'skipped', attempts = attempts + 1, done_at = $1,
			lease_until = 0, detail = $2 WHERE id = $3`, now.UnixMilli(), reason, delivery.ID)
	} else if sendErr == nil {
		log.Debug("delivery sent")
		_, err = d.DB.ExecContext(recordCtx, `UPDATE `+t+` SET state = 'sent', attempts = attempts + 1, done_at = $1,
			lease_until = 0, last_error = '' WHERE id = $2`, now.UnixMilli(), delivery.ID)
	} else {
		attempts := delivery.Attempts + 1
		message := Scrub(sendErr.Error())
		policy := d.policy()
		if attempts >= policy.MaxAttempts || IsPermanent(sendErr) {
			log.Error("delivery dead after its last attempt; it waits for an operator (motcua deliveries retry --dead)", "error", message)
			_, err = d.DB.ExecContext(recordCtx, `UPDATE `+t+` SET state = 'dead', attempts = $1, last_error = $2, done_at = $3,
				lease_until = 0 WHERE id = $4`, attempts, message, now.UnixMilli(), delivery.ID)
		} else {
			next := now.Add(policy.Backoff(attempts))
			log.Warn("delivery failed; it will be retried", "error", message, "next_attempt", next.UTC().Format(time.RFC3339))
			_, err = d.DB.ExecContext(recordCtx, `UPDATE `+t+` SET attempts = $1, last_error = $2, next_attempt_at = $3,
				lease_until = 0 WHERE id = $4`, attempts, message, next.UnixMilli(), delivery.ID)
		}
	}
	if err != nil {
		// The lease runs out and the delivery is sent again, with the same key.
		return fmt.Errorf("deliveries: record the outcome of %d: %w", delivery.ID, err)
	}
	return nil
}

// emailAddress matches what looks like an e-mail address: receivers echo the recipient in their
// errors, and errors are stored and logged.
var emailAddress = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+`)

// Scrub removes e-mail addresses from an error message and bounds its length, so that what is
// stored and logged holds no personal data.
func Scrub(message string) string {
	message = emailAddress.ReplaceAllString(message, "<address>")
	if r := []rune(message); len(r) > 500 {
		message = string(r[:500]) + "…"
	}
	return message
}

const deliveryColumns = `d.id, d.destination, d.idempotency_key, d.dossier_id, d.event_id, d.event_type, d.kind, d.stream_version,
	d.commit_position, d.prepare_position, d.occurred_at, d.state, d.attempts, d.last_error, d.next_attempt_at, d.created_at`

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var (
			dl                       Delivery
			version, commit, prepare int64
			occurred, next, created  int64
			state                    string
		)
		if err := rows.Scan(&dl.ID, &dl.Destination, &dl.Key, &dl.DossierID, &dl.EventID, &dl.EventType, &dl.Kind, &version,
			&commit, &prepare, &occurred, &state, &dl.Attempts, &dl.LastError, &next, &created); err != nil {
			return nil, err
		}
		dl.StreamVersion = uint64(version)
		dl.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		dl.OccurredAt, dl.NextAttemptAt, dl.CreatedAt = time.UnixMilli(occurred), time.UnixMilli(next), time.UnixMilli(created)
		dl.State = State(state)
		out = append(out, dl)
	}
	return out, rows.Err()
}
