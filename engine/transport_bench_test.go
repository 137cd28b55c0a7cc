package engine_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/projections"
)

// benchRates are the steady loads of BenchmarkLiveLag, in appends per second: MOTCUA_BENCH_RATE
// (a comma-separated list) or 50 and 200.
func benchRates() []int {
	var rates []int
	for _, field := range strings.Split(os.Getenv("MOTCUA_BENCH_RATE"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(field)); err == nil && n > 0 {
			rates = append(rates, n)
		}
	}
	if len(rates) == 0 {
		rates = []int{50, 200}
	}
	return rates
}

// benchProjections are the read models MOTCUA_BENCH_PROJECTIONS names (comma-separated), or all.
func benchProjections(b *testing.B) []engine.Consumer {
	var names []string
	for _, name := range strings.Split(os.Getenv("MOTCUA_BENCH_PROJECTIONS"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	selected, err := projections.Select(names...)
	if err != nil {
		b.Fatal(err)
	}
	return selected
}

// BenchmarkLiveLag appends cloned dossier histories at a steady rate, one command's events per
// append, while an engine runs every read model over the in-process transport, and measures how
// long each append takes to become visible in the public status view: from the call to Append to
// the view's commit of the event.
func BenchmarkLiveLag(b *testing.B) {
	seconds := envInt("MOTCUA_BENCH_SECONDS", 20)
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, rate := range benchRates() {
			b.Run(fmt.Sprintf("%s/%d-appends-per-s", backend, rate), func(b *testing.B) {
				var store eventstore.Store
				views := benchProjections(b)
				feeder := func() *engine.Engine {
					if backend == "sqlite" {
						s, projectionDB := openSQLiteWithReadModelPool(b)
						store = s
						return engine.NewEngine(s, projectionDB, engine.SQLite, views...)
					}
					s, db, _ := openPostgres(b)
					store = s
					return engine.NewEngine(s, db, engine.PostgreSQL, views...)
				}()
				feeder.Logger = quiet
				runEngine(b, feeder)
				status := feeder.Runner(projections.PublicStatusView{}.Name())
				ts := templates(b)
				for b.Loop() {
					lags, events := steadyLoad(b, store, status, ts, rate, time.Duration(seconds)*time.Second)
					slices.Sort(lags)
					pct := func(p float64) float64 {
						return float64(lags[min(len(lags)-1, int(p*float64(len(lags))))].Microseconds()) / 1000
					}
					b.ReportMetric(pct(0.50), "p50-ms")
					b.ReportMetric(pct(0.99), "p99-ms")
					b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-ms")
					b.ReportMetric(0, "ns/op")
					b.Logf("%s, %d appends/s (%d appends, %d events) for %ds, %d read models, GOMAXPROCS %d: lag p50 %.1f ms, p99 %.1f ms, max %.1f ms",
						backend, rate, len(lags), events, seconds, len(feeder.Runners), runtime.GOMAXPROCS(0), pct(0.5), pct(0.99), float64(lags[len(lags)-1].Microseconds())/1000)
				}
			})
		}
	}
}

// steadyLoad appends for the given time at rate appends per second and returns, per append, the
// time until the public status view had applied it, and the number of events appended.
func steadyLoad(b *testing.B, store eventstore.Store, status *engine.Runner, ts []dossierTemplate, rate int, duration time.Duration) ([]time.Duration, int) {
	type underWay struct {
		stream  string
		appends [][]eventstore.EventData
		version uint64
	}
	var active []*underWay
	cloned := 0
	ctx, cancel := context.WithTimeout(context.Background(), duration+time.Minute)
	defer cancel()
	var (
		mu     sync.Mutex
		lags   []time.Duration
		wg     sync.WaitGroup
		events int
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for end := time.Now().Add(duration); time.Now().Before(end); {
		<-tick.C
		for len(active) < 64 {
			cloned++
			stream, appends := clone(b, ts[cloned%len(ts)], cloned)
			active = append(active, &underWay{stream: stream, appends: appends})
		}
		i := cloned % len(active)
		d := active[i]
		start := time.Now()
		res, err := store.Append(ctx, d.stream, eventstore.Exact(d.version), d.appends[0]...)
		if err != nil {
			b.Fatal(err)
		}
		events += len(d.appends[0])
		d.version, d.appends = res.Version, d.appends[1:]
		if len(d.appends) == 0 {
			active = slices.Delete(active, i, i+1)
		}
		wg.Go(func() {
			if err := status.WaitFor(ctx, res.Position); err != nil {
				b.Error(err)
				return
			}
			lag := time.Since(start)
			mu.Lock()
			lags = append(lags, lag)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lags, events
}
