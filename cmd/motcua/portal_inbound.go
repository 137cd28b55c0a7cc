package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/integrations/portal"
	"github.com/motcua/motcua/integrations/portal/inbound"
)

// portalInboundFlags configure how serve receives the dossiers citizens file on the national portal
// (DVCQG): its webhook, its feed, or both. Secrets come from files, never from flags.
type portalInboundFlags struct {
	secretFile, pullURL, tokenURL, clientID, clientSecretFile string
	interval, window, timeout                                 time.Duration
}

// minPortalSecretBytes is the shortest shared secret accepted: 256 bits, HMAC-SHA256's own strength.
const minPortalSecretBytes = 32

func addPortalInboundFlags(fs *flag.FlagSet) *portalInboundFlags {
	f := &portalInboundFlags{}
	fs.StringVar(&f.secretFile, "portal-inbound-secret-file", os.Getenv("MOTCUA_PORTAL_INBOUND_SECRET_FILE"), "file holding the secret shared with the national portal; turns on its webhook POST /api/v1/portal/dossiers ($MOTCUA_PORTAL_INBOUND_SECRET_FILE)")
	fs.DurationVar(&f.window, "portal-inbound-window", inbound.DefaultWindow, "how far a webhook's timestamp may be from this server's clock")
	fs.StringVar(&f.pullURL, "portal-pull-url", os.Getenv("MOTCUA_PORTAL_PULL_URL"), "the national portal's feed of dossiers filed there; turns on pulling it ($MOTCUA_PORTAL_PULL_URL)")
	fs.DurationVar(&f.interval, "portal-pull-interval", 30*time.Second, "wait between two pulls of the portal's feed once it is drained")
	fs.DurationVar(&f.timeout, "portal-pull-timeout", 30*time.Second, "longest one request to the portal may take")
	fs.StringVar(&f.tokenURL, "portal-token-url", os.Getenv("MOTCUA_PORTAL_TOKEN_URL"), "the portal's OAuth 2.0 token endpoint (client credentials) for the feed ($MOTCUA_PORTAL_TOKEN_URL)")
	fs.StringVar(&f.clientID, "portal-client-id", os.Getenv("MOTCUA_PORTAL_CLIENT_ID"), "this province's client id at the portal ($MOTCUA_PORTAL_CLIENT_ID)")
	fs.StringVar(&f.clientSecretFile, "portal-client-secret-file", os.Getenv("MOTCUA_PORTAL_CLIENT_SECRET_FILE"), "file holding the client secret at the portal ($MOTCUA_PORTAL_CLIENT_SECRET_FILE)")
	return f
}

// portalInbound is what serve runs to receive the portal's dossiers.
type portalInbound struct {
	webhook *inbound.Verifier // nil: the webhook is off
	poller  *inbound.Poller   // nil: the feed is not pulled
}

// build checks the flags and prepares the webhook's verifier and the poller. Both off is fine.
func (f *portalInboundFlags) build(ctx context.Context, d *deployment, app *commands.App, logger *slog.Logger) (*portalInbound, error) {
	p := &portalInbound{}
	if f.secretFile != "" {
		secret, err := readSecretFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--portal-inbound-secret-file: %w", err)
		}
		if len(secret) < minPortalSecretBytes {
			return nil, fmt.Errorf("--portal-inbound-secret-file: the secret has %d bytes; use at least %d random ones", len(secret), minPortalSecretBytes)
		}
		if f.window <= 0 {
			return nil, errors.New("--portal-inbound-window must be a positive duration, e.g. 5m")
		}
		p.webhook = &inbound.Verifier{Secret: secret, Window: f.window}
	}
	if f.pullURL == "" {
		return p, nil
	}
	if f.interval <= 0 || f.timeout <= 0 {
		return nil, errors.New("--portal-pull-interval and --portal-pull-timeout must be positive durations")
	}
	client := &http.Client{Timeout: f.timeout}
	var token *portal.TokenSource
	if f.tokenURL != "" {
		if f.clientID == "" || f.clientSecretFile == "" {
			return nil, errors.New("--portal-token-url needs --portal-client-id and --portal-client-secret-file")
		}
		secret, err := readSecretFile(f.clientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--portal-client-secret-file: %w", err)
		}
		token = &portal.TokenSource{URL: f.tokenURL, ClientID: f.clientID, ClientSecret: string(secret), HTTP: client}
	}
	if err := inbound.Migrate(ctx, d.ReadDB, d.Dialect()); err != nil {
		return nil, err
	}
	p.poller = &inbound.Poller{FeedURL: f.pullURL, Client: client, Token: token, DB: d.ReadDB, Dialect: d.Dialect(),
		Catalog: app.Catalog, Record: portalRecorder(app), Interval: f.interval, Logger: logger}
	return p, nil
}

// portalRecorder hands a verified portal dossier to the use case (integrations do not import it).
func portalRecorder(app *commands.App) inbound.Recorder {
	return func(ctx context.Context, s inbound.Submission) (string, bool, error) {
		res, created, err := app.SubmitFromPortal(ctx, commands.PortalSubmission{PortalID: s.PortalID, ProcedureCode: s.ProcedureCode,
			ReceivingUnit: s.ReceivingUnit, SubmittedAt: s.SubmittedAt, Applicant: s.Applicant, Components: s.Components})
		return res.DossierID, created, err
	}
}

// run pulls the portal's feed until ctx ends; it returns at once when pulling is off.
func (p *portalInbound) run(ctx context.Context) error {
	if p.poller == nil {
		return nil
	}
	return p.poller.Run(ctx)
}

// collectors are the poller's gauges for /metrics (none when pulling is off). Alert on parked items
// and on consecutive failures.
func (p *portalInbound) collectors() []prometheus.Collector {
	if p.poller == nil {
		return nil
	}
	stats := p.poller.Stats()
	items := func(outcome string, n func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "motcua_portal_inbound_items_total",
			Help:        "Items of the national portal's feed taken since start, by outcome (recorded, repeated, parked).",
			ConstLabels: prometheus.Labels{"outcome": outcome}}, n)
	}
	return []prometheus.Collector{
		items("recorded", func() float64 { return float64(stats.Recorded.Load()) }),
		items("repeated", func() float64 { return float64(stats.Repeated.Load()) }),
		items("parked", func() float64 { return float64(stats.Parked.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "motcua_portal_inbound_poll_failures_total",
			Help: "Pulls of the national portal's feed that failed (the portal or the store unreachable)."},
			func() float64 { return float64(stats.Failures.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "motcua_portal_inbound_consecutive_failures",
			Help: "Pulls of the national portal's feed failed in a row; 0 once one succeeds."},
			func() float64 { return float64(stats.ConsecutiveFailures.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "motcua_portal_inbound_last_success_timestamp_seconds",
			Help: "When a pull of the national portal's feed last reached its end (Unix seconds; 0: not yet)."},
			func() float64 { return float64(stats.LastSuccess.Load()) }),
	}
}

// readSecretFile reads a secret kept in a file, without the line end an editor adds.
func readSecretFile(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret := strings.TrimRight(string(raw), "\r\n")
	if secret == "" {
		return nil, errors.New("the file is empty")
	}
	return []byte(secret), nil
}
