package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

const agencyUsage = `motcua agency succeed — hand the open dossiers of an abolished agency to its successor

Usage:
  motcua agency succeed --from CODE [--to CODE] --basis "DECISION" [--effective YYYY-MM-DD] [--unit OLD=NEW …]
                        [--page N] [--store URL] [--data DIR] [--catalog FILE]

Every open dossier the agency --from received, decides, holds or does a part of passes to --to by an
event in its own stream (dossier.agency_succeeded.v1). --to, --basis and --effective default to the
catalog's "succeeded_by" of --from. --unit maps a department of the abolished agency to one of the
successor's (else the successor itself holds the dossier). Running it again, after an interruption
or not, finishes the job and hands no dossier over twice.

It keeps the work queue current itself while it walks it: run it while serve is stopped. While serve
runs (on several nodes, whose leases this command does not take), use the admin API instead:
POST /api/v1/admin/agency-successions (docs/api.md, "Agency succession").
`

// unitMap is the repeated --unit OLD=NEW flag.
type unitMap map[string]string

func (m unitMap) String() string { return fmt.Sprint(map[string]string(m)) }

func (m unitMap) Set(s string) error {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" {
		return errors.New("want OLD=NEW")
	}
	m[from] = to
	return nil
}

func runAgency(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := subcommand("agency", args, agencyUsage, stdout, stderr, "succeed"); done {
		return err
	}
	fs := flag.NewFlagSet("agency succeed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "QCVN 102 code of the abolished agency or unit")
	to := fs.String("to", "", "QCVN 102 code of its successor (default: the catalog's)")
	basis := fs.String("basis", "", "the decision that abolished or merged it (default: the catalog's)")
	effective := fs.String("effective", "", "date the decision took effect, YYYY-MM-DD (default: the catalog's)")
	pageSize := fs.Int("page", projections.DefaultPageSize, "dossiers handed over per page")
	units := unitMap{}
	fs.Var(units, "unit", "OLD=NEW: a department of the abolished agency and the successor's unit that takes its dossiers (repeatable)")
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	domainFiles := addDomainFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	in := commands.SuccessionInput{From: *from, To: *to, Basis: *basis, Units: units}
	if *effective != "" {
		day, err := time.ParseInLocation(time.DateOnly, *effective, domain.VietnamTime)
		if err != nil {
			return fmt.Errorf("agency succeed: --effective %q is not a date YYYY-MM-DD", *effective)
		}
		in.EffectiveDate = day
	}
	if domainFiles.catalog == "" {
		if generated := filepath.Join(storage.dataDir, catalogFile); fileExists(generated) {
			domainFiles.catalog = generated
		}
	}
	rules, err := domainFiles.load()
	if err != nil {
		return err
	}
	deployment, err := openDeployment(ctx, storage, openOptions{migrateReadModels: true, personalData: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := commands.New(deployment.events.Sealed, rules.catalog, rules.calendar)
	app.Rules, app.Logger = rules.rules, logger
	if err := app.RefreshCatalog(ctx); err != nil { // the successions the admins recorded since the file
		return err
	}

	// The abolished agency's open dossiers are read from the work queue, kept current here while the
	// job walks it, so a dossier received a moment ago is found and one handed over leaves the list.
	queue := engine.NewEngine(deployment.events.Sealed, deployment.ProjectionDB, deployment.Dialect(), projections.WorkQueueView{})
	queue.Logger = logger
	running, stop := context.WithCancel(ctx)
	defer stop()
	failed := make(chan error, 1)
	go func() { failed <- queue.Run(running) }()
	select {
	case <-queue.Ready():
	case err := <-failed:
		return fmt.Errorf("agency succeed: the work queue: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	list := func(ctx context.Context, agency, after string, limit int) ([]string, string, error) {
		return projections.OpenDossierPage(ctx, deployment.ReadDB, agency, after, limit)
	}
	admin := commands.Caller{ID: "motcua-agency-succeed", Name: "motcua agency succeed", Roles: []commands.Role{commands.RoleAdmin}}
	handed, skipped := 0, 0
	// Passes over the list until one hands nothing over: the list may have gained a dossier while
	// a pass ran (a receipt that raced the catalog's change).
	for {
		passHanded := 0
		for after := ""; ; {
			p, err := app.SucceedAgency(ctx, admin, in, list, after, *pageSize)
			if err != nil {
				return fmt.Errorf("agency succeed: %w (handed over so far: %d; run again to finish)", err, handed+passHanded)
			}
			passHanded, skipped = passHanded+p.HandedOver, skipped+p.Skipped
			if p.HandedOver > 0 {
				if err := queue.WaitFor(ctx, p.Position); err != nil {
					return err
				}
			}
			if after = p.Next; after == "" {
				break
			}
		}
		handed += passHanded
		if passHanded == 0 {
			break
		}
	}
	fmt.Fprintf(stdout, "%d open dossiers of %s handed over to its successor; %d listed had passed already\n", handed, *from, skipped)
	return nil
}
