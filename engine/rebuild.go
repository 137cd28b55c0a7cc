package engine

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// RebuildPrefix names the scratch tables a rebuild fills before swapping them in.
const RebuildPrefix = "rebuild_"

// DefaultRebuildBatch is how many events a rebuild reads per query and applies per transaction.
// Larger batches replay faster (fewer commits, set queries over more rows), but each transaction
// holds SQLite's write lock — appends wait — and PostgreSQL's read horizon for its whole length,
// about 0.4 s here; a smaller --batch shortens that.
const DefaultRebuildBatch = 20000

// Rebuilder replays the whole log into fresh tables and swaps them in for the serving ones, in one
// transaction, while the serving tables keep answering (and their runners keep updating them)
// until that moment.
//
// It reads the store directly rather than through the transport: the store holds every event
// forever while a broker keeps only recent ones, and one reader feeding every projection in large
// transactions is what makes a replay of millions of events take seconds, not hours.
type Rebuilder struct {
	Store eventstore.Store
	DB    *sql.DB
	// Dialect is DB's SQL dialect, named by the wiring.
	Dialect   Dialect
	Consumers []Consumer
	// BatchSize is DefaultRebuildBatch when zero.
	BatchSize int
	// FoldBudget is how many rows a Folding consumer holds before its rows are written;
	// DefaultFoldBudget when zero.
	FoldBudget int
	// Progress, when set, is called after each batch with the number of events it held.
	Progress func(events int)
	Logger   *slog.Logger

	// gate, on SQLite, is held around each write transaction: the consumers write concurrently,
	// and a connection that finds the file locked sleeps and polls.
	gate chan struct{}
	// pinned, on SQLite, is the connection the folds write through (pinWriter).
	pinned *sql.Conn

	parkedMu sync.Mutex
	parked   map[string][]parkedFailure // by projection: the events it could not apply
}

// parkedFailure is an event a rebuilt projection could not apply, and why.
type parkedFailure struct {
	event eventstore.RecordedEvent
	cause error
}

// RebuildResult tells what a rebuild did.
type RebuildResult struct {
	Events   int                 // events replayed
	Position eventstore.Position // the checkpoint the rebuilt tables start from
	Duration time.Duration
	// Parked counts, by projection, the events it passed over because it could not apply them
	// (parked.go); the swap replaced its list of parked events by these.
	Parked map[string]int
}

// EventsPerSecond is the replay rate.
func (r RebuildResult) EventsPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Events) / r.Duration.Seconds()
}

