package calendar

import (
	"sort"
	"strconv"
	"time"
)

// holiday is one public holiday of the Labour Code 2019 (Bộ luật Lao động 45/2019/QH14) art. 112(1).
// Announcements, built in or in an agency file, refer to a holiday by this key.
type holiday string

const (
	holidayNewYear     holiday = "new-year"       // Tết Dương lịch, 1/1: 1 day
	holidayTet         holiday = "tet"            // Tết Nguyên đán: 5 days
	holidayHungKings   holiday = "hung-kings"     // Giỗ Tổ Hùng Vương, 10/3 lunar: 1 day
	holidayApril30May1 holiday = "april-30-may-1" // Ngày Chiến thắng 30/4 and Quốc tế Lao động 1/5: 2 days
	holidayNationalDay holiday = "national-day"   // Quốc khánh, 2/9 and one adjacent day: 2 days
)

// holidays lists the holidays in calendar order, the order in which compensatory days are given.
var holidays = []holiday{holidayNewYear, holidayTet, holidayHungKings, holidayApril30May1, holidayNationalDay}

// holidayAnnouncement is the Prime Minister's (or an agency's) decision on which days one holiday
// of one year actually takes: its days off replace the statutory days of that holiday, and its
// make-up working days (usually Saturdays) pay back any weekday swapped into the break. Announced
// days are taken as announced: no compensatory day is added for those that fall on a weekend.
type holidayAnnouncement struct {
	holiday  holiday
	year     int
	daysOff  []calendarEntry
	workDays []calendarEntry
}

// statutoryHolidayDays returns the days holiday h takes in year when nothing is announced.
//
// The Labour Code fixes 1/1, 10/3 lunar, 30/4, 1/5 and 2/9, and leaves the exact Tết days and the
// day adjacent to 2/9 to the Prime Minister. Defaults, chosen to match recent announcements:
//   - Tết: the last day of the lunar year and the first four days of the new year (as 2026's
//     official days 16–20/02 are); those on a weekend are compensated after the break, so the
//     break stays one block of 5 working days;
//   - the day adjacent to 2/9 is the weekday beside it that makes the longest break with the
//     weekend: 3/9 when 2/9 is a Monday (as in 2024), Thursday (2021) or Sunday; otherwise 1/9
//     (Tuesday 2025, Friday 2022, Saturday 2023, and Wednesday as in 2026).
func statutoryHolidayDays(h holiday, year int) []calendarEntry {
	switch h {
	case holidayNewYear:
		return []calendarEntry{{day: civilDayOf(year, time.January, 1), off: true, reason: "New Year's Day (Tết Dương lịch)"}}
	case holidayTet:
		newYear := lunarNewYear(year)
		days := []calendarEntry{{day: newYear - 1, off: true, reason: "Lunar New Year's Eve (Tết Nguyên đán)"}}
		for i := range 4 {
			days = append(days, calendarEntry{day: newYear + civilDay(i), off: true, reason: "Lunar New Year, day " + strconv.Itoa(i+1) + " (Tết Nguyên đán)"})
		}
		return days
	case holidayHungKings:
		return []calendarEntry{{day: hungKingsDay(year), off: true, reason: "Hùng Kings' Commemoration Day (Giỗ Tổ Hùng Vương, 10/3 lunar)"}}
	case holidayApril30May1:
		return []calendarEntry{
			{day: civilDayOf(year, time.April, 30), off: true, reason: "Reunification Day (30/4)"},
			{day: civilDayOf(year, time.May, 1), off: true, reason: "International Labour Day (1/5)"},
		}
	case holidayNationalDay:
		nationalDay := civilDayOf(year, time.September, 2)
		adjacent := nationalDay - 1
		switch nationalDay.weekday() {
		case time.Monday, time.Thursday, time.Sunday:
			adjacent = nationalDay + 1
		}
		days := []calendarEntry{
			{day: nationalDay, off: true, reason: "National Day (Quốc khánh, 2/9)"},
			{day: adjacent, off: true, reason: "National Day, adjacent day (Quốc khánh)"},
		}
		sort.Slice(days, func(i, j int) bool { return days[i].day < days[j].day })
		return days
	}
	return nil
}

