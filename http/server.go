// Package http serves motcua's JSON API (under /api/v1) with chi. Handlers decode and check input,
// call the use cases in commands and the read models in projections, and answer errors as RFC 9457
// problem details. NewServer assembles the router: the API, and the web pages (package web), which
// it mounts with the API as their explicit dependency (pagesAPI).
package http

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"github.com/motcua/motcua/accesslog"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/http/printform"
	"github.com/motcua/motcua/http/web"
	"github.com/motcua/motcua/integrations/portal/inbound"
	"github.com/motcua/motcua/projections"
)

// Server is motcua's HTTP API.
type Server struct {
	app    *commands.App
	readDB *sql.DB
	// publicLookup answers the public lookups from the public status view.
	publicLookup *projections.PublicLookup
	verifier     Authenticator
	eraser       Eraser
	logger       *slog.Logger
	now          func() time.Time
	router       chi.Router
	// api is what the pages' API calls go through: the router (the tests wrap it to check those
	// calls against the API's contract, as they check their own).
	api http.Handler
	// publicUpdates wakes the live feeds when the public status view moves (nil: they poll).
	publicUpdates Notifier
	integrity     *chain.Verifier
	publicBaseURL string
	idempotency   *idempotencyKeys // nil without a ReadDB: keys are then ignored
	// lookups is the request budget every public surface shares; secretRate and secrets guard
	// rating-secret checks. In the database on PostgreSQL, in memory on SQLite.
	lookups    rateLimiter
	secretRate rateLimiter
	secrets    secretLockouts
	limits     Limits
	feeds      *feedHub
	ready      ReadinessCheck
	// portalWebhook checks the national portal's signature; nil: the portal's webhook is off.
	portalWebhook *inbound.Verifier
	// deliveries shows the outbox to admins and the public lookup; nil when not configured.
	deliveries *deliveries
	alarms     bool // the timers run: the work queue shows alarms
	// payments is online payment (payments.go); nil when no gateway is configured.
	payments *PaymentsConfig
	// accessLog records every read of an applicant's data (access_log.go); nil: none is recorded.
	accessLog *accesslog.Log

	// registerPDFMaxLines bounds the register's PDF (Config.RegisterPDFMaxLines).
	registerPDFMaxLines int
	// citizens signs citizens in through their identity provider (citizens.go); nil: no citizen signs in.
	citizens *CitizenSignIn
	// documents are the dossiers' files (documents.go); nil: no file routes.
	documents *DocumentsConfig
	// officials signs officials in to the pages (officials.go); nil without a read database.
	officials *OfficialSignIn
}

// Config wires a Server.
type Config struct {
	App    *commands.App
	ReadDB *sql.DB // the database holding the read models
	Tokens TokenVerifier
	// Authenticator, when set, checks bearer tokens instead of Tokens (an OIDCVerifier in production).
	Authenticator Authenticator
	// TrustedProxies are the CIDR prefixes of reverse proxies whose X-Forwarded-For is believed;
	// without them the client is the TCP peer, so no client can pick its own rate-limit key.
	TrustedProxies []string
	// Eraser, when set, serves legal erasure requests to admins (POST /api/v1/admin/erasures).
	Eraser Eraser
	Logger *slog.Logger
	// PublicRequestsPerMinute limits public requests per client address — API, live feed, QR images
	// and public pages together — so sequential dossier codes cannot be mined; 0 means 60.
	PublicRequestsPerMinute int
	// Limits are the other public budgets: rating-secret checks, lock-out, live feed streams.
	Limits Limits
	// Ready, when set, is what GET /readyz checks (the store reachable, its schema current).
	Ready ReadinessCheck
	// PublicStatusUpdates, when set, wakes the live feeds as soon as the public status view moves
	// (the view's engine.Runner); without it they look every second.
	PublicStatusUpdates Notifier
	// Metrics, when set, is served at GET /metrics (Prometheus).
	Metrics http.Handler
	// Integrity verifies dossiers' histories (the hash chain and the signed checkpoints); without it,
	// links only, trusting no checkpoint key.
	Integrity *chain.Verifier
	// PublicBaseURL is the scheme and host printed QR codes point to, e.g. https://motcua.thanhhoa.gov.vn;
	// the address the request came to when empty.
	PublicBaseURL string
	// IdempotencyWindow is how long the first answer to a write sent with an Idempotency-Key is
	// replayed to repeats; 0 means DefaultIdempotencyWindow.
	IdempotencyWindow time.Duration
	// RegisterPDFMaxLines bounds the register a PDF is drawn of (it is built in memory); 0 means
	// printform.MaxRegisterLines.
	RegisterPDFMaxLines int
	// PortalWebhook, when set, receives the national portal's dossiers at POST /api/v1/portal/dossiers
	// (portal_inbound.go), checking their signature with it.
	PortalWebhook *inbound.Verifier
	// Deliveries, when set, shows the outbox: its admins' page and API, and on the public lookup
	// the notifications sent (docs/integrations.md, "Seeing and repairing deliveries").
	Deliveries *DeliveriesConfig
	// Alarms says the timers run (their tables are in ReadDB): the work queue then shows each
	// dossier's armed and fired alarms (timers.AlarmsOf).
	Alarms bool
	// Payments, when set, turns online payment of fees on (payments.go).
	Payments *PaymentsConfig
	// AccessLog, when set, records who read whose personal data — every route that shows an
	// official a dossier's applicant writes an entry before answering — and serves it to inspectors
	// at GET /api/v1/access-log (access_log.go). motcua serve always sets it.
	AccessLog *accesslog.Log
	// Citizens, when set, signs citizens in through their identity provider (VNeID) and serves
	// their own space: GET /api/v1/me, /api/v1/me/dossiers and the page "Hồ sơ của tôi" (citizens.go).
	Citizens *CitizenSignIn
	// Documents, when set, serves the dossiers' files: uploads, result files, downloads (documents.go).
	Documents *DocumentsConfig
	// Officials says how officials sign in to the pages (officials.go); when nil, with an API
	// token only, in sessions kept in ReadDB.
	Officials *OfficialSignIn
}

