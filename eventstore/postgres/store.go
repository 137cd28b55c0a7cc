// Package postgres is the PostgreSQL event store: eventstore.Store on github.com/jackc/pgx/v5, with
// a global log that readers never skip (ordered by writing transaction id, read only below the
// oldest running transaction) and live subscriptions woken by LISTEN/NOTIFY. docs/eventstore.md
// explains the design.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/motcua/motcua/eventstore"
)

// Defaults of the options.
const (
	DefaultWriteTimeout = 10 * time.Second
	DefaultPollInterval = time.Second
	DefaultPageSize     = 512
)

// notifyChannel is the LISTEN/NOTIFY channel that tells subscribers new events were committed.
const notifyChannel = "motcua_eventstore"

// Option configures Open.
type Option func(*options)

type options struct {
	writeTimeout time.Duration
	pollInterval time.Duration
	pageSize     int
	logger       *slog.Logger
}

// WithWriteTimeout bounds how long a statement, or a transaction left idle, may run on the store's
// connections (statement_timeout and idle_in_transaction_session_timeout). Every event's visibility
// to global log readers waits for the oldest running writing transaction in the cluster, so this is
// also the longest one stuck writer can hold back subscribers. Default DefaultWriteTimeout.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithPollInterval sets how often an idle subscription reads the log even without a notification, in
// case one was lost. Default DefaultPollInterval.
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithPageSize sets how many events a subscription reads per query. Default DefaultPageSize.
func WithPageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// WithLogger sets where the store logs reconnections and other trouble. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool         *pgxpool.Pool
	logger       *slog.Logger
	pollInterval time.Duration
	pageSize     int

	committed     *broadcaster  // wakes this process's subscriptions after each local append
	subscriptions atomic.Int32  // running Subscribe calls: without any, appends skip the broadcast
	notify        chan struct{} // asks notifyLoop to tell other processes (cap 1: requests coalesce)

	background context.Context // ends when the store is closed
	stop       context.CancelFunc
	done       sync.WaitGroup
	listenMu   sync.Mutex
	listened   bool // the LISTEN goroutine is running
	closed     bool
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value string; pgxpool settings such
// as pool_max_conns apply). It does not change the schema: call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{writeTimeout: DefaultWriteTimeout, pollInterval: DefaultPollInterval, pageSize: DefaultPageSize, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.writeTimeout <= 0 || o.pollInterval <= 0 || o.pageSize <= 0 {
		return nil, errors.New("postgres: write timeout, poll interval and page size must be positive")
	}
	config, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	params := config.ConnConfig.RuntimeParams
	timeout := strconv.FormatInt(o.writeTimeout.Milliseconds(), 10)
	for _, name := range []string{"statement_timeout", "idle_in_transaction_session_timeout"} {
		if _, set := params[name]; !set { // the DSN may choose its own
			params[name] = timeout
		}
	}
	if _, set := params["application_name"]; !set {
		params["application_name"] = "motcua"
	}
	// No parallel workers unless the DSN asks for them: every statement motcua sends reads a
	// bounded range of an index (a screen, a page of the log, a report's counters), and starting
	// two workers cost more than the work — the late dashboard's counters on a 2-core node took 45 ms
	// with them and 3 ms without (docs/benchmarks.md, session 14).
	if _, set := params["max_parallel_workers_per_gather"]; !set {
		params["max_parallel_workers_per_gather"] = "0"
	}
	// Random reads priced as what they are for tables served from memory or SSD, not PostgreSQL's
	// default for spinning disks (4), unless the DSN asks otherwise: with 4 the planner read the
	// whole table of the overdue steps' counters (29 MB) for the 2,385 rows of this month's days
	// at 1,000,000 dossiers, 11–15 ms where the index takes 2–6 (docs/benchmarks.md, session 16).
	if _, set := params["random_page_cost"]; !set {
		params["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	background, stop := context.WithCancel(context.Background())
	s := &Store{
		pool:         pool,
		logger:       o.logger,
		pollInterval: o.pollInterval,
		pageSize:     o.pageSize,
		committed:    newBroadcaster(),
		notify:       make(chan struct{}, 1),
		background:   background,
		stop:         stop,
	}
	s.done.Go(func() { s.notifyLoop(background) })
	return s, nil
}

// Pool returns the store's connection pool, for read models that keep their tables in the same
// database. Its sessions carry the write timeout (see WithWriteTimeout): a transaction that needs
// longer can SET LOCAL statement_timeout.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the store's background work and closes its connections. Subscriptions still running
// end with an error.
func (s *Store) Close() error {
	s.listenMu.Lock()
	s.closed = true
	s.listenMu.Unlock()
	s.stop()
	s.done.Wait()
	s.pool.Close()
	return nil
}

// broadcaster wakes every waiter at once: waiters take the current channel before they look for
// work, so a broadcast between looking and waiting is never lost.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{ch: make(chan struct{})} }

func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcaster) broadcast() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
