package calendar

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// at parses "2006-01-02 15:04" in Vietnam time.
func at(t testing.TB, text string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", text, VietnamTime)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// assertSameInstant fails unless got and want are the same instant.
func assertSameInstant(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.In(VietnamTime).Format("Mon 2006-01-02 15:04:05"), want.In(VietnamTime).Format("Mon 2006-01-02 15:04:05"))
	}
}

// TestAnnouncedRanges checks each announced public-sector break of 2024–2026 day by day, and the
// working days that border it, against regulations.md §4 and the announcements it summarises.
func TestAnnouncedRanges(t *testing.T) {
	cal := Default()
	tests := []struct {
		name     string
		from, to string // inclusive, in the state given by working
		working  bool
	}{
		{"New Year 2024", "2024-01-01", "2024-01-01", false},
		{"after New Year 2024", "2024-01-02", "2024-01-02", true},
		{"before Tết 2024", "2024-02-07", "2024-02-07", true},
		{"Tết 2024 (08–14/02)", "2024-02-08", "2024-02-14", false},
		{"after Tết 2024", "2024-02-15", "2024-02-15", true},
		{"Hùng Kings 2024 (Thu)", "2024-04-18", "2024-04-18", false},
		{"before 30/4 2024", "2024-04-26", "2024-04-26", true},
		{"30/4–1/5 2024 (27/04–01/05)", "2024-04-27", "2024-05-01", false},
		{"after 30/4 2024", "2024-05-02", "2024-05-03", true},
		{"make-up Saturday 2024", "2024-05-04", "2024-05-04", true},
		{"before 2/9 2024", "2024-08-30", "2024-08-30", true},
		{"2/9 2024 (31/08–03/09)", "2024-08-31", "2024-09-03", false},
		{"after 2/9 2024", "2024-09-04", "2024-09-04", true},

		{"New Year 2025", "2025-01-01", "2025-01-01", false},
		{"before Tết 2025", "2025-01-24", "2025-01-24", true},
		{"Tết 2025 (25/01–02/02)", "2025-01-25", "2025-02-02", false},
		{"after Tết 2025", "2025-02-03", "2025-02-03", true},
		{"Hùng Kings 2025 (Mon)", "2025-04-07", "2025-04-07", false},
		{"make-up Saturday 2025", "2025-04-26", "2025-04-26", true},
		{"before 30/4 2025", "2025-04-28", "2025-04-29", true},
		{"30/4–1/5 2025 (30/04–04/05)", "2025-04-30", "2025-05-04", false},
		{"after 30/4 2025", "2025-05-05", "2025-05-05", true},
		{"2/9 2025 (30/08–02/09)", "2025-08-30", "2025-09-02", false},
		{"after 2/9 2025", "2025-09-03", "2025-09-03", true},

		{"New Year 2026 with swapped 02/01", "2026-01-01", "2026-01-04", false},
		{"after New Year 2026", "2026-01-05", "2026-01-09", true},
		{"make-up Saturday 10/01/2026", "2026-01-10", "2026-01-10", true},
		{"ordinary Sunday 11/01/2026", "2026-01-11", "2026-01-11", false},
		{"before Tết 2026", "2026-02-13", "2026-02-13", true},
		{"Tết 2026 (14–22/02)", "2026-02-14", "2026-02-22", false},
		{"after Tết 2026", "2026-02-23", "2026-02-23", true},
		{"Hùng Kings 2026 on Sunday and its compensatory Monday", "2026-04-25", "2026-04-27", false},
		{"between Hùng Kings and 30/4 2026", "2026-04-28", "2026-04-29", true},
		{"30/4–1/5 2026 (Thu–Sun)", "2026-04-30", "2026-05-03", false},
		{"make-up Saturday 22/08/2026", "2026-08-22", "2026-08-22", true},
		{"before 2/9 2026", "2026-08-28", "2026-08-28", true},
		{"2/9 2026 (29/08–02/09)", "2026-08-29", "2026-09-02", false},
		{"after 2/9 2026", "2026-09-03", "2026-09-03", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := at(t, tt.from+" 12:00"), at(t, tt.to+" 12:00")
			for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
				if got := cal.IsWorkingDay(day); got != tt.working {
					t.Errorf("IsWorkingDay(%s) = %v, want %v", day.Format("Mon 2006-01-02"), got, tt.working)
				}
			}
		})
	}
}

