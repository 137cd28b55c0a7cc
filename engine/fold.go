package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// DefaultFoldBudget is how many rows a Folding consumer may hold in memory, during a rebuild or a
// catch-up, before the engine flushes them. A row is a dossier's state, one to a few kilobytes; a
// fold holds the dossiers in progress (a few weeks of a province's receipts, with their handovers)
// and forgets finished ones at each flush, so a million rows is a few hundred megabytes to a
// gigabyte per read model at most, whatever the length of the log. A smaller budget than the
// dossiers in progress makes every page a flush.
const DefaultFoldBudget = 1_000_000

// DefaultFlushInterval is the longest a catch-up folds without a flush: its checkpoint, which
// `motcua projections status` and the lag metrics show, moves at least that often, and a crash
// loses at most that much work. Each flush writes again the rows of every dossier moved since the
// last one, and every counter row touched: at 5 s a catch-up on a loaded machine (fewer events per
// 5 s) spent markedly more CPU per event than on an idle one. Flushing every million events
// instead (session 10) wrote fewer rows again but held every dossier moved among them, finished
// ones too, until the flush: at 100 k dossiers that cost more than it saved — 96–97 against 66–91
// CPU s per million events, 1.5–2.7× the wall time and 0.6 GB more resident in two pairs (session 11,
// docs/benchmarks.md) — the collector marking the larger heap and the folds' maps growing.
const DefaultFlushInterval = 30 * time.Second

// folding is the fold of one Folding consumer under way, in a rebuild or a catch-up.
type folding struct {
	consumer Folding
	fold     Fold
	flushed  eventstore.Position // where the written rows stand: the last flush, or the checkpoint
	at       eventstore.Position // the last event added
	pending  int                 // events added since the last flush
	since    time.Time           // when the last flush was
	// empty: the consumer's tables hold none of its rows — the fold began on empty tables and has
	// not written since —, so a fold begun again from flushed may be a fresh one.
	empty bool
}

func newFolding(c Folding, fresh bool, from eventstore.Position) *folding {
	return &folding{consumer: c, fold: c.NewFold(fresh), flushed: from, at: from, since: time.Now(), empty: fresh}
}

// add folds the events of batch above the last event added. A panic in the consumer becomes an
// error, as in applyTo.
func (f *folding) add(ctx context.Context, q Querier, batch Batch) (err error) {
	first := 0
	for first < len(batch.Events) && !f.at.Less(batch.Events[first].Position) {
		first++
	}
	if first == len(batch.Events) {
		return nil
	}
	batch = batch.Slice(first, len(batch.Events))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: fold from %s: panic: %v", f.consumer.Name(), batch.Events[0].Position, r)
		}
	}()
	if err := f.fold.Add(ctx, q, batch); err != nil {
		return fmt.Errorf("%s: fold %d events from %s: %w", f.consumer.Name(), len(batch.Events), batch.Events[0].Position, err)
	}
	f.at = batch.Events[len(batch.Events)-1].Position
	f.pending += len(batch.Events)
	return nil
}

// due reports whether the fold should be flushed: it holds more rows than budget, or (interval
// above zero) it has folded events for longer than interval.
func (f *folding) due(budget int, interval time.Duration) bool {
	if f.pending == 0 {
		return false
	}
	return f.fold.Held() > budget || (interval > 0 && time.Since(f.since) >= interval)
}

// flushCanWait reports whether a fold whose flush is due may fold on instead, because another
// fold holds SQLite's write gate: waiting for it, the fold took no pages for the length of the
// other's flush (process control's take seconds), and once the reader was its pages ahead the whole
// run waited with it while a core idled. It waits no longer than a second interval, nor beyond its
// rows' budget.
func flushCanWait(gate chan struct{}, f *folding, budget int, interval time.Duration) bool {
	if len(gate) == 0 { // free, or no gate at all (PostgreSQL): a nil channel's length is 0
		return false
	}
	return f.fold.Held() <= budget && time.Since(f.since) < 2*interval
}

