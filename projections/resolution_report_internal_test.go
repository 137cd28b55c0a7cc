package projections

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCounterRangesCoverEachDayOnce checks, for periods between random days of 2023–2030, that
// the counter rows a report sums — added, or subtracted where a month's or year's row is read in
// place of most of its days or months — cover every day before the period exactly once (the
// stocks at its start), every day of the period exactly once (what happened in it) and no other
// day, in whole years and months wherever the period holds them, so that a period reads per group
// at most 6 months and 16 days besides the years before it, and twice that besides its years within
// it. Every day's or month's row read in the period's stead would be 11 months and 30 days each.
func TestCounterRangesCoverEachDayOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	first := civilDayOf(2023, time.January, 1)
	for range 2000 {
		from := first + civilDay(r.IntN(2900))
		to := from + 1 + civilDay(r.IntN(800))
		if r.IntN(4) == 0 { // whole months and years, as the pages ask
			y, m, _ := from.date()
			from = civilDayOf(y, m, 1)
			to = civilDayOf(y, m+time.Month(1+r.IntN(14)), 1)
		}
		before, during := map[civilDay]int{}, map[civilDay]int{}
		var beforeUnits, duringUnits, years int
		for _, rg := range counterRanges(from, to) {
			lo := rg.from
			if rg.sinceEver {
				lo = civilDayOf(2020, time.January, 1) // earlier than any day this test counts from
			}
			covered, sign := during, 1
			if rg.before {
				covered = before
			}
			if rg.less {
				sign = -1
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
					if !rg.before && !rg.less && next <= to && start >= from {
						years++
					}
				case spanMonth:
					if d != 1 {
						t.Fatalf("%v–%v: month row starting %v", from, to, start)
					}
					next = civilDayOf(y, m+1, 1)
				}
				for day := start; day < next; day++ {
					covered[day] += sign
				}
				switch {
				case rg.sinceEver:
				case rg.before:
					beforeUnits++
				default:
					duringUnits++
				}
				start = next
			}
		}
		for day := civilDayOf(2020, time.January, 1); day < civilDayOf(2035, time.January, 1); day++ {
			wantBefore, wantDuring := 0, 0
			if day < from {
				wantBefore = 1
			} else if day < to {
				wantDuring = 1
			}
			if before[day] != wantBefore || during[day] != wantDuring {
				t.Fatalf("%v–%v: day %v counted %d times before the period and %d times in it", from, to, day, before[day], during[day])
			}
		}
		if beforeUnits > 6+16 {
			t.Errorf("%v–%v: %d month and day rows before the period", from, to, beforeUnits)
		}
		if duringUnits-years > 2*(6+16) {
			t.Errorf("%v–%v: %d month and day rows within the period besides its %d years", from, to, duringUnits-years, years)
		}
	}
}
