package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/motcua/motcua/eventstore/bench"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

// benchWriters and benchBatchSizes are the scenarios of `motcua bench append`.
var (
	benchWriters    = []int{1, 8, 64}
	benchBatchSizes = []int{1, 10}
)

// openBenchStore opens a store on a fresh database with a connection for each of 64 writers.
func openBenchStore(b *testing.B) *postgres.Store {
	b.Helper()
	return openStoreAt(b, pgtest.NewDatabase(b)+"&pool_max_conns=80")
}

// benchmarkMatrix runs measure for every writers × batch size scenario of `motcua bench append`.
func benchmarkMatrix(b *testing.B, measure func(bench.Workload) (bench.Result, error)) {
	for _, writers := range benchWriters {
		for _, size := range benchBatchSizes {
			b.Run(fmt.Sprintf("writers=%d/events=%d", writers, size), func(b *testing.B) {
				r, err := measure(bench.Workload{Writers: writers, BatchSize: size, Appends: b.N})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.EventsPerSecond(), "events/s")
				b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
				b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
			})
		}
	}
}

// BenchmarkAppend measures durable appends: each writer appends batches to its own stream with an
// exact expected version, every append one commit (synchronous_commit on, fsync on).
func BenchmarkAppend(b *testing.B) {
	store := openBenchStore(b)
	benchmarkMatrix(b, func(w bench.Workload) (bench.Result, error) {
		return bench.MeasureAppend(context.Background(), store, w)
	})
}

// BenchmarkBareInsert is BenchmarkAppend's baseline: the same rows by bare INSERTs into a plain table.
func BenchmarkBareInsert(b *testing.B) {
	ctx := context.Background()
	store := openBenchStore(b)
	baseline, err := store.NewBareInsert(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkMatrix(b, func(w bench.Workload) (bench.Result, error) {
		return bench.MeasureBaseline(ctx, baseline, w)
	})
}

// BenchmarkReadAll measures paging through the global log, 1000 events a page.
func BenchmarkReadAll(b *testing.B) {
	ctx := context.Background()
	store := openBenchStore(b)
	const stored = 50_000
	if _, err := bench.MeasureAppend(ctx, store, bench.Workload{Writers: 8, BatchSize: 10, Appends: stored / 10}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	read := 0
	for read < b.N {
		r, err := bench.MeasureReadAll(ctx, store, 1000, min(stored, b.N-read))
		if err != nil {
			b.Fatal(err)
		}
		read += r.Events
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
