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
// cheap. On SQLite (one node) the counters stay in memory (httprate, secretGuard).

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
// part of that window still inside the last windowLength. The statement adds the hit only when the
// budget allows it, checking the row it locks, so concurrent requests on several nodes cannot
// together overrun it.
type sharedRateLimit struct {
	tables *sharedTables
	budget string // "public" or "secret": one table holds both
	limit  int
	window time.Duration
	now    func() time.Time
	logger *slog.Logger

	mu        sync.Mutex
	lastPurge time.Time
}

// admitHit is the one statement of a request: $1 budget, $2 client, $3 current window, $4 previous
// window, $5 weight of the previous window, $6 limit. It returns a row only when the hit was
// counted. floor(x + 0.5) is Go's math.Round for the positive rates httprate rounds.
const admitHit = `WITH previous AS (
		SELECT COALESCE((SELECT hits FROM public_rate_windows WHERE budget = $1 AND client = $2 AND window_start = $4), 0) * $5::float8 AS weighted)
	INSERT INTO public_rate_windows AS w (budget, client, window_start, hits)
	SELECT $1, $2, $3, 1 FROM previous WHERE floor(previous.weighted + 0.5) + 1 <= $6
	ON CONFLICT (budget, client, window_start) DO UPDATE SET hits = w.hits + 1
		WHERE floor(w.hits + COALESCE((SELECT hits FROM public_rate_windows WHERE budget = $1 AND client = $2 AND window_start = $4), 0) * $5::float8 + 0.5) + 1 <= $6
	RETURNING w.hits, (SELECT weighted FROM previous)`

// OnLimit charges one request to the client's budget, or reports true (with Retry-After) when the
// budget is spent. A database that cannot answer lets the request through: the request itself
// then meets the outage and answers 503, which a 429 would hide.
func (l *sharedRateLimit) OnLimit(w http.ResponseWriter, r *http.Request, key string) bool {
	ctx := r.Context()
	now := l.now().UTC()
	current := now.Truncate(l.window)
	previous := current.Add(-l.window)
	weight := float64(l.window-now.Sub(current)) / float64(l.window)
	if l.budget == "public" {
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(l.limit))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(current.Add(l.window).Unix(), 10))
	}
	if err := l.tables.ensure(ctx); err != nil {
		l.logger.WarnContext(ctx, "rate limit not checked", "budget", l.budget, "error", err)
		return false
	}
	l.purge(ctx, now)
	var hits int
	var weighted float64
	err := l.tables.db.QueryRowContext(ctx, admitHit, l.budget, key, current.UnixMilli(), previous.UnixMilli(), weight, l.limit).Scan(&hits, &weighted)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if l.budget == "public" {
			w.Header().Set("X-RateLimit-Remaining", "0")
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(l.window.Seconds())))
		return true
	case err != nil:
		l.logger.WarnContext(ctx, "rate limit not checked", "budget", l.budget, "error", err)
		return false
	}
	if l.budget == "public" {
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(0, l.limit-int(math.Round(weighted+float64(hits))))))
	}
	return false
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

// setRateLimits builds the public budgets: in the database shared by the nodes on PostgreSQL, in
// memory otherwise.
func (s *Server) setRateLimits(publicPerMinute int) {
	if s.readDB != nil && isPostgresDB(s.readDB) {
		tables := &sharedTables{db: s.readDB}
		s.lookups = &sharedRateLimit{tables: tables, budget: "public", limit: publicPerMinute, window: time.Minute, now: s.now, logger: s.logger}
		s.secretRate = &sharedRateLimit{tables: tables, budget: "secret", limit: s.limits.SecretChecksPerMinute, window: time.Minute, now: s.now, logger: s.logger}
		s.secrets = &sharedSecretLockouts{tables: tables, maxFailures: s.limits.SecretFailures, lockout: s.limits.SecretLockout, now: s.now, logger: s.logger}
		return
	}
	s.lookups = httprate.NewRateLimiter(publicPerMinute, time.Minute)
	// Only Retry-After: the X-RateLimit-* headers describe the public budget.
	s.secretRate = httprate.NewRateLimiter(s.limits.SecretChecksPerMinute, time.Minute, httprate.WithResponseHeaders(httprate.ResponseHeaders{RetryAfter: "Retry-After"}))
	s.secrets = newSecretGuard(s.limits, s.now)
}
