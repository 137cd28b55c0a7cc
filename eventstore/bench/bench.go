// Package bench measures an event store the way `motcua bench append` reports it: durable events per
// second and per-append latency (p50, p99) for concurrent writers appending single events and
// batches, and how fast the global log can be read back. It works with any eventstore.Store; a
// backend may add a Baseline — the same rows written by bare INSERTs on the same database — so the
// store's rate can be reported as a share of what the database itself can do.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/eventstore"
)

// Baseline writes the same rows as the store under test without the store's logic, typically one bare
// INSERT statement per call, in its own transaction, on the same database.
type Baseline interface {
	Insert(ctx context.Context, stream string, firstVersion uint64, events []eventstore.EventData) error
}

// Config chooses what RunAppend measures. Zero fields take the defaults.
type Config struct {
	Writers    []int         // concurrent writers; default 1, 8 and 64
	BatchSizes []int         // events per append; default 1 and 10
	Duration   time.Duration // measured time per scenario; default 5s
	Warmup     time.Duration // unmeasured run before each scenario (connections, caches); default 1s
	Rounds     int           // slices Duration is cut into, alternating store and baseline; default 5
	ReadPage   int           // ReadAll page size for the read measurement; default 1000
	ReadLimit  int           // most events to read back; default 500,000
	Baseline   Baseline      // optional: also measure bare inserts with the same writers and batches
	// Progress, if set, is called with each result as soon as it is measured.
	Progress func(Result)
}

func (c Config) withDefaults() Config {
	if len(c.Writers) == 0 {
		c.Writers = []int{1, 8, 64}
	}
	if len(c.BatchSizes) == 0 {
		c.BatchSizes = []int{1, 10}
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	} else if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Rounds <= 0 {
		c.Rounds = 5
	}
	if c.ReadPage <= 0 {
		c.ReadPage = 1000
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = 500_000
	}
	return c
}

// Scenario names in Result.
const (
	ScenarioAppend   = "append"
	ScenarioBaseline = "bare insert"
	ScenarioReadAll  = "read all"
)

// Result is one measurement.
type Result struct {
	Scenario  string // ScenarioAppend, ScenarioBaseline or ScenarioReadAll
	Writers   int    // concurrent writers (1 for reads)
	BatchSize int    // events per append, or the ReadAll page size
	Ops       int    // appends, inserts or pages completed
	Events    int
	Elapsed   time.Duration
	P50, P99  time.Duration // latency of one operation
	// OfBaseline is EventsPerSecond over the baseline's with the same writers and batch size, when a
	// baseline was measured.
	OfBaseline float64
}

// EventsPerSecond is the measured throughput.
func (r Result) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	s := fmt.Sprintf("%-11s writers=%-3d batch=%-4d %9.0f events/s  p50=%-9s p99=%-9s (%d events in %s)",
		r.Scenario, r.Writers, r.BatchSize, r.EventsPerSecond(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond),
		r.Events, r.Elapsed.Round(time.Millisecond))
	if r.OfBaseline > 0 {
		s += fmt.Sprintf("  %.0f%% of bare insert", 100*r.OfBaseline)
	}
	return s
}

// Workload is one scenario: Writers goroutines, each appending BatchSize events at a time to its own
// stream with an exact expected version, until Duration has passed or, if Appends > 0, that many
// appends are done in total.
type Workload struct {
	Writers   int
	BatchSize int
	Duration  time.Duration
	Appends   int
}

// RunAppend measures every combination of cfg.Writers and cfg.BatchSizes — the store and, if there is
// one, the baseline, alternating between them in cfg.Rounds slices so that both see the same load on
// a shared machine — and finally reads the global log back.
func RunAppend(ctx context.Context, store eventstore.Store, cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	var results []Result
	report := func(r Result) {
		results = append(results, r)
		if cfg.Progress != nil {
			cfg.Progress(r)
		}
	}
	appendTo := storeAppender(store)
	var insertInto appendFunc
	if cfg.Baseline != nil {
		insertInto = baselineAppender(cfg.Baseline)
	}
	for _, writers := range cfg.Writers {
		for _, batch := range cfg.BatchSizes {
			slice := Workload{Writers: writers, BatchSize: batch, Duration: cfg.Duration / time.Duration(cfg.Rounds)}
			warmup := Workload{Writers: writers, BatchSize: batch, Duration: cfg.Warmup}
			var appended, inserted sample
			type target struct {
				into appendFunc
				to   *sample
			}
			targets := []target{{appendTo, &appended}}
			if insertInto != nil {
				targets = append(targets, target{insertInto, &inserted})
			}
			for _, t := range targets {
				if _, err := measure(ctx, warmup, t.into); err != nil {
					return results, err
				}
			}
			for range cfg.Rounds {
				for _, t := range targets {
					measured, err := measure(ctx, slice, t.into)
					if err != nil {
						return results, err
					}
					t.to.add(measured)
				}
			}
			appendResult := appended.result(ScenarioAppend, writers, batch)
			if cfg.Baseline != nil {
				baselineResult := inserted.result(ScenarioBaseline, writers, batch)
				if rate := baselineResult.EventsPerSecond(); rate > 0 {
					appendResult.OfBaseline = appendResult.EventsPerSecond() / rate
				}
				report(baselineResult)
			}
			report(appendResult)
		}
	}
	read, err := MeasureReadAll(ctx, store, cfg.ReadPage, cfg.ReadLimit)
	if err != nil {
		return results, err
	}
	report(read)
	return results, nil
}

// MeasureAppend runs w against store.
func MeasureAppend(ctx context.Context, store eventstore.Store, w Workload) (Result, error) {
	measured, err := measure(ctx, w, storeAppender(store))
	return measured.result(ScenarioAppend, w.Writers, w.BatchSize), err
}

