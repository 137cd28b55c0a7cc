package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCalendarCommandPrintsDaysOffAndMakeUpDays(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runCalendar([]string{"2026"}, &stdout, &stderr); err != nil {
		t.Fatalf("runCalendar: %v (stderr: %s)", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	for _, want := range []string{
		"2026-01-02\toff\t",  // the swapped day of New Year 2026
		"2026-01-10\twork\t", // made up on Saturday 10/01
		"2026-02-14\toff\t",  // first day of the Tết break
		"2026-04-27\toff\tCompensatory day for 2026-04-26",
		"2026-09-02\toff\t",
	} {
		if !slices.ContainsFunc(lines, func(line string) bool { return strings.HasPrefix(line, want) }) {
			t.Errorf("no line starting %q in:\n%s", want, stdout.String())
		}
	}
	for _, line := range lines {
		if fields := strings.Split(line, "\t"); len(fields) != 3 || len(fields[0]) != 10 || fields[2] == "" {
			t.Errorf("line %q is not YYYY-MM-DD<TAB>off|work<TAB>reason", line)
		}
	}
}

func TestCalendarCommandReadsTheAgencyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agency-calendar.json")
	file := `{"daysOff": [{"from": "2027-11-24", "reason": "Vietnamese Culture Day"}]}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"2027", "--agency-file", path}, {"--agency-file", path, "2027"}} {
		var stdout, stderr bytes.Buffer
		if err := runCalendar(args, &stdout, &stderr); err != nil {
			t.Fatalf("runCalendar(%q): %v", args, err)
		}
		if !strings.Contains(stdout.String(), "2027-11-24\toff\tVietnamese Culture Day\n") {
			t.Errorf("runCalendar(%q) output lacks the agency's day off:\n%s", args, stdout.String())
		}
	}
}

func TestCalendarCommandRejectsBadInput(t *testing.T) {
	badFile := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badFile, []byte(`{"cutof": "15:00"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no year", nil, "exactly one YEAR"},
		{"two years", []string{"2026", "2027"}, "exactly one YEAR"},
		{"not a year", []string{"next"}, "from 1900 to 2199"},
		{"outside the lunar table", []string{"2200"}, "from 1900 to 2199"},
		{"missing file", []string{"2026", "--agency-file", filepath.Join(t.TempDir(), "none.json")}, "no such file"},
		{"misspelt key", []string{"2026", "--agency-file", badFile}, `unknown field "cutof"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runCalendar(tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("runCalendar(%q) error = %v, want one containing %q", tt.args, err, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("nothing should be printed on error, got %q", stdout.String())
			}
		})
	}
}
