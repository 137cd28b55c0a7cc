package engine

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reading and folding the log allocates at a high rate — every page's events, their decoded form,
// each row's values — and with Go's default GOGC of 100 the garbage collector took ≈ 18 % of a
// catch-up's CPU, marking the live heap each time the heap doubled. While a bulk catch-up or a
// rebuild runs the engine lets the heap grow further between collections, by at most a headroom
// beyond the live heap (bulkHeadroom) and at most bulkGCMaxPercent: a small fold collects a fifth
// as often, a fold holding several gigabytes less often too, never more often than the default,
// so memory grows by at most the headroom over what the default would have used.
//
// The headroom is a quarter of the memory available when the first bulk run begins, between 2 and
// 16 GiB. A fixed 2 GiB kept a 1 M-dossier catch-up, whose folds hold 2–4 GB live, at the
// default GOGC: the collector took a fifth of its CPU. With 6 GiB (about a quarter of the
// measuring machine's 24 GiB) the collector took 113 CPU s instead of 192, and the catch-up
// 808–846 CPU s against 916–1,057, for 2 GB more resident (docs/benchmarks.md, session 26).
const (
	bulkGCMinHeadroom = 2 << 30
	bulkGCMaxHeadroom = 16 << 30
	bulkGCMaxPercent  = 400
	bulkGCAdjust      = time.Second // how often the GOGC in force follows the live heap
)

// bulkGC counts the bulk runs under way (a rebuild, a start's catch-up, running consumers' own)
// and keeps the GOGC they replaced, to put back when the last one ends.
var bulkGC struct {
	sync.Mutex
	runs     int
	percent  int
	headroom uint64 // bytes the heap may grow beyond the live heap, set when the first run begins
	stop     chan struct{}
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
		bulkGC.headroom = bulkHeadroom()
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

// bulkGCPercent is the GOGC that lets the heap grow the headroom beyond the live heap, between
// the default (100) and bulkGCMaxPercent. The caller holds bulkGC's lock.
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
	return int(max(100, min(bulkGCMaxPercent, bulkGC.headroom*100/live)))
}

// bulkHeadroom is a quarter of the memory available to the process, between bulkGCMinHeadroom and
// bulkGCMaxHeadroom: the kernel's estimate of what can be had without swapping (MemAvailable), or
// the room left under the cgroup v2 limit seen at /sys/fs/cgroup (a container's own, with a cgroup
// namespace) when that is smaller. Where neither can be read (another system than Linux) it is
// the least.
func bulkHeadroom() uint64 {
	return headroomFor(availableMemory(readFile("/proc/meminfo"), readFile("/sys/fs/cgroup/memory.max"),
		readFile("/sys/fs/cgroup/memory.current")))
}

// availableMemory is the MemAvailable of meminfo (/proc/meminfo's text), or the room a cgroup v2
// limit leaves (memory.max less memory.current) when that is smaller or MemAvailable is not there;
// 0 when neither can be read.
func availableMemory(meminfo, cgroupLimit, cgroupCurrent []byte) uint64 {
	available := memAvailable(meminfo)
	if room, ok := cgroupRoom(cgroupLimit, cgroupCurrent); ok && (available == 0 || room < available) {
		available = room
	}
	return available
}

// headroomFor is a quarter of available bytes, between bulkGCMinHeadroom and bulkGCMaxHeadroom.
func headroomFor(available uint64) uint64 {
	return max(bulkGCMinHeadroom, min(bulkGCMaxHeadroom, available/4))
}

func readFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// memAvailable reads MemAvailable from /proc/meminfo's text, in bytes; 0 when it is not there.
func memAvailable(meminfo []byte) uint64 {
	lines := bufio.NewScanner(bytes.NewReader(meminfo))
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 3 && fields[0] == "MemAvailable:" && fields[2] == "kB" {
			if kb, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupRoom is a cgroup v2 limit (memory.max) less what the group uses (memory.current), when a
// limit is set.
func cgroupRoom(limit, current []byte) (uint64, bool) {
	// memory.max reads "max" when there is no limit.
	limitBytes, err := strconv.ParseUint(strings.TrimSpace(string(limit)), 10, 64)
	if err != nil {
		return 0, false
	}
	used, err := strconv.ParseUint(strings.TrimSpace(string(current)), 10, 64)
	if err != nil {
		return 0, false
	}
	if used >= limitBytes {
		return 0, true
	}
	return limitBytes - used, true
}
