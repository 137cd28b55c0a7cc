package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/eventstore/bench"
	"github.com/motcua/motcua/eventstore/postgres"
	"github.com/motcua/motcua/eventstore/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openStore(t *testing.T) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.NewDatabase(t)+"&pool_max_conns=20")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

func countEvents(ctx context.Context, t *testing.T, store eventstore.Store) int {
	t.Helper()
	n := 0
	after := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return n
		}
		n += len(page)
		after = page[len(page)-1].Position
	}
}

func TestMeasureAppendStoresWhatItCounts(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	cases := []struct{ writers, batch, appends int }{{1, 1, 7}, {4, 1, 40}, {3, 10, 12}}
	total := 0
	for _, c := range cases {
		r, err := bench.MeasureAppend(ctx, store, bench.Workload{Writers: c.writers, BatchSize: c.batch, Appends: c.appends})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ops != c.appends || r.Events != c.appends*c.batch {
			t.Fatalf("%+v: measured %d appends and %d events, want %d and %d", c, r.Ops, r.Events, c.appends, c.appends*c.batch)
		}
		if r.P50 <= 0 || r.P99 < r.P50 || r.EventsPerSecond() <= 0 {
			t.Fatalf("%+v: implausible figures p50=%s p99=%s rate=%f", c, r.P50, r.P99, r.EventsPerSecond())
		}
		total += r.Events
	}
	if got := countEvents(ctx, t, store); got != total {
		t.Fatalf("the store holds %d events, the measurements counted %d", got, total)
	}
	read, err := bench.MeasureReadAll(ctx, store, 50, total)
	if err != nil {
		t.Fatal(err)
	}
	if read.Events != total || read.Ops != (total+49)/50 {
		t.Fatalf("read back %d events in %d pages, want %d in %d", read.Events, read.Ops, total, (total+49)/50)
	}
}

func TestRunAppendReportsEveryScenarioAgainstTheBaseline(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	baseline, err := store.NewBareInsert(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = baseline.Drop(context.Background()) })
	var progressed []bench.Result
	results, err := bench.RunAppend(ctx, store, bench.Config{
		Writers: []int{1, 3}, BatchSizes: []int{1, 5},
		Duration: 100 * time.Millisecond, Warmup: 20 * time.Millisecond, ReadLimit: 200,
		Baseline: baseline,
		Progress: func(r bench.Result) { progressed = append(progressed, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2*2*2+1 || len(progressed) != len(results) {
		t.Fatalf("%d results, %d reported as progress; want 9 of each", len(results), len(progressed))
	}
	for _, r := range results {
		switch r.Scenario {
		case bench.ScenarioAppend:
			if r.OfBaseline <= 0 {
				t.Errorf("%s: no comparison with the baseline", r)
			}
		case bench.ScenarioBaseline:
		case bench.ScenarioReadAll:
			if r.Events != 200 {
				t.Errorf("%s: read %d events, want the limit of 200", r, r.Events)
			}
		default:
			t.Errorf("unknown scenario in %s", r)
		}
		if r.Events == 0 || r.Elapsed <= 0 {
			t.Errorf("%s: nothing measured", r)
		}
	}
	var baselineRows int
	if err := store.Pool().QueryRow(ctx, "SELECT count(*) FROM eventstore.bench_bare_insert").Scan(&baselineRows); err != nil {
		t.Fatal(err)
	}
	if baselineRows == 0 {
		t.Fatal("the baseline wrote no rows")
	}
}