// TestStatutoryRulesForUnannouncedYears spells out, for years with no announcement, what the
// Labour Code gives when applied to the computed lunar dates.
func TestStatutoryRulesForUnannouncedYears(t *testing.T) {
	cal := Default()
	tests := []struct {
		year int
		want []string // "date off|work", in order
	}{
		{2027, []string{
			"2027-01-01 off", // Friday
			// Tết Đinh Mùi is Saturday 06/02: the eve (Fri 05/02) and days 1–4 (Sat 06 – Tue 09),
			// then Sat 06 and Sun 07 are made good on Wed 10 and Thu 11 (art. 111).
			"2027-02-05 off", "2027-02-06 off", "2027-02-07 off", "2027-02-08 off", "2027-02-09 off",
			"2027-02-10 off", "2027-02-11 off",
			"2027-04-16 off", // 10/3 lunar, a Friday
			"2027-04-30 off", "2027-05-01 off",
			"2027-05-03 off",                   // 1/5 is a Saturday: compensated on Monday 03/05
			"2027-09-02 off", "2027-09-03 off", // 2/9 is a Thursday: the adjacent day is Friday 3/9
		}},
		{2028, []string{
			"2028-01-01 off", "2028-01-03 off", // Saturday New Year, compensated on Monday
			// Tết Mậu Thân is Wednesday 26/01: eve Tue 25 to day 4 Sat 29, compensated Mon 31.
			"2028-01-25 off", "2028-01-26 off", "2028-01-27 off", "2028-01-28 off", "2028-01-29 off",
			"2028-01-31 off",
			"2028-04-04 off", // 10/3 lunar, a Tuesday
			// 30/4 is a Sunday, 1/5 a Monday: 30/4 is compensated on the next free weekday, Tue 2/5.
			"2028-04-30 off", "2028-05-01 off", "2028-05-02 off",
			"2028-09-01 off", "2028-09-02 off", // 2/9 is a Saturday: adjacent Fri 1/9, compensated Mon 4/9
			"2028-09-04 off",
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.year), func(t *testing.T) {
			var got []string
			for _, d := range cal.DaysOff(tt.year) {
				kind := "work"
				if d.Off {
					kind = "off"
				}
				got = append(got, d.Date.Format(time.DateOnly)+" "+kind)
				if d.Reason == "" {
					t.Errorf("%s has no reason", d.Date.Format(time.DateOnly))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("DaysOff(%d):\n%s\nwant:\n%s", tt.year, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestNationalDayOnSundayTakesMondayAndTuesday(t *testing.T) {
	// 2/9/2029 is a Sunday: the adjacent day is Monday 3/9 and Sunday is made good on Tuesday 4/9.
	cal := Default()
	for _, day := range []string{"2029-09-03", "2029-09-04"} {
		if cal.IsWorkingDay(at(t, day+" 09:00")) {
			t.Errorf("%s should be off", day)
		}
	}
	if !cal.IsWorkingDay(at(t, "2029-09-05 09:00")) {
		t.Error("Wednesday 2029-09-05 should be a working day")
	}
	for _, d := range cal.DaysOff(2029) {
		if d.Date.Format(time.DateOnly) == "2029-09-04" && !strings.Contains(d.Reason, "Compensatory day for 2029-09-02") {
			t.Errorf("reason for 2029-09-04 = %q, want the compensatory day for 2/9", d.Reason)
		}
	}
}

func TestIsWorkingDayUsesVietnamDate(t *testing.T) {
	cal := Default()
	// 16:30 UTC on Friday 13/02/2026 is 23:30 the same Friday in Vietnam, a working day; 17:30 UTC
	// is 00:30 on Saturday 14/02 in Vietnam, the first day of the Tết break.
	if !cal.IsWorkingDay(time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC)) {
		t.Error("Friday 2026-02-13 23:30 in Vietnam is a working day")
	}
	if cal.IsWorkingDay(time.Date(2026, 2, 13, 17, 30, 0, 0, time.UTC)) {
		t.Error("2026-02-13 17:30 UTC is Saturday 14/02 in Vietnam, a day off")
	}
}

func TestNextWorkingMoment(t *testing.T) {
	cal := Default()
	tests := []struct{ name, at, want string }{
		{"inside the morning session", "2026-03-09 10:00", "2026-03-09 10:00"},
		{"before opening", "2026-03-09 07:00", "2026-03-09 07:30"},
		{"at the morning session's end", "2026-03-09 11:30", "2026-03-09 13:00"},
		{"lunch break", "2026-03-09 12:15", "2026-03-09 13:00"},
		{"at closing", "2026-03-09 17:00", "2026-03-10 07:30"},
		{"Saturday", "2026-03-07 09:00", "2026-03-09 07:30"},
		{"make-up Saturday", "2026-01-10 09:00", "2026-01-10 09:00"},
		{"evening before Tết", "2026-02-13 17:30", "2026-02-23 07:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSameInstant(t, "NextWorkingMoment("+tt.at+")", cal.NextWorkingMoment(at(t, tt.at)), at(t, tt.want))
		})
	}
}

func TestAddWorkingTime(t *testing.T) {
	cal := Default()
	tests := []struct {
		name string
		from string
		add  time.Duration
		want string
	}{
		{"a full day ends at closing, not next morning", "2026-03-09 07:30", 8 * time.Hour, "2026-03-09 17:00"},
		{"the lunch break is skipped", "2026-03-09 10:00", 2 * time.Hour, "2026-03-09 13:30"},
		{"the weekend is skipped", "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 08:30"},
		{"from outside hours starts at the next session", "2026-03-07 10:00", time.Hour, "2026-03-09 08:30"},
		{"the Tết break is skipped", "2026-02-13 16:00", 2 * time.Hour, "2026-02-23 08:30"},
		{"a make-up Saturday counts", "2026-01-09 16:00", 2 * time.Hour, "2026-01-10 08:30"},
		{"backwards over the weekend", "2026-03-09 09:00", -2 * time.Hour, "2026-03-06 16:30"},
		{"backwards to a session start", "2026-03-09 13:30", -30 * time.Minute, "2026-03-09 13:00"},
		{"zero keeps the instant", "2026-03-07 10:00", 0, "2026-03-07 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AddWorkingTime(at(t, tt.from), tt.add)
			assertSameInstant(t, fmt.Sprintf("AddWorkingTime(%s, %s)", tt.from, tt.add), got, at(t, tt.want))
		})
	}
}

func TestWorkingTimeBetween(t *testing.T) {
	cal := Default()
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{"Friday afternoon to Monday morning", "2026-03-06 16:00", "2026-03-09 08:30", 2 * time.Hour},
		{"reversed is negative", "2026-03-09 08:30", "2026-03-06 16:00", -2 * time.Hour},
		{"a weekend holds none", "2026-03-07 00:00", "2026-03-09 00:00", 0},
		{"the whole Tết 2026 break holds none", "2026-02-13 17:00", "2026-02-23 07:30", 0},
		{"one working day across Tết", "2026-02-13 07:30", "2026-02-23 07:30", 8 * time.Hour},
		{"a week", "2026-03-09 07:30", "2026-03-16 07:30", 40 * time.Hour},
		{"lunch counts nothing", "2026-03-09 11:00", "2026-03-09 13:15", 45 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.WorkingTimeBetween(at(t, tt.from), at(t, tt.to)); got != tt.want {
				t.Errorf("WorkingTimeBetween(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	cal := Default()
	tests := []struct {
		name string
		from string
		days int
		want string
	}{
		{"next day, same time", "2026-03-09 10:00", 1, "2026-03-10 10:00"},
		{"Friday to Monday", "2026-03-06 10:00", 1, "2026-03-09 10:00"},
		{"over the Tết break", "2026-02-13 10:00", 1, "2026-02-23 10:00"},
		{"onto the make-up Saturday", "2026-01-09 10:00", 1, "2026-01-10 10:00"},
		{"a working week", "2026-03-09 07:30", 5, "2026-03-13 17:00"},
		{"back one day", "2026-03-09 10:00", -1, "2026-03-06 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSameInstant(t, fmt.Sprintf("AddWorkingDays(%s, %d)", tt.from, tt.days), cal.AddWorkingDays(at(t, tt.from), tt.days), at(t, tt.want))
		})
	}
	if got := cal.WorkingDayLength(); got != 8*time.Hour {
		t.Errorf("WorkingDayLength() = %s, want the statutory 8h", got)
	}
}

// isWorkingInstantOrSessionEnd reports whether t is inside a session of a working day, or exactly
// at the end of one (where additions are allowed to land).
func isWorkingInstantOrSessionEnd(cal *Calendar, t time.Time, allowSessionEnd bool) bool {
	day, clock := splitInstant(t)
	if !cal.isWorkingDay(day) {
		return false
	}
	for _, s := range cal.sessions {
		if (clock >= s.start && clock < s.end) || (allowSessionEnd && clock == s.end) {
			return true
		}
	}
	return false
}

// randomInstant returns an instant between mid-2023 and mid-2027, with seconds, so that random
// instants fall on holidays, weekends, breaks and sessions alike.
func randomInstant(rng *rand.Rand) time.Time {
	start := time.Date(2023, 6, 1, 0, 0, 0, 0, VietnamTime)
	return start.Add(time.Duration(rng.Int64N(int64(4*365*24*time.Hour/time.Second))) * time.Second)
}

// calendarsUnderTest are the default calendar and an agency calendar with other sessions (three,
// one of them short) and an extra holiday, so the properties do not depend on the defaults.
func calendarsUnderTest(t *testing.T) map[string]*Calendar {
	t.Helper()
	agency, err := ParseConfig([]byte(`{
		"sessions": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "14:10"}, {"start": "14:20", "end": "17:00"}],
		"cutoff": "16:00",
		"daysOff": [{"from": "2025-11-24", "reason": "local festival"}],
		"workDays": [{"date": "2025-11-29", "reason": "make-up for the festival"}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Calendar{"default": Default(), "agency": agency}
}

// TestArithmeticProperties checks, on random instants and durations:
//   - adding d then measuring gives back d (and the same backwards);
//   - a result is a working instant, or exactly the end of a session (the convention for additions:
//     the earliest instant at which the time has elapsed); going backwards always gives a working
//     instant;
//   - results grow strictly with d, and adding in two steps equals adding at once;
//   - appointments never fall on a day off and never move earlier when receipt is later.
func TestArithmeticProperties(t *testing.T) {
	for name, cal := range calendarsUnderTest(t) {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2026, 5))
			for range 2000 {
				from := randomInstant(rng)
				d1 := time.Duration(1+rng.Int64N(int64(80*time.Hour/time.Second))) * time.Second
				d2 := time.Duration(1+rng.Int64N(int64(20*time.Hour/time.Second))) * time.Second

				end := cal.AddWorkingTime(from, d1)
				if got := cal.WorkingTimeBetween(from, end); got != d1 {
					t.Fatalf("WorkingTimeBetween(%s, AddWorkingTime(…, %s)) = %s", from, d1, got)
				}
				if !isWorkingInstantOrSessionEnd(cal, end, true) {
					t.Fatalf("AddWorkingTime(%s, %s) = %s, outside working hours", from, d1, end)
				}
				longer := cal.AddWorkingTime(from, d1+d2)
				if !longer.After(end) {
					t.Fatalf("AddWorkingTime(%s, %s) = %s is not after AddWorkingTime(…, %s) = %s", from, d1+d2, longer, d1, end)
				}
				if stepwise := cal.AddWorkingTime(end, d2); !stepwise.Equal(longer) {
					t.Fatalf("adding %s then %s from %s gives %s, at once %s", d1, d2, from, stepwise, longer)
				}

				start := cal.AddWorkingTime(from, -d1)
				if got := cal.WorkingTimeBetween(start, from); got != d1 {
					t.Fatalf("WorkingTimeBetween(AddWorkingTime(%s, -%s), …) = %s", from, d1, got)
				}
				if !isWorkingInstantOrSessionEnd(cal, start, false) {
					t.Fatalf("AddWorkingTime(%s, -%s) = %s, outside working hours", from, d1, start)
				}

				next := cal.NextWorkingMoment(from)
				if !isWorkingInstantOrSessionEnd(cal, next, false) || next.Before(from) || cal.WorkingTimeBetween(from, next) != 0 {
					t.Fatalf("NextWorkingMoment(%s) = %s", from, next)
				}

				days := 1 + rng.IntN(20)
				appointment := cal.AppointmentFrom(from, days)
				if !cal.IsWorkingDay(appointment) || !isWorkingInstantOrSessionEnd(cal, appointment, true) {
					t.Fatalf("AppointmentFrom(%s, %d) = %s, not in working hours", from, days, appointment)
				}
				if later := cal.AppointmentFrom(from.Add(d2), days); later.Before(appointment) {
					t.Fatalf("received later (%s) but due earlier: %s before %s", from.Add(d2), later, appointment)
				}
				if further := cal.AppointmentFrom(from, days+1); !further.After(appointment) {
					t.Fatalf("AppointmentFrom(%s, %d) = %s is not after the %d-day one %s", from, days+1, further, days, appointment)
				}
			}
		})
	}
}

func TestCalendarIsSafeForConcurrentUse(t *testing.T) {
	cal, err := ParseConfig([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	want := len(Default().DaysOff(2031))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for year := 2030; year < 2040; year++ {
				if g%2 == 0 {
					cal.IsWorkingDay(time.Date(year, 2, 1, 0, 0, 0, 0, VietnamTime))
				} else if year == 2031 && len(cal.DaysOff(year)) != want {
					t.Errorf("DaysOff(2031) differs between calendars with the same rules")
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAppointmentFrom(b *testing.B) {
	cal := Default()
	received := time.Date(2026, 2, 10, 16, 55, 0, 0, VietnamTime)
	for b.Loop() {
		cal.AppointmentFrom(received, 15)
	}
}
