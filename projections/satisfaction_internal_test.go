package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/eventstore"
)

// TestSatisfactionGroupsAreCapped checks that a long list of groups keeps the
// SatisfactionGroupLimit groups with the most ratings (ties by key), in key order, and sums the
// others in one line that says how many it holds.
func TestSatisfactionGroupsAreCapped(t *testing.T) {
	t.Parallel()
	groups := tallyGroups{}
	total := int64(0)
	for i := range SatisfactionGroupLimit + 3 {
		var one ratingTally
		// Group k%03d has 1 + i%7 ratings: the three smallest are left out, ties broken by key.
		one[tallyRatings], one[tallyComplete], one[tallyPoints] = int64(1+i%7), int64(1+i%7), int64(18*(1+i%7))
		total += one[tallyRatings]
		groups.add(fmt.Sprintf("k%03d", i), "", "2026-04", &one)
	}
	list := groups.list(SatisfactionGroupLimit)
	if len(list) != SatisfactionGroupLimit+1 {
		t.Fatalf("%d lines, want %d and the others", len(list), SatisfactionGroupLimit)
	}
	others := list[len(list)-1]
	if others.Others != 3 || others.Key != "" || others.Ratings != 3 || others.AverageTotal != 18 {
		t.Errorf("the others' line: %+v, want the 3 groups of 1 rating with the highest keys", others)
	}
	sum := others.Ratings
	for i, g := range list[:len(list)-1] {
		sum += g.Ratings
		if i > 0 && g.Key <= list[i-1].Key {
			t.Errorf("line %d (%s) is not in key order after %s", i, g.Key, list[i-1].Key)
		}
		if g.Others != 0 {
			t.Errorf("line %s says it sums others", g.Key)
		}
	}
	if int64(sum) != total {
		t.Errorf("the lines sum %d ratings, want %d", sum, total)
	}
	for _, left := range []string{"k049", "k035", "k042"} { // 1 rating each, the highest keys among those
		for _, g := range list {
			if g.Key == left {
				t.Errorf("%s (1 rating) is listed, and a group of 1 rating with a lower key left out", left)
			}
		}
	}
	if short := groups.list(0); len(short) != SatisfactionGroupLimit+3 || short[len(short)-1].Others != 0 {
		t.Errorf("without a limit: %d lines", len(short))
	}
}

