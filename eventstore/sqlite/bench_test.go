package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
)

// benchEvents returns n events shaped like a real dossier event (a few hundred bytes of JSON).
func benchEvents(n int) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	for i := range events {
		events[i] = testEvent(`Hồ sơ 000.00.01.H12-250314-0001 tiếp nhận tại bộ phận một cửa, người nộp Nguyễn Văn Ấn`)
	}
	return events
}

// BenchmarkAppend measures Append throughput for writers goroutines, each appending batches of
// size events to its own stream with an exact expected version. Every append is a durable commit.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		for _, size := range []int{1, 10} {
			b.Run(fmt.Sprintf("writers=%d/events=%d", writers, size), func(b *testing.B) {
				ctx := context.Background()
				store := openTestStore(b, filepath.Join(b.TempDir(), "events.db"))
				var remaining atomic.Int64
				remaining.Store(int64(b.N))
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range writers {
					wg.Go(func() {
						stream := fmt.Sprintf("dossier-bench-%d", w)
						version := uint64(0)
						for remaining.Add(-1) >= 0 {
							result, err := store.Append(ctx, stream, eventstore.Exact(version), benchEvents(size)...)
							if err != nil {
								b.Error(err)
								return
							}
							version = result.Version
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkInsertBaseline is the floor under BenchmarkAppend: the same rows written by bare INSERTs,
// one immediate transaction per batch, on the same file settings, from one goroutine, with no
// version check, idempotency handling or encoding work done by the store.
func BenchmarkInsertBaseline(b *testing.B) {
	for _, size := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			ctx := context.Background()
			store := openTestStore(b, filepath.Join(b.TempDir(), "events.db"))
			db := store.DB()
			recordedAt := time.Now().UTC().Format(recordedAtLayout)
			version := 0
			b.ResetTimer()
			for range b.N {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, event := range benchEvents(size) {
					version++
					metadata, err := json.Marshal(event.Metadata)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO events (stream, version, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
						"dossier-baseline", version, event.ID.String(), event.Type, string(event.Data), string(metadata), recordedAt); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAll measures reading the whole global log, in pages of 512, as a catching-up
// subscription does.
func BenchmarkReadAll(b *testing.B) {
	const total, batch, page = 20_000, 100, 512
	ctx := context.Background()
	store := openTestStore(b, filepath.Join(b.TempDir(), "events.db"))
	for i := 0; i < total; i += batch {
		if _, err := store.Append(ctx, fmt.Sprintf("dossier-%d", i%97), eventstore.Any, benchEvents(batch)...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		read := 0
		for after := eventstore.Start; ; {
			events, err := store.ReadAll(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			if len(events) == 0 {
				break
			}
			read += len(events)
			after = events[len(events)-1].Position
		}
		if read != total {
			b.Fatalf("read %d events, want %d", read, total)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
