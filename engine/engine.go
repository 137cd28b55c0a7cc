package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/motcua/motcua/eventstore"
)

// poisonSuffix names the poison topic after the event topic: messages a runner gave up on after
// its retries go there, with the reason in their metadata.
const poisonSuffix = ".poison"

// inProcessWindow is how many events the forwarder may publish ahead of the slowest projection on
// an in-process transport, where every message in flight is a goroutine per projection.
const inProcessWindow = 512

// DefaultPruneInterval is how often an Engine prunes acknowledged messages.
const DefaultPruneInterval = time.Minute

// Engine keeps a set of projections up to date: a Forwarder publishes the store's log to a
// watermill topic and a watermill Router hands every message to each projection's Runner, through
// middleware (correlation id, poison queue, retry with backoff, recoverer).
type Engine struct {
	Store eventstore.Store
	DB    *sql.DB
	// Dialect is DB's SQL dialect, named by the wiring.
	Dialect Dialect
	Runners []*Runner
	// Transport carries the messages; nil means an in-process GoChannel, owned by Run.
	Transport *Transport
	// Topic is DefaultTopic when empty.
	Topic  string
	Logger *slog.Logger
	// Metrics, when set, receives the runners' and the forwarder's counters.
	Metrics *Metrics
	// NoForwarder leaves publishing to another process (durable transports only).
	NoForwarder bool
	// CatchUpThreshold is how many events behind the head a consumer must be, at start or while
	// it runs, to be caught up in bulk (catchup.go); DefaultCatchUpThreshold when zero.
	CatchUpThreshold int
	// LagCheckInterval is how often a running consumer applying events asks whether it has fallen
	// CatchUpThreshold behind; DefaultLagCheckInterval when zero.
	LagCheckInterval time.Duration
	// CatchUpBatch is how many events a bulk catch-up reads per page; DefaultRebuildBatch when zero.
	CatchUpBatch int
	// FoldBudget is how many rows a Folding consumer holds in a bulk catch-up before it writes
	// them; DefaultFoldBudget when zero.
	FoldBudget int
	// FlushInterval is the longest a bulk catch-up folds without writing its rows and checkpoint;
	// DefaultFlushInterval when zero.
	FlushInterval time.Duration
	// BulkPageCache is the page cache, in bytes, of the SQLite connection a bulk catch-up writes
	// through when the database is larger than what SQLite maps (pinWriter); DefaultBulkPageCache
	// when zero.
	BulkPageCache int
	// PruneInterval is how often the engine deletes messages every consumer group has acknowledged
	// from a transport that keeps them (Transport.Prune); DefaultPruneInterval when zero.
	PruneInterval time.Duration
	// Leases, when set (several nodes on one PostgreSQL database), runs each consumer on one node
	// at a time (lease.go); without them every consumer runs here.
	Leases *Leases
	// BulkGathering is how long a running consumer that asks to be caught up in bulk waits for
	// others to ask too, so that one reading of the log serves them all; DefaultBulkGathering when
	// zero.
	BulkGathering time.Duration

	readyOnce sync.Once
	ready     chan struct{}
	// bulkMu guards bulkForming, the running consumers gathering for a bulk catch-up.
	bulkMu      sync.Mutex
	bulkForming []*bulkRequest
}

// Ready returns a channel closed once Run has caught every projection up from the store and
// started taking deliveries (and publishing, with the forwarder in this process).
func (e *Engine) Ready() <-chan struct{} { return e.readyChan() }

func (e *Engine) readyChan() chan struct{} {
	e.readyOnce.Do(func() { e.ready = make(chan struct{}) })
	return e.ready
}

// NewEngine returns an engine running each of consumers over store, with tables in db, of dialect d.
func NewEngine(store eventstore.Store, db *sql.DB, d Dialect, consumers ...Consumer) *Engine {
	e := &Engine{Store: store, DB: db, Dialect: d}
	for _, c := range consumers {
		e.Runners = append(e.Runners, NewRunner(store, db, d, c))
	}
	return e
}

// Runner returns the runner of the projection named name, or nil.
func (e *Engine) Runner(name string) *Runner {
	for _, r := range e.Runners {
		if r.Consumer.Name() == name {
			return r
		}
	}
	return nil
}

