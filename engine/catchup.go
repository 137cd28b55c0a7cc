package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// DefaultCatchUpThreshold is how far behind the head of the log, in events, a consumer must be —
// at start, or later while it runs — for the engine to catch it up in bulk rather than through its
// runner's live path.
const DefaultCatchUpThreshold = 5000

// DefaultLagCheckInterval is how often a running consumer that is applying events asks how far
// behind the head it is, to switch to the bulk path when it has fallen far behind. An idle one at
// the head never asks.
const DefaultLagCheckInterval = 5 * time.Second

// A consumer far behind the head — a new node on an existing log, a new read model, a restore —
// would take hours to catch up through the live path, a thousand events per transaction per
// consumer (2,600 events/s measured on 536k events). The engine catches those up itself, before
// their runners start: it reads the log once for all of them, in the rebuild's pages, and hands
// each page to every one at once. A Folding consumer folds onto its serving tables and writes its
// rows and its checkpoint in one transaction when it holds more rows than the budget, and at least
// every FlushInterval (the checkpoint — what `motcua projections status` and the lag metrics show
// — moves that often, and a crash loses no more). Any other consumer applies each page in one
// transaction with its checkpoint. Once the log is read to its end the runners take over from the
// checkpoints, through the live path, with the few events appended meanwhile.
//
// When a fold fails the engine drops it and applies the same events from the checkpoint through
// the runner's Apply path, which parks the events the consumer fails on by their own fault, then
// folds on. A consumer whose checkpoint another writer moved (a second node) is left to its runner.

// A running consumer can fall as far behind: its database was away for an hour, deliveries came
// faster than it applied them, it filled a long gap. Its runner then asks the engine (Runner.bulk)
// to catch it up alone in the same bulk path — when it reads from the store after a stall or a gap,
// and every LagCheckInterval while it applies deliveries — and goes back to the live path for the
// few events left once the log is read to its end. What a running consumer fails on in bulk is not
// retried there: its fold is dropped and the runner applies the same events through its live path,
// with its own retries, stall and parking, exactly as before the switch.

// memberLagPages is how many pages a member of a catch-up may lag behind the reader before the
// reader waits for it: the pages the others fold on meanwhile (each page is held until the last
// member has taken it: eight more of the default size, ≈ 0.3 GB decoded).
const memberLagPages = readAheadPages

// catchUpMember is one consumer caught up in bulk.
type catchUpMember struct {
	runner *Runner
	fold   *folding // nil when the consumer is not Folding
	left   bool     // handed back to its runner
	// running: the runner's live path is under way and takes over from the last flush after a
	// failure (catching up at start applies the failed events through Apply itself, parking).
	running bool
	ctx     context.Context // the member's writes', which may end before the catch-up's
	request *bulkRequest    // the runner waiting for the catch-up; nil at start
}

// release tells the runner waiting for the member, if any, that the catch-up no longer touches it.
func (m *catchUpMember) release() {
	if m.request != nil {
		m.request.release()
	}
}

func (e *Engine) catchUpThreshold() int {
	if e.CatchUpThreshold > 0 {
		return e.CatchUpThreshold
	}
	return DefaultCatchUpThreshold
}

// farBehind returns those of runners at least the threshold behind the head of the log.
func (e *Engine) farBehind(ctx context.Context, runners []*Runner) ([]*Runner, error) {
	threshold := e.catchUpThreshold()
	behind := map[eventstore.Position]int{} // most runners share a checkpoint
	var far []*Runner
	for _, r := range runners {
		at := r.Position()
		n, counted := behind[at]
		if !counted {
			var err error
			if n, err = CountEvents(ctx, e.Store, at, threshold); err != nil {
				return nil, fmt.Errorf("engine: how far behind is %s: %w", r.Consumer.Name(), err)
			}
			behind[at] = n
		}
		if n >= threshold {
			far = append(far, r)
		}
	}
	return far, nil
}

// DefaultBulkGathering is how long a running consumer asking to be caught up in bulk waits for
// others to ask too. With leases (PostgreSQL) each consumer runs once this node takes its lease, and
// a new node takes all of its leases within one round (nine in 0.4 s, measured): caught up alone,
// each read and decoded the whole log by itself, nine times over.
const DefaultBulkGathering = time.Second

// bulkRequest is a running consumer waiting for the bulk catch-up it gathered into.
type bulkRequest struct {
	runner *Runner
	ctx    context.Context // the runner's run: its lease's, with leases
	done   chan struct{}   // closed once the catch-up no longer touches the runner
	ok     bool            // the runner's run went on to the end of it
	once   sync.Once
}

