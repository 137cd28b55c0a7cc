package blobstoretest

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/blobstore"
	"github.com/motcua/motcua/eventstore/shred"
)

// BenchmarkConcurrentUploads puts uploads files of size bytes at once, each b.N times, plain or
// sealed, and reports the throughput and the peak of live heap above what it was before: the
// figure that must not grow with the file size (docs/documents.md).
func BenchmarkConcurrentUploads(b *testing.B, backend blobstore.Backend, uploads, size int, sealed bool) {
	ctx := context.Background()
	store := blobstore.New(backend, blobstore.Options{MaxSize: int64(size)})
	keys := Keys(b)
	runtime.GC()
	base := liveHeap()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := liveHeap(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	b.SetBytes(int64(uploads * size))
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		errs := make([]error, uploads)
		for u := range uploads {
			wg.Go(func() {
				// Distinct contents, so each upload is stored rather than found stored.
				r := &patternReader{left: size, i: (i*uploads + u) * 7919}
				if sealed {
					_, errs[u] = store.PutSealed(ctx, r, keys, shred.SubjectOf(fmt.Sprint(u)))
				} else {
					_, errs[u] = store.Put(ctx, r)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	over := int64(peak.Load()) - int64(base)
	b.ReportMetric(float64(max(over, 0))/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(max(over, 0))/float64(uploads)/(1<<20), "peak-heap-MiB/upload")
}

func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}
