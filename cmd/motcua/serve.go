package main

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/motcua/motcua/cmd/motcua/demo"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore/chain"
	mhttp "github.com/motcua/motcua/http"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/projections"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (embedded store, token key)")
	addr := fs.String("addr", ":8080", "listen address HOST:PORT")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the PostgreSQL schema on start")
	withDemo := fs.Bool("demo", false, "seed the demo catalog's dossiers (once) and print demo officials' log-ins (and API tokens)")
	domainFiles := addDomainFlags(fs)
	busURL := fs.String("bus", "", "transport from the event log to the read models: gochannel (in-process, default), postgres://…, nats://…")
	checkpointEvery := fs.Duration("checkpoint-every", 5*time.Minute, "sign an integrity checkpoint at least this often while events arrive")
	checkpointAfter := fs.Int("checkpoint-after", 1000, "… or as soon as this many events wait for one")
	publicURL := fs.String("public-url", "", "scheme and host printed QR codes point to (default: the address a request came to)")
	agencyKeysDir := fs.String("agency-keys", "", "directory of the agencies' result-signing keys, <agency code>.pem (default <data>/agency-keys)")
	idempotencyWindow := fs.Duration("idempotency-window", mhttp.DefaultIdempotencyWindow, "how long the first answer to a write sent with an Idempotency-Key is replayed to repeats")
	mail := addMailFlags(fs)
	portalIn := addPortalInboundFlags(fs)
	timerFlags := addTimerFlags(fs)
	pay := addPaymentFlags(fs)
	portalSync := addPortalFlags(fs, portalIn)
	phones := addPhoneFlags(fs)
	signIn := addSignInFlags(fs)
	citizenFlags := addCitizenFlags(fs)
	officialFlags := addOfficialFlags(fs)
	limits, connections := addLimitFlags(fs)
	node := addNodeFlags(fs)
	documentFiles := addDocumentFlags(fs)
	blobSweep := addSweepFlags(fs)
	feedback := addFeedbackFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLimitFlags(fs); err != nil {
		return err
	}
	trustedProxies, err := signIn.proxies()
	if err != nil {
		return err
	}
	if signIn.tokenMaxTTL <= 0 {
		return errors.New("--token-max-ttl must be a positive duration, e.g. 12h")
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", node.name)

	if domainFiles.catalog == "" {
		// A data directory written by `motcua bench generate` carries the catalog its dossiers use.
		if generated := filepath.Join(storage.dataDir, catalogFile); fileExists(generated) {
			domainFiles.catalog = generated
		}
	}
	rules, err := domainFiles.load()
	if err != nil {
		return err
	}
	// The node listens before it opens the store: while PostgreSQL is down or the schema migrates,
	// it answers /healthz and says it is not ready (node.go).
	listener, front, httpServer, served, err := listenEarly(*addr, connections)
	if err != nil {
		return err
	}
	defer httpServer.Close()
	deployment, err := openDeploymentRetrying(ctx, storage, openOptions{migrateStore: !*noMigrate, migrateReadModels: true, personalData: true, holdSchemaLock: true}, logger)
	if err != nil {
		return err
	}
	defer deployment.Close()
	deployment.calendar = rules.calendar
	events := deployment.events
	key, err := loadOrCreateTokenKey(storage.dataDir)
	if err != nil {
		return err
	}
	checkpointKey, err := loadOrCreateKey(storage.dataDir, integrityKeyFile)
	if err != nil {
		return err
	}
	checkpointer, err := chain.NewCheckpointer(events.Chained, checkpointKey)
	if err != nil {
		return err
	}
	checkpointer.Logger = logger
	if *agencyKeysDir == "" {
		*agencyKeysDir = filepath.Join(storage.dataDir, "agency-keys")
	}
	app := commands.New(events.Sealed, rules.catalog, rules.calendar)
	app.Rules = rules.rules
	app.Logger = logger
	app.Signers = newFileAgencyKeys(*agencyKeysDir, logger)
	if err := seedCatalog(ctx, app, logger); err != nil {
		return err
	}
	if err := feedback.apply(app); err != nil {
		return err
	}

	var demoOfficials []commands.Caller
	if *withDemo {
		if demoOfficials, err = demo.Seed(ctx, app); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	portalDestination, err := portalSync.destination(deployment, *publicURL, logger)
	if err != nil {
		return err
	}
	phoneDestinations, err := phones.destinations(deployment, *publicURL, logger)
	if err != nil {
		return err
	}
	outbox, err := mail.outbox(ctx, deployment, *publicURL, logger, append([]delivery.Destination{portalDestination}, phoneDestinations...)...)
	if err != nil {
		return err
	}
	portal, err := portalIn.build(ctx, deployment, app, logger)
	if err != nil {
		return err
	}
	alarms, err := timerFlags.alarms(ctx, deployment, rules.calendar, outbox, logger)
	if err != nil {
		return err
	}
	citizenModels, err := citizenReadModels(storage.dataDir)
	if err != nil {
		return err
	}
	feeder, metrics, err := startFeeder(ctx, deployment, *busURL, logger, outbox, append(alarms.consumers(), citizenModels...), portal.collectors()...)
	if err != nil {
		return err
	}
	defer feeder.Transport.Close()
	feeder.Leases = node.leases(deployment, logger)
	feedUpdates, fanOut := liveFeedUpdates(deployment, storage.url, feeder.Runner(projections.PublicStatusView{}.Name()), logger)
	payments, err := pay.serverConfig(*publicURL, logger)
	if err != nil {
		return err
	}
	accessLog, err := openAccessLog(ctx, deployment, storage.dataDir)
	if err != nil {
		return err
	}
	documents, err := documentFiles.serverConfig(ctx, deployment, storage.dataDir, app, logger)
	if err != nil {
		return err
	}
	localTokens := mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), MaxLifetime: signIn.tokenMaxTTL}
	authenticator, err := signIn.authenticator(ctx, localTokens)
	if err != nil {
		return err
	}
	officialsAtDemoIdP := officialFlags.demoClient(signIn, *withDemo, demoOfficials, *publicURL, listener.Addr())
	citizens, err := citizenFlags.build(ctx, deployment, storage.dataDir, *withDemo, *publicURL, listener.Addr(), officialsAtDemoIdP, stdout, logger)
	if err != nil {
		return err
	}
	defer citizens.close()
	officials, err := officialFlags.build(ctx, deployment, signIn, *publicURL, officialsAtDemoIdP, citizens.demoIssuer)
	if err != nil {
		return err
	}
	if *withDemo {
		if err := demoLogins(ctx, deployment, demoOfficials, "http://"+localAddress(listener.Addr()), officials.Methods().Provider, stdout); err != nil {
			return err
		}
		printDemoTokens(stdout, key, demoOfficials)
	}
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: deployment.ReadDB, Tokens: localTokens, Authenticator: authenticator, Logger: logger,
		TrustedProxies: trustedProxies, Eraser: personalDataEraser(deployment, logger, citizenModels...),
		PublicStatusUpdates: feedUpdates, Metrics: metrics,
		Integrity: chain.NewVerifier(events.Chained, checkpointKey.Public().(ed25519.PublicKey)), PublicBaseURL: *publicURL,
		IdempotencyWindow: *idempotencyWindow, PublicRequestsPerMinute: limits.publicPerMinute, Limits: limits.Limits, Ready: readiness(deployment.ready(), feeder, node.readyLag),
		PortalWebhook: portal.webhook, Deliveries: deliveriesShown(deployment, outbox), Alarms: alarms != nil,
		Payments: payments, AccessLog: accessLog, Citizens: citizens.signIn, Documents: documents, Officials: officials})
	// What the constructors above created (the outbox's and the timers' origins, the demo's seed)
	// was created under the schema lock: another node starting now waits for it, then finds it.
	deployment.releaseSchemaLock()
	if checkServed != nil {
		front.Set(checkServed(ctx, server))
	} else {
		front.Set(server)
	}
	logger.Info("motcua serving", "addr", listener.Addr().String(), "store", deployment.Kind)
	fmt.Fprintf(stdout, "motcua listening on http://%s (store: %s)\n", listener.Addr(), deployment.Kind)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return feeder.Run(ctx) })
	g.Go(func() error { return blobSweep.run(ctx, deployment.Store, documents, logger) })
	g.Go(func() error { return followCatalog(ctx, app, logger) })
	if fanOut != nil {
		g.Go(func() error { return fanOut.run(ctx) })
	}
	g.Go(func() error { return portal.run(ctx) })
	if outbox != nil {
		g.Go(func() error { return outbox.dispatcher.Run(ctx) })
	}
	if alarms != nil {
		g.Go(func() error { return alarms.firer.Run(ctx) })
	}
	g.Go(func() error {
		return checkpointer.Run(ctx, *checkpointEvery, *checkpointAfter, min(*checkpointEvery, 10*time.Second))
	})
	g.Go(func() error { return <-served })
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return httpServer.Shutdown(shutdownCtx)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// checkServed is nil in the binary. The tests set it (contract_test.go) to wrap the server every
// `serve` they start in-process serves in the API contract's checker, which checks the calls the
// tests and their pages make against docs/openapi.yaml; ctx is the one serve was run with.
var checkServed func(ctx context.Context, server *mhttp.Server) http.Handler