// release ends the runner's wait, once.
func (b *bulkRequest) release() {
	b.once.Do(func() {
		b.ok = b.ctx.Err() == nil
		close(b.done)
	})
}

// bulkIfFarBehind catches r up in bulk when it has fallen at least the threshold behind the head,
// and reports whether it did: Runner.bulk of an engine's runners. It runs on the runner's own
// goroutine, so no delivery is applied meanwhile. The runners that ask within BulkGathering of the
// first are caught up together, the log read once for all of them.
func (e *Engine) bulkIfFarBehind(ctx context.Context, r *Runner) bool {
	far, err := e.farBehind(ctx, []*Runner{r})
	if err != nil || len(far) == 0 {
		return false
	}
	e.logger().Info("a running consumer fell far behind; it catches up in bulk", "projection", r.Consumer.Name(), "position", r.Position())
	// Its deliveries are let go meanwhile (Runner.Handle), and the forwarder passes it over; the
	// runner reads what came meanwhile from the store once this returns.
	r.inBulk.Store(true)
	defer r.inBulk.Store(false)
	req := &bulkRequest{runner: r, ctx: ctx, done: make(chan struct{})}
	e.bulkMu.Lock()
	e.bulkForming = append(e.bulkForming, req)
	if len(e.bulkForming) == 1 {
		gathering := e.BulkGathering
		if gathering <= 0 {
			gathering = DefaultBulkGathering
		}
		time.AfterFunc(gathering, e.catchUpGathered)
	}
	e.bulkMu.Unlock()
	// Done once the group's catch-up no longer touches r: at its end, or at the first page after
	// r's run ended (a lease lost: the runner must not wait for the others to finish).
	<-req.done
	return req.ok
}

