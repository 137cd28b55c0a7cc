package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

const projectionsUsage = `Usage:
  motcua projections status  [--store URL] [--data DIR]
  motcua projections rebuild [--store URL] [--data DIR] [--batch N] [NAME…]

status prints each read model's position and lag (events behind the head of the log), how many
events it parked (passed over because it could not apply them) and the first of those.
rebuild replays the log into fresh tables and swaps them in atomically, every read model unless
NAMEs are given; the serving tables keep answering meanwhile.
`

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, projectionsUsage)
		return errors.New("projections: status or rebuild?")
	}
	switch args[0] {
	case "status":
		return runProjectionsStatus(ctx, args[1:], stdout, stderr)
	case "rebuild":
		return runProjectionsRebuild(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, projectionsUsage)
		return nil
	}
	fmt.Fprint(stderr, projectionsUsage)
	return fmt.Errorf("projections: unknown command %q", args[0])
}

func runProjectionsStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("projections status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	deployment, err := openDeployment(ctx, storage, openOptions{})
	if err != nil {
		return err
	}
	defer deployment.Close()
	if err := engine.MigrateCheckpoints(ctx, deployment.ReadDB); err != nil {
		return err
	}
	now := time.Now()
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "PROJECTION\tPOSITION\tLAG (EVENTS)\tOLDEST UNAPPLIED\tCHECKPOINT MOVED\tPARKED")
	var parkedEvents []engine.ParkedEvent
	// The keyed read models (the citizens' index) run beside the others; their names need no key.
	for _, name := range append(projections.Names(), projections.CitizenDossiersView{}.Name()) {
		lag, err := engine.MeasureLag(ctx, deployment.Store, deployment.ReadDB, name, 0)
		if err != nil {
			return err
		}
		oldest := "-"
		if !lag.Oldest.IsZero() {
			oldest = fmt.Sprintf("%s ago", time.Duration(lag.Seconds(now)*float64(time.Second)).Round(time.Second))
		}
		parked, err := engine.CountParked(ctx, deployment.ReadDB, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%d\n", name, lag.Position, lag.Events, oldest, formatMoment(lag.UpdatedAt), parked)
		first, err := engine.ParkedEvents(ctx, deployment.ReadDB, name, 5)
		if err != nil {
			return err
		}
		parkedEvents = append(parkedEvents, first...)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, p := range parkedEvents {
		fmt.Fprintf(stdout, "parked by %s: %s %s v%d (event %s, at %s) at %s: %s\n",
			p.Projection, p.Type, p.Stream, p.Version, p.EventID, p.Position, formatMoment(p.ParkedAt), p.Error)
	}
	if err := printLeases(ctx, stdout, deployment); err != nil {
		return err
	}
	// A durable transport's forwarder keeps a checkpoint of its own.
	if err := engine.MigrateForwarderCheckpoints(ctx, deployment.ReadDB); err != nil {
		return err
	}
	at, ok, err := engine.ForwarderCheckpoint(ctx, deployment.ReadDB, engine.DefaultTopic)
	if err != nil || !ok {
		return err
	}
	behind, err := engine.CountEvents(ctx, deployment.Store, at, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "forwarder (%s): published up to %s, %d events behind\n", engine.DefaultTopic, at, behind)
	return nil
}

func formatMoment(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func runProjectionsRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("projections rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, storeURLUsage, "data directory (for sqlite stores)")
	batch := fs.Int("batch", engine.DefaultRebuildBatch, "events read and applied per transaction")
	foldBudget := fs.Int("fold-budget", engine.DefaultFoldBudget, "rows a read model folds in memory before it writes them (memory: one to a few KB a row)")
	calendarFile := fs.String("calendar", "", "agency calendar file (JSON) layered over the Vietnamese default, as serve was given: the late dashboard's overrun hours are measured with it")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the rebuild to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cal, err := loadCalendar(*calendarFile)
	if err != nil {
		return err
	}
	selected, err := selectReadModels(storage.dataDir, fs.Args())
	if err != nil {
		return err
	}
	selected = projections.MeasuredWith(cal, selected)
	// Read through the personal-data decorator, or the rebuilt read models would hold sealed applicants.
	deployment, err := openDeployment(ctx, storage, openOptions{migrateStore: true, personalData: true})
	if err != nil {
		return err
	}
	defer deployment.Close()
	names := make([]string, len(selected))
	for i, p := range selected {
		names[i] = p.Name()
	}

	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("rebuilding "+strings.Join(names, ", ")),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		// Otherwise, with the length unknown, the bar starts a goroutine of its own that reads its
		// state without its lock (a data race in progressbar v3.19.1); it redraws on Add instead.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	// The bar shows a count and a rate at once, and a proportion once the log is counted, which
	// runs beside the rebuild.
	// The bar is not safe for concurrent use: barMu serialises the counter's call and the rebuild's.
	var barMu sync.Mutex
	countCtx, stopCounting := context.WithCancel(ctx)
	defer stopCounting()
	go func() {
		if total, err := engine.CountEvents(countCtx, deployment.Store, eventstore.Start, 0); err == nil && total > 0 {
			barMu.Lock()
			bar.ChangeMax64(int64(total))
			barMu.Unlock()
		}
	}()
	rebuilder := &engine.Rebuilder{Store: deployment.events.Sealed, DB: deployment.ProjectionDB, Dialect: deployment.Dialect(), Consumers: selected, BatchSize: *batch,
		FoldBudget: *foldBudget, Progress: func(n int) { barMu.Lock(); _ = bar.Add(n); barMu.Unlock() }, Logger: slog.New(slog.NewTextHandler(stderr, nil))}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	result, err := rebuilder.Run(ctx)
	stopProfile()
	stopCounting()
	if err != nil {
		barMu.Lock()
		_ = bar.Exit()
		barMu.Unlock()
		return err
	}
	barMu.Lock()
	_ = bar.Finish()
	barMu.Unlock()
	fmt.Fprintf(stdout, "rebuilt %s: %d events in %s (%.0f events/s), swapped in at %s\n",
		strings.Join(names, ", "), result.Events, result.Duration.Round(time.Millisecond), result.EventsPerSecond(), result.Position)
	for _, name := range names {
		if n := result.Parked[name]; n > 0 {
			fmt.Fprintf(stdout, "%s parked %d events it cannot apply: see motcua projections status\n", name, n)
		}
	}
	return nil
}

// selectReadModels is projections.Select with the keyed read models (the citizens' index) too:
// every one when names is empty.
func selectReadModels(dataDir string, names []string) ([]engine.Consumer, error) {
	keyed, err := citizenReadModels(dataDir)
	if err != nil {
		return nil, err
	}
	var rest []string
	var chosen []engine.Consumer
	for _, name := range names {
		found := false
		for _, c := range keyed {
			if c.Name() == name {
				chosen, found = append(chosen, c), true
			}
		}
		if !found {
			rest = append(rest, name)
		}
	}
	if len(names) == 0 {
		return append(projections.All(), keyed...), nil
	}
	if len(rest) == 0 {
		return chosen, nil
	}
	selected, err := projections.Select(rest...)
	if err != nil {
		return nil, err
	}
	return append(selected, chosen...), nil
}
