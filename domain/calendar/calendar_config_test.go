package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseCalendarConfigLayersOverTheDefault(t *testing.T) {
	cal, err := ParseConfig([]byte(`{
		"holidays": [
			{"holiday": "tet",
			 "daysOff": [{"from": "2027-02-04", "to": "2027-02-14", "reason": "Tết Đinh Mùi break (announced)"}],
			 "workDays": [{"date": "2027-02-20", "reason": "make-up for Thursday 04/02"}]},
			{"holiday": "national-day", "daysOff": [{"from": "2026-09-01", "to": "2026-09-02"}]}
		],
		"daysOff": [{"from": "2026-11-24", "reason": "Vietnamese Culture Day"}],
		"workDays": [{"date": "2026-12-31", "reason": "year-end reporting"}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		day     string
		working bool
		why     string
	}{
		{"2027-02-04", false, "the announced Tết range starts on Thursday 04/02"},
		{"2027-02-10", false, "inside the announced range"},
		{"2027-02-15", true, "the announced range replaces the statutory compensatory days (10–11/02)"},
		{"2027-02-20", true, "a make-up Saturday of the announcement"},
		{"2027-04-16", false, "Hùng Kings' day still follows the statutory rule"},
		{"2026-08-31", true, "the file's 2/9/2026 announcement replaces the built-in one and its swap"},
		{"2026-08-22", false, "the built-in make-up Saturday left with the replaced 2/9 announcement"},
		{"2026-09-01", false, "the file's announcement"},
		{"2026-11-24", false, "an extra day off"},
		{"2026-12-31", true, "a working day anyway (the file's work day changes nothing)"},
		{"2026-02-16", false, "the built-in Tết 2026 range is kept: the file does not announce Tết 2026"},
	}
	for _, tt := range tests {
		if got := cal.IsWorkingDay(at(t, tt.day+" 09:00")); got != tt.working {
			t.Errorf("IsWorkingDay(%s) = %v, want %v: %s", tt.day, got, tt.working, tt.why)
		}
	}
	var reasons []string
	for _, d := range cal.DaysOff(2027) {
		if d.Date.Month() == time.February {
			reasons = append(reasons, d.Date.Format(time.DateOnly)+" "+d.Reason)
		}
	}
	joined := strings.Join(reasons, "\n")
	if !strings.Contains(joined, "2027-02-04 Tết Đinh Mùi break (announced)") ||
		!strings.Contains(joined, "2027-02-20 make-up for Thursday 04/02") ||
		strings.Contains(joined, "Compensatory") {
		t.Errorf("February 2027 days off:\n%s", joined)
	}
}

func TestParseCalendarConfigMayCancelADayOff(t *testing.T) {
	cal, err := ParseConfig([]byte(`{"workDays": [{"date": "2027-09-03", "reason": "agency works the adjacent day"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !cal.IsWorkingDay(at(t, "2027-09-03 09:00")) {
		t.Error("a work day in the file must override the statutory day off")
	}
	if Default().IsWorkingDay(at(t, "2027-09-03 09:00")) {
		t.Error("the default calendar must be left unchanged")
	}
}

func TestCalendarVersion(t *testing.T) {
	parse := func(text string) string {
		t.Helper()
		cal, err := ParseConfig([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return cal.Version()
	}
	if got := Default().Version(); got != builtinCalendarVersion {
		t.Errorf("default version = %q, want %q", got, builtinCalendarVersion)
	}
	compact := parse(`{"cutoff":"16:00"}`)
	spaced := parse("{\n  \"cutoff\": \"16:00\"\n}\n")
	other := parse(`{"cutoff":"15:30"}`)
	if !strings.HasPrefix(compact, builtinCalendarVersion+"+") {
		t.Errorf("version %q must start with the built-in rules' version", compact)
	}
	if compact != spaced {
		t.Errorf("formatting changed the version: %q vs %q", compact, spaced)
	}
	if compact == other {
		t.Errorf("a different cut-off must give a different version, both %q", compact)
	}
}

func TestParseCalendarConfigRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name, file, field string // field: expected in the error ("" when it is a JSON error)
	}{
		{"not JSON", `{"cutoff": `, ""},
		{"unknown field", `{"cutof": "15:00"}`, ""},
		{"trailing data", `{} {}`, ""},
		{"bad time", `{"cutoff": "3pm"}`, "cutoff"},
		{"session ends before it starts", `{"sessions": [{"start": "11:30", "end": "07:30"}]}`, "sessions[0]"},
		{"overlapping sessions", `{"sessions": [{"start": "07:30", "end": "12:00"}, {"start": "11:00", "end": "17:00"}]}`, "sessions[1]"},
		{"unknown holiday", `{"holidays": [{"holiday": "christmas", "daysOff": [{"from": "2027-12-25"}]}]}`, "holidays[0].holiday"},
		{"announcement without days", `{"holidays": [{"holiday": "tet", "daysOff": []}]}`, "holidays[0].daysOff"},
		{"announcement over two years", `{"holidays": [{"holiday": "new-year", "daysOff": [{"from": "2026-12-31", "to": "2027-01-01"}]}]}`, "holidays[0]"},
		{"range backwards", `{"daysOff": [{"from": "2027-01-05", "to": "2027-01-01"}]}`, "daysOff[0]"},
		{"range too long", `{"daysOff": [{"from": "2027-01-01", "to": "2027-12-31"}]}`, "daysOff[0]"},
		{"bad date", `{"workDays": [{"date": "2027-02-30"}]}`, "workDays[0].date"},
		{"year out of range", `{"workDays": [{"date": "2200-01-03"}]}`, "workDays[0].date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.file))
			var appErr *ConfigError
			if !errors.As(err, &appErr) {
				t.Fatalf("error = %v, want a *ConfigError", err)
			}
			if tt.field == "" {
				return
			}
			for _, f := range appErr.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Errorf("error %v does not name field %q", err, tt.field)
		})
	}
}
