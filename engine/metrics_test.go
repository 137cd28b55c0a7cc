package engine_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/motcua/motcua/engine"
)

// gauges gathers reg and returns the value of each metric named name, by its projection label.
func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, m := range family.GetMetric() {
			values[label(m, "projection")] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return values
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestLagAndCountersAreExported(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	log := seedDossiers(t, store)
	reg := prometheus.NewRegistry()
	lag := engine.NewLagCollector(store, store.DB(), "public_status", "test_journal")
	lag.Limit = 50
	lag.Wait = 10 * time.Second // this test is about the values, not how long a scrape may wait
	reg.MustRegister(lag)
	metrics, err := engine.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.MigrateCheckpoints(t.Context(), store.DB()); err != nil {
		t.Fatal(err)
	}

	// Nothing applied yet: the lag is the whole log, counted up to the limit, and has waited.
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 50 || got["test_journal"] != 50 {
		t.Fatalf("lag before running: %v, want 50 (the limit) each", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds"); got["public_status"] <= 0 {
		t.Fatalf("lag seconds before running: %v, want > 0", got)
	}

	e := newTestEngine(store, nil)
	e.Metrics = metrics
	runEngine(t, e)
	waitFor(t, e, log[len(log)-1].Position)
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 0 || got["test_journal"] != 0 {
		t.Fatalf("lag once caught up: %v, want 0", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds"); got["public_status"] != 0 {
		t.Fatalf("lag seconds once caught up: %v, want 0", got)
	}
	if got := gauges(t, reg, "motcua_projection_events_applied_total"); got["public_status"] != float64(len(log)) || got["test_journal"] != float64(len(log)) {
		t.Fatalf("applied: %v, want %d each", got, len(log))
	}
	if got := gauges(t, reg, "motcua_projection_stalled"); got["public_status"] != 0 {
		t.Fatalf("stalled: %v", got)
	}
}

// While the store cannot be reached the lag series stay, with the last values measured (the
// seconds still growing), and motcua_projection_lag_stale says they are stale: an alert on the lag
// keeps firing instead of going silent.
func TestLagStaysStaleWhileTheStoreIsUnreachable(t *testing.T) {
	t.Parallel()
	store := openSQLite(t)
	seedDossiers(t, store)
	if err := engine.MigrateCheckpoints(t.Context(), store.DB()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	lag := engine.NewLagCollector(store, store.DB(), "public_status")
	lag.Limit = 50
	lag.Logger = quiet
	lag.Wait = 10 * time.Second
	reg.MustRegister(lag)
	if got := gauges(t, reg, "motcua_projection_lag_stale"); got["public_status"] != 0 {
		t.Fatalf("stale while measurable: %v", got)
	}
	before := gauges(t, reg, "motcua_projection_lag_seconds")["public_status"]
	if before <= 0 {
		t.Fatalf("lag seconds %v, want > 0 before anything is applied", before)
	}
	store.Close() // the store is gone: nothing can be measured
	time.Sleep(10 * time.Millisecond)
	if got := gauges(t, reg, "motcua_projection_lag_events"); got["public_status"] != 50 {
		t.Fatalf("lag events while unreachable: %v, want the last value, 50", got)
	}
	if got := gauges(t, reg, "motcua_projection_lag_seconds")["public_status"]; got <= before {
		t.Fatalf("lag seconds while unreachable: %v, want more than %v", got, before)
	}
	if got := gauges(t, reg, "motcua_projection_lag_stale"); got["public_status"] != 1 {
		t.Fatalf("stale while unreachable: %v, want 1", got)
	}
}
