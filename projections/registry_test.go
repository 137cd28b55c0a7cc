package projections_test

import (
	"testing"

	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// The deployment's calendar reaches the read model that measures working time as it folds —
// through a rebuild's prefixed copy too — and nothing else changes.
func TestMeasuredWithGivesTheCalendarToProcessControl(t *testing.T) {
	control := func(consumers []engine.Consumer) projections.ProcessControlView {
		t.Helper()
		for _, c := range consumers {
			if v, ok := c.(projections.ProcessControlView); ok {
				return v
			}
		}
		t.Fatal("no process control among the read models")
		return projections.ProcessControlView{}
	}
	cal := calendar.Default()
	all := projections.All()
	measured := projections.MeasuredWith(cal, all)
	if len(measured) != len(all) {
		t.Fatalf("%d read models, want %d", len(measured), len(all))
	}
	for i, c := range measured {
		if c.Name() != all[i].Name() {
			t.Fatalf("read model %d is %s, want %s", i, c.Name(), all[i].Name())
		}
	}
	v := control(measured)
	if v.Calendar != cal {
		t.Errorf("process control folds with %p, want the deployment's %p", v.Calendar, cal)
	}
	if prefixed := v.WithPrefix("rebuild_").(projections.ProcessControlView); prefixed.Calendar != cal {
		t.Error("a rebuild's prefixed copy lost the calendar")
	}
	if control(all).Calendar != nil {
		t.Error("MeasuredWith changed the list it was given")
	}
	if control(projections.MeasuredWith(nil, all)).Calendar != nil {
		t.Error("no calendar must keep the national one (nil)")
	}
}
