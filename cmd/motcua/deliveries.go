package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/email"
)

// mailFlags configure the e-mail notifications of serve. Each flag defaults to an environment
// variable, so a container sets them without a command line; the password is read only from the
// environment or a file, never a flag (a command line is visible to every user of the host).
type mailFlags struct {
	addr, security, username, passwordFile string
	from, caFile, templates, hello         string
	policy                                 delivery.Policy
	sendTimeout                            time.Duration
}

func addMailFlags(fs *flag.FlagSet) *mailFlags {
	f := &mailFlags{}
	env := func(name, fallback string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&f.addr, "smtp", env("MOTCUA_SMTP", ""), "mail server host:port for the applicants' e-mail notifications; none are sent when empty ($MOTCUA_SMTP)")
	fs.StringVar(&f.security, "smtp-security", env("MOTCUA_SMTP_SECURITY", string(email.StartTLS)), "starttls (required, port 587), tls (port 465) or none (a relay on this host only) ($MOTCUA_SMTP_SECURITY)")
	fs.StringVar(&f.username, "smtp-user", env("MOTCUA_SMTP_USER", ""), "user to authenticate as; the password comes from $MOTCUA_SMTP_PASSWORD or --smtp-password-file ($MOTCUA_SMTP_USER)")
	fs.StringVar(&f.passwordFile, "smtp-password-file", env("MOTCUA_SMTP_PASSWORD_FILE", ""), "file holding the SMTP password ($MOTCUA_SMTP_PASSWORD_FILE)")
	fs.StringVar(&f.from, "mail-from", env("MOTCUA_MAIL_FROM", ""), `sender of the notifications, e.g. "Trung tâm Phục vụ hành chính công <khong-tra-loi@tinh.gov.vn>" ($MOTCUA_MAIL_FROM)`)
	fs.StringVar(&f.caFile, "smtp-ca", env("MOTCUA_SMTP_CA", ""), "PEM file of the certificate authorities trusted for the mail server (default: the system's) ($MOTCUA_SMTP_CA)")
	fs.StringVar(&f.templates, "mail-templates", env("MOTCUA_MAIL_TEMPLATES", ""), "directory of notification templates (<kind>.txt) replacing the built-in ones (docs/integrations.md) ($MOTCUA_MAIL_TEMPLATES)")
	fs.StringVar(&f.hello, "smtp-hello", env("MOTCUA_SMTP_HELLO", ""), "name this server gives in EHLO (default localhost) ($MOTCUA_SMTP_HELLO)")
	fs.IntVar(&f.policy.MaxAttempts, "delivery-attempts", delivery.DefaultPolicy.MaxAttempts, "failed attempts after which a delivery is dead and waits for an operator")
	fs.DurationVar(&f.policy.Initial, "delivery-backoff", delivery.DefaultPolicy.Initial, "wait after a delivery's first failure; doubled after each further one, with jitter")
	fs.DurationVar(&f.policy.Max, "delivery-backoff-max", delivery.DefaultPolicy.Max, "longest wait between two attempts of a delivery")
	fs.DurationVar(&f.sendTimeout, "delivery-send-timeout", 30*time.Second, "longest a send may take; a delivery claimed by a node that died is sent again after twice this")
	return f
}

// outbox is what serve runs to tell the outside world: the delivery consumer (fed by the engine
// with the read models), the dispatcher, and the gauges of the deliveries.
type outbox struct {
	consumer   *delivery.Consumer
	dispatcher *delivery.Dispatcher
	collector  prometheus.Collector
	// sender and from are the mail server and sender when e-mail is on (--smtp), which the
	// deadline alarms share (timers.go); sender is nil otherwise.
	sender email.Sender
	from   mail.Address
}

// outbox builds the outbox around the destinations configured — the e-mail notifier when a mail
// server is set, and the others given (nil ones are off) — or returns nil when none is: the
// outside world is told nothing by default.
func (f *mailFlags) outbox(ctx context.Context, deployment *deployment, publicURL string, logger *slog.Logger, others ...delivery.Destination) (*outbox, error) {
	var (
		configured []delivery.Destination
		notifier   *email.Notifier
	)
	if f.addr != "" {
		var err error
		if notifier, err = f.notifier(deployment, publicURL, logger); err != nil {
			return nil, err
		}
		configured = append(configured, notifier)
	}
	var (
		destinations []delivery.Destination
		names        []string
	)
	for _, d := range append(configured, others...) {
		if d != nil {
			destinations = append(destinations, d)
			names = append(names, d.Name())
		}
	}
	if len(destinations) == 0 {
		return nil, nil
	}
	if f.policy.MaxAttempts < 1 || f.policy.Initial <= 0 || f.policy.Max < f.policy.Initial || f.sendTimeout <= 0 {
		return nil, errors.New("--delivery-attempts must be at least 1, --delivery-backoff-max at least --delivery-backoff (> 0), --delivery-send-timeout positive")
	}
	consumer, err := delivery.NewConsumer(destinations...)
	if err != nil {
		return nil, err
	}
	// Migrated now, before serve takes a request: the first time, this records the origin, so
	// every event this server accepts from now on is delivered (and none from before).
	if err := consumer.Migrate(ctx, deployment.ProjectionDB, deployment.Dialect()); err != nil {
		return nil, err
	}
	dispatcher := &delivery.Dispatcher{DB: deployment.ProjectionDB, Dialect: deployment.Dialect(),
		Destinations: destinations, Policy: f.policy, SendTimeout: f.sendTimeout, Logger: logger}
	o := &outbox{consumer: consumer, dispatcher: dispatcher, collector: delivery.NewCollector(deployment.ReadDB, names...)}
	if notifier != nil {
		o.sender, o.from = notifier.Sender, notifier.From
	}
	return o, nil
}

