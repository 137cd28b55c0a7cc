package http

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/httprate"
	"github.com/motcua/motcua/http/httpkit"
)

// Limits are the public face's budgets per client address. Every public surface — the lookup API,
// its live feed, the QR images and the lookup and verification pages — draws on one request budget,
// so a client cannot double its allowance by switching between the API and the pages. Checks of a
// receipt's rating secret draw on a second, stricter budget, and repeated wrong secrets lock the
// client out for a while. On SQLite the counters live in this process; on PostgreSQL they live in
// the database, shared by every node (limits_shared.go, docs/security.md, "Rate limits").
type Limits struct {
	// SecretChecksPerMinute limits requests that present a rating secret (rating, the QR image with
	// ?secret=, the lookup with ?secret=, the rating form); 0 means 10.
	SecretChecksPerMinute int
	// SecretFailures wrong secrets within SecretLockout lock the client out of every secret check
	// for SecretLockout; 0 means 5.
	SecretFailures int
	// SecretLockout is both the window in which failures count and the lock-out's length; 0 means
	// 15 minutes.
	SecretLockout time.Duration
	// FeedStreamsPerClient caps the live feeds one address may hold open at once; 0 means 4.
	FeedStreamsPerClient int
	// FeedStreams caps the live feeds open on this node; 0 means 2000.
	FeedStreams int
	// PerNode counts the public and secret-check budgets and the lock-outs in this node's memory
	// even on PostgreSQL, where they are otherwise counted in the database for every node: exact
	// for a deployment of one node, and for nodes behind a proxy that limits clients itself; with N
	// nodes and nothing in front, a client gets each budget N times. It spares every public request
	// the database write that counting across nodes costs (docs/security.md, "Rate limits").
	PerNode bool
	// PublicBudgetSync, on PostgreSQL with the budget shared, keeps the public budget's hits in
	// each node's memory and writes them to the database every PublicBudgetSync, learning the
	// other nodes' hits there: a client far below its budget costs a request no statement, and one
	// past half its budget is charged by the exact statement. 0 charges every public request with
	// the exact statement (docs/security.md, "Rate limits").
	PublicBudgetSync time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.SecretChecksPerMinute == 0 {
		l.SecretChecksPerMinute = 10
	}
	if l.SecretFailures == 0 {
		l.SecretFailures = 5
	}
	if l.SecretLockout == 0 {
		l.SecretLockout = 15 * time.Minute
	}
	if l.FeedStreamsPerClient == 0 {
		l.FeedStreamsPerClient = 4
	}
	if l.FeedStreams == 0 {
		l.FeedStreams = 2000
	}
	return l
}

// clientKey is the rate-limit key of a request: the client address clientAddress settled on,
// an IPv6 client's whole /64 (it owns all of it).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

// budgetKey marks a request's context once the public budget has been charged for it. The pages
// answer through the API in the same process (Server.apiCall): the inner request inherits the
// mark, so one page view costs the client one request, and one secret check, not two.
type budgetKey struct{}

// requestBudget is what one client request has spent.
type requestBudget struct {
	mu            sync.Mutex
	secretCharged bool
	secretFailed  bool
}

func budgetOf(ctx context.Context) *requestBudget {
	b, _ := ctx.Value(budgetKey{}).(*requestBudget)
	return b
}

// publicBudget is the middleware of every public route: one shared limiter for the API and the pages.
// Where the budget lives in the database (PostgreSQL), a read — GET or HEAD without a receipt's
// secret, whose handler changes nothing — is charged while its handler runs: the answer waits at
// its first byte for the verdict, and a refused request's answer is dropped for the refusal. A
// lookup then pays the slower of its two statements, not both one after the other.
func (s *Server) publicBudget(limited http.HandlerFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if budgetOf(r.Context()) != nil {
				next.ServeHTTP(w, r)
				return
			}
			charged := r.WithContext(context.WithValue(r.Context(), budgetKey{}, &requestBudget{}))
			if ahead, ok := s.lookups.(chargesAhead); ok && changesNothing(r) {
				gate := &budgetGate{ResponseWriter: w, request: r, limited: limited, before: w.Header().Clone(),
					verdict: ahead.chargeAhead(r, clientKey(r))}
				next.ServeHTTP(gate, charged)
				gate.pass() // a handler that wrote nothing still answers 429 when refused
				return
			}
			if s.lookups.OnLimit(w, r, clientKey(r)) {
				limited(w, r)
				return
			}
			next.ServeHTTP(w, charged)
		})
	}
}

// chargesAhead is a budget that can charge a request while its handler runs (sharedRateLimit).
type chargesAhead interface {
	chargeAhead(r *http.Request, key string) func() (limited bool, headers func(http.Header))
}

