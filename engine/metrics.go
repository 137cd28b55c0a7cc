package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/eventstore"
)

// Metrics are the Prometheus counters of an Engine's runners and forwarder. A nil *Metrics counts
// nothing.
type Metrics struct {
	applied   *prometheus.CounterVec
	batches   *prometheus.HistogramVec
	failures  *prometheus.CounterVec
	stalled   *prometheus.GaugeVec
	parked    *prometheus.GaugeVec
	catchUp   *prometheus.GaugeVec
	bulk      *prometheus.CounterVec
	published prometheus.Counter
}

// NewMetrics creates the counters and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "motcua_projection_events_applied_total",
			Help: "Events a projection has applied (each once, whatever the redeliveries).",
		}, []string{"projection"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "motcua_projection_batch_duration_seconds",
			Help:    "Time to apply one batch of events and the checkpoint, commit included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"projection"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "motcua_projection_apply_failures_total",
			Help: "Batches a projection failed to apply (the transaction rolled back).",
		}, []string{"projection"}),
		stalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "motcua_projection_stalled",
			Help: "1 while a projection is stuck on an event it cannot apply.",
		}, []string{"projection"}),
		parked: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "motcua_projection_parked_events",
			Help: "Events a projection passed over because it could not apply them (projection_parked_events); alert on any.",
		}, []string{"projection"}),
		catchUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "motcua_projection_catching_up",
			Help: "1 while the engine catches a projection far behind the log's head up in bulk (its applied events count as it flushes).",
		}, []string{"projection"}),
		bulk: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "motcua_projection_bulk_seconds_total",
			Help: "Seconds a projection's bulk catch-up spent in each stage on its own goroutine: fold (pages folded in memory), " +
				"prepare (a flush's rows worked out), wait (for the write gate: SQLite's single writer), write (the flush's transaction, " +
				"commit included); apply (a page applied in a transaction of its own) for a projection that does not fold.",
		}, []string{"projection", "stage"}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "motcua_forwarder_events_published_total",
			Help: "Events the forwarder has handed to the transport (republished ones included).",
		}),
	}
	for _, c := range []prometheus.Collector{m.applied, m.batches, m.failures, m.stalled, m.parked, m.catchUp, m.bulk, m.published} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("engine: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) appliedBatch(projection string, events int, took time.Duration) {
	if m == nil {
		return
	}
	m.applied.WithLabelValues(projection).Add(float64(events))
	m.batches.WithLabelValues(projection).Observe(took.Seconds())
}

// The stages of a bulk catch-up a member's goroutine spends its time in (motcua_projection_bulk_seconds_total).
const (
	stageFold    = "fold"
	stagePrepare = "prepare"
	stageWait    = "wait"
	stageWrite   = "write"
	stageApply   = "apply"
)

func (m *Metrics) bulkStage(projection, stage string, took time.Duration) {
	if m != nil {
		m.bulk.WithLabelValues(projection, stage).Add(took.Seconds())
	}
}

func (m *Metrics) failed(projection string) {
	if m != nil {
		m.failures.WithLabelValues(projection).Inc()
	}
}

func (m *Metrics) setStalled(projection string, stalled bool) {
	if m == nil {
		return
	}
	value := 0.0
	if stalled {
		value = 1
	}
	m.stalled.WithLabelValues(projection).Set(value)
}

func (m *Metrics) setParked(projection string, n int) {
	if m != nil {
		m.parked.WithLabelValues(projection).Set(float64(n))
	}
}

func (m *Metrics) setCatchingUp(projection string, catchingUp bool) {
	if m == nil {
		return
	}
	value := 0.0
	if catchingUp {
		value = 1
	}
	m.catchUp.WithLabelValues(projection).Set(value)
}

func (m *Metrics) publishedEvents(n int) {
	if m != nil {
		m.published.Add(float64(n))
	}
}

// Lag is how far a projection is behind the head of the log.
type Lag struct {
	Projection string
	Position   eventstore.Position
	UpdatedAt  time.Time // when its checkpoint last moved (zero if never)
	// Events is the number of events after Position, counted up to the limit MeasureLag was given;
	// AtLeast is set when the count stopped there.
	Events  int
	AtLeast bool
	// Oldest is when the oldest event not yet applied was recorded (zero when caught up).
	Oldest time.Time
}

// Seconds is how long the oldest event not yet applied has been waiting, at now.
func (l Lag) Seconds(now time.Time) float64 {
	if l.Oldest.IsZero() {
		return 0
	}
	return max(now.Sub(l.Oldest).Seconds(), 0)
}

// lagPage is how many events MeasureLag reads per query while counting.
const lagPage = 2000