// WaitFor blocks until every projection has applied the event at p, or ctx ends.
func (e *Engine) WaitFor(ctx context.Context, p eventstore.Position) error {
	for _, r := range e.Runners {
		if err := r.WaitFor(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func (e *Engine) topic() string {
	if e.Topic != "" {
		return e.Topic
	}
	return DefaultTopic
}

// Run migrates the projections, catches each up from the store and then keeps them up to date
// from the transport until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Dialect.Check(); err != nil {
		return err
	}
	logger := e.logger()
	transport := e.Transport
	if transport == nil {
		transport = NewGoChannelTransport(logger)
		defer transport.Close()
	}
	if e.NoForwarder && !transport.Durable {
		return errors.New("engine: an in-process transport needs the forwarder in the same process")
	}
	if err := MigrateCheckpoints(ctx, e.DB); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	if e.Leases != nil {
		if e.Dialect != PostgreSQL {
			return errors.New("engine: leases need PostgreSQL")
		}
		if err := MigrateLeases(ctx, e.DB); err != nil {
			return err
		}
	}
	// Under the schema lock: two nodes starting together must not both rebuild one consumer's
	// tables; the second finds the version current.
	unlock, err := LockSchema(ctx, e.DB, e.Dialect)
	if err != nil {
		return err
	}
	err = e.rebuildChangedSchemas(ctx, logger)
	unlock()
	if err != nil {
		return err
	}
	if transport.Durable {
		if err := MigrateForwarderCheckpoints(ctx, e.DB); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	// SQLite has one writer at a time, and a connection that finds the file locked sleeps and polls
	// (1, 2, 5 … 100 ms): several read models contending that way took hundreds of milliseconds per
	// batch at 200 appends/s. Queuing them on one gate here hands the lock over at once.
	var writeGate chan struct{}
	if e.Dialect == SQLite {
		writeGate = make(chan struct{}, 1)
	}
	lagCheck := e.LagCheckInterval
	if lagCheck <= 0 {
		lagCheck = DefaultLagCheckInterval
	}
	for _, r := range e.Runners {
		r.writeGate = writeGate
		r.bulk, r.lagCheckEvery = e.bulkIfFarBehind, lagCheck
		if r.Logger == nil {
			r.Logger = logger
		}
		if r.Metrics == nil {
			r.Metrics = e.Metrics
		}
		if e.Leases != nil {
			r.lease, r.node = newRunnerLease(), e.Leases.Node
		}
		if err := r.init(ctx); err != nil {
			return err
		}
	}
	router, err := e.newRouter(transport, logger)
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := router.Run(ctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("engine: the watermill router stopped")
		}
		return err
	})
	select {
	case <-router.Running():
	case <-ctx.Done():
		return e.result(ctx, g.Wait())
	}
	if transport.prune != nil {
		g.Go(func() error { e.pruneEvery(ctx, transport); return nil })
	}
	// The runners far behind the head are caught up in bulk first; the others start at once. With
	// leases each runner catches up in bulk by itself, once it runs here.
	var far []*Runner
	if e.Leases != nil {
		g.Go(func() error { return e.Leases.run(ctx, e.Runners) })
	} else if far, err = e.farBehind(ctx, e.Runners); err != nil {
		logger.Warn("engine: could not tell how far behind the consumers are; they catch up through the live path", "error", err)
	}
	bulk := make(chan struct{})
	g.Go(func() error { defer close(bulk); return e.catchUp(ctx, far) })
	caughtUp := make([]chan struct{}, len(e.Runners))
	for i, r := range e.Runners {
		caughtUp[i] = make(chan struct{})
		g.Go(func() error {
			if slices.Contains(far, r) {
				select {
				case <-bulk:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return r.loop(ctx, caughtUp[i])
		})
	}
	g.Go(func() error {
		// Start once every projection has caught up from the store, so the forwarder does not
		// republish what catching up applies in larger batches.
		for _, c := range caughtUp {
			select {
			case <-c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// Whatever is appended from here on reaches the forwarder's subscription: it reads the log
		// from the slowest position onwards.
		close(e.readyChan())
		if e.NoForwarder {
			return nil
		}
		from, err := e.forwardFrom(ctx, transport)
		if err != nil {
			return err
		}
		forwarder := &Forwarder{Store: e.Store, DB: e.DB, Publisher: transport.Publisher, Topic: e.topic(),
			Logger: logger, Checkpointed: transport.Durable, Metrics: e.Metrics}
		if !transport.Durable {
			forwarder.Window, forwarder.WaitApplied, forwarder.Applied = inProcessWindow, e.waitApplied, e.appliedHere
		}
		logger.Debug("forwarder starts", "topic", e.topic(), "transport", transport.Kind, "after", from)
		return forwarder.Run(ctx, from)
	})
	return e.result(ctx, g.Wait())
}

// pruneEvery prunes the transport's acknowledged messages until ctx ends. A failed prune is only
// logged: the messages wait for the next one.
func (e *Engine) pruneEvery(ctx context.Context, transport *Transport) {
	interval := e.PruneInterval
	if interval <= 0 {
		interval = DefaultPruneInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := transport.Prune(ctx, e.topic()); err != nil && ctx.Err() == nil {
			e.logger().Warn("pruning acknowledged messages failed", "transport", transport.Kind, "error", err)
		} else if n > 0 {
			e.logger().Debug("pruned acknowledged messages", "transport", transport.Kind, "deleted", n)
		}
	}
}

// result is Run's answer: the context's error once it ended (a normal stop), else err.
func (e *Engine) result(ctx context.Context, err error) error {
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return context.Cause(ctx)
	}
	return err
}

func (e *Engine) newRouter(transport *Transport, logger *slog.Logger) (*message.Router, error) {
	wmLogger := watermillLogger(logger)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, wmLogger)
	if err != nil {
		return nil, err
	}
	poison, err := middleware.PoisonQueue(transport.Publisher, e.topic()+poisonSuffix)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(middleware.CorrelationID, poison)
	retry := middleware.Retry{
		MaxRetries: 5, InitialInterval: 100 * time.Millisecond, MaxInterval: 2 * time.Second, Multiplier: 2,
		Logger: wmLogger,
	}
	for _, r := range e.Runners {
		subscriber, err := transport.Subscriber(r.Consumer.Name())
		if err != nil {
			return nil, fmt.Errorf("engine: subscribe %s: %w", r.Consumer.Name(), err)
		}
		handler := router.AddConsumerHandler(r.Consumer.Name(), e.topic(), subscriber, r.Handle)
		handler.AddMiddleware(r.giveUp, retry.Middleware, middleware.Recoverer)
	}
	return router, nil
}

// giveUp runs once the retries are spent, just before the message goes to the poison queue: it
// logs why, and when the projection itself failed on the event, stalls the runner, which stops
// taking deliveries and keeps trying to catch up from the store. An exact read model must not move
// past an event it could not apply.
func (r *Runner) giveUp(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		produced, err := h(msg)
		if err == nil || msg.Context().Err() != nil {
			return produced, err
		}
		r.logger().Error("projection gave up on a message; it goes to the poison queue", "projection", r.Consumer.Name(),
			"message", msg.UUID, "position", msg.Metadata.Get(MetadataPosition), "correlation_id", middleware.MessageCorrelationID(msg), "error", err)
		var applyErr *ApplyError
		if errors.As(err, &applyErr) {
			r.stallOn(err)
		}
		return produced, err
	}
}

// forwardFrom is where the forwarder starts: its own checkpoint on a durable transport; otherwise
// — or the first time — the slowest healthy projection's position.
func (e *Engine) forwardFrom(ctx context.Context, transport *Transport) (eventstore.Position, error) {
	if transport.Durable {
		p, ok, err := ForwarderCheckpoint(ctx, e.DB, e.topic())
		if err != nil || ok {
			return p, err
		}
	}
	var from *eventstore.Position
	for _, healthyOnly := range []bool{true, false} {
		for _, r := range e.Runners {
			if healthyOnly && r.Stalled() != nil {
				continue
			}
			if p := r.Position(); from == nil || p.Less(*from) {
				from = &p
			}
		}
		if from != nil {
			return *from, nil
		}
	}
	return eventstore.Start, nil
}

// appliedHere returns the position every consumer taking deliveries on this node has applied, and
// false when none takes them. Those that do not — stalled, caught up in bulk, or starting to run
// here — read what they miss from the store.
func (e *Engine) appliedHere() (eventstore.Position, bool) {
	var at eventstore.Position
	found := false
	for _, r := range e.Runners {
		if !r.takesDeliveries() {
			continue
		}
		if p := r.Position(); !found || p.Less(at) {
			at, found = p, true
		}
	}
	return at, found
}

// waitApplied blocks until every projection taking deliveries here has applied p.
func (e *Engine) waitApplied(ctx context.Context, p eventstore.Position) error {
	for _, r := range e.Runners {
		for r.takesDeliveries() {
			advanced := r.Advanced()
			if !r.Position().Less(p) {
				break
			}
			select {
			case <-advanced:
			case <-time.After(r.GapTimeout): // look again whether it stalled meanwhile
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