// changesNothing tells the public requests whose handlers may run before the budget admits them:
// reads that present no receipt secret (a secret check counts wrong secrets and has its own budget).
func changesNothing(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && !r.URL.Query().Has("secret")
}

// budgetGate holds a public read's answer at its first byte until the budget's verdict: admitted,
// the answer goes out with the budget's headers; refused, it is dropped and the refusal written
// instead, with the headers the handler found (its own are taken back).
type budgetGate struct {
	http.ResponseWriter
	request *http.Request
	limited http.HandlerFunc
	before  http.Header
	verdict func() (bool, func(http.Header))

	decided, refused bool
}

// pass waits for the verdict once and tells whether the handler's answer may go out.
func (g *budgetGate) pass() bool {
	if g.decided {
		return !g.refused
	}
	g.decided = true
	refused, headers := g.verdict()
	h := g.ResponseWriter.Header()
	if refused {
		g.refused = true
		clear(h)
		for k, v := range g.before {
			h[k] = v
		}
		headers(h)
		g.limited(g.ResponseWriter, g.request)
		return false
	}
	headers(h)
	return true
}

func (g *budgetGate) WriteHeader(code int) {
	if g.pass() {
		g.ResponseWriter.WriteHeader(code)
	}
}

func (g *budgetGate) Write(p []byte) (int, error) {
	if !g.pass() {
		return len(p), nil
	}
	return g.ResponseWriter.Write(p)
}

// FlushError lets http.ResponseController flush through the gate (the live feed flushes its
// headers before any event).
func (g *budgetGate) FlushError() error {
	if !g.pass() {
		return http.ErrAbortHandler
	}
	return http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *budgetGate) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// rateLimited answers an API request over its budget.
func rateLimited(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/rate_limited", Status: http.StatusTooManyRequests,
		Title: "Quá nhiều yêu cầu / Too many requests", Detail: "Vui lòng thử lại sau ít phút / please try again in a minute",
		Instance: r.URL.Path, Code: "rate_limited"})
}

// secretGuard keeps the wrong-secret count of each client. A receipt's secret is what lets its
// holder rate the dossier and see the masked name; guessing it is the one attack a lookup robot
// cannot spread over many codes, so it gets its own small budget and a lock-out.
type secretGuard struct {
	maxFailures int
	lockout     time.Duration
	now         func() time.Time

	mu      sync.Mutex
	clients map[string]*secretFailures
}

type secretFailures struct {
	at          []time.Time // failures within the lock-out window, oldest first
	lockedUntil time.Time
}

// guardSweepAt is the number of clients remembered before stale entries are swept away, so a
// scan from many addresses cannot grow the map without bound.
const guardSweepAt = 10_000

func newSecretGuard(l Limits, now func() time.Time) *secretGuard {
	return &secretGuard{
		maxFailures: l.SecretFailures, lockout: l.SecretLockout, now: now,
		clients: map[string]*secretFailures{},
	}
}

// lockedFor is how long the client is still locked out (0: not locked).
func (g *secretGuard) lockedFor(_ context.Context, key string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.clients[key]; f != nil {
		return f.lockedUntil.Sub(g.now())
	}
	return 0
}

func (g *secretGuard) fail(_ context.Context, key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.clients) >= guardSweepAt {
		for k, f := range g.clients {
			if now.After(f.lockedUntil) && (len(f.at) == 0 || now.Sub(f.at[len(f.at)-1]) > g.lockout) {
				delete(g.clients, k)
			}
		}
	}
	f := g.clients[key]
	if f == nil {
		f = &secretFailures{}
		g.clients[key] = f
	}
	recent := f.at[:0]
	for _, t := range f.at {
		if now.Sub(t) < g.lockout {
			recent = append(recent, t)
		}
	}
	f.at = append(recent, now)
	if len(f.at) >= g.maxFailures {
		f.lockedUntil, f.at = now.Add(g.lockout), nil
	}
}

// admitSecretCheck charges the secret budget for a request that presents a rating secret. It
// reports false, with Retry-After set, when the client is over that budget or locked out; the caller
// then answers 429. A request is charged once, however many times it checks the secret.
func (s *Server) admitSecretCheck(w http.ResponseWriter, r *http.Request) bool {
	b := budgetOf(r.Context())
	if b == nil { // not a public route: no budget applies
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.secretCharged {
		return true
	}
	key := clientKey(r)
	if wait := s.secrets.lockedFor(r.Context(), key); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return false
	}
	if s.secretRate.OnLimit(w, r, key) {
		return false
	}
	b.secretCharged = true
	return true
}

// secretCheckFailed counts a wrong secret against the client (once per request).
func (s *Server) secretCheckFailed(r *http.Request) {
	b := budgetOf(r.Context())
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.secretFailed {
		b.secretFailed = true
		s.secrets.fail(r.Context(), clientKey(r))
	}
}