// MeasureBaseline runs w against a baseline.
func MeasureBaseline(ctx context.Context, baseline Baseline, w Workload) (Result, error) {
	measured, err := measure(ctx, w, baselineAppender(baseline))
	return measured.result(ScenarioBaseline, w.Writers, w.BatchSize), err
}

// appendFunc appends events to stream, which is at version, and returns the new version.
type appendFunc func(ctx context.Context, stream string, version uint64, events []eventstore.EventData) (uint64, error)

func storeAppender(store eventstore.Store) appendFunc {
	return func(ctx context.Context, stream string, version uint64, events []eventstore.EventData) (uint64, error) {
		result, err := store.Append(ctx, stream, eventstore.Exact(version), events...)
		return result.Version, err
	}
}

func baselineAppender(baseline Baseline) appendFunc {
	return func(ctx context.Context, stream string, version uint64, events []eventstore.EventData) (uint64, error) {
		if err := baseline.Insert(ctx, stream, version+1, events); err != nil {
			return 0, err
		}
		return version + uint64(len(events)), nil
	}
}

// sample is what one or more runs of a workload measured.
type sample struct {
	elapsed   time.Duration
	latencies []time.Duration // one per append
}

func (s *sample) add(other sample) {
	s.elapsed += other.elapsed
	s.latencies = append(s.latencies, other.latencies...)
}

func (s sample) result(scenario string, writers, batch int) Result {
	slices.Sort(s.latencies)
	return Result{
		Scenario: scenario, Writers: writers, BatchSize: batch,
		Ops: len(s.latencies), Events: len(s.latencies) * batch, Elapsed: s.elapsed,
		P50: percentile(s.latencies, 0.50), P99: percentile(s.latencies, 0.99),
	}
}

func measure(ctx context.Context, w Workload, appendBatch appendFunc) (sample, error) {
	if w.Writers <= 0 || w.BatchSize <= 0 || (w.Duration <= 0 && w.Appends <= 0) {
		return sample{}, fmt.Errorf("bench: workload %+v needs writers, a batch size and a duration or a count", w)
	}
	run := runID()
	var (
		remaining = atomic.Int64{}
		latencies = make([][]time.Duration, w.Writers)
		errs      = make([]error, w.Writers)
		wg        sync.WaitGroup
	)
	remaining.Store(int64(w.Appends))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	deadline := start.Add(w.Duration)
	for writer := range w.Writers {
		wg.Go(func() {
			stream := fmt.Sprintf("bench-%s-%d", run, writer)
			version := uint64(0)
			for {
				if w.Appends > 0 && remaining.Add(-1) < 0 {
					return
				}
				if w.Duration > 0 && !time.Now().Before(deadline) {
					return
				}
				events := Events(w.BatchSize)
				began := time.Now()
				next, err := appendBatch(ctx, stream, version, events)
				if err != nil {
					errs[writer] = fmt.Errorf("bench: writer %d: %w", writer, err)
					cancel() // stop the others: the run is void
					return
				}
				latencies[writer] = append(latencies[writer], time.Since(began))
				version = next
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return sample{}, err
	}
	return sample{elapsed: elapsed, latencies: slices.Concat(latencies...)}, nil
}

// MeasureReadAll pages through the global log from the start, up to limit events.
func MeasureReadAll(ctx context.Context, store eventstore.Store, pageSize, limit int) (Result, error) {
	var pageLatencies []time.Duration
	events := 0
	after := eventstore.Start
	start := time.Now()
	for events < limit {
		began := time.Now()
		page, err := store.ReadAll(ctx, after, min(pageSize, limit-events))
		if err != nil {
			return Result{}, fmt.Errorf("bench: read all after %s: %w", after, err)
		}
		if len(page) == 0 {
			break
		}
		pageLatencies = append(pageLatencies, time.Since(began))
		events += len(page)
		after = page[len(page)-1].Position
	}
	elapsed := time.Since(start)
	slices.Sort(pageLatencies)
	return Result{
		Scenario: ScenarioReadAll, Writers: 1, BatchSize: pageSize,
		Ops: len(pageLatencies), Events: events, Elapsed: elapsed,
		P50: percentile(pageLatencies, 0.50), P99: percentile(pageLatencies, 0.99),
	}, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// runID keeps the streams of separate runs on the same database apart.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// payload is shaped like a real dossier event: a few hundred bytes of JSON with Vietnamese text.
var payload = []byte(`{"dossier_code":"000.00.01.H12-250314-0001","procedure":"1.001234","received_by":"can-bo-tiep-nhan-01",` +
	`"applicant":{"name":"Nguyễn Văn Ấn","id_number":"001085012345","address":"Số 12, đường Trần Hưng Đạo, phường Hàng Bài, quận Hoàn Kiếm, Hà Nội"},` +
	`"documents":["Tờ khai đăng ký hộ kinh doanh","Bản sao căn cước công dân"],"appointment":"2025-03-19T08:00:00+07:00"}`)

// Events returns n fresh events with realistic payloads and metadata.
func Events(n int) []eventstore.EventData {
	events := make([]eventstore.EventData, n)
	now := time.Now()
	correlation := uuid.New()
	for i := range events {
		events[i] = eventstore.EventData{
			ID:   eventstore.NewEventID(),
			Type: "dossier.received.v1",
			Data: payload,
			Metadata: eventstore.Metadata{
				Actor:         eventstore.Actor{ID: "can-bo-tiep-nhan-01", Name: "Trần Thị Bình", Role: "official", Agency: "UBND phường Hàng Bài"},
				CorrelationID: correlation,
				CausationID:   correlation,
				OccurredAt:    now,
			},
		}
	}
	return events
}