// startProjections prepares the engine that keeps every read model up to date through the
// transport named by busURL, and the Prometheus handler exporting its metrics and lag. The read
// models are fed the sealed events: they must never hold what an erasure makes unreadable.
func startProjections(ctx context.Context, deployment *deployment, busURL string, logger *slog.Logger) (*engine.Engine, http.Handler, error) {
	return startFeeder(ctx, deployment, busURL, logger, nil, nil)
}

// startFeeder is startProjections feeding, besides the read models, the outbox's consumer when
// notifications are on (outbox not nil) and the more consumers given (the alarms'), with the
// deliveries' gauges and the extra collectors on the same handler.
func startFeeder(ctx context.Context, deployment *deployment, busURL string, logger *slog.Logger, outbox *outbox, more []engine.Consumer,
	extra ...prometheus.Collector) (*engine.Engine, http.Handler, error) {
	transport, err := engine.OpenTransport(ctx, busURL, logger)
	if err != nil {
		return nil, nil, err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := engine.NewMetrics(registry)
	if err != nil {
		transport.Close()
		return nil, nil, err
	}
	consumers, names := projections.MeasuredWith(deployment.calendar, projections.All()), projections.Names()
	for _, c := range append(outbox.consumers(), more...) {
		consumers, names = append(consumers, c), append(names, c.Name())
	}
	if outbox != nil {
		// Its gauges query the deliveries table: a scrape must not wait on a busy database.
		registry.MustRegister(engine.NewCachedCollector(outbox.collector))
	}
	registry.MustRegister(extra...)
	lag := engine.NewLagCollector(deployment.events.Sealed, deployment.ReadDB, names...)
	lag.Logger = logger
	registry.MustRegister(lag)
	feeder := engine.NewEngine(deployment.events.Sealed, deployment.ProjectionDB, deployment.Dialect(), consumers...)
	feeder.Transport, feeder.Logger, feeder.Metrics = transport, logger, metrics
	return feeder, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), nil
}