// Run rebuilds the projections.
func (rb *Rebuilder) Run(ctx context.Context) (RebuildResult, error) {
	start := time.Now()
	batch := rb.batchSize()
	d := rb.Dialect
	if err := d.Check(); err != nil {
		return RebuildResult{}, err
	}
	if err := MigrateCheckpoints(ctx, rb.DB); err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: %w", err)
	}
	scratch := make([]Consumer, len(rb.Consumers))
	for i, p := range rb.Consumers {
		if err := ensureCheckpointRow(ctx, rb.DB, p); err != nil {
			return RebuildResult{}, fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		scratch[i] = p.WithPrefix(RebuildPrefix)
		// A rebuild that died half-way left its scratch tables: start them afresh.
		if err := dropTables(ctx, rb.DB, RebuildPrefix, p.Tables()); err != nil {
			return RebuildResult{}, fmt.Errorf("rebuild %s: %w", p.Name(), err)
		}
		if err := scratch[i].Migrate(ctx, rb.DB, d); err != nil {
			return RebuildResult{}, fmt.Errorf("rebuild %s: create scratch tables: %w", p.Name(), err)
		}
	}

	if d == SQLite {
		rb.gate = make(chan struct{}, 1)
	}
	// Folding consumers fold the whole log in memory and write each row once per flush; the
	// others apply it page by page, as a live runner would but in far larger transactions.
	var folds []*folding
	var paged []Consumer
	for _, c := range scratch {
		if f, ok := c.(Folding); ok {
			folds = append(folds, newFolding(f, true, eventstore.Start))
		} else {
			paged = append(paged, c)
		}
	}

	defer collectLessDuringBulk()()
	// The folds write through one connection with a page cache that holds their tables, and flush
	// at least every FlushInterval, as a catch-up's do (pinWriter, DefaultFlushInterval).
	writer := pinWriter(ctx, rb.DB, d, 0)
	defer writer.release()
	rb.pinned = writer.connection()
	result := RebuildResult{}
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	// Each fold, and the paged consumers together, take the pages on a goroutine of their own, up
	// to memberLagPages behind the reader, as the members of a catch-up do: one flushing (process
	// control's takes seconds) no longer holds the others, which fold on meanwhile.
	// A read that fails stops the folds before their last flush: what they hold is not written.
	foldCtx, stopFolding := context.WithCancel(ctx)
	defer stopFolding()
	g, gctx := errgroup.WithContext(foldCtx)
	var feeds []chan page
	for _, f := range folds {
		feed := make(chan page, memberLagPages)
		feeds = append(feeds, feed)
		g.Go(func() error {
			for pg := range feed {
				if err := rb.foldPage(gctx, f, pg); err != nil {
					return err
				}
			}
			return rb.flushFold(gctx, f)
		})
	}
	if len(paged) > 0 {
		feed := make(chan page, memberLagPages)
		feeds = append(feeds, feed)
		g.Go(func() error {
			applied := 0
			for pg := range feed {
				if err := rb.applyPage(gctx, d, paged, pg); err != nil {
					return err
				}
				if applied++; d == PostgreSQL && applied <= 16 && applied&(applied-1) == 0 {
					if err := analyzeScratchTables(gctx, rb.DB, rb.Consumers); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	var readErr error
	for page := range readAhead(readCtx, rb.Store, eventstore.Start, batch) {
		if page.err != nil {
			readErr = fmt.Errorf("rebuild: read the log: %w", page.err)
			stopFolding()
			break
		}
		if gctx.Err() != nil {
			break
		}
		for _, feed := range feeds {
			select {
			case feed <- page:
			case <-gctx.Done():
			}
		}
		result.Events += len(page.events)
		result.Position = page.events[len(page.events)-1].Position
		if rb.Progress != nil {
			rb.Progress(len(page.events))
		}
	}
	stopReading()
	for _, feed := range feeds {
		close(feed)
	}
	if err := cmp.Or(readErr, ctx.Err(), g.Wait()); err != nil {
		return result, err
	}
	if d == PostgreSQL {
		rb.analyzeFolded(ctx, folds)
	}
	swapped, err := rb.swap(ctx, d, scratch, result.Position, batch)
	if err != nil {
		return result, err
	}
	result.Events += swapped.events
	result.Position = swapped.position
	result.Duration = time.Since(start)
	result.Parked = map[string]int{}
	for name, failures := range rb.parked {
		result.Parked[name] = len(failures)
	}
	return result, nil
}

func (rb *Rebuilder) batchSize() int {
	if rb.BatchSize > 0 {
		return rb.BatchSize
	}
	return DefaultRebuildBatch
}

func (rb *Rebuilder) budget() int {
	if rb.FoldBudget > 0 {
		return rb.FoldBudget
	}
	return DefaultFoldBudget
}

// foldPage folds a page into f, and flushes f once it holds more rows than the budget.
func (rb *Rebuilder) foldPage(ctx context.Context, f *folding, pg page) error {
	if err := f.add(ctx, rb.DB, Batch{Dialect: rb.Dialect, Events: pg.events, Decoded: pg.decoded}); err != nil {
		return rb.foldFailed(ctx, f, pg.events[len(pg.events)-1].Position, err)
	}
	if f.due(rb.budget(), DefaultFlushInterval) && !flushCanWait(rb.gate, f, rb.budget(), DefaultFlushInterval) {
		return rb.flushFold(ctx, f)
	}
	return nil
}

// flushFold writes what f holds into the scratch tables.
func (rb *Rebuilder) flushFold(ctx context.Context, f *folding) error {
	if f.pending == 0 {
		return nil
	}
	err := f.prepare(ctx)
	if err == nil {
		err = inWriteTx(ctx, rb.DB, rb.pinned, rb.Dialect, rb.gate, nil, func(tx *sql.Tx, batch Batch) error {
			return f.flush(ctx, tx, batch)
		})
	}
	if err != nil {
		return rb.foldFailed(ctx, f, f.at, err)
	}
	f.written()
	return nil
}

// foldFailed drops f's fold after it failed and folds the events since its last flush once more,
// read again from the log, into a new fold that it flushes at once. A fold holds up to the budget's
// worth of events — the whole log of a million-dossier province, before its first flush — and a
// cause that passes (the server ending a transaction or a connection) sent every one of them
// through Apply a page at a time, holding up the whole rebuild (docs/benchmarks.md, session 17).
// When the fold fails again, it applies the events through Apply — one page at a time, then one
// event at a time in the page that fails, parking the events the consumer fails on by their own
// fault —, and folds on from there.
func (rb *Rebuilder) foldFailed(ctx context.Context, f *folding, through eventstore.Position, cause error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("rebuild: %w", cause)
	}
	if rb.Logger != nil {
		rb.Logger.Warn("rebuild: a fold failed; folding its events again", "projection", f.consumer.Name(),
			"from", f.flushed, "through", through, "error", cause)
	}
	cause = rb.foldAgain(ctx, f, through)
	if cause == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("rebuild: %w", cause)
	}
	if rb.Logger != nil {
		rb.Logger.Warn("rebuild: the fold failed again; applying its events one page at a time", "projection", f.consumer.Name(),
			"from", f.flushed, "through", through, "error", cause)
	}
	size := rb.batchSize()
	err := readBetween(ctx, rb.Store, f.flushed, through, size, func(events []eventstore.RecordedEvent) error {
		return rb.applyInTx(ctx, []Consumer{f.consumer}, Batch{Dialect: rb.Dialect, Events: events, Decoded: decodeOnce(events)})
	})
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", f.consumer.Name(), err)
	}
	f.restart(through)
	return nil
}

// foldAgain folds the events after f's last flush through through into a new fold and writes it.
func (rb *Rebuilder) foldAgain(ctx context.Context, f *folding, through eventstore.Position) error {
	size := rb.batchSize()
	f.again()
	err := readBetween(ctx, rb.Store, f.flushed, through, size, func(events []eventstore.RecordedEvent) error {
		return f.add(ctx, rb.DB, Batch{Dialect: rb.Dialect, Events: events, Decoded: decodeOnce(events)})
	})
	if err != nil || f.pending == 0 {
		return err
	}
	if err := f.prepare(ctx); err != nil {
		return err
	}
	if err := inWriteTx(ctx, rb.DB, rb.pinned, rb.Dialect, rb.gate, nil, func(tx *sql.Tx, batch Batch) error {
		return f.flush(ctx, tx, batch)
	}); err != nil {
		return err
	}
	f.written()
	return nil
}

// analyzeScratchTables refreshes PostgreSQL's statistics of the tables being rebuilt. Created
// empty, they grow by a page of the log at a time faster than autovacuum looks at them, and with
// the statistics of an empty table the planner read each page's rows by scanning the whole table:
// each page took longer than the one before. Done after pages 1, 2, 4, 8 and 16, while analysing is
// cheap: the planner scales the last statistics to a table's current size, and later pages' rows
// look like the earlier ones.
func analyzeScratchTables(ctx context.Context, db *sql.DB, consumers []Consumer) error {
	for _, p := range consumers {
		for _, table := range p.Tables() {
			if _, err := db.ExecContext(ctx, `ANALYZE `+RebuildPrefix+table); err != nil {
				return fmt.Errorf("rebuild %s: analyze: %w", p.Name(), err)
			}
		}
	}
	return nil
}

// analyzeFolded refreshes PostgreSQL's statistics of the scratch tables the folds filled, before
// they are swapped in. A fold writes its rows at its flushes, without the paged consumers'
// analyses, and until autovacuum came by the swapped-in tables were planned on the statistics of
// empty tables, as a catch-up's were (analyzeCaughtUp). Statistics only speed up, so a failure is
// logged and the swap goes on.
func (rb *Rebuilder) analyzeFolded(ctx context.Context, folds []*folding) {
	for _, f := range folds {
		for _, table := range f.consumer.Tables() {
			if _, err := rb.DB.ExecContext(ctx, `ANALYZE `+RebuildPrefix+table); err != nil && rb.Logger != nil {
				rb.Logger.Warn("rebuild could not analyse a table; autovacuum will", "projection", f.consumer.Name(), "table", table, "error", err)
			}
		}
	}
}

// rebuildConnections is how many transactions a PostgreSQL rebuild runs at once, and
// rebuildPartitions in how many shares it splits each page's dossiers.
const (
	rebuildConnections = 2
	rebuildPartitions  = 2
)

// applyPage applies one page of the log to every scratch projection, in one transaction on SQLite.
//
// PostgreSQL gets each read model's page in shares of the dossiers, each share a transaction of
// its own, two running at once: one server process per connection, so the server works on one
// share while the client folds the next, where one transaction at a time left a third of the two
// cores idle, each side waiting for the other. Every read model's rows belong to one dossier
// (docs/projections.md), so the shares are independent; the scratch tables are nobody's until the
// swap, so the shares need no common transaction. Two connections leave the rest of a shared pool
// to appends.
func (rb *Rebuilder) applyPage(ctx context.Context, d Dialect, scratch []Consumer, pg page) error {
	if d != PostgreSQL {
		return rb.applyInTx(ctx, scratch, Batch{Dialect: d, Events: pg.events, Decoded: pg.decoded})
	}
	shares := partitionPage(pg, rebuildPartitions)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rebuildConnections)
	for _, p := range scratch {
		for _, share := range shares {
			g.Go(func() error {
				return rb.applyInTx(gctx, []Consumer{p}, Batch{Dialect: d, Events: share.events, Decoded: share.decoded})
			})
		}
	}
	return g.Wait()
}

// applyInTx applies the batch to the consumers in one transaction; on PostgreSQL new rows go in by
// COPY (Batch.CopyRows).
func (rb *Rebuilder) applyInTx(ctx context.Context, consumers []Consumer, batch Batch) error {
	if err := rb.takeGate(ctx); err != nil {
		return err
	}
	released := false
	release := func() {
		if !released {
			released = true
			rb.releaseGate()
		}
	}
	defer release()
	conn, err := rb.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("rebuild: connect: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild: begin: %w", err)
	}
	defer tx.Rollback()
	inTx := batch
	inTx.Raw = conn.Raw
	if batch.Dialect == PostgreSQL {
		inTx.CopyRows = copyInto(conn)
	}
	for _, p := range consumers {
		if err := applyTo(ctx, tx, p, inTx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
			tx.Rollback()
			conn.Close()
			release()
			// Apply the events again one at a time, each projection on its own, parking those a
			// projection fails on by their own fault (parked.go).
			for _, p := range consumers {
				if err := rb.applyParking(ctx, p, batch); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild: commit: %w", err)
	}
	return nil
}

// applyParking applies events to p in a transaction of their own, one at a time under savepoints,
// after they failed as a batch: the events p fails on by their own fault are kept to be parked at
// the swap, and skipped.
func (rb *Rebuilder) applyParking(ctx context.Context, p Consumer, batch Batch) error {
	if err := rb.takeGate(ctx); err != nil {
		return err
	}
	defer rb.releaseGate()
	conn, err := rb.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("rebuild: connect: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild: begin: %w", err)
	}
	defer tx.Rollback()
	if batch.Dialect == PostgreSQL {
		batch.CopyRows = copyInto(conn)
	}
	if _, _, err := applyIsolated(ctx, tx, p, batch, rb.keepParked(p.Name())); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild: commit: %w", err)
	}
	return nil
}