// flush writes the fold's rows in tx (batch carries the dialect and, on PostgreSQL, CopyRows).
func (f *folding) flush(ctx context.Context, tx *sql.Tx, batch Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: flush: panic: %v", f.consumer.Name(), r)
		}
	}()
	if err := f.fold.Flush(ctx, tx, batch); err != nil {
		return fmt.Errorf("%s: flush %d events up to %s: %w", f.consumer.Name(), f.pending, f.at, err)
	}
	return nil
}

// prepare lets a FlushPreparer work out its flush before the transaction opens. A panic in the
// consumer becomes an error, as in flush.
func (f *folding) prepare(ctx context.Context) (err error) {
	p, ok := f.fold.(FlushPreparer)
	if !ok {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: prepare flush: panic: %v", f.consumer.Name(), r)
		}
	}()
	if err := p.PrepareFlush(ctx); err != nil {
		return fmt.Errorf("%s: prepare the flush of %d events up to %s: %w", f.consumer.Name(), f.pending, f.at, err)
	}
	return nil
}

// written records that the rows are written up to the last event added.
func (f *folding) written() {
	f.flushed, f.pending, f.since, f.empty = f.at, 0, time.Now(), false
}

// restart drops the fold, with everything not flushed, and starts a new one from p: after the
// events up to p went through Apply instead.
func (f *folding) restart(p eventstore.Position) {
	f.fold = f.consumer.NewFold(false)
	f.flushed, f.at, f.pending, f.since, f.empty = p, p, 0, time.Now(), false
}

// again drops the fold, with everything not flushed, and starts a new one from the last flush, to
// fold the same events once more.
func (f *folding) again() {
	f.fold = f.consumer.NewFold(f.empty)
	f.at, f.pending = f.flushed, 0
}

// inWriteTx runs write in a transaction on pinned (pinWriter) or else a connection of its own,
// holding gate (when set) for its length; on PostgreSQL the batch handed to write carries CopyRows
// on that connection. When waited is set, it is given the time spent waiting for the gate.
func inWriteTx(ctx context.Context, db *sql.DB, pinned *sql.Conn, d Dialect, gate chan struct{}, waited *time.Duration, write func(tx *sql.Tx, batch Batch) error) error {
	if gate != nil {
		start := time.Now()
		select {
		case gate <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-gate }()
		if waited != nil {
			*waited = time.Since(start)
		}
	}
	conn, done, err := writeConn(ctx, db, pinned)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer done()
	txCtx, release := commitContext(ctx)
	defer release()
	tx, err := conn.BeginTx(txCtx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	batch := Batch{Dialect: d, Raw: conn.Raw}
	if d == PostgreSQL {
		batch.CopyRows = copyInto(conn)
	}
	if err := write(tx, batch); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if d == SQLite {
		restartWAL(ctx, conn)
	}
	return nil
}

// restartWAL copies SQLite's write-ahead log into the database file and has the next writer start
// it over. A bulk catch-up or rebuild always has a read of the log under way beside its writes, and
// SQLite restarts the log only at a moment no reader uses it: without this the log grew without
// bound (4.5 GB a few minutes into catching up 10 M events) and every page read searched it.
// It waits at most 100 ms for readers of older snapshots (the connection's busy timeout, set for
// the call and then put back): the caller holds the write gate, and a reader in the way is met
// again at a later flush.
func restartWAL(ctx context.Context, conn *sql.Conn) {
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return
	}
	var busy, frames, copied int
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 100"); err != nil {
		return
	}
	_ = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied)
	_, _ = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", timeout))
}

// readBetween reads the log's events after from up to and including through, in pages of size,
// and hands each page to apply.
func readBetween(ctx context.Context, store eventstore.Store, from, through eventstore.Position, size int, apply func([]eventstore.RecordedEvent) error) error {
	for from.Less(through) {
		events, err := store.ReadAll(ctx, from, size)
		if err != nil {
			return fmt.Errorf("read the log: %w", err)
		}
		end := len(events)
		for end > 0 && through.Less(events[end-1].Position) {
			end--
		}
		if end > 0 {
			if err := apply(events[:end]); err != nil {
				return err
			}
			from = events[end-1].Position
		}
		if end < len(events) || len(events) < size {
			return nil
		}
	}
	return nil
}
