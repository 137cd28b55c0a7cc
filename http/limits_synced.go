package http

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// syncedRateLimit is the public budget shared by the nodes without a statement on the request
// path (issue 12), as Kong's rate limiting counts with sync_rate. Each node counts the hits it
// admits in memory, per client, with sharedRateLimit's sliding window, and adds what it last
// learnt of the other nodes' hits. A background sync writes every client's new hits in one
// statement each interval and learns each such client's total from the table.
//
// A client whose rate, so counted, has reached half its budget is charged through sharedRateLimit's
// exact statement instead, with this node's unwritten hits counted against the limit: a client near
// its budget is judged against the table as before. What the table does not know yet — hits other
// nodes admitted in memory and have not synced, at most one interval's worth and at most half
// the budget per node — can be over-admitted (docs/security.md, "Rate limits").
type syncedRateLimit struct {
	exact    *sharedRateLimit // the near-limit path; exact.held is this budget
	interval time.Duration

	mu       sync.Mutex
	clients  map[string]*clientHits
	dirty    map[string]bool // clients with hits not yet written
	syncing  bool            // the sync loop runs; it ends when no client is dirty
	inFlight chan struct{}   // closed when the sync on its way has answered; nil when none is
	swept    int64           // the window of the last sweep of forgotten clients
	failing  bool            // the last sync failed (only the sync loop reads and writes it)
}

// clientHits is what a node knows of one client's budget: its latest window first.
type clientHits struct {
	windows   [2]windowHits
	exactHeld bool // an exact statement counts this node's unwritten hits: the sync leaves them
}

// windowHits is one client's window as a node counts it.
type windowHits struct {
	start   int64 // Unix milliseconds
	local   int   // hits this node admitted
	written int   // of them, in the table
	sending int   // of them, in the sync on its way
	total   int   // the table's hits when last seen, this node's written hits included
}

// others is the hits the other nodes admitted in the window, as far as this node knows.
func (w windowHits) others() int { return w.total - w.written }

// unwritten is the hits this node admitted and has not sent to the table.
func (w windowHits) unwritten() int { return w.local - w.written - w.sending }

func newSyncedRateLimit(exact *sharedRateLimit, interval time.Duration) *syncedRateLimit {
	l := &syncedRateLimit{exact: exact, interval: interval, clients: map[string]*clientHits{}, dirty: map[string]bool{}}
	exact.held = l
	return l
}

// window returns the current and previous windows' starts (Unix milliseconds) at now and the
// weight of the previous window.
func (l *syncedRateLimit) window(now time.Time) (current, previous int64, weight float64) {
	start := now.Truncate(l.exact.window)
	weight = float64(l.exact.window-now.Sub(start)) / float64(l.exact.window)
	return start.UnixMilli(), start.Add(-l.exact.window).UnixMilli(), weight
}

// roll moves the client's windows on to current, forgetting those that no longer count (and
// their unwritten hits: they would count for nothing).
func (c *clientHits) roll(current, previous int64) {
	switch c.windows[0].start {
	case current:
	case previous:
		c.windows[1], c.windows[0] = c.windows[0], windowHits{start: current}
	default:
		c.windows = [2]windowHits{{start: current}, {start: previous}}
	}
}

// find returns the client's window starting at start, nil when the node no longer keeps it.
func (c *clientHits) find(start int64) *windowHits {
	for i := range c.windows {
		if c.windows[i].start == start {
			return &c.windows[i]
		}
	}
	return nil
}

// client returns key's count, moved on to the current window; l.mu is held.
func (l *syncedRateLimit) client(key string, current, previous int64) *clientHits {
	if l.swept != current {
		// Once a window, forget the clients with nothing that still counts.
		l.swept = current
		for k, c := range l.clients {
			if c.windows[0].start < previous && !l.dirty[k] && !c.exactHeld && c.windows[0].sending == 0 && c.windows[1].sending == 0 {
				delete(l.clients, k)
			}
		}
	}
	c := l.clients[key]
	if c == nil {
		c = &clientHits{}
		l.clients[key] = c
	}
	c.roll(current, previous)
	return c
}

// admitLocally counts one hit of key in memory when the client's rate, as this node knows it, is
// under half the budget, and returns its verdict; false when the exact path must judge.
func (l *syncedRateLimit) admitLocally(key string) (rateVerdict, bool) {
	now := l.exact.now().UTC()
	current, previous, weight := l.window(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(key, current, previous)
	cur, prev := &c.windows[0], &c.windows[1]
	weighted := float64(prev.others()+prev.local) * weight
	if float64(cur.others()+cur.local)+weighted >= float64(l.exact.limit)/2 {
		return rateVerdict{}, false
	}
	cur.local++
	l.dirty[key] = true
	if !l.syncing {
		l.syncing = true
		go l.syncLoop()
	}
	return rateVerdict{checked: true, hits: cur.others() + cur.local, weighted: weighted,
		reset: time.UnixMilli(current).Add(l.exact.window)}, true
}

// OnLimit charges one request to the client's budget (see sharedRateLimit.OnLimit).
func (l *syncedRateLimit) OnLimit(w http.ResponseWriter, r *http.Request, key string) bool {
	if v, ok := l.admitLocally(key); ok {
		l.exact.setHeaders(w.Header(), v)
		return false
	}
	return l.exact.OnLimit(w, r, key)
}

// chargeAhead charges one request while its handler runs (see sharedRateLimit.chargeAhead).
func (l *syncedRateLimit) chargeAhead(r *http.Request, key string) func() (bool, func(http.Header)) {
	if v, ok := l.admitLocally(key); ok {
		return func() (bool, func(http.Header)) {
			return false, func(h http.Header) { l.exact.setHeaders(h, v) }
		}
	}
	return l.exact.chargeAhead(r, key)
}

// unwritten holds key's unwritten hits for an exact statement (heldHits). A sync on its way with
// some of them is waited for: they would be in the table or not, the statement could not tell.
func (l *syncedRateLimit) unwritten(key string, current, previous int64) (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		c := l.client(key, current, previous)
		if c.windows[0].sending == 0 && c.windows[1].sending == 0 {
			c.exactHeld = true
			return c.windows[0].local - c.windows[0].written, c.windows[1].local - c.windows[1].written
		}
		wait := l.inFlight
		l.mu.Unlock()
		<-wait
		l.mu.Lock()
	}
}

