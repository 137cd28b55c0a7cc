// Package calendar is Vietnam's public-sector working calendar: the working days and sessions, the
// 15:00 receipt cut-off, the statutory holidays (Labour Code 2019 art. 111–112) with the announced
// breaks and swaps, the lunar calendar that places Tết and Hùng Kings' day, and agency calendar
// files layered over the national one. Statutory time limits counted in working days or hours
// become instants here. It is pure (no I/O) and imports nothing else of motcua.
package calendar

import (
	"sort"
	"sync"
	"time"
)

// Calendar is an agency's working calendar: which days are worked, the working sessions of a day,
// and the receipt cut-off. It turns statutory time limits, counted in working days or hours
// (regulations.md §4), into instants. A Calendar is immutable after construction and safe for
// concurrent use; build one with Default or ParseConfig.
//
// Instants are interpreted in Vietnam time (Location). A working instant is one on a working day
// with start <= time of day < end for one of the day's sessions. Results of the arithmetic are
// working instants, except that adding working time returns the earliest instant at which the
// time has elapsed, which may be exactly the end of a session (07:30 + 8 h = 17:00 the same day).
type Calendar struct {
	version  string
	sessions []workingSession // ordered, non-overlapping
	cutoff   time.Duration    // time of day after which a receipt is transferred (and may count) from the next working day

	announcements []holidayAnnouncement // replace the statutory days of one holiday in one year
	extraDaysOff  []calendarEntry       // agency days off not tied to a statutory holiday
	extraWorkDays []calendarEntry       // agency make-up working days not tied to an announcement

	years sync.Map // int year -> map[civilDay]calendarEntry, computed on first use
}

// Day is one exception to the ordinary week: a day off (holiday, compensatory or swapped
// day) or a make-up working day (usually a Saturday).
type Day struct {
	Date   time.Time // midnight, in the calendar's Location
	Off    bool      // true: a day off; false: a make-up working day
	Reason string
}

// workingSession is a span of a working day, as offsets from midnight: [start, end).
type workingSession struct{ start, end time.Duration }

// calendarEntry marks one civil day as off or as worked, with the reason shown to administrators.
type calendarEntry struct {
	day    civilDay
	off    bool
	reason string
}

// civilDay counts days since 1970-01-01 in Vietnam time; it makes day arithmetic exact.
type civilDay int

// VietnamTime is UTC+7, the zone of every date the law speaks of. A fixed zone: Vietnam has no
// daylight saving time, and a fixed zone needs no tzdata on the server.
var VietnamTime = time.FixedZone("ICT", 7*3600)

const (
	secondsPerDay       = 24 * 60 * 60
	vietnamOffsetSecond = 7 * 60 * 60
)

// builtinCalendarVersion identifies the statutory rules and announcements compiled into this
// package; bump it whenever calendar_holidays.go changes a date.
const builtinCalendarVersion = "vn-2026.1"

// defaultSessions are public-sector working hours that make the statutory 8-hour day (40-hour
// week): 07:30–11:30 and 13:00–17:00, as in Hồ Chí Minh City's offices. The often-quoted
// 07:30–11:30 + 13:30–17:00 is only 7.5 hours, which would make a "working day" of a procedure's
// time limit disagree with its 8 allotted hours; agencies set their own hours in their file.
var defaultSessions = []workingSession{
	{start: 7*time.Hour + 30*time.Minute, end: 11*time.Hour + 30*time.Minute},
	{start: 13 * time.Hour, end: 17 * time.Hour},
}

// defaultCutoff is the 15:00 of NĐ 61/2018 art. 18: a dossier received after 15:00 may be
// transferred at the start of the next working day. Whether its resolution time also counts from
// then is a rule set's option (Rules.AfterCutoffCountsFrom, practice); "within the day" procedures
// move to the next working day after it by their own rule.
const defaultCutoff = 15 * time.Hour

var defaultCalendar = sync.OnceValue(func() *Calendar {
	return &Calendar{
		version:       builtinCalendarVersion,
		sessions:      defaultSessions,
		cutoff:        defaultCutoff,
		announcements: builtinAnnouncements(),
	}
})

// Default returns the Vietnamese public-sector calendar: Monday–Friday, 07:30–11:30 and
// 13:00–17:00 (8 hours), cut-off 15:00, the statutory holidays of the Labour Code 2019 art. 112 (with the
// compensatory days of art. 111) and the announced public-sector ranges and swaps for 2024–2026.
func Default() *Calendar { return defaultCalendar() }

