package http

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// On PostgreSQL several nodes serve one province behind a load balancer, so the public budgets are
// counted in the database, where every node sees the same counters: a client spreading its requests
// over the nodes gets the budget it would get from one node. One statement per request keeps this
// cheap; the public budget, by default, is counted in each node's memory and synced to the
// database (limits_synced.go), with that statement for clients near their budget. On SQLite (one
// node) the counters stay in memory (httprate, secretGuard).

// rateLimiter is what publicBudget and admitSecretCheck need from a request budget: httprate's
// in-memory limiter, or sharedRateLimit.
type rateLimiter interface {
	OnLimit(w http.ResponseWriter, r *http.Request, key string) bool
}

// secretLockouts keeps the wrong-secret counts: secretGuard in memory, sharedSecretLockouts in the
// database.
type secretLockouts interface {
	lockedFor(ctx context.Context, key string) time.Duration
	fail(ctx context.Context, key string)
}

// MigrateRateLimits creates the tables of the shared public budgets when they are missing (on
// PostgreSQL only; SQLite counts in memory).
func MigrateRateLimits(ctx context.Context, db *sql.DB) error {
	if !isPostgresDB(db) {
		return nil
	}
	// window_start and locked_until are Unix milliseconds. The windows are written at every public
	// request and count for two minutes: they are UNLOGGED, so that a request's hit commits without
	// waiting for the write-ahead log to reach the disk (that wait was most of a lookup's time). A
	// crash or a failover empties them — every client starts a fresh minute, as a node restarted on
	// SQLite does. The lock-outs are written on wrong secrets only and stay logged: a crash must
	// not hand a guesser its attempts back.
	_, err := db.ExecContext(ctx, `CREATE UNLOGGED TABLE IF NOT EXISTS public_rate_windows (
		budget TEXT NOT NULL,
		client TEXT NOT NULL,
		window_start BIGINT NOT NULL,
		hits INTEGER NOT NULL,
		PRIMARY KEY (budget, client, window_start));
	-- added: how many hits the last statement counted, of those it asked (sharedRateLimit).
	ALTER TABLE public_rate_windows ADD COLUMN IF NOT EXISTS added INTEGER NOT NULL DEFAULT 0;
	DO $$ BEGIN
		IF EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE oid = to_regclass('public_rate_windows') AND relpersistence = 'p') THEN
			ALTER TABLE public_rate_windows SET UNLOGGED;
		END IF;
	END $$;
	CREATE TABLE IF NOT EXISTS secret_lockouts (
		client TEXT PRIMARY KEY,
		failures INTEGER NOT NULL,
		first_failure BIGINT NOT NULL,
		locked_until BIGINT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("rate limits: create tables: %w", err)
	}
	return nil
}

// sharedTables creates the tables once per process, for a server built without the wiring's
// migration (tests, tools).
type sharedTables struct {
	db    *sql.DB
	mu    sync.Mutex
	ready bool
}

func (t *sharedTables) ensure(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ready {
		return nil
	}
	if err := MigrateRateLimits(ctx, t.db); err != nil {
		return err
	}
	t.ready = true
	return nil
}

// sharedRateLimit is a sliding-window budget in the database, with httprate's arithmetic: the
// client's rate is its hits in the current window plus its hits in the previous one weighted by the
// part of that window still inside the last windowLength. The statement adds hits only as far as
// the budget allows, checking the row it locks, so concurrent requests on several nodes cannot
// together overrun it.
//
// A node charges one client's concurrent requests together: while one statement for a client is
// on its way, the requests that arrive join the next one, which asks for all their hits at once
// and admits as many as the budget holds, in order of arrival. The counts stay exact; a client
// sending many requests at once (a robot, or the many citizens behind one carrier's address) costs
// the database one statement per round trip instead of one per request.
type sharedRateLimit struct {
	tables *sharedTables
	budget string // "public" or "secret": one table holds both
	limit  int
	window time.Duration
	now    func() time.Time
	logger *slog.Logger
	// held, when set, is the node's own count of the budget (syncedRateLimit): each statement
	// counts the hits it holds unwritten against the limit and tells it what it counted.
	held heldHits

	mu        sync.Mutex
	lastPurge time.Time
	charging  map[string]*hitQueue // clients with a statement on its way
}

// hitQueue is one client's statement on its way and the batch of requests waiting for the next.
type hitQueue struct{ next *hitBatch }

// hitBatch is the hits of one statement: asked of them, the first added were counted.
type hitBatch struct {
	asked int
	done  chan struct{} // closed once the fields below are set

	counted  bool    // the statement answered
	added    int     // hits counted, the first added of the batch's requests
	hits     int     // the window's hits after the statement
	weighted float64 // the previous window's weighted hits
	reset    time.Time
}

// heldHits is a node's count of a budget kept beside the table (syncedRateLimit).
type heldHits interface {
	// unwritten returns the hits of client key this node admitted in the windows starting at
	// current and previous (Unix milliseconds) and has not written, and keeps them unwritten until
	// counted is called.
	unwritten(key string, current, previous int64) (currentHits, previousHits int)
	// counted tells what the statement found: the current window's hits in the table after it and
	// how many it added; answered is false when the database did not answer.
	counted(key string, current int64, hits, added int, answered bool)
}

// rateVerdict is the budget's answer to one request.
type rateVerdict struct {
	limited  bool
	checked  bool // false when the database could not answer: the request goes through
	hits     int  // the client's hits in the window, this one included
	weighted float64
	reset    time.Time
}

// admitHits is the one statement of a batch: $1 budget, $2 client, $3 current window, $4 previous
// window, $5 weight of the previous window, $6 limit, $7 hits asked, $8 and $9 the hits this node
// admitted in the current and previous windows and has not written yet (syncedRateLimit; 0 for
// the others): they count against the limit as if they were in the rows. It counts as many of the
// asked hits as the budget holds and returns a row only when it counted at least one: the
// window's hits in the table after it, how many it added, and the previous window's weighted hits.
// floor(x + 0.5) is Go's math.Round for the positive rates httprate rounds; the previous
// window's weighted hits are read once, in the CTE.
const admitHits = `WITH previous AS (
		SELECT (COALESCE((SELECT hits FROM public_rate_windows WHERE budget = $1 AND client = $2 AND window_start = $4), 0) + $9::bigint) * $5::float8 AS weighted)
	INSERT INTO public_rate_windows AS w (budget, client, window_start, hits, added)
	SELECT $1, $2, $3, n, n FROM (SELECT LEAST($7::bigint, $6::bigint - $8::bigint - floor(previous.weighted + 0.5)::bigint) AS n FROM previous) AS asked WHERE n >= 1
	ON CONFLICT (budget, client, window_start) DO UPDATE SET
		hits = w.hits + LEAST($7::bigint, $6::bigint - $8::bigint - floor(w.hits + (SELECT weighted FROM previous) + 0.5)::bigint),
		added = LEAST($7::bigint, $6::bigint - $8::bigint - floor(w.hits + (SELECT weighted FROM previous) + 0.5)::bigint)
		WHERE floor(w.hits + (SELECT weighted FROM previous) + 0.5) + $8::bigint + 1 <= $6
	RETURNING w.hits, w.added, (SELECT weighted FROM previous)`

// OnLimit charges one request to the client's budget, or reports true (with Retry-After) when the
// budget is spent. A database that cannot answer lets the request through: the request itself
// then meets the outage and answers 503, which a 429 would hide.
func (l *sharedRateLimit) OnLimit(w http.ResponseWriter, r *http.Request, key string) bool {
	v := l.charge(r.Context(), key)
	l.setHeaders(w.Header(), v)
	return v.limited
}

// setHeaders writes the verdict's headers: the public budget's X-RateLimit-*, and Retry-After on
// a refusal.
func (l *sharedRateLimit) setHeaders(h http.Header, v rateVerdict) {
	if l.budget == "public" {
		h.Set("X-RateLimit-Limit", strconv.Itoa(l.limit))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(v.reset.Unix(), 10))
		if v.checked {
			h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, l.limit-int(math.Round(v.weighted+float64(v.hits))))))
		}
	}
	if v.limited {
		h.Set("Retry-After", strconv.Itoa(int(l.window.Seconds())))
	}
}

// charge counts one request of the client key, with the client's other requests that arrive
// while a statement for it is on its way.
func (l *sharedRateLimit) charge(ctx context.Context, key string) rateVerdict {
	b, place, ok := l.enqueue(ctx, key)
	if !ok {
		return l.unchecked()
	}
	return l.verdict(ctx, b, place)
}

// unchecked is the verdict when the database could not answer: the request goes through.
func (l *sharedRateLimit) unchecked() rateVerdict {
	return rateVerdict{reset: l.now().UTC().Truncate(l.window).Add(l.window)}
}

// chargeAhead starts charging one request of the client key and returns what waits for the
// verdict: whether the request is refused, and the headers that say so.
func (l *sharedRateLimit) chargeAhead(r *http.Request, key string) func() (bool, func(http.Header)) {
	ctx := r.Context()
	b, place, ok := l.enqueue(ctx, key)
	return func() (bool, func(http.Header)) {
		v := l.unchecked()
		if ok {
			v = l.verdict(ctx, b, place)
		}
		return v.limited, func(h http.Header) { l.setHeaders(h, v) }
	}
}

// enqueue adds one hit of key to the batch that the next statement for key will ask, starting
// that statement when none is on its way, and returns the batch and the hit's place in it; false
// when the tables cannot be made (the request then goes through).
func (l *sharedRateLimit) enqueue(ctx context.Context, key string) (*hitBatch, int, bool) {
	if err := l.tables.ensure(ctx); err != nil {
		l.logger.WarnContext(ctx, "rate limit not checked", "budget", l.budget, "error", err)
		return nil, 0, false
	}
	l.mu.Lock()
	if l.charging == nil {
		l.charging = map[string]*hitQueue{}
	}
	q, onItsWay := l.charging[key]
	var b *hitBatch
	switch {
	case !onItsWay:
		q = &hitQueue{}
		l.charging[key] = q
		b = &hitBatch{done: make(chan struct{})}
	case q.next == nil:
		b = &hitBatch{done: make(chan struct{})}
		q.next = b
	default:
		b = q.next
	}
	place := b.asked
	b.asked++
	l.mu.Unlock()
	if !onItsWay {
		// The statement outlives this request if it is cancelled: others may wait on it.
		go l.send(context.WithoutCancel(ctx), key, q, b)
	}
	return b, place, true
}

// verdict waits for the statement of batch b and tells the request at place its answer.
func (l *sharedRateLimit) verdict(ctx context.Context, b *hitBatch, place int) rateVerdict {
	select {
	case <-b.done:
	case <-ctx.Done():
		return l.unchecked()
	}
	v := rateVerdict{checked: b.counted, reset: b.reset}
	switch {
	case !b.counted:
	case place >= b.added:
		v.limited, v.hits, v.weighted = true, b.hits, b.weighted
	default:
		v.hits, v.weighted = b.hits-b.added+place+1, b.weighted
	}
	return v
}

// send runs batch b's statement, then hands the batch that gathered meanwhile to a statement of
// its own, or marks the client idle.
func (l *sharedRateLimit) send(ctx context.Context, key string, q *hitQueue, b *hitBatch) {
	for {
		l.count(ctx, key, b)
		l.mu.Lock()
		next := q.next
		q.next = nil
		if next == nil {
			delete(l.charging, key)
		}
		l.mu.Unlock()
		if next == nil {
			return
		}
		b = next
	}
}

// count runs one statement for batch b and closes b.done.
func (l *sharedRateLimit) count(ctx context.Context, key string, b *hitBatch) {
	defer close(b.done)
	now := l.now().UTC()
	current := now.Truncate(l.window)
	previous := current.Add(-l.window)
	weight := float64(l.window-now.Sub(current)) / float64(l.window)
	b.reset = current.Add(l.window)
	l.purge(ctx, now)
	heldCurrent, heldPrevious := 0, 0
	if l.held != nil {
		heldCurrent, heldPrevious = l.held.unwritten(key, current.UnixMilli(), previous.UnixMilli())
	}
	err := l.tables.db.QueryRowContext(ctx, admitHits, l.budget, key, current.UnixMilli(), previous.UnixMilli(), weight, l.limit, b.asked, heldCurrent, heldPrevious).
		Scan(&b.hits, &b.added, &b.weighted)
	switch {
	case errors.Is(err, sql.ErrNoRows): // not one hit counted: the budget is spent
		b.counted, b.added = true, 0
		b.hits, b.weighted = l.limit, 0
	case err != nil:
		l.logger.WarnContext(ctx, "rate limit not checked", "budget", l.budget, "error", err)
	default:
		b.counted = true
	}
	if l.held != nil {
		l.held.counted(key, current.UnixMilli(), b.hits, b.added, b.counted)
	}
	if b.counted && b.added > 0 {
		b.hits += heldCurrent // the client's hits as this node counts them, for the verdicts
	}
}

// purge drops the windows that no longer count, at most once a window per node.
func (l *sharedRateLimit) purge(ctx context.Context, now time.Time) {
	l.mu.Lock()
	due := now.Sub(l.lastPurge) >= l.window
	if due {
		l.lastPurge = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	if _, err := l.tables.db.ExecContext(ctx, `DELETE FROM public_rate_windows WHERE budget = $1 AND window_start < $2`,
		l.budget, now.Truncate(l.window).Add(-l.window).UnixMilli()); err != nil {
		l.logger.WarnContext(ctx, "rate limit windows not purged", "budget", l.budget, "error", err)
	}
}

// sharedSecretLockouts counts wrong secrets in the database: maxFailures wrong secrets within
// lockout of the first lock the client out for lockout, on every node.
type sharedSecretLockouts struct {
	tables      *sharedTables
	maxFailures int
	lockout     time.Duration
	now         func() time.Time
	logger      *slog.Logger
}

func (g *sharedSecretLockouts) lockedFor(ctx context.Context, key string) time.Duration {
	if err := g.tables.ensure(ctx); err != nil {
		g.logger.WarnContext(ctx, "secret lock-out not checked", "error", err)
		return 0
	}
	var until int64
	err := g.tables.db.QueryRowContext(ctx, `SELECT locked_until FROM secret_lockouts WHERE client = $1`, key).Scan(&until)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			g.logger.WarnContext(ctx, "secret lock-out not checked", "error", err)
		}
		return 0
	}
	return max(0, time.UnixMilli(until).Sub(g.now()))
}

// fail counts one wrong secret; the failure that reaches maxFailures locks the client out and
// starts the count afresh. One statement: the row is locked while it is counted.
func (g *sharedSecretLockouts) fail(ctx context.Context, key string) {
	if err := g.tables.ensure(ctx); err != nil {
		g.logger.WarnContext(ctx, "wrong secret not counted", "error", err)
		return
	}
	now := g.now().UnixMilli()
	_, err := g.tables.db.ExecContext(ctx, `INSERT INTO secret_lockouts AS s (client, failures, first_failure, locked_until)
		VALUES ($1, 1, $2, CASE WHEN $4 <= 1 THEN $2 + $3 ELSE 0 END)
		ON CONFLICT (client) DO UPDATE SET
			failures = CASE WHEN s.first_failure <= $2 - $3 THEN 1 WHEN s.failures + 1 >= $4 THEN 0 ELSE s.failures + 1 END,
			first_failure = CASE WHEN s.first_failure <= $2 - $3 THEN $2 ELSE s.first_failure END,
			locked_until = CASE WHEN s.first_failure > $2 - $3 AND s.failures + 1 >= $4 THEN $2 + $3 ELSE s.locked_until END`,
		key, now, g.lockout.Milliseconds(), g.maxFailures)
	if err != nil {
		g.logger.WarnContext(ctx, "wrong secret not counted", "error", err)
	}
}

// setRateLimits builds the public budgets: in the database shared by the nodes on PostgreSQL
// (unless the operator counts them per node) — the public one synced from each node's memory when
// the operator gives an interval —, in memory otherwise.
func (s *Server) setRateLimits(publicPerMinute int) {
	if s.readDB != nil && isPostgresDB(s.readDB) && !s.limits.PerNode {
		tables := &sharedTables{db: s.readDB}
		lookups := &sharedRateLimit{tables: tables, budget: "public", limit: publicPerMinute, window: time.Minute, now: s.now, logger: s.logger}
		s.lookups = lookups
		if s.limits.PublicBudgetSync > 0 {
			s.lookups = newSyncedRateLimit(lookups, s.limits.PublicBudgetSync)
		}
		s.secretRate = &sharedRateLimit{tables: tables, budget: "secret", limit: s.limits.SecretChecksPerMinute, window: time.Minute, now: s.now, logger: s.logger}
		s.secrets = &sharedSecretLockouts{tables: tables, maxFailures: s.limits.SecretFailures, lockout: s.limits.SecretLockout, now: s.now, logger: s.logger}
		return
	}
	s.lookups = httprate.NewRateLimiter(publicPerMinute, time.Minute)
	// Only Retry-After: the X-RateLimit-* headers describe the public budget.
	s.secretRate = httprate.NewRateLimiter(s.limits.SecretChecksPerMinute, time.Minute, httprate.WithResponseHeaders(httprate.ResponseHeaders{RetryAfter: "Retry-After"}))
	s.secrets = newSecretGuard(s.limits, s.now)
}
