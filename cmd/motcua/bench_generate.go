package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlitedriver "modernc.org/sqlite"

	"github.com/motcua/motcua/cmd/motcua/province"
	"github.com/motcua/motcua/cmd/motcua/wiring"
	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/chain"
	"github.com/motcua/motcua/eventstore/shred"
)

// catalogFile is the catalog a generated data directory serves with: `motcua serve --data DIR`
// reads it when no --catalog is given.
const catalogFile = "catalog.json"

const benchGenerateUsage = "motcua bench generate --data DIR --dossiers N [--store postgres://…] [--seed S] [--days 365] [--writers W] [--end RFC3339] [--projections]"

// runBenchGenerate writes a province's history through the real use cases and the deployment's
// decorators (docs/benchmarks.md, "Generated province").
func runBenchGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storage := addStoreFlags(fs, "event store URL: sqlite:PATH (default under --data) or postgres://…", "data directory: the store (SQLite), its keys, the agencies' signing keys and the generated catalog.json")
	dossiers := fs.Int("dossiers", 10_000, "dossiers to file")
	seed := fs.Uint64("seed", 1, "seed of the catalog and the histories: the same seed gives the same province")
	days := fs.Int("days", 365, "the history covers this many days before --end")
	endFlag := fs.String("end", "", "the present the history ends at, RFC 3339 (default: now)")
	writers := fs.Int("writers", 0, "goroutines appending to the store (default 1 on SQLite, 8 on PostgreSQL)")
	withProjections := fs.Bool("projections", false, "rebuild the read models afterwards (by default motcua serve catches up at its start)")
	progressEvery := fs.Duration("progress", 5*time.Second, "how often to print a progress line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generation to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dossiers <= 0 || *days <= 0 || *writers < 0 {
		return fmt.Errorf("usage: %s (--dossiers and --days must be positive)", benchGenerateUsage)
	}
	end := time.Now().UTC().Truncate(time.Second)
	if *endFlag != "" {
		var err error
		if end, err = time.Parse(time.RFC3339, *endFlag); err != nil {
			return fmt.Errorf("--end: %w", err)
		}
	}
	cal := calendar.Default()
	catalog, err := province.NewCatalog(*seed, cal)
	if err != nil {
		return err
	}
	if err := ensurePrivateDir(storage.dataDir); err != nil {
		return err
	}
	if err := writeCatalog(filepath.Join(storage.dataDir, catalogFile), catalog.JSON); err != nil {
		return err
	}

	storeURL := storage.url
	sqlitePath := ""
	switch {
	case storeURL == "" || strings.HasPrefix(storeURL, "sqlite:"):
		sqlitePath = strings.TrimPrefix(storeURL, "sqlite:")
		if sqlitePath == "" {
			sqlitePath = filepath.Join(storage.dataDir, "motcua.db")
		}
		storeURL = "sqlite:" + sqlitePath
		stop := bulkLoad(sqlitePath)
		defer stop()
		if *writers == 0 {
			*writers = 1
		}
	case strings.HasPrefix(storeURL, "postgres://"), strings.HasPrefix(storeURL, "postgresql://"):
		if *writers == 0 {
			*writers = 8
		}
		storeURL = bulkLoadPostgres(storeURL, *writers)
	default:
		return fmt.Errorf("--store %q: bench generate writes sqlite:PATH or postgres://…", storeURL)
	}

	b, err := openBackend(ctx, storeURL, storage.dataDir, true)
	if err != nil {
		return err
	}
	defer b.Close()
	if existing, err := b.Store.ReadAll(ctx, eventstore.Start, 1); err != nil {
		return err
	} else if len(existing) > 0 {
		return errors.New("bench generate writes into an empty store: this one has events already")
	}
	sqlKeys, err := shred.OpenSQLKeys(ctx, b.KeysDB)
	if err != nil {
		return err
	}
	// The deployment's decorators with the generation's layers around them (cmd/motcua/province, store.go).
	behind := province.NewWriteBehind(ctx, b.Store, sqlKeys, *writers)
	events := wiring.DecorateWithKeys(behind, province.NewCachedKeys(sqlKeys, behind))
	recall := province.NewRecall(events.Sealed)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := commands.New(recall, catalog.Catalog, cal)
	app.Logger = logger
	// The agencies' result-signing keys are made on first use, as `motcua serve` makes them; the
	// notice serve logs for each is no news in a generated province.
	app.Signers = newFileAgencyKeys(filepath.Join(storage.dataDir, "agency-keys"), slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The generation keeps every open dossier in memory and allocates much: collecting garbage less
	// often buys speed with memory a benchmark machine has.
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	gen := &province.Generator{App: app, Catalog: catalog, Officials: province.NewOfficials(catalog.Catalog), Store: behind, Recall: recall}
	start := end.AddDate(0, 0, -*days)
	began := time.Now()
	fmt.Fprintf(stdout, "generating %d dossiers over %d days to %s into %s store (%d procedures, %d agencies, %d writers)\n",
		*dossiers, *days, end.Format(time.RFC3339), b.Kind, len(catalog.Procedures), len(catalog.Agencies), *writers)
	var lastEvents int64
	lastAt := began
	stats, runErr := gen.Run(ctx, province.Config{Dossiers: *dossiers, Seed: *seed, End: end, Days: *days, ProgressEvery: *progressEvery,
		Progress: func(s province.Stats) {
			now := time.Now()
			appended := behind.Appended()
			rate := float64(appended-lastEvents) / now.Sub(lastAt).Seconds()
			lastEvents, lastAt = appended, now
			done := float64(s.Clock.Sub(start)) / float64(end.Sub(start))
			eta := "-"
			if done > 0.01 {
				eta = (time.Duration(float64(now.Sub(began))/done) - now.Sub(began)).Round(time.Second).String()
			}
			fmt.Fprintf(stdout, "%s  dossiers %d/%d  events %d (stored %d)  %.0f events/s  in memory %d streams  ETA %s\n",
				s.Clock.In(calendar.VietnamTime).Format("2006-01-02"), s.Dossiers, *dossiers, appended, behind.Stored(), rate, behind.Held(), eta)
		}})
	closeErr := behind.Close()
	if err := errors.Join(runErr, closeErr); err != nil {
		return err
	}
	elapsed := time.Since(began)
	total := behind.Stored()
	fmt.Fprintf(stdout, "generated %d dossiers, %d events in %s (%.0f events/s, %d transactions)\n", stats.Dossiers, total, elapsed.Round(time.Second), float64(total)/elapsed.Seconds(), behind.Batches())
	fmt.Fprintln(stdout, formatStats(stats))
	if err := signCheckpoints(ctx, b, storage.dataDir, stdout); err != nil {
		return err
	}
	if sqlitePath != "" {
		if err := syncSQLite(ctx, b, sqlitePath); err != nil {
			return err
		}
	}
	if err := b.Close(); err != nil {
		return err
	}
	if *withProjections {
		return runProjectionsRebuild(ctx, []string{"--data", storage.dataDir, "--store", storage.url}, stdout, stderr)
	}
	return nil
}