// Version identifies the rules and configuration in force, e.g. "vn-2026.1" or
// "vn-2026.1+3f2a9c0d1b7e" with an agency file; record it with every computed date.
func (c *Calendar) Version() string { return c.version }

// Location returns Vietnam time (UTC+7, no daylight saving), in which days and hours are counted.
func (c *Calendar) Location() *time.Location { return VietnamTime }

// WorkingDayLength returns the working time of one full working day (8 h by default).
func (c *Calendar) WorkingDayLength() time.Duration {
	var total time.Duration
	for _, s := range c.sessions {
		total += s.end - s.start
	}
	return total
}

// Cutoff returns the time of day after which a receipt is transferred, and may count, from the next
// working day.
func (c *Calendar) Cutoff() time.Duration { return c.cutoff }

// IsWorkingDay reports whether the date of day (in Vietnam time) is a working day.
func (c *Calendar) IsWorkingDay(day time.Time) bool {
	d, _ := splitInstant(day)
	return c.isWorkingDay(d)
}

// NextWorkingMoment returns t if it is a working instant, else the start of the next session.
func (c *Calendar) NextWorkingMoment(t time.Time) time.Time {
	day, clock := splitInstant(t)
	for ; ; day, clock = day+1, 0 {
		if !c.isWorkingDay(day) {
			continue
		}
		for _, s := range c.sessions {
			switch {
			case clock < s.start:
				return day.at(s.start)
			case clock < s.end:
				return t.In(VietnamTime)
			}
		}
	}
}

// AddWorkingTime returns the instant at which d of working time has elapsed after t, counting only
// working sessions: the earliest such instant, so possibly the end of a session. A negative d goes
// back in time (the latest instant from which -d of working time remains until t, possibly the
// start of a session). AddWorkingTime(t, 0) returns t.
func (c *Calendar) AddWorkingTime(t time.Time, d time.Duration) time.Time {
	switch {
	case d > 0:
		return c.addForward(t, d)
	case d < 0:
		return c.addBackward(t, -d)
	default:
		return t.In(VietnamTime)
	}
}

func (c *Calendar) addForward(t time.Time, remaining time.Duration) time.Time {
	day, clock := splitInstant(t)
	for ; ; day, clock = day+1, 0 {
		if !c.isWorkingDay(day) {
			continue
		}
		for _, s := range c.sessions {
			from := max(s.start, clock)
			if from >= s.end {
				continue
			}
			available := s.end - from
			if remaining <= available {
				return day.at(from + remaining)
			}
			remaining -= available
		}
	}
}

func (c *Calendar) addBackward(t time.Time, remaining time.Duration) time.Time {
	day, clock := splitInstant(t)
	for ; ; day, clock = day-1, 24*time.Hour {
		if !c.isWorkingDay(day) {
			continue
		}
		for i := len(c.sessions) - 1; i >= 0; i-- {
			s := c.sessions[i]
			until := min(s.end, clock)
			if until <= s.start {
				continue
			}
			available := until - s.start
			if remaining <= available {
				return day.at(until - remaining)
			}
			remaining -= available
		}
	}
}

// WorkingTimeBetween returns the working time in [from, to); it is negative if to is before from.
func (c *Calendar) WorkingTimeBetween(from, to time.Time) time.Duration {
	if to.Before(from) {
		return -c.WorkingTimeBetween(to, from)
	}
	fromDay, fromClock := splitInstant(from)
	toDay, toClock := splitInstant(to)
	var total time.Duration
	for day := fromDay; day <= toDay; day++ {
		if !c.isWorkingDay(day) {
			continue
		}
		lower, upper := time.Duration(0), 24*time.Hour
		if day == fromDay {
			lower = fromClock
		}
		if day == toDay {
			upper = toClock
		}
		for _, s := range c.sessions {
			if overlap := min(s.end, upper) - max(s.start, lower); overlap > 0 {
				total += overlap
			}
		}
	}
	return total
}

// AddWorkingDays adds n working days, each worth WorkingDayLength of working time, so that a
// dossier received at 10:00 with one working day is due at 10:00 on the next working day.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	return c.AddWorkingTime(t, time.Duration(n)*c.WorkingDayLength())
}

// AppointmentFrom returns the appointment (due) instant for a dossier received at receivedAt with
// a resolution time of workingDays, counted as the built-in rule sets do (Rules.Appointment): from
// the next working moment, except that a dossier received on a working day after the cut-off (15:00
// by default) counts from the start of the next working day — practice, not law.
func (c *Calendar) AppointmentFrom(receivedAt time.Time, workingDays int) time.Time {
	return c.AddWorkingDays(c.CountStart(receivedAt, true), workingDays)
}

