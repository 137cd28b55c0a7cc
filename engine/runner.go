// Package projections holds motcua's read models (CQRS), one file each. A read model is a set of SQL
// tables in the same database as the event store (SQLite embedded, PostgreSQL in production), fed
// from the global log. Each keeps its checkpoint in the same transaction as its rows and ignores
// events at or below it, so a redelivered event changes nothing and a crash loses nothing.
//
// The log reaches the read models through watermill (see Engine and docs/projections.md): a
// Forwarder publishes every event to a topic and each projection's Runner is a handler on a
// watermill Router. Catching up after downtime and rebuilding read the store directly, in large
// batches.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/motcua/motcua/eventstore"
)

// MigrateCheckpoints creates the table where every projection keeps its position, and the one
// where it lists the events it parked (parked.go).
func MigrateCheckpoints(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS projection_checkpoints (
		name TEXT PRIMARY KEY,
		commit_position BIGINT NOT NULL,
		prepare_position BIGINT NOT NULL,
		updated_at TEXT NOT NULL,
		schema_version BIGINT NOT NULL DEFAULT 0)`)
	if err != nil {
		return err
	}
	if err := addSchemaVersionColumn(ctx, db); err != nil {
		return err
	}
	return migrateParked(ctx, db)
}

// Forget deletes the checkpoint and the parked events of a consumer that is no more — renamed, or
// retired along with its tables — so that nothing reports on it.
func Forget(ctx context.Context, db *sql.DB, name string) error {
	if err := MigrateCheckpoints(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, name); err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM `+parkedTable+` WHERE projection = $1`, name); err != nil {
		return fmt.Errorf("forget %s: %w", name, err)
	}
	return nil
}

// ensureCheckpointRow makes sure the consumer has a checkpoint row, so that every transaction
// can lock it (PostgreSQL) before reading it. A new row records the consumer's schema version: its
// tables are created by the Migrate that follows.
func ensureCheckpointRow(ctx context.Context, db *sql.DB, c Consumer) error {
	_, err := db.ExecContext(ctx, `INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at, schema_version)
		VALUES ($1, 0, 0, $2, $3) ON CONFLICT (name) DO NOTHING`, c.Name(), time.Now().UTC().Format(time.RFC3339Nano), c.SchemaVersion())
	return err
}

type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// Checkpoint returns the position a projection has applied up to.
func Checkpoint(ctx context.Context, q rowQuerier, name string) (eventstore.Position, error) {
	var commit, prepare int64
	err := q.QueryRowContext(ctx, `SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1`, name).Scan(&commit, &prepare)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, err
}

// lockCheckpoint reads the checkpoint inside tx and keeps other writers of the same projection —
// a second node, or a rebuild swapping fresh tables in — out until tx ends. SQLite needs no row
// lock: its write transactions are serialised (BEGIN IMMEDIATE) already.
func lockCheckpoint(ctx context.Context, tx *sql.Tx, d Dialect, name string) (eventstore.Position, error) {
	if d != PostgreSQL {
		return Checkpoint(ctx, tx, name)
	}
	var commit, prepare int64
	err := tx.QueryRowContext(ctx, `SELECT commit_position, prepare_position FROM projection_checkpoints WHERE name = $1 FOR UPDATE`, name).Scan(&commit, &prepare)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, err
}

