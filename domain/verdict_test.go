package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func readyAt(at time.Time) domain.ResultReady {
	r := resultReady()
	r.ReadyAt = at
	return r
}

// TestLegalAndIndicatorVerdicts judges the fixture dossier (received Monday 10/3/2025 08:00, due
// Monday 31/3 08:00) under both rules. A supplement requested Tuesday 11/3 10:00 and answered
// Thursday 13/3 10:00 restarts the legal count (due Thursday 3/4 10:00) while the indicator moves the
// receipt's date by the 16 h waited (due Wednesday 2/4 08:00).
func TestLegalAndIndicatorVerdicts(t *testing.T) {
	processing := []domain.Event{received(), transferred()}
	signedOff := func(history []domain.Event, at time.Time) []domain.Event {
		return extend(history, appraised(domain.ConclusionApprove), signed(), readyAt(at))
	}
	supplementedOnce := []domain.Event{received(), transferred(), supplementRequested(), supplemented()}
	secondRequest := supplementRequested()
	secondRequest.RequestNumber, secondRequest.RequestedAt = 2, vn(2025, time.March, 17, 9, 0)
	secondSupplement := domain.Supplemented{SupplementedAt: vn(2025, time.March, 18, 9, 0), WaitingTime: 8 * time.Hour,
		OldAppointmentDate: supplemented().NewAppointmentDate, NewAppointmentDate: vn(2025, time.April, 8, 9, 0),
		NewIndicatorDueDate: vn(2025, time.April, 3, 8, 0), CalendarVersion: cal.Version()}
	supplementedTwice := extend(supplementedOnce, secondRequest, secondSupplement)
	late := vn(2025, time.April, 15, 9, 0)

	cases := []struct {
		name             string
		history          []domain.Event
		now              time.Time
		legal, indicator domain.Timeliness
		reason           string
	}{
		{"resolved days before the due date", signedOff(processing, vn(2025, time.March, 13, 9, 0)), late, domain.TimelinessEarly, domain.TimelinessEarly, ""},
		{"resolved on the due day, before the hour", signedOff(processing, vn(2025, time.March, 31, 7, 45)), late, domain.TimelinessOnTime, domain.TimelinessOnTime, ""},
		{"resolved an hour late", signedOff(processing, vn(2025, time.March, 31, 9, 0)), late, domain.TimelinessLate, domain.TimelinessLate, ""},
		{"open before the due date", processing, vn(2025, time.March, 28, 9, 0), domain.TimelinessWithinTime, domain.TimelinessWithinTime, ""},
		{"open after the due date", processing, late, domain.TimelinessOverdue, domain.TimelinessOverdue, ""},
		// The apology moved the promised date to 4/4, yet a result on 2/4 is late: it admits lateness.
		{"resolved after the due date, within the apology's date", signedOff(extend(processing, apologyIssued()), vn(2025, time.April, 2, 9, 0)),
			late, domain.TimelinessLate, domain.TimelinessLate, ""},
		// The two rules part: 2/4 15:00 is before the restarted legal date, after the indicator's.
		{"resolved between the indicator's and the legal date", signedOff(supplementedOnce, vn(2025, time.April, 2, 15, 0)), late,
			domain.TimelinessEarly, domain.TimelinessLate, ""},
		{"resolved before both dates", signedOff(supplementedOnce, vn(2025, time.April, 1, 15, 0)), late, domain.TimelinessEarly, domain.TimelinessEarly, ""},
		{"asked twice, resolved early", signedOff(supplementedTwice, vn(2025, time.March, 20, 9, 0)), late,
			domain.TimelinessEarly, domain.TimelinessLate, "2 supplement requests; more than 1 counts as late"},
		{"asked twice, still open", supplementedTwice, vn(2025, time.March, 20, 9, 0), domain.TimelinessWithinTime, domain.TimelinessOverdue, "2 supplement requests"},
		// Paused clocks are judged when they stopped, not now.
		{"waiting for the applicant long after the due date", extend(processing, supplementRequested()), late,
			domain.TimelinessWithinTime, domain.TimelinessWithinTime, ""},
		{"suspended long after the due date", extend(processing, suspended()), late, domain.TimelinessWithinTime, domain.TimelinessWithinTime, ""},
		{"rejected in time", extend(processing, appraised(domain.ConclusionReject), rejected()), late, domain.TimelinessEarly, domain.TimelinessEarly, ""},
		{"withdrawn", historyIn(domain.StatusWithdrawn), late, domain.TimelinessNotJudged, domain.TimelinessNotJudged, ""},
		{"refused at the desk", historyIn(domain.StatusReceptionRefused), late, domain.TimelinessNotJudged, domain.TimelinessNotJudged, ""},
		{"not yet received", []domain.Event{submitted()}, late, domain.TimelinessNotJudged, domain.TimelinessNotJudged, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := domain.Fold(tc.history...)
			legal, indicator := d.LegalVerdict(tc.now), d.IndicatorVerdict(tc.now)
			if legal.Timeliness != tc.legal || indicator.Timeliness != tc.indicator {
				t.Errorf("legal %+v, indicator %+v; want %s and %s", legal, indicator, tc.legal, tc.indicator)
			}
			if !strings.Contains(indicator.Reason, tc.reason) || (tc.reason == "" && indicator.Reason != "") {
				t.Errorf("indicator reason %q, want %q", indicator.Reason, tc.reason)
			}
		})
	}

	d := domain.Fold(supplementedOnce...)
	if legal := d.LegalVerdict(late); !legal.DueDate.Equal(vn(2025, time.April, 3, 10, 0)) || !legal.JudgedAt.Equal(late) {
		t.Errorf("legal verdict %+v", legal)
	}
	if indicator := d.IndicatorVerdict(late); !indicator.DueDate.Equal(vn(2025, time.April, 2, 8, 0)) {
		t.Errorf("indicator verdict %+v", indicator)
	}
	if v := domain.Fold(extend(processing, suspended())...).LegalVerdict(late); !v.JudgedAt.Equal(suspended().SuspendedAt) {
		t.Errorf("a suspended dossier is judged at %v, want the suspension", v.JudgedAt)
	}
}