// CountStart is where a time limit starting at t begins: the next working moment, or, with
// afterCutoffNextDay, the start of the next working day when t is on a working day after the cut-off.
func (c *Calendar) CountStart(t time.Time, afterCutoffNextDay bool) time.Time {
	if day, clock := splitInstant(t); afterCutoffNextDay && c.isWorkingDay(day) && clock > c.cutoff {
		return c.NextWorkingMoment((day + 1).at(0))
	}
	return c.NextWorkingMoment(t)
}

// EndOfWorkingDay returns the end of the last session of t's working day, or of the next working
// day when t's day is not one or its sessions are over.
func (c *Calendar) EndOfWorkingDay(t time.Time) time.Time {
	day, _ := splitInstant(c.NextWorkingMoment(t))
	return day.at(c.sessions[len(c.sessions)-1].end)
}

// IsWithinWorkingHours reports whether t falls in a working session of a working day, its end
// included: an appointment "by 17:00" is a working moment.
func (c *Calendar) IsWithinWorkingHours(t time.Time) bool {
	day, clock := splitInstant(t)
	if !c.isWorkingDay(day) {
		return false
	}
	for _, s := range c.sessions {
		if clock >= s.start && clock <= s.end {
			return true
		}
	}
	return false
}

// WorkingDayBefore returns the midnight that starts the n-th working day before t's day (t's own
// day when n is 0).
func (c *Calendar) WorkingDayBefore(t time.Time, n int) time.Time {
	day, _ := splitInstant(t)
	for n > 0 {
		day--
		if c.isWorkingDay(day) {
			n--
		}
	}
	return day.at(0)
}

// DaysOff lists the year's exceptions to the Monday–Friday week, in date order: holidays,
// compensatory and swapped days off (including those that fall on a weekend, as announced) and
// make-up working days.
func (c *Calendar) DaysOff(year int) []Day {
	entries := c.yearEntries(year)
	days := make([]Day, 0, len(entries))
	for _, e := range entries {
		days = append(days, Day{Date: e.day.at(0), Off: e.off, Reason: e.reason})
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Date.Before(days[j].Date) })
	return days
}

func (c *Calendar) isWorkingDay(day civilDay) bool {
	if e, ok := c.yearEntries(day.year())[day]; ok {
		return !e.off
	}
	return !day.isWeekend()
}

// yearEntries returns the year's exceptions, computing them once per calendar.
func (c *Calendar) yearEntries(year int) map[civilDay]calendarEntry {
	if cached, ok := c.years.Load(year); ok {
		return cached.(map[civilDay]calendarEntry)
	}
	cached, _ := c.years.LoadOrStore(year, c.computeYear(year))
	return cached.(map[civilDay]calendarEntry)
}

// OnEarlierDay reports whether a falls on an earlier date than b, in Vietnam time.
func OnEarlierDay(a, b time.Time) bool {
	dayA, _ := splitInstant(a)
	dayB, _ := splitInstant(b)
	return dayA < dayB
}

// splitInstant returns the civil day of t in Vietnam time and the time elapsed since its midnight.
func splitInstant(t time.Time) (civilDay, time.Duration) {
	seconds := t.Unix() + vietnamOffsetSecond
	day := seconds / secondsPerDay
	if seconds%secondsPerDay < 0 {
		day--
	}
	clock := time.Duration(seconds-day*secondsPerDay)*time.Second + time.Duration(t.Nanosecond())
	return civilDay(day), clock
}

// civilDayOf returns the civil day of a Gregorian date.
func civilDayOf(year int, month time.Month, day int) civilDay {
	return civilDay(julianDayFromDate(year, int(month), day) - julianDayUnixEpoch)
}

// at returns the instant clock after the day's midnight, in Vietnam time.
func (d civilDay) at(clock time.Duration) time.Time {
	return time.Unix(int64(d)*secondsPerDay-vietnamOffsetSecond, 0).Add(clock).In(VietnamTime)
}

func (d civilDay) year() int {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Year()
}

func (d civilDay) weekday() time.Weekday {
	return time.Weekday(((int(d)+4)%7 + 7) % 7) // 1970-01-01 was a Thursday
}

// isWeekend reports a weekly rest day: the public sector works Monday to Friday (the 40-hour week
// of Quyết định 188/1999/QĐ-TTg).
func (d civilDay) isWeekend() bool {
	w := d.weekday()
	return w == time.Saturday || w == time.Sunday
}

func (d civilDay) String() string {
	return d.at(0).Format(time.DateOnly)
}