// takeGate waits for the write gate, on SQLite.
func (rb *Rebuilder) takeGate(ctx context.Context) error {
	if rb.gate == nil {
		return nil
	}
	select {
	case rb.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (rb *Rebuilder) releaseGate() {
	if rb.gate != nil {
		<-rb.gate
	}
}

// keepParked returns the parkDecision of a rebuild: every event a projection fails on by its own
// fault is passed, and kept for the swap to record.
func (rb *Rebuilder) keepParked(name string) parkDecision {
	return func(_ context.Context, _ *sql.Tx, e eventstore.RecordedEvent, cause error) (bool, error) {
		rb.parkedMu.Lock()
		defer rb.parkedMu.Unlock()
		if rb.parked == nil {
			rb.parked = map[string][]parkedFailure{}
		}
		rb.parked[name] = append(rb.parked[name], parkedFailure{event: e, cause: cause})
		if rb.Logger != nil {
			rb.Logger.Error("rebuild parked an event a read model cannot apply", "projection", name,
				"position", e.Position, "event", e.ID, "type", e.Type, "error", cause)
		}
		return true, nil
	}
}

// partitionPage splits a page into n shares by stream, each with its events in log order and their
// decoded events (when the page was decoded); empty shares are left out.
func partitionPage(pg page, n int) []page {
	shares := make([]page, n)
	var decoded [][]domain.Event
	if pg.decoded != nil {
		decoded = make([][]domain.Event, n)
	}
	for i, re := range pg.events {
		share := streamShare(re.Stream, n)
		shares[share].events = append(shares[share].events, re)
		if decoded != nil {
			decoded[share] = append(decoded[share], pg.decoded[i])
		}
	}
	var nonEmpty []page
	for i, share := range shares {
		if len(share.events) == 0 {
			continue
		}
		if decoded != nil {
			share.decoded = decoded[i]
		}
		nonEmpty = append(nonEmpty, share)
	}
	return nonEmpty
}

// streamShare is the share (of n) a stream falls in: FNV-1a of its name.
func streamShare(stream string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(stream); i++ {
		h ^= uint32(stream[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// swapped tells what the swap's final catch-up added.
type swapped struct {
	events   int
	position eventstore.Position
}

// swap applies the events appended since the replay's last page, then — in the same transaction,
// holding every serving checkpoint — drops the serving tables, renames the scratch tables and their
// indexes into their place and moves each checkpoint to where the fresh tables stand. The serving
// runners, whose next transaction waits for the checkpoint, go on from there on the new tables.
func (rb *Rebuilder) swap(ctx context.Context, d Dialect, scratch []Consumer, at eventstore.Position, batch int) (swapped, error) {
	done := swapped{position: at}
	tx, err := rb.DB.BeginTx(ctx, nil)
	if err != nil {
		return done, fmt.Errorf("rebuild: swap: %w", err)
	}
	defer tx.Rollback()
	serving := make([]eventstore.Position, len(rb.Consumers))
	for i, p := range rb.Consumers {
		if serving[i], err = lockCheckpoint(ctx, tx, d, p.Name()); err != nil {
			return done, fmt.Errorf("rebuild %s: swap: %w", p.Name(), err)
		}
	}
	// On SQLite this transaction holds the write lock, so the log cannot grow: this reaches its end.
	// On PostgreSQL appends go on, and what they add after this read the runners apply afterwards.
	for {
		events, err := rb.Store.ReadAll(ctx, done.position, batch)
		if err != nil {
			return done, fmt.Errorf("rebuild: swap: read the log: %w", err)
		}
		if len(events) > 0 {
			batch := Batch{Dialect: d, Events: events, Decoded: decodeOnce(events)}
			for _, p := range scratch {
				if err := rb.applyInSwap(ctx, tx, p, batch); err != nil {
					return done, fmt.Errorf("rebuild: swap: %w", err)
				}
			}
			done.events += len(events)
			done.position = events[len(events)-1].Position
		}
		if len(events) < batch {
			break
		}
	}
	for i, p := range rb.Consumers {
		if done.position.Less(serving[i]) {
			// The serving tables are ahead of the end of the log as this transaction sees it, which
			// the store's ordering guarantee rules out.
			return done, fmt.Errorf("rebuild %s: the serving checkpoint %s is past the log's end %s", p.Name(), serving[i], done.position)
		}
		if err := swapTables(ctx, tx, d, p.Tables()); err != nil {
			return done, fmt.Errorf("rebuild %s: swap: %w", p.Name(), err)
		}
		if err := saveCheckpoint(ctx, tx, p.Name(), done.position); err != nil {
			return done, fmt.Errorf("rebuild %s: swap: %w", p.Name(), err)
		}
		if err := saveSchemaVersion(ctx, tx, p); err != nil {
			return done, fmt.Errorf("rebuild %s: swap: %w", p.Name(), err)
		}
		// The fresh tables come with their own list of the events they passed over.
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+parkedTable+` WHERE projection = $1`, p.Name()); err != nil {
			return done, fmt.Errorf("rebuild %s: swap: parked events: %w", p.Name(), err)
		}
		for _, f := range rb.parked[p.Name()] {
			if err := parkEvent(ctx, tx, p.Name(), f.event, f.cause); err != nil {
				return done, fmt.Errorf("rebuild: swap: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return done, fmt.Errorf("rebuild: swap: commit: %w", err)
	}
	return done, nil
}

// applyInSwap applies events to p inside the swap's transaction, under a savepoint so that when
// the batch fails the events can be applied again one at a time, parking those p fails on by
// their own fault.
func (rb *Rebuilder) applyInSwap(ctx context.Context, tx *sql.Tx, p Consumer, batch Batch) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT swap_batch`); err != nil {
		return err
	}
	err := applyTo(ctx, tx, p, batch)
	if err != nil && ctx.Err() == nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT swap_batch`); err != nil {
			return err
		}
		_, _, err = applyIsolated(ctx, tx, p, batch, rb.keepParked(p.Name()))
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT swap_batch`)
	return err
}

// swapTables replaces each serving table by its scratch copy, indexes included.
func swapTables(ctx context.Context, tx *sql.Tx, d Dialect, tables []string) error {
	for _, table := range tables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+RebuildPrefix+table+` RENAME TO `+table); err != nil {
			return err
		}
		var err error
		if d == PostgreSQL {
			err = renamePostgresRelations(ctx, tx, table)
		} else {
			err = renameSQLiteIndexes(ctx, tx, table)
		}
		if err != nil {
			return fmt.Errorf("%s: indexes: %w", table, err)
		}
	}
	return nil
}

// renameSQLiteIndexes gives the indexes of table (renamed from its scratch name) their serving
// names. SQLite cannot rename an index, so each is dropped and created again from its own
// definition under the new name. Indexes SQLite made for constraints follow the table by themselves.
func renameSQLiteIndexes(ctx context.Context, tx *sql.Tx, table string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`, table)
	if err != nil {
		return err
	}
	type index struct{ name, definition string }
	var indexes []index
	for rows.Next() {
		var i index
		if err := rows.Scan(&i.name, &i.definition); err != nil {
			rows.Close()
			return err
		}
		if strings.HasPrefix(i.name, RebuildPrefix) {
			indexes = append(indexes, i)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, i := range indexes {
		at := strings.Index(i.definition, i.name)
		if at < 0 {
			return fmt.Errorf("index %s: its definition %q does not name it", i.name, i.definition)
		}
		definition := i.definition[:at] + strings.TrimPrefix(i.name, RebuildPrefix) + i.definition[at+len(i.name):]
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+i.name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, definition); err != nil {
			return err
		}
	}
	return nil
}

// renamePostgresRelations gives the indexes (constraints' included) and owned sequences of table
// their serving names: PostgreSQL keeps them in the schema's namespace, where the next rebuild's
// scratch names must be free again.
func renamePostgresRelations(ctx context.Context, tx *sql.Tx, table string) error {
	rows, err := tx.QueryContext(ctx, `
		SELECT i.relname, 'INDEX' FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace
		UNION ALL
		SELECT s.relname, 'SEQUENCE' FROM pg_depend d
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		JOIN pg_class t ON t.oid = d.refobjid
		WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace AND d.deptype IN ('a', 'i')`, table)
	if err != nil {
		return err
	}
	type relation struct{ name, kind string }
	var relations []relation
	for rows.Next() {
		var r relation
		if err := rows.Scan(&r.name, &r.kind); err != nil {
			rows.Close()
			return err
		}
		if strings.HasPrefix(r.name, RebuildPrefix) {
			relations = append(relations, r)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, r := range relations {
		// Renaming an index renames the constraint it backs, if any.
		if _, err := tx.ExecContext(ctx, `ALTER `+r.kind+` `+quoteIdent(r.name)+` RENAME TO `+quoteIdent(strings.TrimPrefix(r.name, RebuildPrefix))); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// dropTables drops prefix+table for each table, if it exists.
func dropTables(ctx context.Context, db *sql.DB, prefix string, tables []string) error {
	for _, table := range tables {
		if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+prefix+table); err != nil {
			return err
		}
	}
	return nil
}

// page is one read of the log, or the error that ended reading.
type page struct {
	events  []eventstore.RecordedEvent
	decoded []domain.Event // aligned with events; nil when an event does not decode
	err     error
}

// readAheadPages is how many pages readAhead reads and decodes before the consumer takes them.
// Applying is bursty: every FlushInterval a catch-up's folds flush one after the other through
// SQLite's single writer, the page loop waiting for them (≈ a third of a catch-up's CPU), and a
// reader one page ahead stopped with it while the other core idled. Eight pages (160,000 events of
// the default size, ≈ 0.3 GB decoded) keep it reading through most of a flush.
const readAheadPages = 8

// readAhead reads (and decodes) the log after from in pages, ahead of the consumer, so that reading
// and applying overlap: readAheadPages decoded pages wait for it, beside one read and waiting for
// its decoding, one being decoded and one being read. Reading and decoding are two goroutines of their
// own: on one they were a catch-up's slowest stage (read, unsealed and decoded one after the other,
// ≈ 22 CPU s per million events on SQLite, while the folds waited for the next page and the second
// core idled). The channel closes after the last (short) page. A page the store fails to read is
// asked for again at half the size, down to one event, and the size doubles back after each page read.
func readAhead(ctx context.Context, store eventstore.Store, from eventstore.Position, size int) <-chan page {
	read := make(chan page, 1)
	go func() {
		defer close(read)
		limit := size
		for {
			events, err := store.ReadAll(ctx, from, limit)
			if err != nil && limit > 1 && ctx.Err() == nil {
				// A page of unusually large events can outlast the store's statement timeout: a run
				// of integrity checkpoints' details (≈ 350 kB each) signed over a backlog made a
				// PostgreSQL catch-up fail there and start again every few seconds, crawling through
				// them at 500 events/s. Smaller pages first; an error that persists at one event is
				// the log's to report.
				limit /= 2
				continue
			}
			if err != nil {
				select {
				case read <- page{err: err}:
				case <-ctx.Done():
				}
				return
			}
			if len(events) > 0 {
				select {
				case read <- page{events: events}:
				case <-ctx.Done():
					return
				}
				from = events[len(events)-1].Position
			}
			if len(events) < limit {
				return
			}
			limit = min(size, 2*limit)
		}
	}()
	pages := make(chan page, readAheadPages)
	go func() {
		defer close(pages)
		for pg := range read {
			if pg.err == nil {
				pg.decoded = decodeOnce(pg.events)
			}
			select {
			case pages <- pg:
			case <-ctx.Done():
				return // the reader sees ctx end too: it sends nothing more, or gives up sending
			}
		}
	}()
	return pages
}