func migrateReadModels(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	if err := projections.MigrateAll(ctx, db, d); err != nil {
		return err
	}
	// The citizens' index is not in projections.All (it needs the blind-index key to run), but its
	// table is made here with the others, under the schema lock: left to the engine's start, two
	// nodes starting together raced to create it.
	return projections.CitizenDossiersView{}.Migrate(ctx, db, d)
}

// domainFlags name the files that replace or extend the built-in procedure catalog, calendar and
// rule sets.
type domainFlags struct {
	catalog, calendar, rules string
}

func addDomainFlags(fs *flag.FlagSet) *domainFlags {
	f := &domainFlags{}
	fs.StringVar(&f.catalog, "catalog", "", "procedure catalog file (JSON); when empty, <data>/catalog.json if there is one (bench generate writes it), else the built-in demo catalog")
	fs.StringVar(&f.calendar, "calendar", "", "agency calendar file (JSON) layered over the Vietnamese default")
	fs.StringVar(&f.rules, "rules", "", "rules file (JSON) changing the built-in NĐ 61 / NĐ 118 rule sets (docs/rules.md)")
	return f
}

// domainRules are the catalog, calendar and rule sets a deployment decides with.
type domainRules struct {
	calendar *calendar.Calendar
	catalog  *domain.Catalog
	// rules is nil when no --rules file is given: the built-in rule sets apply.
	rules *domain.RuleBook
}

