package engine

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Reading and folding the log allocates at a high rate — every page's events, their decoded form,
// each row's values — and with Go's default GOGC of 100 the garbage collector took ≈ 18 % of a
// catch-up's CPU, marking the live heap each time the heap doubled. While a bulk catch-up or a
// rebuild runs the engine lets the heap grow further between collections, by at most
// bulkGCHeadroom beyond the live heap and at most bulkGCMaxPercent: a small fold collects a fifth as
// often, a fold holding several gigabytes as often as before (GOGC never below the default), so
// memory grows by at most the headroom over what the default would have used.
const (
	bulkGCHeadroom   = 2 << 30
	bulkGCMaxPercent = 400
	bulkGCAdjust     = time.Second // how often the GOGC in force follows the live heap
)

// bulkGC counts the bulk runs under way (a rebuild, a start's catch-up, running consumers' own)
// and keeps the GOGC they replaced, to put back when the last one ends.
var bulkGC struct {
	sync.Mutex
	runs    int
	percent int
	stop    chan struct{}
}

// operatorTunedGC: an operator who set GOGC or GOMEMLIMIT keeps their settings.
var operatorTunedGC = os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != ""

// collectLessDuringBulk raises GOGC for the length of a bulk run, following the live heap, until
// the function it returns is called.
func collectLessDuringBulk() (restore func()) {
	if operatorTunedGC {
		return func() {}
	}
	bulkGC.Lock()
	defer bulkGC.Unlock()
	if bulkGC.runs == 0 {
		bulkGC.percent = debug.SetGCPercent(bulkGCPercent())
		bulkGC.stop = make(chan struct{})
		go followLiveHeap(bulkGC.stop)
	}
	bulkGC.runs++
	var once sync.Once
	return func() {
		once.Do(func() {
			bulkGC.Lock()
			defer bulkGC.Unlock()
			if bulkGC.runs--; bulkGC.runs == 0 {
				close(bulkGC.stop)
				debug.SetGCPercent(bulkGC.percent)
			}
		})
	}
}

func followLiveHeap(stop <-chan struct{}) {
	tick := time.NewTicker(bulkGCAdjust)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			bulkGC.Lock()
			select {
			case <-stop: // the last run ended meanwhile and put the default back
			default:
				debug.SetGCPercent(bulkGCPercent())
			}
			bulkGC.Unlock()
		}
	}
}

// bulkGCPercent is the GOGC that lets the heap grow bulkGCHeadroom beyond the live heap, between
// the default (100) and bulkGCMaxPercent.
func bulkGCPercent() int {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	live := uint64(0)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		live = sample[0].Value.Uint64()
	}
	if live == 0 {
		return bulkGCMaxPercent
	}
	return int(max(100, min(bulkGCMaxPercent, bulkGCHeadroom*100/live)))
}