// NewServer builds the router.
func NewServer(cfg Config) *Server {
	s := &Server{app: cfg.App, readDB: cfg.ReadDB, eraser: cfg.Eraser, logger: cfg.Logger, now: time.Now, publicUpdates: cfg.PublicStatusUpdates}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.integrity, s.publicBaseURL = cfg.Integrity, strings.TrimSuffix(cfg.PublicBaseURL, "/")
	if s.integrity == nil {
		s.integrity = chain.NewVerifier(cfg.App.Store)
	}
	if cfg.App.Now != nil {
		s.now = cfg.App.Now
	}
	s.registerPDFMaxLines = cmp.Or(cfg.RegisterPDFMaxLines, printform.MaxRegisterLines)
	if cfg.ReadDB != nil {
		s.idempotency = &idempotencyKeys{db: cfg.ReadDB, window: cmp.Or(cfg.IdempotencyWindow, DefaultIdempotencyWindow), now: s.now}
	}
	tokens := cfg.Tokens
	if tokens.Now == nil {
		tokens.Now = s.now
	}
	s.verifier = tokens
	if cfg.Authenticator != nil {
		s.verifier = cfg.Authenticator
	}
	perMinute := cfg.PublicRequestsPerMinute
	if perMinute == 0 {
		perMinute = 60
	}
	s.limits = cfg.Limits.withDefaults()
	s.setRateLimits(perMinute)
	s.ready = cfg.Ready
	s.portalWebhook = cfg.PortalWebhook
	s.alarms = cfg.Alarms
	s.payments = cfg.Payments
	s.accessLog = cfg.AccessLog
	s.citizens = cfg.Citizens
	s.documents = cfg.Documents
	s.officials = officialsOrDefault(cfg.Officials, s.readDB)
	s.feeds = newFeedHub(s.readDB, s.publicUpdates, s.limits, s.logger)
	s.publicLookup = projections.NewPublicLookup(s.readDB)
	s.deliveries = newDeliveries(cfg.Deliveries, s)

	r := chi.NewRouter()
	r.Use(httpkit.ClientAddress(cfg.TrustedProxies), middleware.Recoverer, s.correlation, s.logRequests)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.readyz)
	if cfg.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", cfg.Metrics)
	}
	web.New(web.Config{App: s.app, ReadDB: s.readDB, PublicLookup: s.publicLookup, API: pagesAPI{s}, Officials: s.pageOfficials(), Logger: s.logger, Now: s.now,
		PublicBudget: s.publicBudget, PublicBaseURL: s.publicBaseURL, Deliveries: s.deliveries != nil,
		Alarms: s.pageAlarms(), OnlinePayment: s.payments != nil, RecordRead: s.recordRead, AccessLog: s.accessLog != nil,
		Citizens: s.citizens != nil, Documents: s.documents != nil}).Mount(r)
	s.paymentRoutes(r)
	r.With(s.publicBudget(rateLimited)).Group(s.citizenRoutes)
	r.With(s.publicBudget(rateLimited)).Group(s.officialRoutes)
	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/procedures", s.listProcedures)
		r.Get("/openapi.json", s.openAPI)
		r.Route("/public", func(r chi.Router) {
			r.Use(s.publicBudget(rateLimited))
			s.publicFileRoutes(r) // streamed: not behind the idempotency middleware, which holds a body
			r.Group(func(r chi.Router) {
				r.Use(s.idempotent)
				r.Get("/dossiers/{code}", s.publicStatus)
				r.Get("/dossiers/{code}/events", s.publicStatusEvents)
				r.Post("/dossiers/{code}/rating", s.rate)
				r.Get("/dossiers/{code}/qr.png", s.dossierQR)
				r.Get("/results/{resultCode}", s.verifyResult)
				r.Get("/results/{resultCode}/qr.png", s.resultQR)
				s.publicFeedbackRoutes(r)
			})
		})
		if s.portalWebhook != nil {
			r.Post("/portal/dossiers", s.portalDossier)
		}
		s.citizenAPIRoutes(r)
		if s.documents != nil {
			r.Group(func(r chi.Router) {
				r.Use(s.authenticate)
				s.documentRoutes(r)
			})
		}
		r.With(s.authenticate).Group(s.catalogImportRoutes)
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate, s.idempotent)
			r.Post("/dossiers", s.receive)
			r.Get("/dossiers/{ref}", s.getDossier)
			r.Get("/dossiers/{ref}/events", s.dossierEvents)
			r.Get("/dossiers/{ref}/verification", s.verifyDossier)
			r.Post("/dossiers/{ref}/{action}", s.act)
			s.correctionRoutes(r)
			if s.eraser != nil {
				r.Post("/admin/erasures", s.erase)
			}
			if s.readDB != nil {
				r.Post("/admin/agency-successions", s.succeedAgency)
			}
			if s.deliveries != nil {
				s.deliveryRoutes(r)
			}
			s.readModelRoutes(r)
			s.feedbackRoutes(r)
			s.catalogRoutes(r)
			if s.accessLog != nil {
				r.Get("/access-log", s.listAccessLog)
			}
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, domain.Errorf(domain.ENOTFOUND, "no such resource: %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/method_not_allowed", Title: "Method not allowed",
			Status: http.StatusMethodNotAllowed, Instance: r.URL.Path, Code: "method_not_allowed"})
	})
	s.router, s.api = r, r
	return s
}

