package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/eventstore/bench"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// runBench runs a benchmark: `motcua bench append` measures durable appends and global-log reads;
// `motcua bench generate` writes a province's history to measure the rest at a province's size.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "append":
			return runBenchAppend(ctx, args[1:], stdout, stderr)
		case "generate":
			return runBenchGenerate(ctx, args[1:], stdout, stderr)
		case "reads":
			return runBenchReads(ctx, args[1:], stdout, stderr)
		}
	}
	return errors.New("usage: motcua bench append [--store URL] [--duration 5s] [--writers 1,8,64] [--batches 1,10]\n       " + benchGenerateUsage + "\n       " + benchReadsUsage)
}

// runBenchAppend measures the store against a bare INSERT of the same rows on the same database, in
// alternating slices so that both see the same machine load: the ratio is the figure that holds on a
// noisy machine (docs/benchmarks.md).
func runBenchAppend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench append", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storeURL := fs.String("store", "", "sqlite:PATH or postgres://… (default: a fresh SQLite file in a temporary directory)")
	duration := fs.Duration("duration", 5*time.Second, "measured time per scenario")
	writers := fs.String("writers", "1,8,64", "concurrent writers, comma-separated")
	batches := fs.String("batches", "1,10", "events per append, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := bench.Config{Duration: *duration, Progress: func(r bench.Result) { fmt.Fprintln(stdout, r) }}
	var err error
	if cfg.Writers, err = parseInts(*writers); err != nil {
		return fmt.Errorf("--writers: %w", err)
	}
	if cfg.BatchSizes, err = parseInts(*batches); err != nil {
		return fmt.Errorf("--batches: %w", err)
	}

	switch {
	case *storeURL == "" || strings.HasPrefix(*storeURL, "sqlite:"):
		path := strings.TrimPrefix(*storeURL, "sqlite:")
		if path == "" {
			dir, err := os.MkdirTemp("", "motcua-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "bench.db")
		}
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			return err
		}
		defer store.Close()
		baseline, err := store.NewBareInsert(ctx)
		if err != nil {
			return err
		}
		defer baseline.Drop(context.WithoutCancel(ctx))
		cfg.Baseline = baseline
		fmt.Fprintf(stdout, "SQLite %s (WAL, synchronous=FULL)\n", path)
		_, err = bench.RunAppend(ctx, store, cfg)
		return err
	case strings.HasPrefix(*storeURL, "postgres://"), strings.HasPrefix(*storeURL, "postgresql://"):
		dsn := *storeURL
		if !strings.Contains(dsn, "pool_max_conns") {
			// Every writer needs its own connection, or the pool, not the database, is measured.
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "pool_max_conns=" + strconv.Itoa(maxInt(cfg.Writers)+8)
		}
		store, err := postgres.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.Migrate(ctx); err != nil {
			return err
		}
		baseline, err := store.NewBareInsert(ctx)
		if err != nil {
			return err
		}
		defer baseline.Drop(context.WithoutCancel(ctx))
		cfg.Baseline = baseline
		fmt.Fprintln(stdout, "PostgreSQL (fsync and synchronous_commit as the server has them)")
		_, err = bench.RunAppend(ctx, store, cfg)
		return err
	}
	return fmt.Errorf("--store %q: bench append runs on sqlite:PATH or postgres://…", *storeURL)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// startCPUProfile writes a CPU profile to path (nothing when path is empty) until the function it
// returns is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// startPeakHeapProfile writes to path (nothing when path is empty) the heap profile taken when the
// live heap was at its largest, checked every second, until the function it returns is called: what
// a catch-up keeps live, which is what its memory and its collector's marking grow with.
func startPeakHeapProfile(path string) (stop func() error) {
	if path == "" {
		return func() error { return nil }
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	var lastErr error
	write := func() {
		var buf bytes.Buffer
		if err := pprof.Lookup("heap").WriteTo(&buf, 0); err != nil {
			lastErr = err
			return
		}
		lastErr = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(sample)
				// A heap profile is as of the last collection, so it is taken again only when the
				// live heap has grown by a tenth: the file ends with the peak, within that tenth.
				if live := sample[0].Value.Uint64(); live > peak+peak/10 {
					peak = live
					write()
				}
			}
		}
	}()
	return func() error {
		close(done)
		<-finished
		return lastErr
	}
}
