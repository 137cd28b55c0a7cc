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
	"net"
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
	"github.com/motcua/motcua/projections"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "./data", "data directory (embedded store, token key)")
	addr := fs.String("addr", ":8080", "listen address HOST:PORT")
	storeURL := fs.String("store", "", "event store URL: sqlite:PATH (default under --data), postgres://…, esdb://…, kurrentdb://…")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the PostgreSQL schema on start")
	withDemo := fs.Bool("demo", false, "seed the demo catalog's dossiers (once) and print demo officials' tokens")
	catalogFile := fs.String("catalog", "", "procedure catalog file (JSON); the built-in demo catalog when empty")
	calendarFile := fs.String("calendar", "", "agency calendar file (JSON) layered over the Vietnamese default")
	rulesFile := fs.String("rules", "", "rules file (JSON) changing the built-in NĐ 61 / NĐ 118 rule sets (docs/rules.md)")
	busURL := fs.String("bus", "", "transport from the event log to the read models: gochannel (in-process, default), postgres://…, nats://…")
	checkpointEvery := fs.Duration("checkpoint-every", 5*time.Minute, "sign an integrity checkpoint at least this often while events arrive")
	checkpointAfter := fs.Int("checkpoint-after", 1000, "… or as soon as this many events wait for one")
	publicURL := fs.String("public-url", "", "scheme and host printed QR codes point to (default: the address a request came to)")
	agencyKeysDir := fs.String("agency-keys", "", "directory of the agencies' result-signing keys, <agency code>.pem (default <data>/agency-keys)")
	idempotencyWindow := fs.Duration("idempotency-window", mhttp.DefaultIdempotencyWindow, "how long the first answer to a write sent with an Idempotency-Key is replayed to repeats")
	signIn := addSignInFlags(fs)
	limits, connections := addLimitFlags(fs)
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
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	calendar, catalog, err := loadRules(*calendarFile, *catalogFile)
	if err != nil {
		return err
	}
	b, err := openBackend(ctx, *storeURL, *dataDir, !*noMigrate)
	if err != nil {
		return err
	}
	defer b.Close()
	ready := b.ready(b.Store)
	b.Store = chain.Wrap(b.Store) // every append is hash-chained (docs/security.md, "Tamper evidence")
	// Personal data is sealed outside the chain, so the chain and its checkpoints hash ciphertext and
	// a legal erasure breaks no hash (docs/security.md, "Privacy").
	integrity := b.Store
	shredded, err := protectPersonalData(ctx, b, integrity)
	if err != nil {
		return err
	}
	b.Store = shredded
	if err := migrateReadModels(ctx, b.ReadDB, b.Dialect()); err != nil {
		return err
	}
	key, err := loadOrCreateTokenKey(*dataDir)
	if err != nil {
		return err
	}
	checkpointKey, err := loadOrCreateKey(*dataDir, integrityKeyFile)
	if err != nil {
		return err
	}
	checkpointer, err := chain.NewCheckpointer(integrity, checkpointKey)
	if err != nil {
		return err
	}
	checkpointer.Logger = logger
	if *agencyKeysDir == "" {
		*agencyKeysDir = filepath.Join(*dataDir, "agency-keys")
	}
	app := commands.New(b.Store, catalog, calendar)
	if *rulesFile != "" {
		data, err := os.ReadFile(*rulesFile)
		if err != nil {
			return err
		}
		if app.Rules, err = domain.ParseRulesConfig(data); err != nil {
			return fmt.Errorf("%s: %w", *rulesFile, err)
		}
	}
	app.Logger = logger
	app.Signers = newFileAgencyKeys(*agencyKeysDir, logger)

	if *withDemo {
		officials, err := demo.Seed(ctx, app)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		printDemoTokens(stdout, key, officials)
	}

	feeder, metrics, err := startProjections(ctx, b, *busURL, logger)
	if err != nil {
		return err
	}
	defer feeder.Transport.Close()
	localTokens := mhttp.TokenVerifier{Key: key.Public().(ed25519.PublicKey), MaxLifetime: signIn.tokenMaxTTL}
	authenticator, err := signIn.authenticator(ctx, localTokens)
	if err != nil {
		return err
	}
	server := mhttp.NewServer(mhttp.Config{App: app, ReadDB: b.ReadDB, Tokens: localTokens, Authenticator: authenticator, Logger: logger,
		TrustedProxies: trustedProxies, Eraser: personalDataEraser(b, shredded, logger),
		PublicStatusUpdates: feeder.Runner(projections.PublicStatusView{}.Name()), Metrics: metrics,
		Integrity: chain.NewVerifier(integrity, checkpointKey.Public().(ed25519.PublicKey)), PublicBaseURL: *publicURL,
		IdempotencyWindow: *idempotencyWindow, PublicRequestsPerMinute: limits.publicPerMinute, Limits: limits.Limits, Ready: ready})
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	listener = mhttp.Listener(listener, *connections)
	httpServer := server.HTTPServer(*connections)
	logger.Info("motcua serving", "addr", listener.Addr().String(), "store", b.Kind)
	fmt.Fprintf(stdout, "motcua listening on http://%s (store: %s)\n", listener.Addr(), b.Kind)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return feeder.Run(ctx) })
	g.Go(func() error {
		return checkpointer.Run(ctx, *checkpointEvery, *checkpointAfter, min(*checkpointEvery, 10*time.Second))
	})
	g.Go(func() error {
		err := httpServer.Serve(listener)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
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

// startProjections prepares the engine that keeps every read model up to date through the
// transport named by busURL, and the Prometheus handler exporting its metrics and lag.
func startProjections(ctx context.Context, b *backend, busURL string, logger *slog.Logger) (*engine.Engine, http.Handler, error) {
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
	lag := engine.NewLagCollector(b.Store, b.ReadDB, projections.Names()...)
	lag.Logger = logger
	registry.MustRegister(lag)
	feeder := engine.NewEngine(b.Store, b.ProjectionDB, b.Dialect(), projections.All()...)
	feeder.Transport, feeder.Logger, feeder.Metrics = transport, logger, metrics
	return feeder, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), nil
}

func migrateReadModels(ctx context.Context, db *sql.DB, d engine.Dialect) error {
	return projections.MigrateAll(ctx, db, d)
}

// loadRules reads the calendar and catalog files, or the built-in defaults.
func loadRules(calendarFile, catalogFile string) (*calendar.Calendar, *domain.Catalog, error) {
	cal := calendar.Default()
	if calendarFile != "" {
		data, err := os.ReadFile(calendarFile)
		if err != nil {
			return nil, nil, err
		}
		if cal, err = calendar.ParseConfig(data); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", calendarFile, err)
		}
	}
	if catalogFile == "" {
		catalog, err := demo.Catalog(cal)
		return cal, catalog, err
	}
	data, err := os.ReadFile(catalogFile)
	if err != nil {
		return nil, nil, err
	}
	catalog, err := domain.ParseCatalog(data, cal)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", catalogFile, err)
	}
	return cal, catalog, nil
}

// publicLimits are the public budgets set on the command line.
type publicLimits struct {
	mhttp.Limits
	publicPerMinute int
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