// counted learns what an exact statement found (heldHits): the hits it added are this node's and
// written.
func (l *syncedRateLimit) counted(key string, current int64, hits, added int, answered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[key]
	if c == nil {
		return
	}
	c.exactHeld = false
	if w := c.find(current); w != nil && answered && added > 0 {
		w.local += added
		w.written += added
		w.total = max(w.total, hits)
	}
}

// syncLoop syncs every interval while some client has hits not yet written.
func (l *syncedRateLimit) syncLoop() {
	for {
		time.Sleep(l.interval)
		l.sync(context.Background())
		l.mu.Lock()
		if len(l.dirty) == 0 {
			l.syncing = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
}

// windowWrite is one client's window's hits a sync writes.
type windowWrite struct {
	client string
	start  int64
	hits   int
}

// syncHits adds $4 hits to $2 clients' $3 windows of budget $1 and returns each window's hits
// after it, with the hits of the window before it ($5 milliseconds earlier) as the statement found
// them.
const syncHits = `INSERT INTO public_rate_windows AS w (budget, client, window_start, hits)
	SELECT $1, client, window_start, hits FROM unnest($2::text[], $3::bigint[], $4::int[]) AS u(client, window_start, hits)
	ON CONFLICT (budget, client, window_start) DO UPDATE SET hits = w.hits + excluded.hits
	RETURNING w.client, w.window_start, w.hits,
		COALESCE((SELECT p.hits FROM public_rate_windows p WHERE p.budget = w.budget AND p.client = w.client AND p.window_start = w.window_start - $5), 0)`

// sync writes every dirty client's unwritten hits in one statement and learns their totals. A
// failed sync keeps the hits for the next.
func (l *syncedRateLimit) sync(ctx context.Context) {
	if err := l.exact.tables.ensure(ctx); err != nil {
		l.logFailure(ctx, err)
		return
	}
	now := l.exact.now().UTC()
	current, previous, _ := l.window(now)
	l.exact.purge(ctx, now)

	l.mu.Lock()
	var writes []windowWrite
	for key := range l.dirty {
		c := l.client(key, current, previous)
		if c.exactHeld {
			continue // the exact statement counts them; the next sync writes them
		}
		for i := range c.windows {
			w := &c.windows[i]
			if n := w.unwritten(); n > 0 {
				writes = append(writes, windowWrite{client: key, start: w.start, hits: n})
				w.sending += n
			}
		}
		delete(l.dirty, key)
	}
	done := make(chan struct{})
	l.inFlight = done
	l.mu.Unlock()

	totals, err := l.write(ctx, writes)
	l.logFailure(ctx, err)

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, wr := range writes {
		c := l.clients[wr.client]
		if c == nil {
			continue
		}
		if w := c.find(wr.start); w != nil {
			w.sending -= wr.hits
			if err == nil {
				w.written += wr.hits
			} else {
				l.dirty[wr.client] = true
			}
		}
	}
	for _, t := range totals {
		c := l.clients[t.client]
		if c == nil {
			continue
		}
		// The rows only grow within a window: a total below one already seen says nothing new.
		if w := c.find(t.start); w != nil {
			w.total = max(w.total, t.hits)
		}
		if w := c.find(t.start - l.exact.window.Milliseconds()); w != nil {
			w.total = max(w.total, t.previousHits)
		}
	}
	l.inFlight = nil
	close(done)
}

// logFailure logs when syncs start failing and when they succeed again, not each retry of an
// outage ten times a second.
func (l *syncedRateLimit) logFailure(ctx context.Context, err error) {
	switch {
	case err != nil && !l.failing:
		l.exact.logger.WarnContext(ctx, "public budget not synced: the hits are kept for the next sync", "error", err)
	case err == nil && l.failing:
		l.exact.logger.InfoContext(ctx, "public budget synced again")
	}
	l.failing = err != nil
}

// windowTotal is a window's hits in the table after a sync, and those of the window before it.
type windowTotal struct {
	client             string
	start              int64
	hits, previousHits int
}

// write sends one sync's writes and returns the totals it learns; l.mu is not held.
func (l *syncedRateLimit) write(ctx context.Context, writes []windowWrite) ([]windowTotal, error) {
	if len(writes) == 0 {
		return nil, nil
	}
	// Two nodes upserting the same rows in different orders could deadlock: both send them sorted.
	slices.SortFunc(writes, func(a, b windowWrite) int {
		return cmp.Or(cmp.Compare(a.client, b.client), cmp.Compare(a.start, b.start))
	})
	clients, starts, hits := make([]string, len(writes)), make([]int64, len(writes)), make([]int32, len(writes))
	for i, w := range writes {
		clients[i], starts[i], hits[i] = w.client, w.start, int32(w.hits)
	}
	rows, err := l.exact.tables.db.QueryContext(ctx, syncHits, l.exact.budget, clients, starts, hits, l.exact.window.Milliseconds())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var totals []windowTotal
	for rows.Next() {
		var t windowTotal
		if err := rows.Scan(&t.client, &t.start, &t.hits, &t.previousHits); err != nil {
			return nil, err
		}
		totals = append(totals, t)
	}
	return totals, rows.Err()
}
