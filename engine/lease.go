package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Several nodes on one PostgreSQL database run each consumer of the log on exactly one of them at a
// time, through a lease per consumer in consumer_leases: its owner (a node's name), a fencing token
// raised at every change of owner, and when it expires. Each node's Leases renews what it holds
// every TTL/5, takes free or expired leases while it holds fewer than its fair share — the
// consumers divided by the nodes alive (cluster_nodes, each node's heartbeat) — and hands back what
// it holds beyond it. A node that dies stops renewing: its leases expire after TTL and the others,
// whose fair share grew, take them and resume from the checkpoints.
//
// Every write transaction of a consumer (runner batches, parking, bulk catch-up) first checks, in
// that same transaction, that the lease still carries the token it was taken with, and holds the
// lease row FOR KEY SHARE until it commits. A takeover locks the row FOR UPDATE, so it waits for a
// write under way to end, and changes the token, so a paused owner that wakes up after losing its
// lease (SIGSTOP, a long GC pause, a network partition) finds another token and writes nothing.
// Why not advisory locks: a session advisory lock lives as long as its connection, and the
// connection of a paused process stays open — its consumers would never move. See
// docs/projections.md, "Several nodes".

// DefaultLeaseTTL is how long a lease lasts without renewal: a dead node's consumers move to the
// others after at most about this long.
const DefaultLeaseTTL = 5 * time.Second

// errLeaseLost ends a consumer's write when its lease has another token: another node runs it.
var errLeaseLost = errors.New("the consumer's lease was lost: another node runs it")

// Leases share the consumers of an Engine among the nodes of one PostgreSQL database.
type Leases struct {
	DB *sql.DB
	// Node is this node's name, unique among the nodes.
	Node string
	// TTL is DefaultLeaseTTL when zero.
	TTL    time.Duration
	Logger *slog.Logger
}