// MeasureLag reads the checkpoint of the projection named name and counts the events after it, up
// to limit (0 for no limit).
func MeasureLag(ctx context.Context, store eventstore.Store, db *sql.DB, name string, limit int) (Lag, error) {
	lag := Lag{Projection: name}
	var commit, prepare int64
	var updated string
	err := db.QueryRowContext(ctx, `SELECT commit_position, prepare_position, updated_at FROM projection_checkpoints WHERE name = $1`, name).
		Scan(&commit, &prepare, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return lag, fmt.Errorf("%s: checkpoint: %w", name, err)
	default:
		lag.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		lag.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	}
	// A store that counts answers the count without reading the events, and only the oldest
	// unapplied one is read: without a limit `motcua projections status` on a node millions of
	// events behind read every one of them in pages; with one each scrape of the lag gauges read and
	// unsealed up to the limit for every consumer.
	if n, counted, err := countWithStore(ctx, store, lag.Position, limit); counted {
		if err != nil {
			return lag, fmt.Errorf("%s: count the log: %w", name, err)
		}
		lag.Events, lag.AtLeast = n, limit > 0 && n >= limit // as countAfter: reaching the limit is "at least"
		if n > 0 {
			next, err := store.ReadAll(ctx, lag.Position, 1)
			if err != nil {
				return lag, fmt.Errorf("%s: read the log: %w", name, err)
			}
			if len(next) > 0 {
				lag.Oldest = next[0].RecordedAt
			}
		}
		return lag, nil
	}
	events, atLeast, oldest, err := countAfter(ctx, store, lag.Position, limit)
	if err != nil {
		return lag, fmt.Errorf("%s: %w", name, err)
	}
	lag.Events, lag.AtLeast, lag.Oldest = events, atLeast, oldest
	return lag, nil
}

// CountEvents counts the events of the log after p, up to limit (0: all): with the store's own
// count when it has one (eventstore.Counter without a limit, eventstore.CappedCounter with one),
// else by reading the events.
func CountEvents(ctx context.Context, store eventstore.Store, p eventstore.Position, limit int) (int, error) {
	if n, counted, err := countWithStore(ctx, store, p, limit); counted {
		return n, err
	}
	n, _, _, err := countAfter(ctx, store, p, limit)
	return n, err
}

// countWithStore counts the events after p, up to limit (0: all), with the store's own count:
// eventstore.Counter without a limit, eventstore.CappedCounter with one. counted is false when the
// store has neither, and the events must be read.
func countWithStore(ctx context.Context, store eventstore.Store, p eventstore.Position, limit int) (n int, counted bool, err error) {
	if counter, ok := eventstore.CounterOf(store); ok && limit == 0 {
		n, err = counter.CountAfter(ctx, p)
		return n, true, err
	}
	if counter, ok := eventstore.CappedCounterOf(store); ok && limit > 0 {
		n, err = counter.CountAfterUpTo(ctx, p, limit)
		return n, true, err
	}
	return 0, false, nil
}

// countAfter counts the events of the log after p, up to limit (0: all), and returns when the
// first of them was recorded.
func countAfter(ctx context.Context, store eventstore.Store, p eventstore.Position, limit int) (n int, atLeast bool, first time.Time, err error) {
	for {
		page := lagPage
		if limit > 0 {
			page = min(page, limit-n)
		}
		if page == 0 {
			return n, true, first, nil
		}
		events, err := store.ReadAll(ctx, p, page)
		if err != nil {
			return n, false, first, fmt.Errorf("read the log: %w", err)
		}
		if len(events) > 0 {
			if n == 0 {
				first = events[0].RecordedAt
			}
			p = events[len(events)-1].Position
		}
		n += len(events)
		if len(events) < page {
			return n, false, first, nil
		}
	}
}

// LagCollector exports each projection's lag to Prometheus: motcua_projection_lag_events (capped
// at Limit) and motcua_projection_lag_seconds (how long the oldest event not yet applied has
// waited).
//
// A scrape never waits on the database for long: it starts a measurement in the background (unless
// one is under way), waits for it at most Wait, and exports the last values measured. A catch-up
// holding the database busy, a lock, a stalled pool once made /metrics take seconds — and
// Prometheus, timing out, lost every series at once. When a projection's lag could not be measured
// at this scrape — the measurement failed, or is still under way — its series do not vanish,
// which would silence every alert on them just when something is wrong: the collector exports the
// last values measured (the seconds still growing from the oldest event then waiting) and sets
// motcua_projection_lag_stale to 1 until a measurement succeeds again.
type LagCollector struct {
	Store  eventstore.Store
	DB     *sql.DB
	Names  []string
	Limit  int          // most events counted per projection; 10,000 when zero
	Logger *slog.Logger // where failures to measure are logged
	// Wait is how long a scrape waits for the measurement it started; DefaultLagWait when zero.
	Wait time.Duration
	// Timeout bounds a measurement; DefaultLagTimeout when zero.
	Timeout time.Duration

	mu      sync.Mutex
	last    map[string]Lag  // the last lag measured, by projection
	failed  map[string]bool // the last measurement of the projection failed
	refresh backgroundRefresh
}

