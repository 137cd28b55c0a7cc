package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/integrations/delivery"
	"github.com/motcua/motcua/integrations/portal"
)

// portalFlags configure the national portal (DVCQG) sync of serve. The province's client id and
// secret at the portal are the inbound feed's (--portal-client-id, --portal-client-secret-file,
// portal_inbound.go): one client, one secret, read from a file (or $MOTCUA_PORTAL_CLIENT_SECRET),
// never a flag; so is its token endpoint when --portal-token-url is given.
type portalFlags struct {
	url     string
	inbound *portalInboundFlags
}

func addPortalFlags(fs *flag.FlagSet, inbound *portalInboundFlags) *portalFlags {
	f := &portalFlags{inbound: inbound}
	fs.StringVar(&f.url, "portal-url", os.Getenv("MOTCUA_PORTAL_URL"), "base URL of the national public service portal's sync API (DongBoHoSoMC, CapNhatTienDoHoSoMC); no sync when empty ($MOTCUA_PORTAL_URL)")
	return f
}

// destination builds the portal's destination of the outbox, or returns nil when no portal is
// configured.
func (f *portalFlags) destination(deployment *deployment, publicURL string, logger *slog.Logger) (delivery.Destination, error) {
	if f.url == "" {
		return nil, nil
	}
	secret := os.Getenv("MOTCUA_PORTAL_CLIENT_SECRET")
	if f.inbound.clientSecretFile != "" {
		raw, err := readSecretFile(f.inbound.clientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--portal-client-secret-file: %w", err)
		}
		secret = string(raw)
	}
	client := &portal.Client{BaseURL: f.url, TokenURL: f.inbound.tokenURL, ClientID: f.inbound.clientID, ClientSecret: secret}
	if err := client.Check(); err != nil {
		return nil, fmt.Errorf("--portal-url needs --portal-client-id and --portal-client-secret-file (or $MOTCUA_PORTAL_CLIENT_SECRET): %w", err)
	}
	logger.Info("national portal sync on", "portal", f.url, "client", f.inbound.clientID)
	// The documents are built from the dossier read through the sealed store, as the application
	// reads it: nothing is sent about an erased applicant.
	return &portal.Syncer{Store: deployment.events.Sealed, Portal: client, ResultLink: portal.LookupLink(publicURL)}, nil
}

const portalUsage = `Usage:
  motcua portal status    [--store URL] [--data DIR] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
  motcua portal reconcile [--store URL] [--data DIR] --from YYYY-MM-DD --to YYYY-MM-DD

status prints QĐ 766's "synced" indicator over the period (by default the last 30 days): of the
dossiers whose public status changed in it, the share the national portal acknowledged in their
latest state; and the portal's deliveries (pending, failing, dead). reconcile makes the latest
state of every dossier of the period that the portal did not acknowledge due again (under its own
idempotency key); serve sends them. Dates are Vietnam civil days, both included. See
docs/integrations.md.
`

func runPortal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("portal", args, portalUsage, stdout, stderr, "status", "reconcile"); done {
		return err
	}
	fs := flag.NewFlagSet("portal "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	fromFlag := fs.String("from", "", "first day of the period, YYYY-MM-DD (Vietnam time)")
	toFlag := fs.String("to", "", "last day of the period, YYYY-MM-DD (Vietnam time)")
	asJSON := fs.Bool("json", false, "status: print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	now := time.Now()
	today := time.Date(now.In(domain.VietnamTime).Year(), now.In(domain.VietnamTime).Month(), now.In(domain.VietnamTime).Day(), 0, 0, 0, 0, domain.VietnamTime)
	from, to := today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	if args[0] == "reconcile" && (*fromFlag == "" || *toFlag == "") {
		return errors.New("portal reconcile: --from and --to are required")
	}
	if *fromFlag != "" {
		day, err := time.ParseInLocation(time.DateOnly, *fromFlag, domain.VietnamTime)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		from = day
	}
	if *toFlag != "" {
		day, err := time.ParseInLocation(time.DateOnly, *toFlag, domain.VietnamTime)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		to = day.AddDate(0, 0, 1)
	}
	if !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
		return errors.New("portal: --from must be on or before --to, a year at most")
	}
	// reconcile reads the dossiers' events (the store's decorators stacked, as serve has them).
	deployment, err := openDeployment(ctx, storage, openOptions{personalData: args[0] == "reconcile"})
	if err != nil {
		return err
	}
	defer deployment.Close()
	if err := delivery.Migrate(ctx, deployment.ReadDB, deployment.Dialect()); err != nil {
		return err
	}
	if err := portal.Migrate(ctx, deployment.ReadDB, deployment.Dialect()); err != nil {
		return err
	}
	period := from.Format(time.DateOnly) + " – " + to.AddDate(0, 0, -1).Format(time.DateOnly)
	if args[0] == "reconcile" {
		r, err := portal.Reconcile(ctx, deployment.ReadDB, deployment.events.Sealed, from, to, now, 500)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d dossiers changed, %d acknowledged in their latest state, %d due again; %d never sent (changed before the outbox started) now recorded\n",
			period, r.Dossiers, r.Acknowledged, r.Requeued, r.Unrecorded)
		return nil
	}
	synced, err := portal.SyncedIndicator(ctx, deployment.ReadDB, from, to)
	if err != nil {
		return err
	}
	statuses, err := delivery.Status(ctx, deployment.ReadDB, now, portal.DestinationName)
	if err != nil {
		return err
	}
	var deliveries delivery.DestinationStatus
	for _, s := range statuses {
		if s.Destination == portal.DestinationName {
			deliveries = s
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			portal.Synced
			Percent    float64                    `json:"synced_percent"`
			Deliveries delivery.DestinationStatus `json:"deliveries"`
		}{synced, synced.Percent(), deliveries})
	}
	fmt.Fprintf(stdout, "synced (QĐ 766) %s: %.1f %% (%d of %d dossiers acknowledged in their latest state)\n",
		period, synced.Percent(), synced.Acknowledged, synced.Dossiers)
	fmt.Fprintf(stdout, "deliveries to %s: %d pending (%d failing), %d dead, %d sent, %d skipped\n",
		portal.DestinationName, deliveries.Pending, deliveries.Failing, deliveries.Dead, deliveries.Sent, deliveries.Skipped)
	return nil
}