// MigrateLeases creates the leases' and the nodes' tables (PostgreSQL).
func MigrateLeases(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS consumer_leases (
			name TEXT PRIMARY KEY,
			owner TEXT,
			token BIGINT NOT NULL DEFAULT 0,
			acquired_at TIMESTAMPTZ,
			expires_at TIMESTAMPTZ NOT NULL DEFAULT now());
		CREATE TABLE IF NOT EXISTS cluster_nodes (
			name TEXT PRIMARY KEY,
			started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
			seen_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
	if err != nil {
		return fmt.Errorf("engine: migrate leases: %w", err)
	}
	return nil
}

// Lease is who runs a consumer, as `motcua projections status` shows it.
type Lease struct {
	Name  string
	Owner string // empty when nobody holds it
	Since time.Time
	// Expired: the owner stopped renewing it (dead, paused or cut off).
	Expired bool
	Token   int64
}

// ListLeases returns the consumers' leases, by name; none on a database without leases.
func ListLeases(ctx context.Context, db *sql.DB) ([]Lease, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, coalesce(owner, ''), coalesce(acquired_at, now()), expires_at < now(), token
		FROM consumer_leases ORDER BY name`)
	if err != nil {
		if _, missing := db.ExecContext(ctx, `SELECT 1 FROM consumer_leases WHERE false`); missing != nil {
			return nil, nil
		}
		return nil, err
	}
	defer rows.Close()
	var leases []Lease
	for rows.Next() {
		var l Lease
		if err := rows.Scan(&l.Name, &l.Owner, &l.Since, &l.Expired, &l.Token); err != nil {
			return nil, err
		}
		leases = append(leases, l)
	}
	return leases, rows.Err()
}

func (l *Leases) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultLeaseTTL
}

func (l *Leases) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// runnerLease is a runner's side of its lease: the token it holds (0: none), and the run the lease
// allows, cancelled when the lease is lost or handed over.
type runnerLease struct {
	mu      sync.Mutex
	token   int64
	since   time.Time
	changed chan struct{} // closed and replaced when token changes
	cancel  context.CancelCauseFunc
	running chan struct{} // closed when the run under the current token ended; nil when none runs
}

func newRunnerLease() *runnerLease { return &runnerLease{changed: make(chan struct{})} }

// current returns the token held (0: none) and a channel closed when it changes.
func (rl *runnerLease) current() (int64, <-chan struct{}) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.token, rl.changed
}

func (rl *runnerLease) heldSince() time.Time {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.since
}

func (rl *runnerLease) held() int64 {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.token
}

// set changes the token held, cancelling the run of the old one.
func (rl *runnerLease) set(token int64) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.token == token {
		return
	}
	if rl.cancel != nil {
		rl.cancel(errLeaseLost)
		rl.cancel = nil
	}
	rl.token, rl.since = token, time.Now()
	close(rl.changed)
	rl.changed = make(chan struct{})
}

// startRun records the run allowed by token; it returns false (and cancels it) when the token
// changed meanwhile.
func (rl *runnerLease) startRun(token int64, cancel context.CancelCauseFunc) (ended func(), ok bool) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.token != token {
		cancel(errLeaseLost)
		return nil, false
	}
	done := make(chan struct{})
	rl.cancel, rl.running = cancel, done
	return func() {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		close(done)
		if rl.running == done {
			rl.running = nil
		}
	}, true
}

// stopped returns a channel closed once no run is under way.
func (rl *runnerLease) stopped() <-chan struct{} {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.running == nil {
		done := make(chan struct{})
		close(done)
		return done
	}
	return rl.running
}

// runsHere reports whether this node runs the consumer now: always without leases.
func (r *Runner) runsHere() bool { return r.lease == nil || r.lease.held() != 0 }

// checkFence fails with errLeaseLost, in tx, unless this node still holds the consumer's lease with
// the token it runs under; it keeps the lease row FOR KEY SHARE until tx ends, so that no takeover
// completes while the write is under way.
func (r *Runner) checkFence(ctx context.Context, tx *sql.Tx) error {
	if r.lease == nil {
		return nil
	}
	token := r.lease.held()
	var owner string
	err := tx.QueryRowContext(ctx, `SELECT owner FROM consumer_leases WHERE name = $1 AND token = $2 AND owner = $3 FOR KEY SHARE`,
		r.Consumer.Name(), token, r.node).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || token == 0 {
		if token != 0 {
			// Said here as the lease round says it: a write can notice first (a paused node
			// wakes with work due), and the round then finds no lease held to report.
			r.logger().Warn("leases: lost a consumer to another node", "consumer", r.Consumer.Name(), "noticed_by", "a refused write")
		}
		r.lease.set(0)
		return fmt.Errorf("%s: %w", r.Consumer.Name(), errLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("%s: check the lease: %w", r.Consumer.Name(), err)
	}
	return nil
}

// run keeps the runners' leases until ctx ends, then hands back what it holds.
func (l *Leases) run(ctx context.Context, runners []*Runner) error {
	ttl := l.ttl()
	names := make([]string, len(runners))
	for i, r := range runners {
		names[i] = r.Consumer.Name()
	}
	if err := l.register(ctx, names); err != nil {
		return err
	}
	tick := time.NewTicker(ttl / 5)
	defer tick.Stop()
	renewed := time.Now()
	for {
		if err := l.round(ctx, runners, &renewed); err != nil && ctx.Err() == nil {
			l.logger().Warn("leases: a round failed; trying again", "error", err)
			if time.Since(renewed) > ttl {
				// The leases may have been taken by now: stop writing before anyone else does.
				for _, r := range runners {
					if r.lease.held() != 0 {
						l.logger().Warn("leases: not renewed in time; letting the consumer go", "consumer", r.Consumer.Name())
						r.lease.set(0)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			l.handBack(runners)
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// register records the consumers' lease rows, and frees those a previous run of this node (the
// same name: names are unique) held when it died: the fencing tokens keep that run from writing.
func (l *Leases) register(ctx context.Context, names []string) error {
	if _, err := l.DB.ExecContext(ctx, `UPDATE consumer_leases SET owner = NULL, expires_at = now() WHERE owner = $1`, l.Node); err != nil {
		return fmt.Errorf("engine: free the leases of this node's previous run: %w", err)
	}
	for _, name := range names {
		if _, err := l.DB.ExecContext(ctx, `INSERT INTO consumer_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, name); err != nil {
			return fmt.Errorf("engine: register the lease of %s: %w", name, err)
		}
	}
	return nil
}

