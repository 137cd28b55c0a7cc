package calendar

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// ParseConfig reads an agency calendar file (JSON) and returns the default calendar with
// the file's settings layered over it. Every field is optional:
//
//	{
//	  "sessions": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
//	  "cutoff": "15:00",
//	  "holidays": [
//	    {"holiday": "tet",
//	     "daysOff": [{"from": "2027-02-05", "to": "2027-02-14", "reason": "Tết Đinh Mùi break"}],
//	     "workDays": [{"date": "2027-02-20", "reason": "make-up for 2027-02-12"}]}
//	  ],
//	  "daysOff": [{"from": "2026-11-24", "reason": "Vietnamese Culture Day"}],
//	  "workDays": [{"date": "2026-11-28", "reason": "make-up working day"}]
//	}
//
// The fields:
//   - sessions: the working sessions of a working day, "HH:MM" local (Vietnam) time, in order and
//     not overlapping ("24:00" may end the last one); they replace 07:30–11:30 and 13:00–17:00.
//   - cutoff: receipts on a working day after this time count from the next working day
//     (default "15:00"); set it to the end of the last session to disable the rule.
//   - holidays: announcements. Each names a statutory holiday ("new-year", "tet", "hung-kings",
//     "april-30-may-1", "national-day") and the days off it takes in one year, replacing both the
//     statutory computation and any built-in announcement of that holiday in that year (several
//     entries for the same holiday and year are merged). Announced days are taken as given, so
//     include the weekend days and compensatory or swapped days of the break; workDays are the
//     make-up working days that pay back swapped days.
//   - daysOff: further days off, not tied to a statutory holiday (a local holiday, a new national
//     day such as 24/11). "to" defaults to "from".
//   - workDays: make-up working days; they win over any day off, so they can also cancel one.
//
// Dates are "YYYY-MM-DD" between 1900 and 2199; "reason" is optional everywhere. Unknown fields
// are rejected, so a misspelt key cannot be silently ignored. Errors are *ConfigError.
func ParseConfig(data []byte) (*Calendar, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	var file calendarFile
	if err := decoder.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %w", &ConfigError{Message: "the calendar file is not valid"}, err)
	}
	if decoder.More() {
		return nil, &ConfigError{Message: "the calendar file has data after its JSON object"}
	}
	var v validation
	cal := &Calendar{sessions: defaultSessions, cutoff: defaultCutoff}
	if len(file.Sessions) > 0 {
		cal.sessions = file.parseSessions(&v)
	}
	if file.Cutoff != "" {
		cal.cutoff = parseClock(&v, "cutoff", file.Cutoff)
	}
	configured := make(map[holidayYear]bool)
	var announcements []holidayAnnouncement
	for i, entry := range file.Holidays {
		a, ok := entry.parse(&v, fmt.Sprintf("holidays[%d]", i))
		if !ok {
			continue
		}
		configured[holidayYear{a.holiday, a.year}] = true
		announcements = append(announcements, a)
	}
	for _, a := range builtinAnnouncements() {
		if !configured[holidayYear{a.holiday, a.year}] {
			announcements = append(announcements, a)
		}
	}
	cal.announcements = mergeAnnouncements(announcements)
	for i, r := range file.DaysOff {
		cal.extraDaysOff = append(cal.extraDaysOff, r.parse(&v, fmt.Sprintf("daysOff[%d]", i), "Day off")...)
	}
	for i, w := range file.WorkDays {
		if e, ok := w.parse(&v, fmt.Sprintf("workDays[%d]", i), "Make-up working day"); ok {
			cal.extraWorkDays = append(cal.extraWorkDays, e)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(file)
	if err != nil {
		return nil, fmt.Errorf("encode calendar file: %w", err)
	}
	digest := sha256.Sum256(canonical)
	cal.version = builtinCalendarVersion + "+" + hex.EncodeToString(digest[:6])
	return cal, nil
}

// calendarFile is the JSON shape of an agency calendar file (see ParseConfig). It is
// re-encoded to fingerprint the configuration, so formatting changes keep the version.
type calendarFile struct {
	Sessions []sessionSpec      `json:"sessions,omitempty"`
	Cutoff   string             `json:"cutoff,omitempty"`
	Holidays []announcementSpec `json:"holidays,omitempty"`
	DaysOff  []dateRangeSpec    `json:"daysOff,omitempty"`
	WorkDays []workDaySpec      `json:"workDays,omitempty"`
}

type sessionSpec struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type announcementSpec struct {
	Holiday  string          `json:"holiday"`
	DaysOff  []dateRangeSpec `json:"daysOff"`
	WorkDays []workDaySpec   `json:"workDays,omitempty"`
}

type dateRangeSpec struct {
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type workDaySpec struct {
	Date   string `json:"date"`
	Reason string `json:"reason,omitempty"`
}

type holidayYear struct {
	holiday holiday
	year    int
}

// maxRangeDays bounds one range of days off: a longer one is surely a typo in a year.
const maxRangeDays = 31

var holidayNames = map[holiday]string{
	holidayNewYear:     "New Year's Day (Tết Dương lịch)",
	holidayTet:         "Lunar New Year (Tết Nguyên đán)",
	holidayHungKings:   "Hùng Kings' Commemoration Day (Giỗ Tổ Hùng Vương)",
	holidayApril30May1: "Reunification Day and Labour Day (30/4–1/5)",
	holidayNationalDay: "National Day (Quốc khánh)",
}

func (f calendarFile) parseSessions(v *validation) []workingSession {
	sessions := make([]workingSession, 0, len(f.Sessions))
	var previousEnd time.Duration
	for i, s := range f.Sessions {
		field := fmt.Sprintf("sessions[%d]", i)
		start := parseClock(v, field+".start", s.Start)
		end := parseClock(v, field+".end", s.End)
		v.Check(start < end, field, "must end after it starts")
		v.Check(i == 0 || start >= previousEnd, field, "must start after the previous session ends")
		previousEnd = end
		sessions = append(sessions, workingSession{start: start, end: end})
	}
	return sessions
}

func (s announcementSpec) parse(v *validation, field string) (holidayAnnouncement, bool) {
	h := holiday(s.Holiday)
	name, known := holidayNames[h]
	if !known {
		v.Add(field+".holiday", "must be one of new-year, tet, hung-kings, april-30-may-1, national-day")
		return holidayAnnouncement{}, false
	}
	if len(s.DaysOff) == 0 {
		v.Add(field+".daysOff", "must list the days off of the announced break")
		return holidayAnnouncement{}, false
	}
	a := holidayAnnouncement{holiday: h}
	for i, r := range s.DaysOff {
		a.daysOff = append(a.daysOff, r.parse(v, fmt.Sprintf("%s.daysOff[%d]", field, i), name+", announced")...)
	}
	for i, w := range s.WorkDays {
		if e, ok := w.parse(v, fmt.Sprintf("%s.workDays[%d]", field, i), "Make-up working day ("+name+")"); ok {
			a.workDays = append(a.workDays, e)
		}
	}
	if len(a.daysOff) == 0 {
		return holidayAnnouncement{}, false // the ranges were invalid and already reported
	}
	a.year = a.daysOff[0].day.year()
	for _, e := range slices.Concat(a.daysOff, a.workDays) {
		if e.day.year() != a.year {
			v.Add(field, "all days must be in the same year (%d), %s is not", a.year, e.day)
			return holidayAnnouncement{}, false
		}
	}
	return a, true
}

func (r dateRangeSpec) parse(v *validation, field, defaultReason string) []calendarEntry {
	from, okFrom := parseDate(v, field+".from", r.From)
	to, okTo := from, okFrom
	if r.To != "" {
		to, okTo = parseDate(v, field+".to", r.To)
	}
	if !okFrom || !okTo {
		return nil
	}
	if to < from || to-from >= maxRangeDays {
		v.Add(field, "must run forwards and span at most %d days", maxRangeDays)
		return nil
	}
	reason := r.Reason
	if reason == "" {
		reason = defaultReason
	}
	days := make([]calendarEntry, 0, to-from+1)
	for d := from; d <= to; d++ {
		days = append(days, calendarEntry{day: d, off: true, reason: reason})
	}
	return days
}

func (w workDaySpec) parse(v *validation, field, defaultReason string) (calendarEntry, bool) {
	day, ok := parseDate(v, field+".date", w.Date)
	reason := w.Reason
	if reason == "" {
		reason = defaultReason
	}
	return calendarEntry{day: day, off: false, reason: reason}, ok
}

// mergeAnnouncements joins the announcements of the same holiday and year into one.
func mergeAnnouncements(list []holidayAnnouncement) []holidayAnnouncement {
	index := make(map[holidayYear]int)
	var merged []holidayAnnouncement
	for _, a := range list {
		key := holidayYear{a.holiday, a.year}
		if i, seen := index[key]; seen {
			merged[i].daysOff = append(merged[i].daysOff, a.daysOff...)
			merged[i].workDays = append(merged[i].workDays, a.workDays...)
			continue
		}
		index[key] = len(merged)
		merged = append(merged, a)
	}
	return merged
}

// parseClock parses "HH:MM" (00:00–24:00) as an offset from midnight.
func parseClock(v *validation, field, text string) time.Duration {
	if text == "24:00" {
		return 24 * time.Hour
	}
	clock, err := time.Parse("15:04", text)
	if err != nil {
		v.Add(field, "must be a time of day HH:MM, got %q", text)
		return 0
	}
	return time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute
}

// parseDate parses "YYYY-MM-DD" as a civil day; the lunar rules are checked for 1900–2199 only.
func parseDate(v *validation, field, text string) (civilDay, bool) {
	t, err := time.Parse(time.DateOnly, text)
	if err != nil || t.Year() < 1900 || t.Year() > 2199 {
		v.Add(field, "must be a date YYYY-MM-DD between 1900 and 2199, got %q", text)
		return 0, false
	}
	return civilDayOf(t.Year(), t.Month(), t.Day()), true
}
