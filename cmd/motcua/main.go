// Command motcua runs the one-stop dossier service and its administration tasks.
//
//	motcua serve [--data DIR] [--addr HOST:PORT] [--store URL] [--demo]
//	motcua token --sub ID --name NAME --role ROLE[,ROLE] --agency CODE [--data DIR]
//	motcua calendar YEAR [--agency-file PATH]
//	motcua migrate [--store URL] [--data DIR]
//	motcua projections status|rebuild [--store URL] [--data DIR] [NAME…]
//	motcua erase --id-number N --basis TEXT [--store URL] [--data DIR]
//	motcua officials add|list|disable [--login LOGIN] [--store URL] [--data DIR]
//	motcua agency succeed --from CODE [--to CODE] --basis TEXT [--store URL] [--data DIR]
//	motcua deliveries status|list|retry [--store URL] [--data DIR] [--dead] [--destination D]
//	motcua catalog refresh --from-portal URL [--apply] [--data DIR] [--catalog FILE]
//	motcua payments reconcile --date YYYY-MM-DD [--apply] [--store URL] [--data DIR] --vnpay-url URL …
//
// This is the only place that wires concrete implementations together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

const usage = `motcua — one-stop administrative dossier service (Hệ thống một cửa điện tử)

Usage:
  motcua serve    [--data DIR] [--addr HOST:PORT] [--store URL] [--demo] [--catalog FILE] [--calendar FILE] [--rules FILE]
  motcua token    --sub ID --name NAME --role ROLE[,ROLE] --agency CODE [--data DIR] [--ttl DURATION] [--token-max-ttl DURATION]
  motcua calendar YEAR [--agency-file PATH]
  motcua migrate  [--store URL] [--data DIR]
  motcua erase    --id-number N --basis TEXT [--store URL] [--data DIR]
  motcua officials add --login LOGIN --sub ID --name NAME --role ROLE[,ROLE] [--agency CODE] [--password-file FILE] [--store URL] [--data DIR]
  motcua officials list|disable [--login LOGIN] [--store URL] [--data DIR]
  motcua agency succeed --from CODE [--to CODE] --basis "DECISION" [--effective YYYY-MM-DD] [--unit OLD=NEW] [--store URL] [--data DIR]
  motcua verify   [--store URL] [--data DIR] [--checkpoint] [--trust PUBLIC-KEY.pem] [--json]
  motcua blobs sweep [--older-than 24h] [--store URL] [--data DIR] [--blobs dir|s3 …] [--json]
  motcua bench append [--store URL] [--duration 5s] [--writers 1,8,64] [--batches 1,10]
  motcua bench generate --data DIR --dossiers N [--store postgres://…] [--seed S] [--days 365] [--writers W] [--projections]
  motcua bench reads (--data DIR | --store URL) [--calls 5] [--lookup-duration 3s] [--receipts 160]
  motcua projections status  [--store URL] [--data DIR]
  motcua projections rebuild [--store URL] [--data DIR] [--batch N] [NAME…]
  motcua deliveries status   [--store URL] [--data DIR] [--json]
  motcua deliveries list     [--store URL] [--data DIR] [--state failing|dead|pending|sent|skipped] [--destination D]
  motcua deliveries retry    [--store URL] [--data DIR] [--dead] [--destination D]
  motcua catalog refresh     --from-portal URL [--apply] [--data DIR] [--catalog FILE]
  motcua payments reconcile  --date YYYY-MM-DD [--apply] [--store URL] [--data DIR] --vnpay-url URL --vnpay-tmn-code CODE --vnpay-secret-file FILE
  motcua portal status|reconcile [--store URL] [--data DIR] [--from YYYY-MM-DD] [--to YYYY-MM-DD]

Stores: sqlite:PATH (default, under --data), postgres://…, esdb://… or kurrentdb://…
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "motcua:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// A command's goroutines (a rebuild's progress bar and its logger, say) write to the same
	// streams: one lock per stream keeps their writes whole whatever the writer is.
	stdout, stderr = &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "token":
		return runToken(args[1:], stdout, stderr)
	case "calendar":
		return runCalendar(args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "erase":
		return runErase(ctx, args[1:], stdout, stderr)
	case "officials":
		return runOfficials(ctx, args[1:], stdout, stderr)
	case "agency":
		return runAgency(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "blobs":
		return runBlobs(ctx, args[1:], stdout, stderr)
	case "projections":
		return runProjections(ctx, args[1:], stdout, stderr)
	case "deliveries":
		return runDeliveries(ctx, args[1:], stdout, stderr)
	case "catalog":
		return runCatalog(ctx, args[1:], stdout, stderr)
	case "payments":
		return runPayments(ctx, args[1:], stdout, stderr)
	case "portal":
		return runPortal(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, "store to migrate: postgres://… or sqlite:PATH (default: sqlite under --data)", "data directory (for sqlite stores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// A SQLite store made before the read models had a file of their own gets one: stop its node
	// first (splitSQLiteReadModels).
	if logPath, ok := sqliteLogPath(storage); ok {
		split, err := splitSQLiteReadModels(ctx, logPath, stdout)
		if err != nil {
			return fmt.Errorf("move the read models out of %s: %w", logPath, err)
		}
		if split {
			fmt.Fprintf(stdout, "the read models of %s are now in a file of their own beside it\n", logPath)
		}
	}
	deployment, err := openDeployment(ctx, storage, openOptions{migrateStore: true, migrateReadModels: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	fmt.Fprintf(stdout, "%s store and read models are up to date\n", deployment.Kind)
	return nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
