package domain

import (
	"fmt"
	"strconv"
	"time"

	"github.com/motcua/motcua/domain/calendar"
)

// ResolutionTime is a procedure's statutory time limit (thời hạn giải quyết), as the national
// procedures database states it: exactly one of whole working days, working hours, or "within the
// day" (trong ngày) of receipt. Catalog entries and ProcedureRef carry its three keys flat.
type ResolutionTime struct {
	Days    int     `json:"resolution_days,omitempty"`
	Hours   float64 `json:"resolution_hours,omitempty"`
	SameDay bool    `json:"resolution_same_day,omitempty"`
}

// Bounds of a catalog's resolution time: longer limits are typos (the longest procedures in the
// national database run for months, not years).
const (
	maxResolutionDays  = 365
	maxResolutionHours = 80
)

// IsSet reports whether the limit has exactly one of its three forms.
func (t ResolutionTime) IsSet() bool {
	forms := 0
	for _, given := range []bool{t.Days != 0, t.Hours != 0, t.SameDay} {
		if given {
			forms++
		}
	}
	return forms == 1
}

// check validates a catalog entry's limit.
func (t ResolutionTime) check(v *Validation, at string) {
	switch {
	case !t.IsSet():
		v.Add(at+".resolution_days", "give exactly one of resolution_days, resolution_hours and resolution_same_day")
	case t.Days != 0:
		v.Check(t.Days > 0 && t.Days <= maxResolutionDays, at+".resolution_days", "must be between 1 and %d working days", maxResolutionDays)
	case t.Hours != 0:
		v.Check(t.Hours > 0 && t.Hours <= maxResolutionHours, at+".resolution_hours", "must be between 0 and %d working hours", maxResolutionHours)
	}
}

// WorkingTime is the limit as working time under cal: the days' or hours' working time, one working
// day for "within the day" (the most a same-day dossier can have, received at the day's start).
func (t ResolutionTime) WorkingTime(cal *calendar.Calendar) time.Duration {
	switch {
	case t.SameDay:
		return cal.WorkingDayLength()
	case t.Hours > 0:
		return hoursToDuration(t.Hours)
	}
	return time.Duration(t.Days) * cal.WorkingDayLength()
}

// String says the limit in words, for messages: "15 working days", "4 working hours", "within the day".
func (t ResolutionTime) String() string {
	switch {
	case t.SameDay:
		return "within the day"
	case t.Hours > 0:
		return strconv.FormatFloat(t.Hours, 'f', -1, 64) + " working hours"
	}
	return workingDays(t.Days)
}

// Values of Rules.AfterCutoffCountsFrom.
const (
	CountFromNextWorkingDay = "next_working_day"
	CountFromReceipt        = "receipt"
)

// Appointment returns the appointment (due) instant of a time limit that starts at start: the
// receipt, or the return of the completed dossier.
//
//   - Working days count from the next working moment, or, when the set says so
//     (AfterCutoffCountsFrom), from the start of the next working day for a dossier received on a
//     working day after the calendar's cut-off (15:00): practice, not law.
//   - Working hours count from the next working moment; the cut-off does not apply.
//   - "Within the day" ends with the working day of receipt; a dossier received after the cut-off
//     is due at the end of the next working day (the civil-status procedures' own rule).
func (r Rules) Appointment(cal *calendar.Calendar, limit ResolutionTime, start time.Time) time.Time {
	switch {
	case limit.SameDay:
		return cal.EndOfWorkingDay(cal.CountStart(start, true))
	case limit.Hours > 0:
		return cal.AddWorkingTime(cal.NextWorkingMoment(start), hoursToDuration(limit.Hours))
	}
	return cal.AddWorkingDays(cal.CountStart(start, r.AfterCutoffCountsFrom != CountFromReceipt), limit.Days)
}

// ApologyMaxExtension is the most an apology may move the appointment date, in working time: the
// set's percentage of the procedure's resolution time. Sets recorded before the key existed allow the
// whole resolution time.
func (r Rules) ApologyMaxExtension(cal *calendar.Calendar, limit ResolutionTime) time.Duration {
	percent := r.ApologyMaxExtensionPercent
	if percent == 0 {
		percent = 100
	}
	return limit.WorkingTime(cal) / 100 * time.Duration(percent)
}

// describeWorkingTime says a working time in days and hours of cal, for messages: "15 working days",
// "4 working hours", "1 working day and 2 working hours".
func describeWorkingTime(cal *calendar.Calendar, d time.Duration) string {
	day := cal.WorkingDayLength()
	days, rest := int(d/day), d%day
	hours := strconv.FormatFloat(rest.Hours(), 'f', -1, 64) + " working hours"
	switch {
	case rest == 0:
		return workingDays(days)
	case days == 0:
		return hours
	}
	return fmt.Sprintf("%s and %s", workingDays(days), hours)
}