// Resuming moves the appointment, the legal due date and the indicator's by the paused time; after
// an apology the appointment is the apology's date, but the due dates are not.
func TestResumeMovesEveryDueDate(t *testing.T) {
	given := extend([]domain.Event{received(), transferred()}, apologyIssued(), domain.Suspended{Reason: "Chờ xác minh", SuspendedAt: vn(2025, time.March, 14, 16, 0)})
	// Friday 16:00–17:00 and Monday 07:30–08:30: 2 h.
	events, err := domain.Decide(domain.Fold(given...), domain.Resume{At: vn(2025, time.March, 17, 8, 30), Calendar: cal})
	if err != nil {
		t.Fatal(err)
	}
	e := events[0].(domain.Resumed)
	if !e.NewAppointmentDate.Equal(vn(2025, time.April, 8, 9, 30)) || !e.NewDueDate.Equal(vn(2025, time.March, 31, 10, 0)) ||
		!e.NewIndicatorDueDate.Equal(vn(2025, time.March, 31, 10, 0)) {
		t.Errorf("resumed %+v; want the apology's 4/4 17:00 moved to Tuesday 8/4 09:30 (Monday is Hùng Kings' day), the due dates to 31/3 10:00", e)
	}
	d := domain.Fold(extend(given, e)...)
	if !d.DueDate.Equal(e.NewDueDate) || !d.IndicatorDueDate.Equal(e.NewIndicatorDueDate) || !d.AppointmentDate.Equal(e.NewAppointmentDate) {
		t.Errorf("folded: due %v, indicator %v, appointment %v", d.DueDate, d.IndicatorDueDate, d.AppointmentDate)
	}
}

func TestLateAcceptances(t *testing.T) {
	deadline := submitted().AcceptanceDeadline // Monday 10/3 17:00: 8 h from Monday 07:30 for a Sunday filing
	receivedLate := received()
	receivedLate.Channel, receivedLate.ReceivedAt = domain.ChannelOnline, vn(2025, time.March, 11, 9, 0)
	cases := []struct {
		name    string
		history []domain.Event
		now     time.Time
		late    int
	}{
		{"accepted in time", []domain.Event{submitted(), received()}, now, 0},
		{"accepted the next morning", []domain.Event{submitted(), receivedLate}, now, 1},
		{"not answered yet, still in time", []domain.Event{submitted()}, vn(2025, time.March, 10, 16, 59), 0},
		{"not answered past the deadline", []domain.Event{submitted()}, vn(2025, time.March, 10, 17, 1), 1},
		{"refused in time", []domain.Event{submitted(), refused()}, now, 0},
		{"withdrawn before anyone answered", []domain.Event{submitted(), domain.Withdrawn{Reason: "Nộp nhầm", WithdrawnAt: vn(2025, time.March, 12, 9, 0)}}, now, 1},
		{"a desk dossier has no window", []domain.Event{received()}, now, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := domain.Fold(tc.history...)
			got := d.LateAcceptances(tc.now)
			if len(got) != tc.late {
				t.Fatalf("LateAcceptances = %+v, want %d", got, tc.late)
			}
			for _, w := range got {
				if !w.Deadline.Equal(deadline) {
					t.Errorf("window %+v", w)
				}
			}
		})
	}
	if w := domain.Fold(submitted(), receivedLate).AcceptanceWindows[0]; w.Answer != "received" || !w.AnsweredAt.Equal(receivedLate.ReceivedAt) {
		t.Errorf("window %+v", w)
	}
}