// load reads the files named, or takes the built-in defaults.
func (f *domainFlags) load() (domainRules, error) {
	var loaded domainRules
	var err error
	if loaded.calendar, err = loadCalendar(f.calendar); err != nil {
		return loaded, err
	}
	if f.catalog == "" {
		loaded.catalog, err = demo.Catalog(loaded.calendar)
	} else {
		loaded.catalog, err = loadCatalog(f.catalog, loaded.calendar)
	}
	if err != nil || f.rules == "" {
		return loaded, err
	}
	data, err := os.ReadFile(f.rules)
	if err != nil {
		return loaded, err
	}
	if loaded.rules, err = domain.ParseRulesConfig(data); err != nil {
		return loaded, fmt.Errorf("%s: %w", f.rules, err)
	}
	return loaded, nil
}

// loadCalendar reads an agency calendar file layered over the national calendar, which it returns
// alone when path is empty.
func loadCalendar(path string) (*calendar.Calendar, error) {
	if path == "" {
		return calendar.Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cal, err := calendar.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cal, nil
}

func loadCatalog(path string, cal *calendar.Calendar) (*domain.Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	catalog, err := domain.ParseCatalog(data, cal)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return catalog, nil
}

// publicLimits are the public budgets set on the command line.
type publicLimits struct {
	mhttp.Limits
	publicPerMinute int
}

// addPublicBudgetFlags declares --public-budget (shared or node) and --public-budget-sync.
func addPublicBudgetFlags(fs *flag.FlagSet, limits *mhttp.Limits) {
	fs.Func("public-budget", "where the public budgets are counted on PostgreSQL: shared (in the database, one budget across every node) or node (in this node's memory: for one node, or nodes behind a proxy that limits clients itself)", func(v string) error {
		switch v {
		case "shared":
			limits.PerNode = false
		case "node":
			limits.PerNode = true
		default:
			return fmt.Errorf("want shared or node, not %q", v)
		}
		return nil
	})
	fs.DurationVar(&limits.PublicBudgetSync, "public-budget-sync", 100*time.Millisecond, "with the public budget shared: each node counts a client's public requests in memory and writes them to the database this often, learning the other nodes' there; a client past half its budget is charged in the database at each request (0: every public request is, one statement each)")
}

// addLimitFlags declares the public budgets and the connection limits (docs/security.md, "Rate
// limits" and "Connections"). Zero keeps each default.
func addLimitFlags(fs *flag.FlagSet) (*publicLimits, *mhttp.ConnectionLimits) {
	l, c := &publicLimits{}, &mhttp.ConnectionLimits{}
	fs.IntVar(&l.publicPerMinute, "public-per-minute", 60, "public requests (lookups, live feeds, QR images, public pages) per client address per minute")
	fs.IntVar(&l.SecretChecksPerMinute, "secret-checks-per-minute", 10, "rating-secret checks per client address per minute")
	fs.IntVar(&l.SecretFailures, "secret-failures", 5, "wrong rating secrets within --secret-lockout that lock a client address out")
	fs.DurationVar(&l.SecretLockout, "secret-lockout", 15*time.Minute, "window of --secret-failures, and the lock-out's length")
	fs.IntVar(&l.FeedStreamsPerClient, "feed-streams-per-client", 4, "live feed streams one client address may hold open")
	fs.IntVar(&l.FeedStreams, "feed-streams", 2000, "live feed streams open on this node at most")
	addPublicBudgetFlags(fs, &l.Limits)
	fs.IntVar(&c.MaxConnections, "max-connections", 4096, "connections served at once; keep it under the descriptor limit (ulimit -n)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 30*time.Second, "time a client has to send a whole request, body included")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 60*time.Second, "time to answer a request (the live feed is exempt)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 60*time.Second, "idle keep-alive connections are closed after this")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request line and headers, in bytes")
	return l, c
}

// checkLimitFlags refuses a negative limit: zero keeps the default, a negative number means nothing.
func checkLimitFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		getter, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		switch v := getter.Get().(type) {
		case int:
			if v < 0 && err == nil {
				err = fmt.Errorf("--%s must not be negative", f.Name)
			}
		case time.Duration:
			if v < 0 && err == nil {
				err = fmt.Errorf("--%s must not be negative", f.Name)
			}
		}
	})
	return err
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