// Bounds of a LagCollector's measurements.
const (
	DefaultLagWait    = 50 * time.Millisecond
	DefaultLagTimeout = 10 * time.Second
)

var (
	lagEventsDesc = prometheus.NewDesc("motcua_projection_lag_events",
		"Events in the log after the projection's checkpoint (counted up to a limit).", []string{"projection"}, nil)
	lagSecondsDesc = prometheus.NewDesc("motcua_projection_lag_seconds",
		"How long the oldest event the projection has not applied yet has been in the log; 0 when caught up.", []string{"projection"}, nil)
	lagStaleDesc = prometheus.NewDesc("motcua_projection_lag_stale",
		"1 when the lag could not be measured for this scrape (store or database unreachable or slow) and the lag series repeat the last values measured.", []string{"projection"}, nil)
)

// NewLagCollector returns a collector for the projections named names.
func NewLagCollector(store eventstore.Store, db *sql.DB, names ...string) *LagCollector {
	return &LagCollector{Store: store, DB: db, Names: names}
}

// Describe implements prometheus.Collector.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagEventsDesc
	ch <- lagSecondsDesc
	ch <- lagStaleDesc
}

// Collect implements prometheus.Collector.
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	wait := c.Wait
	if wait <= 0 {
		wait = DefaultLagWait
	}
	measured := c.refresh.await(wait, c.measure)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range c.Names {
		stale := 0.0
		if !measured || c.failed[name] {
			stale = 1
		}
		lag, known := c.last[name]
		if !known {
			ch <- prometheus.MustNewConstMetric(lagStaleDesc, prometheus.GaugeValue, stale, name)
			continue
		}
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(lag.Events), name)
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, lag.Seconds(now), name)
		ch <- prometheus.MustNewConstMetric(lagStaleDesc, prometheus.GaugeValue, stale, name)
	}
}

// measure measures every projection's lag, within Timeout, and keeps what it measured.
func (c *LagCollector) measure() {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultLagTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	limit := c.Limit
	if limit <= 0 {
		limit = 10_000
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.Default()
	}
	for _, name := range c.Names {
		lag, err := MeasureLag(ctx, c.Store, c.DB, name, limit)
		c.mu.Lock()
		if c.last == nil {
			c.last, c.failed = map[string]Lag{}, map[string]bool{}
		}
		c.failed[name] = err != nil
		if err == nil {
			c.last[name] = lag
		}
		c.mu.Unlock()
		if err != nil {
			logger.Warn("projection lag not measured; the last values measured are exported as stale", "projection", name, "error", err)
		}
	}
}

// backgroundRefresh runs one refresh at a time in the background for the scrapes that wait on it:
// a scrape starts one unless one is under way, and waits for it a bounded time.
type backgroundRefresh struct {
	mu      sync.Mutex
	running chan struct{} // closed when the refresh under way ends; nil when none is
}

// await starts refresh unless one is under way, waits for it at most wait, and reports whether it
// ended in time.
func (b *backgroundRefresh) await(wait time.Duration, refresh func()) bool {
	b.mu.Lock()
	done := b.running
	if done == nil {
		done = make(chan struct{})
		b.running = done
		go func() {
			refresh()
			b.mu.Lock()
			b.running = nil
			b.mu.Unlock()
			close(done)
		}()
	}
	b.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

// CachedCollector serves the metrics of a collector that reads a database at scrape time — the
// outbox's delivery gauges, say — from its last collection, refreshed in the background: a scrape
// starts a collection unless one is under way, waits for it at most Wait, and exports what the
// last finished collection gathered. The wrapped collector bounds its own queries with a timeout;
// a scrape never waits on them longer than Wait.
type CachedCollector struct {
	Collector prometheus.Collector
	// Wait is how long a scrape waits for the collection it started; DefaultLagWait when zero.
	Wait time.Duration

	mu      sync.Mutex
	last    []prometheus.Metric
	refresh backgroundRefresh
}

// NewCachedCollector wraps c.
func NewCachedCollector(c prometheus.Collector) *CachedCollector {
	return &CachedCollector{Collector: c}
}

// Describe implements prometheus.Collector.
func (c *CachedCollector) Describe(ch chan<- *prometheus.Desc) { c.Collector.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *CachedCollector) Collect(ch chan<- prometheus.Metric) {
	wait := c.Wait
	if wait <= 0 {
		wait = DefaultLagWait
	}
	c.refresh.await(wait, c.collect)
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	for _, m := range last {
		ch <- m
	}
}

func (c *CachedCollector) collect() {
	metrics := make(chan prometheus.Metric)
	go func() {
		defer close(metrics)
		c.Collector.Collect(metrics)
	}()
	var gathered []prometheus.Metric
	for m := range metrics {
		gathered = append(gathered, m)
	}
	c.mu.Lock()
	c.last = gathered
	c.mu.Unlock()
}