func saveCheckpoint(ctx context.Context, tx *sql.Tx, name string, p eventstore.Position) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO projection_checkpoints (name, commit_position, prepare_position, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET commit_position = excluded.commit_position,
			prepare_position = excluded.prepare_position, updated_at = excluded.updated_at`,
		name, int64(p.Commit), int64(p.Prepare), time.Now().UTC().Format(time.RFC3339Nano))
	return err
}

// applyEvents applies the events above the consumer's checkpoint and moves the checkpoint, in tx.
// It returns the checkpoint after and how many events it applied (those at or below the
// checkpoint are not: motcua_projection_events_applied_total counts each event of the log once).
func applyEvents(ctx context.Context, tx *sql.Tx, d Dialect, c Consumer, events []eventstore.RecordedEvent) (after eventstore.Position, applied int, err error) {
	return applyBatch(ctx, tx, c, Batch{Dialect: d, Events: events})
}

// applyBatch is applyEvents of a batch that may carry its decoded events (a catch-up's page, decoded
// once for every consumer).
func applyBatch(ctx context.Context, tx *sql.Tx, c Consumer, batch Batch) (after eventstore.Position, applied int, err error) {
	events := batch.Events
	done, err := lockCheckpoint(ctx, tx, batch.Dialect, c.Name())
	if err != nil {
		return done, 0, fmt.Errorf("%s: read checkpoint: %w", c.Name(), err)
	}
	// Skip what is at or below the checkpoint: redeliveries, or events another writer of the same
	// consumer applied first.
	first := 0
	for first < len(events) && !done.Less(events[first].Position) {
		first++
	}
	fresh := batch.Slice(first, len(events))
	if len(fresh.Events) == 0 {
		return done, 0, nil
	}
	if err := applyTo(ctx, tx, c, fresh); err != nil {
		return done, 0, err
	}
	last := fresh.Events[len(fresh.Events)-1].Position
	if err := saveCheckpoint(ctx, tx, c.Name(), last); err != nil {
		return done, 0, fmt.Errorf("%s: save checkpoint: %w", c.Name(), err)
	}
	return last, len(fresh.Events), nil
}

// applyTo hands a batch to the consumer. A panic in a consumer becomes an error, so one bad event
// cannot take the process down.
func applyTo(ctx context.Context, tx *sql.Tx, c Consumer, batch Batch) (err error) {
	first := batch.Events[0]
	defer func() {
		if r := recover(); r != nil {
			err = &ApplyError{Projection: c.Name(), Event: first, Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	if err := c.Apply(ctx, tx, batch); err != nil {
		if len(batch.Events) == 1 {
			return &ApplyError{Projection: c.Name(), Event: first, Err: err}
		}
		return fmt.Errorf("%s: apply %d events from %s: %w", c.Name(), len(batch.Events), first.Position, err)
	}
	return nil
}

// Runner keeps one projection up to date. It is the projection's handler on the watermill router
// (Handle): deliveries may arrive in any order and more than once, so the runner holds each until
// the event before it is applied (every message names its predecessor in the log), applies
// consecutive events in one transaction together with the checkpoint, and acknowledges them once
// that transaction commits. At start, and whenever deliveries leave a gap for longer than
// GapTimeout, it reads the missing events from the store directly.
type Runner struct {
	Store eventstore.Store
	DB    *sql.DB
	// Dialect is DB's SQL dialect.
	Dialect  Dialect
	Consumer Consumer
	Logger   *slog.Logger
	// MaxBatch bounds the events applied in one transaction.
	MaxBatch int
	// GapTimeout is how long a delivery may wait for its predecessor before the runner reads the
	// missing events from the store.
	GapTimeout time.Duration
	// Metrics, when set, receives the runner's counters.
	Metrics *Metrics
	// ParkAfter is how many attempts at an event that fails by its own fault the runner makes
	// before it parks the event and goes on (parked.go); DefaultParkAfter when zero.
	ParkAfter int

	wake chan struct{} // cap 1: deliveries are waiting
	// writeGate, when set, is held around each write transaction; an Engine on SQLite shares one
	// among its runners (see Engine.Run).
	writeGate chan struct{}
	// bulk, set by an Engine, catches the runner up in bulk when it is far behind the head and
	// reports whether it did (catchup.go); the runner asks when it reads from the store, and every
	// lagCheckEvery while deliveries wait.
	bulk          func(ctx context.Context, r *Runner) bool
	lagCheckEvery time.Duration
	lagChecked    time.Time // touched by the loop's goroutine alone
	// lease, set by an Engine with Leases, says whether this node runs the consumer now; node is
	// this node's name (lease.go).
	lease       *runnerLease
	node        string
	tailChecked time.Time // touched by the loop's goroutine alone
	// inBulk: the runner waits for a bulk catch-up of the engine (bulkIfFarBehind). It takes no
	// deliveries meanwhile: the catch-up applies them from the store, and holding each of them
	// until then made the forwarder publish the whole log beside a new node's catch-up.
	inBulk atomic.Bool

	mu       sync.Mutex
	position eventstore.Position
	advanced chan struct{} // closed and replaced each time position moves
	waiting  []*delivery
	stall    error               // the projection failed on an event and waits to recover
	failing  eventstore.Position // the event the last attempts failed on by its own fault
	attempts int                 // how many times in a row they did
}

// delivery is one message waiting for its turn.
type delivery struct {
	event   eventstore.RecordedEvent
	prev    eventstore.Position
	arrived time.Time
	done    chan error // cap 1
}

// Defaults of a Runner.
const (
	DefaultMaxBatch   = 1000
	DefaultGapTimeout = time.Second
)

// NewRunner returns a runner for c over store, keeping its tables in db, of dialect d.
func NewRunner(store eventstore.Store, db *sql.DB, d Dialect, c Consumer) *Runner {
	return &Runner{Store: store, DB: db, Dialect: d, Consumer: c, MaxBatch: DefaultMaxBatch, GapTimeout: DefaultGapTimeout,
		advanced: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// Run feeds the projection alone through an Engine on an in-process watermill channel until ctx
// ends. Services with several projections run one Engine for all of them instead.
func (r *Runner) Run(ctx context.Context) error {
	return (&Engine{Store: r.Store, DB: r.DB, Dialect: r.Dialect, Runners: []*Runner{r}, Logger: r.Logger}).Run(ctx)
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// init creates the projection's tables and checkpoint row and loads its position.
func (r *Runner) init(ctx context.Context) error {
	if r.MaxBatch <= 0 {
		r.MaxBatch = DefaultMaxBatch
	}
	if r.GapTimeout <= 0 {
		r.GapTimeout = DefaultGapTimeout
	}
	if r.ParkAfter <= 0 {
		r.ParkAfter = DefaultParkAfter
	}
	name := r.Consumer.Name()
	if err := r.Consumer.Migrate(ctx, r.DB, r.Dialect); err != nil {
		return fmt.Errorf("%s: migrate: %w", name, err)
	}
	if err := ensureCheckpointRow(ctx, r.DB, r.Consumer); err != nil {
		return fmt.Errorf("%s: checkpoint: %w", name, err)
	}
	from, err := Checkpoint(ctx, r.DB, name)
	if err != nil {
		return fmt.Errorf("%s: checkpoint: %w", name, err)
	}
	r.setPosition(from)
	parked, err := CountParked(ctx, r.DB, name)
	if err != nil {
		return fmt.Errorf("%s: parked events: %w", name, err)
	}
	r.Metrics.setParked(name, parked)
	return nil
}

// Handle is the runner's watermill handler: it returns once the message's event is applied (nil,
// so the message is acknowledged), or with the error that kept it from being applied.
func (r *Runner) Handle(msg *message.Message) error {
	// Whether the event is wanted is told by the message's metadata, before its payload is read:
	// on a node starting far behind the log every consumer is handed every event the forwarder
	// publishes, most of them applied from the store already, and decoding each payload for
	// nothing took a third of a node's CPU while its timers caught up.
	if at, err := ParsePosition(msg.Metadata.Get(MetadataPosition)); err == nil && !r.wants(at) {
		return nil
	}
	event, prev, err := DecodeMessage(msg)
	if err != nil {
		return err
	}
	if !r.runsHere() {
		return nil // another node runs the consumer and reads the event from the store
	}
	r.mu.Lock()
	if !r.position.Less(event.Position) || r.stall != nil {
		// Already applied — or the projection is stalled on an earlier event and will read this one
		// from the store once it recovers.
		r.mu.Unlock()
		return nil
	}
	d := &delivery{event: event, prev: prev, arrived: time.Now(), done: make(chan error, 1)}
	r.waiting = append(r.waiting, d)
	r.mu.Unlock()
	r.signal()
	select {
	case err := <-d.done:
		return err
	case <-msg.Context().Done():
		return msg.Context().Err()
	}
}

// wants reports whether an event at p is one for Handle to deliver: the consumer runs here and
// has not applied it (nor stalled before it, to read it from the store once it recovers; nor is it
// being caught up in bulk, to read it from the store after).
func (r *Runner) wants(p eventstore.Position) bool {
	return r.takesDeliveries() && r.Position().Less(p)
}

// takesDeliveries reports whether the runner applies what the forwarder publishes now: it runs
// here, has not stalled and is not being caught up in bulk.
func (r *Runner) takesDeliveries() bool {
	return r.runsHere() && !r.inBulk.Load() && r.Stalled() == nil
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// loop runs the consumer until ctx ends: at once without leases, otherwise while this node holds
// its lease, each time from the checkpoint the previous owner left. caughtUp is closed once it has
// caught up from the store (or stalled trying) — at once with leases: the consumer may run
// elsewhere.
func (r *Runner) loop(ctx context.Context, caughtUp chan<- struct{}) error {
	if r.lease == nil {
		return r.runHere(ctx, caughtUp)
	}
	close(caughtUp)
	for {
		token, changed := r.lease.current()
		if token == 0 {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		runCtx, cancel := context.WithCancelCause(ctx)
		ended, ok := r.lease.startRun(token, cancel)
		if !ok {
			continue
		}
		err := r.resumeFromCheckpoint(runCtx)
		if err == nil {
			err = r.runHere(runCtx, make(chan struct{}))
		}
		cancel(nil)
		r.abandon(nil) // acknowledged: the next owner reads them from the store
		ended()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, context.Canceled) {
			r.logger().Warn("consumer stopped running here", "projection", r.Consumer.Name(), "error", err)
		}
	}
}

// resumeFromCheckpoint moves the runner's position to the checkpoint another node may have moved.
func (r *Runner) resumeFromCheckpoint(ctx context.Context) error {
	from, err := Checkpoint(ctx, r.DB, r.Consumer.Name())
	if err != nil {
		return fmt.Errorf("%s: checkpoint: %w", r.Consumer.Name(), err)
	}
	r.setPosition(from)
	r.logger().Info("consumer runs here", "projection", r.Consumer.Name(), "from", from)
	return nil
}

// runHere applies deliveries as they become consecutive, until ctx ends. It first catches up from
// the store; caughtUp is closed once it has (or has stalled trying).
func (r *Runner) runHere(ctx context.Context, caughtUp chan<- struct{}) error {
	pause := r.GapTimeout
	var retryAt time.Time
	if !r.recoverFromStore(ctx) {
		retryAt = time.Now().Add(pause)
	}
	close(caughtUp)
	tick := time.NewTicker(r.GapTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.abandon(ctx.Err())
			return ctx.Err()
		case <-r.wake:
		case <-tick.C:
		}
		if r.stalled() == nil {
			r.drain(ctx)
			r.fillTail(ctx)
			continue
		}
		if time.Now().Before(retryAt) {
			continue
		}
		if r.recoverFromStore(ctx) {
			pause = r.GapTimeout
		} else {
			pause = min(2*pause, time.Minute)
			retryAt = time.Now().Add(pause)
		}
	}
}

// recoverFromStore catches up from the store and reports whether it could; while it cannot, the
// projection is stalled.
func (r *Runner) recoverFromStore(ctx context.Context) bool {
	err := r.catchUp(ctx)
	if ctx.Err() != nil {
		return true
	}
	if err != nil {
		r.logger().Error("projection stalled", "projection", r.Consumer.Name(), "position", r.Position(), "error", err)
	} else if r.stalled() != nil {
		r.logger().Info("projection recovered", "projection", r.Consumer.Name(), "position", r.Position())
	}
	r.setStall(err)
	return err == nil
}

// catchUp applies the store's log from the runner's position to its end, in batches: in bulk
// while the runner is far behind (asked at once, then every lagCheckEvery).
func (r *Runner) catchUp(ctx context.Context) error {
	r.lagChecked = time.Time{}
	for {
		if r.lagCheckDue() {
			r.bulk(ctx, r)
		}
		page, err := r.Store.ReadAll(ctx, r.Position(), r.MaxBatch)
		if err != nil {
			return fmt.Errorf("%s: read the log: %w", r.Consumer.Name(), err)
		}
		if len(page) > 0 {
			if err := r.apply(ctx, page); err != nil {
				if ctx.Err() != nil {
					return err
				}
				if err := r.applyParking(ctx, page); err != nil {
					return err
				}
				continue // read on from where the page stopped
			}
		}
		if len(page) < r.MaxBatch {
			r.resolveApplied()
			return nil
		}
	}
}

// drain applies every run of consecutive deliveries, then fills a gap that has lasted too long.
func (r *Runner) drain(ctx context.Context) {
	for ctx.Err() == nil {
		events, deliveries, gapSince := r.nextBatch()
		if len(events) > 0 && r.lagCheckDue() && r.bulk(ctx, r) {
			// The deliveries taken wait again: those the bulk path applied are acknowledged.
			r.mu.Lock()
			r.waiting = append(r.waiting, deliveries...)
			r.mu.Unlock()
			// What was published during the catch-up was let go (Handle): read it from the store.
			if err := r.catchUp(ctx); err != nil {
				r.logger().Error("projection could not read the log after catching up in bulk", "projection", r.Consumer.Name(), "error", err)
				r.resolveApplied()
				return
			}
			continue
		}
		if len(events) == 0 {
			if gapSince.IsZero() || time.Since(gapSince) < r.GapTimeout {
				return
			}
			// A predecessor never came (lost by the transport, or taken by another node): read it.
			r.logger().Warn("projection fills a gap from the store", "projection", r.Consumer.Name(), "after", r.Position())
			if err := r.catchUp(ctx); err != nil {
				r.logger().Error("projection could not fill a gap", "projection", r.Consumer.Name(), "error", err)
				return
			}
			continue
		}
		err := r.apply(ctx, events)
		if err != nil && len(events) > 1 && ctx.Err() == nil {
			r.applyOneByOne(ctx, events, deliveries)
			continue
		}
		for _, d := range deliveries {
			d.done <- err
		}
	}
}

// fillTail, for a consumer run under a lease, reads from the store the events after its position
// that no delivery brought within GapTimeout. On a durable transport the consumer's messages are
// shared among the nodes' subscribers and those the other nodes get are acknowledged unapplied; a
// gap shows when a later delivery comes, but the last events before a quiet spell would wait for
// the next one. One short read per GapTimeout while idle.
func (r *Runner) fillTail(ctx context.Context) {
	if r.lease == nil || time.Since(r.tailChecked) < r.GapTimeout {
		return
	}
	r.tailChecked = time.Now()
	next, err := r.Store.ReadAll(ctx, r.Position(), 1)
	if err != nil || len(next) == 0 || time.Since(next[0].RecordedAt) < r.GapTimeout {
		return
	}
	if err := r.catchUp(ctx); err != nil && ctx.Err() == nil {
		r.logger().Warn("projection could not read the log's tail", "projection", r.Consumer.Name(), "error", err)
	}
}

// lagCheckDue reports whether the runner, about to apply deliveries, should first ask how far
// behind it is: it has not asked for lagCheckEvery.
func (r *Runner) lagCheckDue() bool {
	if r.bulk == nil || time.Since(r.lagChecked) < r.lagCheckEvery {
		return false
	}
	r.lagChecked = time.Now()
	return true
}

// applyOneByOne retries a failed batch one event at a time, so the error lands on the event that
// causes it; the deliveries after it go back to wait.
func (r *Runner) applyOneByOne(ctx context.Context, events []eventstore.RecordedEvent, deliveries []*delivery) {
	for _, e := range events {
		err := r.apply(ctx, []eventstore.RecordedEvent{e})
		rest := deliveries[:0]
		for _, d := range deliveries {
			if d.event.Position == e.Position {
				d.done <- err
			} else {
				rest = append(rest, d)
			}
		}
		deliveries = rest
		if err != nil {
			r.mu.Lock()
			r.waiting = append(r.waiting, deliveries...)
			r.mu.Unlock()
			return
		}
	}
}

// nextBatch takes the deliveries that continue the log from the runner's position, in order, up to
// MaxBatch events; deliveries already applied are acknowledged on the way. When deliveries wait
// but none continues the log, gapSince is when the oldest of them arrived.
func (r *Runner) nextBatch() (events []eventstore.RecordedEvent, deliveries []*delivery, gapSince time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortFunc(r.waiting, func(a, b *delivery) int {
		switch {
		case a.event.Position.Less(b.event.Position):
			return -1
		case b.event.Position.Less(a.event.Position):
			return 1
		}
		return 0
	})
	at := r.position
	kept := r.waiting[:0]
	for _, d := range r.waiting {
		switch {
		case !r.position.Less(d.event.Position):
			d.done <- nil // applied already
		case len(events) > 0 && d.event.Position == at:
			deliveries = append(deliveries, d) // a second delivery of an event in this batch
		case len(events) < r.MaxBatch && !at.Less(d.prev) && len(kept) == 0:
			events = append(events, d.event)
			deliveries = append(deliveries, d)
			at = d.event.Position
		default:
			kept = append(kept, d)
		}
	}
	clear(r.waiting[len(kept):])
	r.waiting = kept
	if len(events) == 0 && len(kept) > 0 {
		gapSince = kept[0].arrived
		for _, d := range kept {
			if d.arrived.Before(gapSince) {
				gapSince = d.arrived
			}
		}
	}
	return events, deliveries, gapSince
}

// resolveApplied acknowledges the deliveries that catching up has made redundant.
func (r *Runner) resolveApplied() {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.waiting[:0]
	for _, d := range r.waiting {
		if !r.position.Less(d.event.Position) {
			d.done <- nil
			continue
		}
		kept = append(kept, d)
	}
	clear(r.waiting[len(kept):])
	r.waiting = kept
}

// abandon answers every waiting delivery with err, so their handlers return (the transport
// redelivers them later).
func (r *Runner) abandon(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.waiting {
		d.done <- err
	}
	r.waiting = nil
}

// apply applies events and the checkpoint in one transaction.
func (r *Runner) apply(ctx context.Context, events []eventstore.RecordedEvent) error {
	return r.applyDecoded(ctx, nil, Batch{Dialect: r.Dialect, Events: events})
}

// applyDecoded is apply of a batch that may carry its decoded events, on pinned (a bulk run's
// connection, pinWriter) when set.
func (r *Runner) applyDecoded(ctx context.Context, pinned *sql.Conn, batch Batch) error {
	return r.inTxOn(ctx, pinned, func(tx *sql.Tx) (eventstore.Position, int, error) {
		return applyBatch(ctx, tx, r.Consumer, batch)
	}, nil)
}

// applyParking applies events after they failed as a batch: one at a time, each under a savepoint,
// in one transaction with the checkpoint. The events before the failing one go in; the failing one,
// when it fails by its own fault for the ParkAfter-th time in a row, is parked and passed, with an
// ERROR logged; otherwise applyParking commits what it applied and returns the failure.
func (r *Runner) applyParking(ctx context.Context, events []eventstore.RecordedEvent) error {
	name := r.Consumer.Name()
	var stop error
	var parked []eventstore.RecordedEvent
	parkedCount := 0
	// A connection lost mid-statement can fail in any way: park only while the database answers.
	// Asked before the transaction, which holds a connection: several runners each waiting for a
	// second one could exhaust the pool.
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	databaseAnswers := r.DB.PingContext(pingCtx) == nil
	cancel()
	park := func(ctx context.Context, tx *sql.Tx, e eventstore.RecordedEvent, cause error) (bool, error) {
		r.mu.Lock()
		if r.failing != e.Position {
			r.failing, r.attempts = e.Position, 0
		}
		r.attempts++
		attempts := r.attempts
		r.mu.Unlock()
		if attempts < r.ParkAfter {
			return false, nil
		}
		if !databaseAnswers {
			return false, nil
		}
		return true, parkEvent(ctx, tx, name, e, cause)
	}
	err := r.inTx(ctx, func(tx *sql.Tx) (eventstore.Position, int, error) {
		done, err := lockCheckpoint(ctx, tx, r.Dialect, name)
		if err != nil {
			return done, 0, fmt.Errorf("%s: read checkpoint: %w", name, err)
		}
		first := 0
		for first < len(events) && !done.Less(events[first].Position) {
			first++
		}
		var last eventstore.Position
		last, parked, stop = applyIsolated(ctx, tx, r.Consumer, Batch{Dialect: r.Dialect, Events: events[first:]}, park)
		if last == (eventstore.Position{}) {
			return done, 0, nil
		}
		if err := saveCheckpoint(ctx, tx, name, last); err != nil {
			return done, 0, fmt.Errorf("%s: save checkpoint: %w", name, err)
		}
		if len(parked) > 0 {
			var err error
			if parkedCount, err = CountParked(ctx, tx, name); err != nil {
				return done, 0, fmt.Errorf("%s: count parked events: %w", name, err)
			}
		}
		passed := 0
		for _, e := range events[first:] {
			if !last.Less(e.Position) {
				passed++
			}
		}
		return last, passed - len(parked), nil
	}, func() {
		// Before the position moves: whoever waits for it sees the parked events counted.
		for _, e := range parked {
			r.logger().Error("projection parked an event it cannot apply and went on; see motcua projections status",
				"projection", name, "position", e.Position, "event", e.ID, "type", e.Type, "stream", e.Stream, "version", e.Version)
		}
		if len(parked) > 0 {
			r.Metrics.setParked(name, parkedCount)
		}
	})
	if err != nil {
		return err
	}
	if stop != nil {
		r.Metrics.failed(name)
	}
	return stop
}

// inTx runs write in one transaction and moves the runner's position to where write says, having
// applied how many events it says; committed, when set, runs after the commit and before the
// position moves.
func (r *Runner) inTx(ctx context.Context, write func(tx *sql.Tx) (after eventstore.Position, applied int, err error), committed func()) error {
	return r.inTxOn(ctx, nil, write, committed)
}

// inTxOn is inTx on pinned when set, else on a connection of the runner's pool.
func (r *Runner) inTxOn(ctx context.Context, pinned *sql.Conn, write func(tx *sql.Tx) (after eventstore.Position, applied int, err error), committed func()) error {
	start := time.Now()
	if r.writeGate != nil {
		select {
		case r.writeGate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-r.writeGate }()
	}
	txCtx, release := commitContext(ctx)
	defer release()
	var tx *sql.Tx
	var err error
	if pinned != nil {
		tx, err = pinned.BeginTx(txCtx, nil)
	} else {
		tx, err = r.DB.BeginTx(txCtx, nil)
	}
	if err != nil {
		return fmt.Errorf("%s: begin: %w", r.Consumer.Name(), err)
	}
	defer tx.Rollback()
	if err := r.checkFence(ctx, tx); err != nil {
		return err
	}
	after, applied, err := write(tx)
	if err != nil {
		r.Metrics.failed(r.Consumer.Name())
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", r.Consumer.Name(), err)
	}
	r.Metrics.appliedBatch(r.Consumer.Name(), applied, time.Since(start))
	if committed != nil {
		committed()
	}
	r.setPosition(after)
	return nil
}

// commitGrace is how long a write transaction's COMMIT, once sent, is still awaited after the
// context of its run ended.
const commitGrace = 5 * time.Second

// commitContext returns the context a consumer's write transaction begins on, which its COMMIT
// runs under, and its release. Its statements each run under ctx and stop when ctx ends; the
// COMMIT does not stop with ctx but commitGrace later. A run's context ends when its lease is
// handed over, lost or the node stops, at any moment — during a COMMIT too. pgx then gives the
// connection up and asks the server to cancel, which cannot undo a COMMIT already durable: the
// batch was applied and its checkpoint moved, yet the runner was told it failed, and counted it
// nowhere (the next owner starts after it). Committing after ctx ended is safe: a transaction that
// passed its fence holds the lease row, so no other node runs the consumer until it ends.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	txCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(commitGrace, cancel) })
	return txCtx, func() { stop(); cancel() }
}

func (r *Runner) setPosition(p eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Less(r.position) {
		return
	}
	r.position = p
	close(r.advanced)
	r.advanced = make(chan struct{})
}

// stallOn records that the projection could not apply a delivered event even after retries; the
// runner stops taking deliveries and keeps trying to catch up from the store.
func (r *Runner) stallOn(err error) {
	r.setStall(err)
	r.abandon(nil) // acknowledged: the store, not the transport, is where they will be read again
	r.signal()
}

func (r *Runner) setStall(err error) {
	r.mu.Lock()
	r.stall = err
	r.mu.Unlock()
	r.Metrics.setStalled(r.Consumer.Name(), err != nil)
}

func (r *Runner) stalled() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stall
}

// Stalled returns the error the projection is stuck on, or nil while it is healthy.
func (r *Runner) Stalled() error { return r.stalled() }

// Position is how far the projection has applied the log.
func (r *Runner) Position() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.position
}

// Advanced returns a channel closed the next time the projection's position moves.
func (r *Runner) Advanced() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.advanced
}

// WaitFor blocks until the projection has applied the event at p (read-your-writes for callers that
// just appended it) or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, p eventstore.Position) error {
	for {
		r.mu.Lock()
		reached := !r.position.Less(p)
		advanced := r.advanced
		r.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