// lunarNewYear returns the civil day of Tết: day 1 of month 1 of the lunar year starting in year.
func lunarNewYear(year int) civilDay {
	jd, _ := lunarToSolarJulianDay(1, 1, year, false)
	return civilDay(jd - julianDayUnixEpoch)
}

// hungKingsDay returns the civil day of Hùng Kings' Commemoration Day: day 10 of (non-leap)
// month 3 of the lunar year starting in year.
func hungKingsDay(year int) civilDay {
	jd, _ := lunarToSolarJulianDay(10, 3, year, false)
	return civilDay(jd - julianDayUnixEpoch)
}

// computeYear returns the exceptions to the Monday–Friday week in year: announced or statutory
// holidays, compensatory days (art. 111(3): a holiday on a weekly rest day is made good on the next
// working day), the agency's extra days off, and make-up working days, which win over everything.
func (c *Calendar) computeYear(year int) map[civilDay]calendarEntry {
	announced := make(map[holiday]holidayAnnouncement)
	for _, a := range c.announcements {
		if a.year == year {
			announced[a.holiday] = a
		}
	}
	entries := make(map[civilDay]calendarEntry)
	var onWeekend []calendarEntry
	for _, h := range holidays {
		if a, ok := announced[h]; ok {
			for _, e := range a.daysOff {
				entries[e.day] = e
			}
			continue
		}
		for _, e := range statutoryHolidayDays(h, year) {
			entries[e.day] = e
			if e.day.isWeekend() {
				onWeekend = append(onWeekend, e)
			}
		}
	}
	for _, e := range c.extraDaysOff {
		if _, taken := entries[e.day]; !taken && e.day.year() == year {
			entries[e.day] = e
		}
	}
	sort.Slice(onWeekend, func(i, j int) bool { return onWeekend[i].day < onWeekend[j].day })
	for _, e := range onWeekend {
		compensatory := e.day + 1
		for _, taken := entries[compensatory]; taken || compensatory.isWeekend(); _, taken = entries[compensatory] {
			compensatory++
		}
		entries[compensatory] = calendarEntry{
			day:    compensatory,
			off:    true,
			reason: "Compensatory day for " + e.day.String() + ", " + e.reason + " (Labour Code 2019 art. 111)",
		}
	}
	for _, h := range holidays {
		for _, e := range announced[h].workDays {
			entries[e.day] = e
		}
	}
	for _, e := range c.extraWorkDays {
		if e.day.year() == year {
			entries[e.day] = e
		}
	}
	return entries
}

