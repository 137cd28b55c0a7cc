package projections

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// lateBenchDBEnv names a caught-up store's read models' SQLite file the late dashboard's parts are
// timed on; the benchmark skips without it. The store is opened read-only: it may be a generated
// province (100,000 or 1,000,000 dossiers) no test may write.
const lateBenchDBEnv = "MOTCUA_LATE_BENCH_DB"

// lateBenchNowEnv, when set, is the moment (RFC 3339) the parts are timed at instead of the wall
// clock's: what the dashboard reads one by one depends on the hour (the dossiers due in it), so
// two builds or two stores compare at one moment.
const lateBenchNowEnv = "MOTCUA_LATE_BENCH_NOW"

// BenchmarkLateDashboardParts times each part of the unfiltered late dashboard (every agency) on a
// generated store's read models (motcua-readmodels.db; motcua.db for a store made before session
// 27), for this month and a year (2026), at the wall clock's now or lateBenchNowEnv's:
//
//	MOTCUA_LATE_BENCH_DB=/work/gen/s24/r100k/motcua-readmodels.db go test ./projections/ -run '^$' \
//	    -bench BenchmarkLateDashboardParts -benchtime 20x
//
// Each part reports the counter rows (or list entries) it reads where a statement says so cheaply.
func BenchmarkLateDashboardParts(b *testing.B) {
	path := os.Getenv(lateBenchDBEnv)
	if path == "" {
		b.Skip(lateBenchDBEnv + " names no store's read models' file")
	}
	// Read-only, with the page cache and memory mapping the server's pool opens the store with
	// (eventstore/sqlite.DSN): without them every statement read its pages through a 2 MB cache.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)&_pragma=cache_size(-65536)&_pragma=mmap_size(2147483648)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	cal := calendar.Default()
	now := time.Now()
	if at := os.Getenv(lateBenchNowEnv); at != "" {
		if now, err = time.Parse(time.RFC3339, at); err != nil {
			b.Fatalf("%s: %v", lateBenchNowEnv, err)
		}
	}
	vn := func(year int, month time.Month) time.Time {
		return time.Date(year, month, 1, 0, 0, 0, 0, domain.VietnamTime)
	}
	for _, period := range []struct {
		name string
		per  Period
	}{{"month", Period{From: vn(2026, 12), To: vn(2027, 1)}}, {"year", Period{From: vn(2026, 1), To: vn(2027, 1)}}} {
		f := LateFilter{Agency: AllAgencies(), Period: period.per, Now: now, DueWithinDays: 3}
		dueBy := cal.AddWorkingDays(now, f.DueWithinDays)
		b.Run(period.name+"/open_overdue_steps", func(b *testing.B) {
			for b.Loop() {
				if err := openOverdueSteps(ctx, db, f, cal, groups[OverrunGroup]{}, groups[OverrunGroup]{}); err != nil {
					b.Fatal(err)
				}
			}
			query, args := openOverdueStepsQuery(db, f, openOverdueStepsRowsRead)
			reportRowsRead(ctx, b, db, query, args)
		})
		// Its two halves: the counters of the days before today, and today's handovers.
		b.Run(period.name+"/open_overdue_steps/counters", func(b *testing.B) {
			query, args := openOverdueStepsQuery(db, f, openOverdueStepsCounterRows)
			if query == "" {
				b.Skip("no day before today to read counters of")
			}
			for b.Loop() {
				drain(ctx, b, db, query, args)
			}
		})
		b.Run(period.name+"/open_overdue_steps/today", func(b *testing.B) {
			for b.Loop() {
				for _, q := range overdueStepsFromHandoversQueries(db, f) {
					drain(ctx, b, db, q.query, q.args)
				}
			}
		})
		b.Run(period.name+"/period_counts", func(b *testing.B) {
			for b.Loop() {
				if _, err := periodCounts(ctx, db, f, groups[LateGroup]{}, groups[LateGroup]{}, groups[LateGroup]{}, groups[OverrunGroup]{},
					groups[OverrunGroup]{}); err != nil {
					b.Fatal(err)
				}
			}
			query, args, err := lateCountsQuery(f, lateCountsRowsRead)
			if err != nil {
				b.Fatal(err)
			}
			reportRowsRead(ctx, b, db, query, args)
		})
		b.Run(period.name+"/open_overdue_by_line", func(b *testing.B) {
			query, args := openOverdueQuery(db, f, openOverdueByLine)
			for b.Loop() {
				drain(ctx, b, db, query, args)
			}
			query, args = openOverdueQuery(db, f, openOverdueRowsRead)
			reportRowsRead(ctx, b, db, query, args)
		})
		b.Run(period.name+"/summarise", func(b *testing.B) {
			for b.Loop() {
				var dash LateDashboard
				if _, err := dash.summarise(ctx, db, f, cal); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, list := range LateLists {
			b.Run(period.name+"/first_page/"+list, func(b *testing.B) {
				// The totals the dashboard hands its lists, from its summaries.
				var dash LateDashboard
				totals, err := dash.summarise(ctx, db, f, cal)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := lateListPage(ctx, db, list, f, cal, PageRequest{Limit: LateDashboardFirstPageMax}, totals); err != nil {
						b.Fatal(err)
					}
				}
				if list != LateListOpenOverdue {
					// The entries of the list's range, which its total walks unless counters give it.
					c := lateConditions(list, f, dueBy)
					reportRowsRead(ctx, b, db, `SELECT COUNT(*)`+lateFrom(db)+c.where(), c.args)
				}
			})
		}
		b.Run(period.name+"/whole", func(b *testing.B) {
			for b.Loop() {
				if _, err := LateDashboardOf(ctx, db, f, cal, PageRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// drain runs the statement and reads its rows.
func drain(ctx context.Context, b *testing.B, db *sql.DB, query string, args []any) {
	b.Helper()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		b.Fatal(err)
	}
}

// reportRowsRead reports what the counting statement answers as the rows a part reads.
func reportRowsRead(ctx context.Context, b *testing.B, db *sql.DB, query string, args []any) {
	b.Helper()
	if query == "" {
		b.ReportMetric(0, "rows/op")
		return
	}
	var n sql.NullInt64
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n.Int64), "rows/op")
}