// catchUpGathered catches up together the running consumers gathered for a bulk catch-up, each
// within its own run's context: a member whose run ends (its lease lost or handed over) leaves the
// catch-up, which goes on for the others and ends when none is left.
func (e *Engine) catchUpGathered() {
	e.bulkMu.Lock()
	group := e.bulkForming
	e.bulkForming = nil
	e.bulkMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Int32
	running.Store(int32(len(group)))
	for _, req := range group {
		stop := context.AfterFunc(req.ctx, func() {
			if running.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	e.catchUpEach(ctx, nil, group)
}

// catchUp brings the runners, before they start, up to the end of the log in bulk. Whatever it
// cannot do is left to the runners, which catch up through the live path: it only fails when ctx
// ends.
func (e *Engine) catchUp(ctx context.Context, runners []*Runner) error {
	return e.catchUpEach(ctx, runners, nil)
}

// catchUpEach is catchUp of runners, or of the running consumers waiting in requests
// (bulkIfFarBehind): each of those writes within its request's context, is left out of the pages
// after it ends, and is released as soon as the catch-up no longer touches it.
func (e *Engine) catchUpEach(ctx context.Context, runners []*Runner, requests []*bulkRequest) error {
	running := requests != nil
	if running {
		runners = make([]*Runner, len(requests))
		for i, req := range requests {
			runners[i] = req.runner
		}
	}
	if len(runners) == 0 {
		return nil
	}
	start := time.Now()
	from := runners[0].Position()
	members := make([]*catchUpMember, len(runners))
	for i, r := range runners {
		members[i] = &catchUpMember{runner: r, running: running, ctx: ctx}
		if requests != nil {
			members[i].ctx, members[i].request = requests[i].ctx, requests[i]
		}
		if f, ok := r.Consumer.(Folding); ok {
			members[i].fold = newFolding(f, false, r.Position())
		}
		if p := r.Position(); p.Less(from) {
			from = p
		}
		e.Metrics.setCatchingUp(r.Consumer.Name(), true)
	}
	defer func() {
		for _, r := range runners {
			e.Metrics.setCatchingUp(r.Consumer.Name(), false)
		}
	}()
	defer collectLessDuringBulk()()
	writer := pinWriter(ctx, e.DB, e.Dialect, e.BulkPageCache)
	defer writer.release()
	pinned := writer.connection()
	logger := e.logger()
	logger.Info("catching up in bulk", "consumers", len(runners), "from", from)
	size := e.CatchUpBatch
	if size <= 0 {
		size = DefaultRebuildBatch
	}
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	// Each member takes the pages on a goroutine of its own, up to memberLagPages behind the
	// reader, rather than all of them page by page: a member flushing (process control's flush of
	// a million dossiers takes seconds) no longer holds the others, which fold on meanwhile.
	var applying sync.WaitGroup
	feeds := make([]chan page, len(members))
	var going atomic.Int32 // members not yet handed back to their runners
	going.Store(int32(len(members)))
	for i, m := range members {
		feeds[i] = make(chan page, memberLagPages)
		applying.Go(func() {
			defer m.release()
			ended := m.ctx.Done()
			for {
				var pg page
				var more bool
				select {
				case pg, more = <-feeds[i]:
				case <-ended:
					// Its run ended (a lease lost): what it folded since its last flush is dropped,
					// and whoever waits for it is told now, not when the others finish.
					ended = nil
					if !m.left {
						m.left = true
						going.Add(-1)
						m.release()
					}
					continue
				}
				if !more {
					break
				}
				if m.left || ctx.Err() != nil {
					continue // drained: the reader stops when no member is left
				}
				e.catchUpPage(m.ctx, m, pg, pinned)
				if m.left {
					going.Add(-1)
					m.release()
				}
			}
			if !m.left && m.fold != nil && m.ctx.Err() == nil {
				e.flushMember(m.ctx, m, pinned)
			}
		})
	}
	events := 0
	for pg := range readAhead(readCtx, e.Store, from, size) {
		if pg.err != nil {
			logger.Error("catch-up could not read the log; the runners go on from their checkpoints", "error", pg.err)
			break
		}
		if going.Load() == 0 || ctx.Err() != nil {
			break
		}
		for _, feed := range feeds {
			select {
			case feed <- pg:
			case <-ctx.Done():
			}
		}
		events += len(pg.events)
	}
	for _, feed := range feeds {
		close(feed)
	}
	applying.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if !running && e.Dialect == PostgreSQL {
		analyzeCaughtUp(ctx, members, logger)
	}
	took := time.Since(start)
	logger.Info("caught up in bulk; the runners take over", "consumers", len(runners), "events", events,
		"duration", took.Round(time.Millisecond), "events_per_second", int(float64(events)/max(took.Seconds(), 1e-9)))
	return nil
}

// analyzeCaughtUp refreshes PostgreSQL's statistics of the tables of the members caught up at
// start. A new node's read models are filled in minutes, and until autovacuum analyses them the
// planner plans the officials' screens on the statistics of empty tables: at 100 k dossiers, just
// after the catch-up, a control sheet took 78 ms, 1.7 ms with the tables analysed. Statistics
// only speed up, so a failure is logged and the runners go on.
func analyzeCaughtUp(ctx context.Context, members []*catchUpMember, logger *slog.Logger) {
	for _, m := range members {
		if m.left {
			continue
		}
		r := m.runner
		for _, table := range r.Consumer.Tables() {
			if _, err := r.DB.ExecContext(ctx, `ANALYZE `+table); err != nil {
				logger.Warn("catch-up could not analyse a table; autovacuum will", "projection", r.Consumer.Name(), "table", table, "error", err)
			}
		}
	}
}

// catchUpPage hands a page to one member: folded, flushed when due; or applied in one transaction.
// Its writes go through pinned when set (pinWriter).
func (e *Engine) catchUpPage(ctx context.Context, m *catchUpMember, pg page, pinned *sql.Conn) {
	r := m.runner
	batch := Batch{Dialect: e.Dialect, Events: pg.events, Decoded: pg.decoded}
	through := pg.events[len(pg.events)-1].Position
	if m.fold == nil {
		first := 0
		for first < len(batch.Events) && !r.Position().Less(batch.Events[first].Position) {
			first++
		}
		if first == len(batch.Events) {
			return
		}
		// The page's decoded events go along: decoding is most of what a consumer that is not
		// Folding would otherwise spend on its own (the corrections' read model: 5 % of a catch-up).
		on := pinned
		if r.DB != e.DB {
			on = nil // a runner of a database of its own
		}
		applying := time.Now()
		err := r.applyDecoded(ctx, on, batch.Slice(first, len(batch.Events)))
		r.Metrics.bulkStage(r.Consumer.Name(), stageApply, time.Since(applying))
		if err != nil && ctx.Err() == nil {
			e.applyInstead(ctx, m, through, err)
		}
		return
	}
	folding := time.Now()
	err := m.fold.add(ctx, e.DB, batch)
	r.Metrics.bulkStage(r.Consumer.Name(), stageFold, time.Since(folding))
	if err != nil {
		if ctx.Err() == nil {
			e.applyInstead(ctx, m, through, err)
		}
		return
	}
	if m.fold.due(e.foldBudget(), e.flushInterval()) && !flushCanWait(m.runner.writeGate, m.fold, e.foldBudget(), e.flushInterval()) {
		e.flushMember(ctx, m, pinned)
	}
}

func (e *Engine) foldBudget() int {
	if e.FoldBudget > 0 {
		return e.FoldBudget
	}
	return DefaultFoldBudget
}

func (e *Engine) flushInterval() time.Duration {
	if e.FlushInterval > 0 {
		return e.FlushInterval
	}
	return DefaultFlushInterval
}

// errCheckpointMoved: another writer of the same consumer moved its checkpoint while the fold ran.
var errCheckpointMoved = errors.New("the checkpoint moved under the fold: another writer applies this consumer")

// flushMember writes the member's fold and its checkpoint in one transaction, through the write
// gate on SQLite, on pinned when set.
func (e *Engine) flushMember(ctx context.Context, m *catchUpMember, pinned *sql.Conn) {
	f, r := m.fold, m.runner
	if f.pending == 0 {
		return
	}
	name := r.Consumer.Name()
	start := time.Now()
	err := f.prepare(ctx)
	prepared := time.Now()
	r.Metrics.bulkStage(name, stagePrepare, prepared.Sub(start))
	if err == nil {
		var waited time.Duration
		err = inWriteTx(ctx, e.DB, pinned, e.Dialect, r.writeGate, &waited, func(tx *sql.Tx, batch Batch) error {
			if err := r.checkFence(ctx, tx); err != nil {
				return err
			}
			at, err := lockCheckpoint(ctx, tx, e.Dialect, name)
			if err != nil {
				return fmt.Errorf("%s: read checkpoint: %w", name, err)
			}
			if at != f.flushed {
				return errCheckpointMoved
			}
			if err := f.flush(ctx, tx, batch); err != nil {
				return err
			}
			if err := saveCheckpoint(ctx, tx, name, f.at); err != nil {
				return fmt.Errorf("%s: save checkpoint: %w", name, err)
			}
			return nil
		})
		r.Metrics.bulkStage(name, stageWait, waited)
		r.Metrics.bulkStage(name, stageWrite, time.Since(prepared)-waited)
	}
	switch {
	case err == nil:
		// Committed, even if ctx ended meanwhile (a lease lost during the commit): the events are
		// applied and the checkpoint moved, so they count here — no node will apply them again.
		r.Metrics.appliedBatch(name, f.pending, time.Since(start))
		r.setPosition(f.at)
		f.written()
	case ctx.Err() != nil:
	case errors.Is(err, errCheckpointMoved):
		e.logger().Warn("catch-up leaves the consumer to its runner", "projection", name, "error", err)
		m.left = true
	default:
		r.Metrics.failed(name)
		e.applyInstead(ctx, m, f.at, err)
	}
}

// applyInstead drops the member's fold after it failed and applies the events from its checkpoint
// through through by the runner's Apply path, parking the events the consumer fails on by their
// own fault; then the member folds on from there. When even that fails the member is left to its
// runner, which stalls and retries as it does on any failure. A running member is left to its
// runner at once.
func (e *Engine) applyInstead(ctx context.Context, m *catchUpMember, through eventstore.Position, cause error) {
	r := m.runner
	name := r.Consumer.Name()
	if m.running {
		e.logger().Warn("catch-up leaves the consumer to its live path after a failure", "projection", name,
			"position", r.Position(), "error", cause)
		m.left = true
		return
	}
	e.logger().Warn("catch-up: applying events one batch at a time after a failure", "projection", name,
		"from", r.Position(), "through", through, "error", cause)
	if err := r.applyThrough(ctx, through); err != nil {
		if ctx.Err() == nil {
			e.logger().Error("catch-up leaves the consumer to its runner", "projection", name, "position", r.Position(), "error", err)
		}
		m.left = true
		return
	}
	if m.fold != nil {
		m.fold.restart(r.Position())
	}
}

// applyThrough applies the log from the runner's position through through, MaxBatch events per
// transaction; a batch that fails is applied again one event at a time, parking the event the
// consumer fails on by its own fault after ParkAfter attempts while the database answers.
func (r *Runner) applyThrough(ctx context.Context, through eventstore.Position) error {
	return readBetween(ctx, r.Store, r.Position(), through, r.MaxBatch, func(events []eventstore.RecordedEvent) error {
		err := r.apply(ctx, events)
		for attempt := 1; err != nil && ctx.Err() == nil; attempt++ {
			if err = r.applyParking(ctx, events); err == nil || attempt >= r.ParkAfter {
				break
			}
			select {
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		return err
	})
}