// notifier builds the e-mail notifier from the flags.
func (f *mailFlags) notifier(deployment *deployment, publicURL string, logger *slog.Logger) (*email.Notifier, error) {
	sender := &email.SMTP{Addr: f.addr, Security: email.Security(f.security), Username: f.username, HelloName: f.hello}
	if err := sender.Check(); err != nil {
		return nil, err
	}
	if f.username != "" {
		password := os.Getenv("MOTCUA_SMTP_PASSWORD")
		if f.passwordFile != "" {
			raw, err := os.ReadFile(f.passwordFile)
			if err != nil {
				return nil, fmt.Errorf("--smtp-password-file: %w", err)
			}
			password = strings.TrimRight(string(raw), "\r\n")
		}
		if password == "" {
			return nil, errors.New("--smtp-user needs a password: set $MOTCUA_SMTP_PASSWORD or --smtp-password-file")
		}
		sender.Password = password
	}
	if f.caFile != "" {
		raw, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-ca: %w", err)
		}
		sender.RootCAs = x509.NewCertPool()
		if !sender.RootCAs.AppendCertsFromPEM(raw) {
			return nil, fmt.Errorf("--smtp-ca: %s holds no PEM certificate", f.caFile)
		}
	}
	if f.from == "" {
		return nil, errors.New("--smtp needs --mail-from, the notifications' sender")
	}
	from, err := mail.ParseAddress(f.from)
	if err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	templates := email.Templates{Dir: f.templates}
	if err := templates.Check(); err != nil {
		return nil, fmt.Errorf("--mail-templates: %w", err)
	}
	logger.Info("e-mail notifications on", "smtp", f.addr, "security", f.security, "templates", orDefault(f.templates, "built-in"))
	// The notifier reads the applicant through the sealed store, as the application does: an
	// erased applicant reads as erased and gets nothing.
	return &email.Notifier{Store: deployment.events.Sealed, Sender: sender, Templates: templates, From: *from, PublicURL: publicURL}, nil
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// consumers returns the outbox's consumers of the log (none when o is nil).
func (o *outbox) consumers() []engine.Consumer {
	if o == nil {
		return nil
	}
	return []engine.Consumer{o.consumer}
}

const deliveriesUsage = `Usage:
  motcua deliveries status [--store URL] [--data DIR] [--json]
  motcua deliveries list   [--store URL] [--data DIR] [--state failing|dead|pending|sent|skipped] [--destination D] [--limit N] [--after ID]
  motcua deliveries retry  [--store URL] [--data DIR] [--dead] [--destination D]

status prints, per destination, the deliveries pending (failing among them), dead, sent and
skipped, and the age of the oldest pending one. list shows the deliveries in a state with their
last error (no personal data), oldest first. retry makes the failing deliveries due now; with
--dead it brings the dead ones back with a fresh count of attempts (fix the cause first: a
template, the mail server's credentials). See docs/integrations.md.
`

func runDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("deliveries", args, deliveriesUsage, stdout, stderr, "status", "list", "retry"); done {
		return err
	}
	fs := flag.NewFlagSet("deliveries "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	asJSON := fs.Bool("json", false, "status: print JSON")
	dead := fs.Bool("dead", false, "retry: bring the dead deliveries back")
	destination := fs.String("destination", "", "only this destination (e.g. email)")
	state := fs.String("state", "failing", "list: the state to list")
	limit := fs.Int("limit", 50, "list: how many at most (500 at most)")
	after := fs.Int64("after", 0, "list: continue after this delivery id")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	deployment, err := openDeployment(ctx, storage, openOptions{})
	if err != nil {
		return err
	}
	defer deployment.Close()
	if err := delivery.Migrate(ctx, deployment.ReadDB, deployment.Dialect()); err != nil {
		return err
	}
	now := time.Now()
	switch args[0] {
	case "status":
		statuses, err := delivery.Status(ctx, deployment.ReadDB, now, email.DestinationName)
		if err != nil {
			return err
		}
		if *destination != "" {
			var only []delivery.DestinationStatus
			for _, s := range statuses {
				if s.Destination == *destination {
					only = append(only, s)
				}
			}
			statuses = only
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(statuses)
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "DESTINATION\tPENDING\tFAILING\tDEAD\tSENT\tSKIPPED\tOLDEST PENDING")
		for _, s := range statuses {
			oldest := "-"
			if s.Pending > 0 {
				oldest = s.OldestPending.Round(time.Second).String()
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Destination, s.Pending, s.Failing, s.Dead, s.Sent, s.Skipped, oldest)
		}
		return w.Flush()
	case "list":
		list, err := delivery.List(ctx, deployment.ReadDB, delivery.ListOptions{State: *state, Destination: *destination, Limit: *limit, AfterID: *after})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tDESTINATION\tKIND\tDOSSIER\tEVENT\tATTEMPTS\tNEXT ATTEMPT\tLAST ERROR")
		for _, d := range list {
			next := "-"
			if d.State == delivery.Pending {
				next = d.NextAttemptAt.In(time.Local).Format(time.DateTime)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s v%d\t%d\t%s\t%s\n", d.ID, d.Destination, d.Kind, d.DossierID, d.EventType, d.StreamVersion,
				d.Attempts, next, d.LastError)
		}
		return w.Flush()
	default: // retry
		n, err := delivery.Retry(ctx, deployment.ReadDB, now, delivery.RetryOptions{Dead: *dead, Destination: *destination})
		if err != nil {
			return err
		}
		what := "failing"
		if *dead {
			what = "dead"
		}
		fmt.Fprintf(stdout, "%d %s deliveries are due now\n", n, what)
		return nil
	}
}
