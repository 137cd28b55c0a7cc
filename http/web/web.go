// Package web serves motcua's web pages: server-rendered pages for citizens (public lookup, rating,
// result verification), officials (work queue, dossier, printable forms), inspectors (timeline,
// state as of a moment) and leaders (dashboards). It reads the catalog and the read models itself
// and makes every write and every verification through the JSON API it is given (API), so a page
// shows exactly what the API answers. It imports httpkit, never the API's package.
package web

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
	"github.com/motcua/motcua/projections"
)

// API is the JSON API as the pages use it. Each call is one API request made for the page's request
// r — its context, client address, public budget, the signed-in official (Official, carried in the context, never as a header)
// and a form's idempotency key — so the API decodes, validates and authorizes it as any client's. A
// refusal comes back as the API's problem details (its Status the answer's); err is a failure to
// make the request at all.
type API interface {
	// Receive records a dossier received at the desk, or an online submission (no code yet).
	Receive(r *http.Request, in ReceiveRequest) (Receipt, *httpkit.Problem, error)
	// Act takes an action on a dossier; version, when set, is the dossier version the form showed.
	Act(r *http.Request, ref string, action domain.Action, version string, in ActionRequest) (ActionDone, *httpkit.Problem, error)
	// Rate records the applicant's evaluation.
	Rate(r *http.Request, code string, in RatingRequest) (*httpkit.Problem, error)
	// VerifyResult checks a result (and the document of the given hash, when not empty).
	VerifyResult(r *http.Request, resultCode, hash string) (httpkit.ResultVerification, *httpkit.Problem, error)
	// VerifyDossier checks a dossier's history and signatures.
	VerifyDossier(r *http.Request, dossierID string) (httpkit.DossierVerification, *httpkit.Problem, error)
	// CheckReceiptSecret tells whether secret is the receipt secret of the dossier with code, under
	// the same budget as the API's secret checks: nil, a forbidden error, or
	// httpkit.ErrSecretChecksLimited (Retry-After then set on w).
	CheckReceiptSecret(w http.ResponseWriter, r *http.Request, code, secret string) error
	// DeliveriesStatus counts the deliveries per destination and state (admins only).
	DeliveriesStatus(r *http.Request) (httpkit.DeliveriesStatus, *httpkit.Problem, error)
	// Deliveries lists a page of deliveries (admins only).
	Deliveries(r *http.Request, q httpkit.DeliveryQuery) (httpkit.DeliveryPage, *httpkit.Problem, error)
	// RetryDeliveries makes deliveries due now (admins only).
	RetryDeliveries(r *http.Request, in httpkit.RetryRequest) (httpkit.RetryDone, *httpkit.Problem, error)
	// AccessLog lists a page of the access log: who read whose data (inspectors only).
	AccessLog(r *http.Request, q httpkit.AccessQuery) (httpkit.AccessPage, *httpkit.Problem, error)
	// SentNotifications are the latest notifications sent about a dossier (its id), for the public
	// lookup page: read directly, not through the router, as the lookup is a hot path.
	SentNotifications(r *http.Request, dossierID string) []httpkit.SentNotification
	// Me is the signed-in citizen (the citizen's session cookie of r, never an official's token).
	Me(r *http.Request) (httpkit.Me, *httpkit.Problem, error)
	// MyDossiers lists a page of the signed-in citizen's dossiers with their status now.
	MyDossiers(r *http.Request, limit, after string) (httpkit.MyDossierPage, *httpkit.Problem, error)
	// OnlineProcedures, MyDossier, SubmitMine, AnswerMine and ServeMyDocument are the citizen's
	// journey (pages_citizen_journey.go): the procedures filed online, one of their dossiers, the
	// submission and the supplement answer (the page's multipart form forwarded as it streams in),
	// and a file of their dossier.
	OnlineProcedures(r *http.Request) (httpkit.OnlineProcedures, *httpkit.Problem, error)
	MyDossier(r *http.Request, id string) (httpkit.MyDossierDetail, *httpkit.Problem, error)
	SubmitMine(w http.ResponseWriter, r *http.Request) (httpkit.MySubmitted, *httpkit.Problem, error)
	AnswerMine(w http.ResponseWriter, r *http.Request, id string) (httpkit.MySubmitted, *httpkit.Problem, error)
	ServeMyDocument(w http.ResponseWriter, r *http.Request, id, documentID string, inline bool)
	// ServeDocument streams a dossier's file to the signed-in official through the API (its
	// authorization, access log and headers), inline for a preview or as an attachment.
	ServeDocument(w http.ResponseWriter, r *http.Request, ref, documentID string, inline bool)
	// SubmitFeedback, SupplyFeedback and ActOnFeedback are the complaints' and petitions' writes
	// (POST /api/v1/public/feedback, …/{code}/information, /api/v1/feedback/{ref}/{action}) and the
	// public follow-up (GET /api/v1/public/feedback/{code}, within the public budget).
	SubmitFeedback(r *http.Request, in FeedbackRequest) (FeedbackDone, *httpkit.Problem, error)
	FollowFeedback(r *http.Request, code string) (FeedbackStatus, *httpkit.Problem, error)
	SupplyFeedback(r *http.Request, code, information string) (*httpkit.Problem, error)
	ActOnFeedback(r *http.Request, ref, action, version string, in FeedbackActionRequest) (*httpkit.Problem, error)
	DocumentsAPI
	CatalogAPI // pages_catalog.go
}

