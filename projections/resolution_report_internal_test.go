package projections

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCounterRangesCoverEachDayOnce checks, for periods between random days of 2023–2030, that
// the counter rows a report sums cover every day before the period exactly once (the stocks at
// its start) and every day of the period exactly once (what happened in it), in whole years and
// months wherever the period holds them, so that a period of a year or less reads per group at
// most 11 months and 30 days besides the years before it, and 12 months and 62 days within it.
func TestCounterRangesCoverEachDayOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	first := civilDayOf(2023, time.January, 1)
	for range 500 {
		from := first + civilDay(r.IntN(2900))
		to := from + 1 + civilDay(r.IntN(800))
		if r.IntN(4) == 0 { // whole months and years, as the pages ask
			y, m, _ := from.date()
			from = civilDayOf(y, m, 1)
			to = civilDayOf(y, m+time.Month(1+r.IntN(14)), 1)
		}
		covered := map[civilDay]int{}
		var beforeUnits, duringUnits, years int
		for _, rg := range counterRanges(from, to) {
			lo := rg.from
			if rg.sinceEver {
				lo = civilDayOf(2020, time.January, 1) // earlier than any day this test counts from
			}
			for start := lo; start < rg.to; {
				next := start + 1
				y, m, d := start.date()
				switch rg.span {
				case spanYear:
					if m != time.January || d != 1 {
						t.Fatalf("%v–%v: year row starting %v", from, to, start)
					}
					next = civilDayOf(y+1, time.January, 1)
					if !rg.before {
						years++
					}
				case spanMonth:
					if d != 1 {
						t.Fatalf("%v–%v: month row starting %v", from, to, start)
					}
					next = civilDayOf(y, m+1, 1)
				}
				for day := start; day < next; day++ {
					covered[day]++
				}
				if rg.before {
					if rg.span != spanYear {
						beforeUnits++
					}
				} else {
					duringUnits++
				}
				start = next
			}
		}
		for day := civilDayOf(2020, time.January, 1); day < to; day++ {
			if covered[day] != 1 {
				t.Fatalf("%v–%v: day %v covered %d times", from, to, day, covered[day])
			}
		}
		if len(covered) != int(to-civilDayOf(2020, time.January, 1)) {
			t.Fatalf("%v–%v: rows beyond the period's end", from, to)
		}
		if beforeUnits > 11+30 {
			t.Errorf("%v–%v: %d month and day rows before the period", from, to, beforeUnits)
		}
		if to-from <= 366 && duringUnits > 12+62 {
			t.Errorf("%v–%v: %d rows within a period of at most a year", from, to, duringUnits)
		}
		if duringUnits-years > 2*(11+31) {
			t.Errorf("%v–%v: %d month and day rows within the period", from, to, duringUnits-years)
		}
	}
}