// BenchmarkSatisfactionOf times the report over a province-year of counters — 30 agencies, 200
// procedures, 40 units, 300 officials, every line rated every day: ≈ 200,000 day rows and 6,500
// month rows, what a million dossiers a year leave — for a year and for the month to date (docs/benchmarks.md):
//
//	go test ./projections -run '^$' -bench SatisfactionOf -benchtime 20x
func BenchmarkSatisfactionOf(b *testing.B) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "counters.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, v := range []engine.Consumer{SatisfactionView{}, ResolutionReportView{}, FeedbackView{}} {
		if err := v.Migrate(ctx, db, engine.SQLite); err != nil {
			b.Fatal(err)
		}
	}
	fold := SatisfactionView{}.NewFold(true).(*satisfactionFold)
	first := time.Date(2025, 12, 5, 0, 0, 0, 0, domain.VietnamTime)
	var one ratingTally
	one[tallyRatings], one[tallyComplete], one[tallyPoints], one[levelIndex(0, 2)] = 1, 1, 15, 1
	for d := 0; d < 365; d++ {
		day := civilDate(first.AddDate(0, 0, d))
		for p := range 200 {
			agency := fmt.Sprintf("000.00.%02d.H01", p%30)
			s := &satisfactionDossier{receivingUnit: agency, competentAgency: agency}
			f := fold
			f.addRating(s, day, countProcedure, fmt.Sprintf("1.%06d", p), "Thủ tục", &one)
			if p < 40 {
				f.addRating(s, day, countUnit, fmt.Sprintf("U%02d", p), "", &one)
			}
			f.addRating(s, day, countOfficial, fmt.Sprintf("O%03d", p), "Cán bộ", &one)
			f.addRating(s, day, countOfficial, fmt.Sprintf("O%03d", 200+p%100), "Cán bộ", &one)
		}
		if d%30 == 29 || d == 364 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := fold.Flush(ctx, tx, engine.Batch{Dialect: engine.SQLite}); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM satisfaction_counts`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	end := first.AddDate(0, 0, 365)
	for _, c := range []struct {
		name   string
		period Period
	}{
		{"year", Period{From: first, To: end}},
		{"month_to_date", Period{From: time.Date(2026, 12, 1, 0, 0, 0, 0, domain.VietnamTime), To: end}},
		{"year_one_agency", Period{From: first, To: end}},
	} {
		scope := AllAgencies()
		if c.name == "year_one_agency" {
			scope = OneAgency("000.00.07.H01")
		}
		b.Run(c.name, func(b *testing.B) {
			var report SatisfactionReport
			for b.Loop() {
				if report, err = SatisfactionOf(ctx, db, scope, c.period); err != nil {
					b.Fatal(err)
				}
			}
			body, _ := json.Marshal(report)
			b.ReportMetric(float64(len(body)), "json-bytes")
			b.Logf("%s over %d counter rows: %d ratings, %d JSON bytes", c.name, rows, report.Overall.Ratings, len(body))
		})
	}
}

// TestSatisfactionCountsTheFirstRatingOnly checks that a second rating of the same dossier —
// which the domain refuses, but a log written by other means may hold — adds nothing, in the
// same fold as the first or in a later one.
func TestSatisfactionCountsTheFirstRatingOnly(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 10, 9, 0, 0, 0, domain.VietnamTime)
	rated := domain.Rated{Scores: map[domain.Criterion]domain.RatingLevel{domain.CriterionStaffAttitude: domain.Dissatisfied}, RatedAt: at}
	history := []domain.Event{
		domain.Received{ReceivingUnit: "U", CompetentAgency: "A", ReceivedAt: at.AddDate(0, 0, -5), AppointmentDate: at.AddDate(0, 0, -1)},
		domain.ResultReady{Index: 1, ReadyAt: at.AddDate(0, 0, -2)},
		domain.ResultReturned{ReturnedAt: at.AddDate(0, 0, -1)},
		rated, rated,
	}
	for _, split := range []int{len(history), len(history) - 1} {
		fold := SatisfactionView{}.NewFold(true).(*satisfactionFold)
		batch := func(from, to int) engine.Batch {
			var b engine.Batch
			for i := from; i < to; i++ {
				b.Events = append(b.Events, eventstore.RecordedEvent{Stream: "dossier-d1", Version: uint64(i + 1)})
				b.Decoded = append(b.Decoded, history[i])
			}
			return b
		}
		ctx := context.Background()
		for _, b := range []engine.Batch{batch(0, split), batch(split, len(history))} {
			if err := fold.Add(ctx, nil, b); err != nil {
				t.Fatal(err)
			}
		}
		var ratings, dissatisfied int64
		for k, tally := range fold.counts {
			if k.grain == grainDay && k.kind == countProcedure {
				ratings += tally[tallyRatings]
			}
		}
		for k, tally := range fold.indicators {
			if k.grain == grainDay {
				dissatisfied += tally[2]
			}
		}
		if ratings != 1 || dissatisfied != 1 {
			t.Errorf("second rating in batch %d: %d ratings and %d dissatisfied resolved dossiers counted, want 1 and 1", split, ratings, dissatisfied)
		}
	}
}

// A period's counter spans count each of its days once and no other day, and a year reads its
// whole months as one range of month rows: three queries (the first month's days, the months, the
// last month's days), not one a month.
func TestPeriodSpansCountEachDayOnceInFewRanges(t *testing.T) {
	vn := domain.VietnamTime
	for _, p := range []Period{
		{From: time.Date(2025, 12, 6, 0, 0, 0, 0, vn), To: time.Date(2026, 12, 6, 0, 0, 0, 0, vn)},
		{From: time.Date(2026, 1, 1, 0, 0, 0, 0, vn), To: time.Date(2027, 1, 1, 0, 0, 0, 0, vn)},
		{From: time.Date(2025, 11, 28, 0, 0, 0, 0, vn), To: time.Date(2026, 11, 3, 0, 0, 0, 0, vn)},
		{From: time.Date(2026, 3, 2, 0, 0, 0, 0, vn), To: time.Date(2026, 3, 30, 0, 0, 0, 0, vn)},
	} {
		spans, err := periodSpans(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) > 4 {
			t.Errorf("%s – %s: %d spans %v, want at most 4", p.From, p.To, len(spans), spans)
		}
		counted := map[string]int64{}
		for _, s := range spans {
			for day := time.Date(2025, 1, 1, 0, 0, 0, 0, vn); day.Year() < 2028; day = day.AddDate(0, 0, 1) {
				key := day.Format(time.DateOnly)
				if s.grain == grainMonth {
					key = day.Format("2006-01")
				}
				if key >= s.from && key < s.to {
					counted[day.Format(time.DateOnly)] += s.sign
				}
			}
		}
		for day := time.Date(2025, 1, 1, 0, 0, 0, 0, vn); day.Year() < 2028; day = day.AddDate(0, 0, 1) {
			want := int64(0)
			if !day.Before(p.From) && day.Before(p.To) {
				want = 1
			}
			if got := counted[day.Format(time.DateOnly)]; got != want {
				t.Errorf("%s – %s: %s counted %d times, want %d (spans %v)", p.From, p.To, day.Format(time.DateOnly), got, want, spans)
				break
			}
		}
	}
}