// record records a read of personal data by the signed-in official, when an access log is wired.
func (s *Pages) record(r *http.Request, read httpkit.PersonalRead) error {
	if s.recordRead == nil {
		return nil
	}
	caller, _ := officialOf(r)
	return s.recordRead(r, caller, read)
}

// Config wires the pages.
type Config struct {
	App    *commands.App
	ReadDB *sql.DB // the read models
	// PublicLookup answers the public lookup page; one over ReadDB when nil.
	PublicLookup *projections.PublicLookup
	API          API
	// Officials signs officials in and out of the pages and finds the official of a session
	// (signin.go); without it no official signs in.
	Officials Officials
	Logger    *slog.Logger
	Now       func() time.Time
	// PublicBudget is the request budget the public pages share with the public API: the middleware
	// answers a request over it with limited.
	PublicBudget func(limited http.HandlerFunc) func(http.Handler) http.Handler
	// PublicBaseURL is the scheme and host printed QR codes point to; the request's when empty.
	PublicBaseURL string
	// Deliveries mounts the admins' page of deliveries (the API serves the outbox).
	Deliveries bool
	// Alarms, when set (the timers run), reads the armed and fired deadline alarms of a page's
	// dossiers, by dossier id, for the work queue.
	Alarms func(ctx context.Context, dossierIDs []string) (map[string][]QueueAlarm, error)
	// OnlinePayment: a payment gateway is configured, so the lookup page of a dossier whose fees
	// are due offers to pay online (the form posts to the API's /tra-cuu/{code}/thanh-toan).
	OnlinePayment bool
	// RecordRead, when set, records in the access log that the official was shown what read names,
	// through the page r was routed to; a page shows a dossier's applicant only after it returned
	// nil (docs/security.md, "Access log").
	RecordRead func(r *http.Request, caller commands.Caller, read httpkit.PersonalRead) error
	// AccessLog mounts the inspectors' page of the access log (the API serves it).
	AccessLog bool
	// Citizens mounts the citizens' page "Hồ sơ của tôi" (citizens sign in through their identity
	// provider; the API serves their data).
	Citizens bool
	// Documents: the dossiers' files are served (the API's DocumentsConfig is set), so the dossier
	// page links and previews them.
	Documents bool
}

// QueueAlarm is a deadline alarm of a dossier, as the work queue shows it: its kind (a code named
// by l10n as alarm.<kind>), whether it fired, when it fires or fired, and the deadline it warns of.
type QueueAlarm struct {
	Kind          string
	Fired         bool
	Due, Deadline time.Time
}

// Pages serves the web pages; Mount puts them on a router.
type Pages struct {
	app           *commands.App
	readDB        *sql.DB
	publicLookup  *projections.PublicLookup
	api           API
	officials     Officials
	logger        *slog.Logger
	now           func() time.Time
	publicBudget  func(limited http.HandlerFunc) func(http.Handler) http.Handler
	publicBaseURL string
	deliveries    bool
	onlinePayment bool
	pages         *pageSet
	alarms        func(ctx context.Context, dossierIDs []string) (map[string][]QueueAlarm, error)
	recordRead    func(r *http.Request, caller commands.Caller, read httpkit.PersonalRead) error
	accessLog     bool
	citizens      bool
	documents     bool
}

// New parses the templates and returns the pages.
func New(cfg Config) *Pages {
	lookup := cfg.PublicLookup
	if lookup == nil {
		lookup = projections.NewPublicLookup(cfg.ReadDB)
	}
	return &Pages{app: cfg.App, readDB: cfg.ReadDB, publicLookup: lookup, api: cfg.API, officials: cfg.Officials, logger: cfg.Logger, now: cfg.Now,
		publicBudget: cfg.PublicBudget, publicBaseURL: cfg.PublicBaseURL, deliveries: cfg.Deliveries,
		onlinePayment: cfg.OnlinePayment, pages: newPageSet(), alarms: cfg.Alarms, recordRead: cfg.RecordRead, accessLog: cfg.AccessLog, citizens: cfg.Citizens, documents: cfg.Documents}
}

// pageRateLimited answers a public page request over its budget.
func (s *Pages) pageRateLimited(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusTooManyRequests, "error.rate_limited")
}
