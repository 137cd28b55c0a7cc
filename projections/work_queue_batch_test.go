package projections_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// TestWorkQueueBatchesGiveTheRowsOfOneByOne applies a scenario's whole log into fresh tables one
// event per call (as live delivery does) and in batches that cut across dossiers' lives (as
// catch-up and rebuild do), and compares the tables: dossiers leave the queue within a batch, and
// the rows of earlier batches must be read, changed and deleted exactly as one by one.
func TestWorkQueueBatchesGiveTheRowsOfOneByOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := runScenario(t, sqliteBackend(t), 60, 31)
	events := s.log(t)
	apply := func(prefix string, chunk int) []string {
		t.Helper()
		view := projections.WorkQueueView{Prefix: prefix}
		if err := view.Migrate(ctx, s.db, s.dialect); err != nil {
			t.Fatal(err)
		}
		for from := 0; from < len(events); from += chunk {
			part := events[from:min(from+chunk, len(events))]
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = view.Apply(ctx, tx, engine.Batch{Dialect: s.dialect, Events: part})
			if err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return slices.Concat(dumpTable(t, s.db, prefix+"work_queue"), dumpTable(t, s.db, prefix+"work_queue_agencies"),
			dumpTable(t, s.db, prefix+"work_queue_counts"))
	}
	single := apply("single_", 1)
	if len(single) == 0 {
		t.Fatal("no dossier left in the queue: the comparison would prove nothing")
	}
	for _, chunk := range []int{7, 100, len(events)} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			batched := apply(fmt.Sprintf("batch%d_", chunk), chunk)
			if strings.Join(batched, "\n") != strings.Join(single, "\n") {
				t.Errorf("batches of %d give %d rows, one by one %d, and they differ", chunk, len(batched), len(single))
			}
		})
	}
	t.Logf("%d events, %d dossiers queued at the end", len(events), len(single))
}
