package engine

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestCollectLessDuringBulkRestoresGOGC checks that overlapping bulk runs raise GOGC above the
// default and that the last one to end puts the setting it found back.
func TestCollectLessDuringBulkRestoresGOGC(t *testing.T) {
	if operatorTunedGC {
		t.Skip("GOGC or GOMEMLIMIT is set: the engine leaves the collector alone")
	}
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)

	first := collectLessDuringBulk()
	second := collectLessDuringBulk()
	if got := currentGCPercent(); got < 150 || got > bulkGCMaxPercent {
		t.Fatalf("during two bulk runs GOGC = %d, want between 150 and %d", got, bulkGCMaxPercent)
	}
	first()
	first() // a second call of the same restore changes nothing
	if got := currentGCPercent(); got == 150 {
		t.Fatalf("GOGC went back to 150 while a bulk run is still under way")
	}
	second()
	if got := currentGCPercent(); got != 150 {
		t.Fatalf("after the bulk runs GOGC = %d, want the 150 they found", got)
	}
}

func currentGCPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestBulkHeadroomFollowsTheMemoryAvailable checks that the headroom is a quarter of the memory the
// kernel or the cgroup leaves, within its bounds, and the least when nothing can be read.
func TestBulkHeadroomFollowsTheMemoryAvailable(t *testing.T) {
	const gib = 1 << 30
	meminfo := []byte("MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20971520 kB\nBuffers:           1 kB\n")
	if got := memAvailable(meminfo); got != 20*gib {
		t.Fatalf("MemAvailable read as %d bytes, want %d", got, 20*gib)
	}
	if got := memAvailable([]byte("MemTotal: 1 kB\n")); got != 0 {
		t.Fatalf("a meminfo without MemAvailable read as %d, want 0", got)
	}
	for _, c := range []struct {
		limit, current string
		room           uint64
		ok             bool
	}{
		{"max\n", "123\n", 0, false},
		{"8589934592\n", "2147483648\n", 6 * gib, true},
		{"1073741824\n", "2147483648\n", 0, true},
		{"", "", 0, false},
	} {
		room, ok := cgroupRoom([]byte(c.limit), []byte(c.current))
		if room != c.room || ok != c.ok {
			t.Errorf("cgroupRoom(%q, %q) = %d, %v; want %d, %v", c.limit, c.current, room, ok, c.room, c.ok)
		}
	}
	for _, c := range []struct{ available, headroom uint64 }{
		{0, 2 * gib},
		{4 * gib, 2 * gib},
		{24 * gib, 6 * gib},
		{256 * gib, 16 * gib},
	} {
		if got := headroomFor(c.available); got != c.headroom {
			t.Errorf("headroomFor(%d GiB) = %d GiB, want %d GiB", c.available/gib, got/gib, c.headroom/gib)
		}
	}
	for _, c := range []struct {
		name                    string
		meminfo, limit, current string
		available               uint64
	}{
		{"no cgroup limit", string(meminfo), "max\n", "123\n", 20 * gib},
		{"a cgroup limit tighter than the machine", string(meminfo), "8589934592\n", "2147483648\n", 6 * gib},
		{"a cgroup limit looser than the machine", string(meminfo), "68719476736\n", "0\n", 20 * gib},
		{"a cgroup limit and no meminfo", "", "8589934592\n", "0\n", 8 * gib},
		{"nothing readable", "", "", "", 0},
	} {
		if got := availableMemory([]byte(c.meminfo), []byte(c.limit), []byte(c.current)); got != c.available {
			t.Errorf("%s: available %d bytes, want %d", c.name, got, c.available)
		}
	}
	// This machine's own /proc/meminfo, where there is one, is in the format memAvailable reads.
	if text, err := os.ReadFile("/proc/meminfo"); err == nil && memAvailable(text) == 0 {
		t.Fatalf("no MemAvailable read from this machine's /proc/meminfo:\n%s", text)
	}
}