// builtinAnnouncements are the public-sector holiday arrangements announced for 2024–2026
// (for cán bộ, công chức, viên chức; enterprises may choose other days).
//
// Sources: regulations.md §4 for Tết 2024, Tết 2025, Tết 2026 and the 2026 swaps (02/01 made up on
// Sat 10/01; 31/08 made up on Sat 22/08; 2/9/2026 break 29/08–02/09). The 30/4–1/5 and 2/9
// arrangements of 2024 and 2025 are from the engineer's recollection of the Ministry of Labour's
// (2024) and Ministry of Home Affairs' (2025) notices, not checked against the texts:
//   - 30/4–1/5 2024: off Sat 27/04 – Wed 01/05, Mon 29/04 swapped and made up on Sat 04/05;
//   - 2/9 2024: off Sat 31/08 – Tue 03/09 (3/9 the adjacent day);
//   - 30/4–1/5 2025: off Wed 30/04 – Sun 04/05, Fri 02/05 swapped and made up on Sat 26/04;
//   - 2/9 2025: off Sat 30/08 – Tue 02/09 (1/9 the adjacent day).
//
// New Year's Day and Hùng Kings' day of these years, and 30/4–1/5 2026, follow the statutory
// rules (no announcement is known to differ): 1/1/2024 Mon, 18/04/2024 Thu, 1/1/2025 Wed,
// 07/04/2025 Mon, 26/04/2026 Sun (compensated on Mon 27/04), 30/04/2026 Thu and 01/05/2026 Fri.
func builtinAnnouncements() []holidayAnnouncement {
	const (
		tetBreak       = "Lunar New Year break (Tết Nguyên đán)"
		april30Break   = "Reunification Day and Labour Day break (30/4–1/5)"
		nationalBreak  = "National Day break (Quốc khánh)"
		reunification  = "Reunification Day (30/4)"
		labourDay      = "International Labour Day (1/5)"
		nationalDay    = "National Day (Quốc khánh, 2/9)"
		nationalDayAdj = "National Day, adjacent day (Quốc khánh)"
	)
	off := func(year int, month time.Month, from, to int, reason string) []calendarEntry {
		var days []calendarEntry
		for d := civilDayOf(year, month, from); d <= civilDayOf(year, month, to); d++ {
			days = append(days, calendarEntry{day: d, off: true, reason: reason})
		}
		return days
	}
	work := func(year int, month time.Month, day int, reason string) []calendarEntry {
		return []calendarEntry{{day: civilDayOf(year, month, day), off: false, reason: reason}}
	}
	join := func(parts ...[]calendarEntry) []calendarEntry {
		var all []calendarEntry
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	return []holidayAnnouncement{
		{holiday: holidayTet, year: 2024, daysOff: off(2024, time.February, 8, 14, tetBreak)},
		{holiday: holidayApril30May1, year: 2024,
			daysOff: join(
				off(2024, time.April, 27, 28, april30Break),
				off(2024, time.April, 29, 29, april30Break+": swapped day, made up on Saturday 2024-05-04"),
				off(2024, time.April, 30, 30, reunification),
				off(2024, time.May, 1, 1, labourDay)),
			workDays: work(2024, time.May, 4, "Make-up working day for the swapped day off 2024-04-29")},
		{holiday: holidayNationalDay, year: 2024,
			daysOff: join(
				off(2024, time.August, 31, 31, nationalBreak),
				off(2024, time.September, 1, 1, nationalBreak),
				off(2024, time.September, 2, 2, nationalDay),
				off(2024, time.September, 3, 3, nationalDayAdj))},

		{holiday: holidayTet, year: 2025,
			daysOff: join(
				off(2025, time.January, 25, 26, tetBreak),
				off(2025, time.January, 27, 31, "Lunar New Year (Tết Nguyên đán)"),
				off(2025, time.February, 1, 2, tetBreak))},
		{holiday: holidayApril30May1, year: 2025,
			daysOff: join(
				off(2025, time.April, 30, 30, reunification),
				off(2025, time.May, 1, 1, labourDay),
				off(2025, time.May, 2, 2, april30Break+": swapped day, made up on Saturday 2025-04-26"),
				off(2025, time.May, 3, 4, april30Break)),
			workDays: work(2025, time.April, 26, "Make-up working day for the swapped day off 2025-05-02")},
		{holiday: holidayNationalDay, year: 2025,
			daysOff: join(
				off(2025, time.August, 30, 31, nationalBreak),
				off(2025, time.September, 1, 1, nationalDayAdj),
				off(2025, time.September, 2, 2, nationalDay))},

		{holiday: holidayNewYear, year: 2026,
			daysOff: join(
				off(2026, time.January, 1, 1, "New Year's Day (Tết Dương lịch)"),
				off(2026, time.January, 2, 2, "New Year's Day break: swapped day, made up on Saturday 2026-01-10")),
			workDays: work(2026, time.January, 10, "Make-up working day for the swapped day off 2026-01-02")},
		{holiday: holidayTet, year: 2026,
			daysOff: join(
				off(2026, time.February, 14, 15, tetBreak),
				off(2026, time.February, 16, 20, "Lunar New Year (Tết Nguyên đán)"),
				off(2026, time.February, 21, 22, tetBreak))},
		{holiday: holidayNationalDay, year: 2026,
			daysOff: join(
				off(2026, time.August, 29, 30, nationalBreak),
				off(2026, time.August, 31, 31, nationalBreak+": swapped day, made up on Saturday 2026-08-22"),
				off(2026, time.September, 1, 1, nationalDayAdj),
				off(2026, time.September, 2, 2, nationalDay)),
			workDays: work(2026, time.August, 22, "Make-up working day for the swapped day off 2026-08-31")},
	}
}