// round is one turn: heartbeat, renew, then hand back or take leases towards the fair share.
func (l *Leases) round(ctx context.Context, runners []*Runner, renewed *time.Time) error {
	ttl := l.ttl()
	seconds := ttl.Seconds()
	if _, err := l.DB.ExecContext(ctx, `INSERT INTO cluster_nodes (name) VALUES ($1)
		ON CONFLICT (name) DO UPDATE SET seen_at = now()`, l.Node); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	rows, err := l.DB.QueryContext(ctx, `UPDATE consumer_leases SET expires_at = now() + make_interval(secs => $2)
		WHERE owner = $1 RETURNING name, token`, l.Node, seconds)
	if err != nil {
		return fmt.Errorf("renew: %w", err)
	}
	held := map[string]int64{}
	for rows.Next() {
		var name string
		var token int64
		if err := rows.Scan(&name, &token); err != nil {
			rows.Close()
			return err
		}
		held[name] = token
	}
	if err := rows.Close(); err != nil {
		return err
	}
	*renewed = time.Now()
	var mine []*Runner
	for _, r := range runners {
		token := r.lease.held()
		if token != 0 && held[r.Consumer.Name()] != token {
			l.logger().Warn("leases: lost a consumer to another node", "consumer", r.Consumer.Name())
			r.lease.set(0)
			token = 0
		}
		if token != 0 {
			mine = append(mine, r)
		}
	}
	var alive int
	if err := l.DB.QueryRowContext(ctx, `SELECT count(*) FROM cluster_nodes WHERE seen_at > now() - make_interval(secs => $1)`,
		seconds).Scan(&alive); err != nil {
		return fmt.Errorf("count the nodes: %w", err)
	}
	fair := (len(runners) + max(alive, 1) - 1) / max(alive, 1)
	if len(mine) > fair {
		// Hand back the ones taken last: the others have run here longest.
		slices.SortFunc(mine, func(a, b *Runner) int { return a.lease.heldSince().Compare(b.lease.heldSince()) })
		for _, r := range mine[fair:] {
			l.handOver(ctx, r)
		}
		return nil
	}
	for _, i := range rand.Perm(len(runners)) {
		if len(mine) >= fair {
			break
		}
		r := runners[i]
		if r.lease.held() != 0 {
			continue
		}
		token, err := l.take(ctx, r.Consumer.Name())
		if err != nil {
			return err
		}
		if token != 0 {
			l.logger().Info("leases: runs the consumer", "consumer", r.Consumer.Name(), "token", token)
			r.lease.set(token)
			mine = append(mine, r)
		}
	}
	return nil
}

// take takes the lease of name when it is free or expired and returns its new token (0: not taken).
// The row is locked FOR UPDATE first: a write of the old owner under way holds it FOR KEY SHARE,
// and the takeover waits for it (a short while: a paused owner's transaction is ended by the
// server's idle-in-transaction timeout, and the next round tries again).
func (l *Leases) take(ctx context.Context, name string) (int64, error) {
	tx, err := l.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '500ms'`); err != nil {
		return 0, err
	}
	var free bool
	err = tx.QueryRowContext(ctx, `SELECT owner IS NULL OR expires_at < now() FROM consumer_leases WHERE name = $1 FOR UPDATE`, name).Scan(&free)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		l.logger().Debug("leases: could not lock a lease", "consumer", name, "error", err)
		return 0, nil
	}
	if !free {
		return 0, nil
	}
	var token int64
	if err := tx.QueryRowContext(ctx, `UPDATE consumer_leases SET owner = $2, token = token + 1, acquired_at = now(),
		expires_at = now() + make_interval(secs => $3) WHERE name = $1 RETURNING token`, name, l.Node, l.ttl().Seconds()).Scan(&token); err != nil {
		return 0, err
	}
	return token, tx.Commit()
}

// handOver stops running r here, waits (a while) for its run to end, and frees its lease.
func (l *Leases) handOver(ctx context.Context, r *Runner) {
	token := r.lease.held()
	r.lease.set(0)
	select {
	case <-r.lease.stopped():
	case <-time.After(l.ttl()):
	case <-ctx.Done():
	}
	if _, err := l.DB.ExecContext(ctx, `UPDATE consumer_leases SET owner = NULL, expires_at = now() WHERE name = $1 AND token = $2 AND owner = $3`,
		r.Consumer.Name(), token, l.Node); err != nil {
		l.logger().Warn("leases: could not hand a lease back; it expires by itself", "consumer", r.Consumer.Name(), "error", err)
		return
	}
	l.logger().Info("leases: handed a consumer over", "consumer", r.Consumer.Name())
}

// handBack, at shutdown, stops every run and frees every lease this node holds, and removes the
// node from the living, so the others take its consumers at once rather than after TTL.
func (l *Leases) handBack(runners []*Runner) {
	ctx, cancel := context.WithTimeout(context.Background(), l.ttl())
	defer cancel()
	for _, r := range runners {
		if r.lease.held() != 0 {
			l.handOver(ctx, r)
		}
	}
	if _, err := l.DB.ExecContext(ctx, `DELETE FROM cluster_nodes WHERE name = $1`, l.Node); err != nil {
		l.logger().Warn("leases: could not leave the cluster; the others notice in a few seconds", "error", err)
	}
}
