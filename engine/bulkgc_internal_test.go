package engine

import (
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
