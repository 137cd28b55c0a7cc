package calendar

import (
	"fmt"
	"testing"
)

// TestAppointmentOnTrickyMoments computes appointment dates by hand for receipts at the moments
// that go wrong in practice, with the default calendar: sessions 07:30–11:30 and 13:00–17:00
// (a working day = 8 h), cut-off 15:00, and the announced 2026 breaks.
func TestAppointmentOnTrickyMoments(t *testing.T) {
	cal := Default()
	tests := []struct {
		name       string
		receivedAt string
		days       int
		want       string
		reasoning  string
	}{
		{
			name: "Friday 16:55", receivedAt: "2026-03-06 16:55", days: 3, want: "2026-03-11 17:00",
			reasoning: "16:55 is after the 15:00 cut-off, so the count starts on the next working day, " +
				"Monday 09/03 at 07:30. Three days of 8 h end at Mon 17:00, Tue 17:00 and Wed 11/03 17:00.",
		},
		{
			name: "Friday 14:00, before the cut-off", receivedAt: "2026-03-06 14:00", days: 3, want: "2026-03-11 14:00",
			reasoning: "Before the cut-off the count starts at once: 3 h on Friday (14:00–17:00), " +
				"then Mon 8 h and Tue 8 h make 19 h, and the last 5 h run Wed 07:30–11:30 + 13:00–14:00.",
		},
		{
			name: "the day before Tết, morning", receivedAt: "2026-02-13 10:00", days: 1, want: "2026-02-23 10:00",
			reasoning: "Friday 13/02 is the last working day before the 14–22/02 break. Friday gives " +
				"1.5 h (10:00–11:30) + 4 h (13:00–17:00) = 5.5 h; the other 2.5 h are 07:30–10:00 on " +
				"Monday 23/02, the first working day after Tết.",
		},
		{
			name: "the day before Tết, after the cut-off", receivedAt: "2026-02-13 15:30", days: 1, want: "2026-02-23 17:00",
			reasoning: "15:30 is after the cut-off: the count starts on the next working day, Monday " +
				"23/02 07:30, and one day ends at 17:00 the same day.",
		},
		{
			name: "a make-up Saturday", receivedAt: "2026-01-10 09:00", days: 2, want: "2026-01-13 09:00",
			reasoning: "Saturday 10/01/2026 is worked in exchange for Friday 02/01, so the count starts at " +
				"09:00: 2.5 h + 4 h = 6.5 h on Saturday, 8 h on Monday 12/01 (14.5 h), and the last " +
				"1.5 h are 07:30–09:00 on Tuesday 13/01. On an ordinary Saturday it would be Wed 14/01.",
		},
		{
			name: "a make-up Saturday after the cut-off", receivedAt: "2026-08-22 15:30", days: 1, want: "2026-08-24 17:00",
			reasoning: "Saturday 22/08/2026 is a working day, so the cut-off applies as on any working day: " +
				"the count starts on Monday 24/08 07:30 and one day ends at 17:00.",
		},
		{
			name: "15:01", receivedAt: "2026-03-10 15:01", days: 1, want: "2026-03-11 17:00",
			reasoning: "One minute after the cut-off: the count starts on Wednesday 11/03 at 07:30 and " +
				"ends at 17:00.",
		},
		{
			name: "15:00 exactly", receivedAt: "2026-03-10 15:00", days: 1, want: "2026-03-11 15:00",
			reasoning: "Not after the cut-off: 2 h on Tuesday (15:00–17:00), then 4 h in the morning " +
				"and 2 h (13:00–15:00) on Wednesday: two hours earlier than at 15:01.",
		},
		{
			name: "a compensatory day off", receivedAt: "2026-04-27 08:00", days: 1, want: "2026-04-28 17:00",
			reasoning: "Monday 27/04/2026 makes good Hùng Kings' day, which fell on Sunday 26/04; the " +
				"dossier counts from Tuesday 28/04 07:30, so one day ends at 17:00.",
		},
		{
			name: "lunch break", receivedAt: "2026-03-10 12:00", days: 1, want: "2026-03-11 11:30",
			reasoning: "During the lunch break the count starts when the afternoon session opens, 13:00: " +
				"4 h on Tuesday afternoon and 4 h on Wednesday morning end at 11:30, the end of the " +
				"session (the earliest instant; 13:00 is the same point in working time).",
		},
		{
			name: "before the 30/4 break of 2025", receivedAt: "2025-04-29 16:00", days: 2, want: "2025-05-06 17:00",
			reasoning: "Tuesday 29/04/2025 16:00 is after the cut-off; 30/04–04/05 is the announced break " +
				"(Friday 02/05 swapped), so the count starts Monday 05/05 07:30 and two days end on " +
				"Tuesday 06/05 at 17:00.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AppointmentFrom(at(t, tt.receivedAt), tt.days)
			if !got.Equal(at(t, tt.want)) {
				t.Errorf("AppointmentFrom(%s, %d) = %s, want %s\nreasoning: %s", tt.receivedAt, tt.days,
					got.Format("Mon 2006-01-02 15:04"), tt.want, tt.reasoning)
			}
		})
	}
}

// TestAppointmentWithAgencyCutoff shows that the cut-off and the sessions come from the agency file.
func TestAppointmentWithAgencyCutoff(t *testing.T) {
	cal, err := ParseConfig([]byte(`{
		"sessions": [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}],
		"cutoff": "16:00"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		receivedAt, want string
		reasoning        string
	}{
		{"2026-03-10 15:30", "2026-03-11 15:30", "before this agency's 16:00 cut-off: 1.5 h on Tuesday, 4.5 h + 2 h on Wednesday"},
		{"2026-03-10 16:01", "2026-03-11 17:00", "after the cut-off: from Wednesday 07:00, 4.5 h + 3.5 h = 8 h ends at 17:00"},
	}
	for _, tt := range tests {
		got := cal.AppointmentFrom(at(t, tt.receivedAt), 1)
		if !got.Equal(at(t, tt.want)) {
			t.Errorf("AppointmentFrom(%s, 1) = %s, want %s (%s)", tt.receivedAt, got.Format("2006-01-02 15:04"), tt.want, tt.reasoning)
		}
	}
	if got := fmt.Sprint(cal.WorkingDayLength()); got != "8h0m0s" {
		t.Errorf("WorkingDayLength() = %s, want 8h0m0s", got)
	}
}