// WrapPagesAPI puts wrap around the API as the pages call it, before the server serves: the
// tests check those calls against the API's contract (internal/contracttest), as they check their
// own.
func (s *Server) WrapPagesAPI(wrap func(http.Handler) http.Handler) { s.api = wrap(s.api) }

// Routes lists the router's routes, for tests and documentation that walk every endpoint.
func (s *Server) Routes() chi.Routes { return s.router }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

type callerKey struct{}

func callerOf(ctx context.Context) commands.Caller {
	c, _ := ctx.Value(callerKey{}).(commands.Caller)
	return c
}

// authenticate requires an official's bearer token — or, on a call the pages make on their
// official's behalf, that official (officials.go) — and puts the caller in the request context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.verifier.Verify(r.Header.Get("Authorization"))
		if page, ok := pageOfficialOf(r); ok && errors.Is(err, errNoToken) {
			caller, err = page, nil
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="motcua"`)
			s.writeError(w, r, domain.Errorf(domain.EUNAUTHORIZED, "%v", err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

// correlation tags each request with a correlation id (the caller's X-Correlation-ID when it is a
// UUID), recorded in every event the request causes.
func (s *Server) correlation(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := uuid.Parse(r.Header.Get("X-Correlation-ID"))
		if err != nil {
			id = uuid.Must(uuid.NewV7())
		}
		w.Header().Set("X-Correlation-ID", id.String())
		next.ServeHTTP(w, r.WithContext(commands.WithCorrelationID(r.Context(), id)))
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.logger.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
			"duration", time.Since(start), "correlation_id", w.Header().Get("X-Correlation-ID"))
	})
}

func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// parseIfMatch reads an If-Match header holding one version ETag ("3", W/"3" or 3).
func parseIfMatch(h string) (*uint64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil {
		return nil, invalid("If-Match", "must be the ETag of a dossier version, e.g. \"3\"")
	}
	return &v, nil
}