// signCheckpoints covers the generated log with integrity checkpoints signed by the data
// directory's key, as a deployment's log carries them (serve signs one every few minutes). Without
// them the first node started on the store would sign the whole backlog while it catches up, and
// its figures would measure a deployment's first day rather than a running province's.
func signCheckpoints(ctx context.Context, b *backend, dataDir string, stdout io.Writer) error {
	key, err := loadOrCreateKey(dataDir, integrityKeyFile)
	if err != nil {
		return err
	}
	checkpointer, err := chain.NewCheckpointer(wiring.Chain(b.Store), key)
	if err != nil {
		return err
	}
	checkpointer.Logger = slog.New(slog.DiscardHandler)
	fmt.Fprintln(stdout, "signing integrity checkpoints over the log")
	began := time.Now()
	written, err := checkpointer.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("integrity checkpoints: %w", err)
	}
	fmt.Fprintf(stdout, "signed %d integrity checkpoints in %s\n", len(written), time.Since(began).Round(time.Second))
	return nil
}

// formatStats lists what the generation did, with each count's share of the dossiers.
func formatStats(s province.Stats) string {
	share := func(n int) string { return fmt.Sprintf("%d (%.1f %%)", n, 100*float64(n)/float64(max(s.Dossiers, 1))) }
	return fmt.Sprintf("online %s, postal %s, refused %s, supplement requests %s, withdrawn %s, suspended %s, rejected %s, "+
		"overran %s, apologies %s, consulted another agency %s, paid %s, returned %s, rated %s, open at the end %s, %d actions (%d refused by the rules)",
		share(s.Online), share(s.Postal), share(s.Refused), share(s.Supplements), share(s.Withdrawn), share(s.Suspended), share(s.Rejected),
		share(s.Overran), share(s.Apologies), share(s.Parallel), share(s.Paid), share(s.Returned), share(s.Rated), share(s.Open), s.Actions, s.Refusals)
}

// writeCatalog writes the generated catalog; a catalog already there must be the same (the same seed).
func writeCatalog(path string, data []byte) error {
	existing, err := os.ReadFile(path)
	if err == nil {
		if string(existing) != string(data) {
			return fmt.Errorf("%s holds another catalog: generate into a new data directory, or with the seed that made it", path)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_, err = createFileAtomically(path, data, 0o600)
	return err
}

// bulkLoadPaths are the SQLite files being generated: their connections commit without fsync.
var bulkLoadPaths = struct {
	sync.Mutex
	once  sync.Once
	paths map[string]bool
}{paths: map[string]bool{}}

// bulkLoad makes every connection to the SQLite file at path, opened until stop, commit without
// waiting for the disk (synchronous=OFF): a generation is one long bulk load, and syncSQLite makes
// the file durable at its end. A crash part-way leaves a store to throw away, not a wrong one —
// the events themselves are what the use cases made. The store's own DSN keeps synchronous=FULL
// for every other use.
func bulkLoad(path string) (stop func()) {
	bulkLoadPaths.once.Do(func() {
		sqlitedriver.RegisterConnectionHook(func(conn sqlitedriver.ExecQuerierContext, dsn string) error {
			file, _, _ := strings.Cut(dsn, "?")
			bulkLoadPaths.Lock()
			on := bulkLoadPaths.paths[file]
			bulkLoadPaths.Unlock()
			if !on {
				return nil
			}
			_, err := conn.ExecContext(context.Background(), "PRAGMA synchronous = OFF", nil)
			return err
		})
	})
	bulkLoadPaths.Lock()
	bulkLoadPaths.paths[path] = true
	bulkLoadPaths.Unlock()
	return func() {
		bulkLoadPaths.Lock()
		delete(bulkLoadPaths.paths, path)
		bulkLoadPaths.Unlock()
	}
}

// syncSQLite moves the write-ahead log into the database file and makes the file durable.
func syncSQLite(ctx context.Context, b *backend, path string) error {
	if _, err := b.KeysDB.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// bulkLoadPostgres gives each writer a connection and lets commits return before the WAL is
// flushed (synchronous_commit=off: a crash may lose the last commits, never corrupt the store).
func bulkLoadPostgres(dsn string, writers int) string {
	add := func(key, value string) {
		if strings.Contains(dsn, key+"=") {
			return
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + key + "=" + value
	}
	add("pool_max_conns", strconv.Itoa(writers+8))
	add("synchronous_commit", "off")
	return dsn
}
