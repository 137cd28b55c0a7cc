package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func timeTransitions() []transitionCase {
	apology := domain.IssueApology{Reason: "Chờ ý kiến của Sở Xây dựng", NewAppointmentDate: apologyDate, At: now, Calendar: cal}
	apologised := domain.ApologyIssued{
		Reason: apology.Reason, OldAppointmentDate: appointment, NewAppointmentDate: apologyDate, IssuedAt: now,
		LatestAllowedDate: apologyLatest, CalendarVersion: cal.Version(), RulesVersion: domain.RulesND61,
	}
	suspend := domain.Suspend{Reason: suspended().Reason, At: now}
	suspendedNow := domain.Suspended{Reason: suspended().Reason, SuspendedAt: now}
	withdraw := domain.Withdraw{Reason: withdrawn().Reason, At: now}
	withdrawnNow := domain.Withdrawn{Reason: withdrawn().Reason, WithdrawnAt: now}

	var cases []transitionCase
	for _, status := range []domain.Status{domain.StatusReceived, domain.StatusProcessing, domain.StatusAwaitingPayment} {
		cases = append(cases,
			transitionCase{name: "apologise while " + string(status), given: historyIn(status), when: apology, then: []domain.Event{apologised}},
			transitionCase{name: "suspend while " + string(status), given: historyIn(status), when: suspend, then: []domain.Event{suspendedNow}},
		)
	}
	for _, status := range domain.Allowed[domain.ActionWithdraw] {
		cases = append(cases, transitionCase{
			name: "withdraw while " + string(status), given: historyIn(status), when: withdraw, then: []domain.Event{withdrawnNow},
		})
	}
	return append(cases, transitionCase{
		// Suspended Tuesday 11/3 14:00, resumed Thursday 13/3 14:00: two full working days, 16 h. The
		// appointment, Monday 31/3 08:00, moves by as much: 7.5 h on Monday, 8 h on Tuesday 1/4, 0.5 h
		// from Wednesday 2/4 07:30.
		name:  "resume a suspended dossier",
		given: extend(historyIn(domain.StatusProcessing), suspended()),
		when:  domain.Resume{At: vn(2025, time.March, 13, 14, 0), Calendar: cal},
		then: []domain.Event{domain.Resumed{
			ResumedAt: vn(2025, time.March, 13, 14, 0), PausedWorkingTime: 16 * time.Hour,
			OldAppointmentDate: appointment, NewAppointmentDate: vn(2025, time.April, 2, 8, 0), CalendarVersion: cal.Version(),
			// No apology and no supplement: the due dates were the appointment, and move with it.
			NewDueDate: vn(2025, time.April, 2, 8, 0), NewIndicatorDueDate: vn(2025, time.April, 2, 8, 0), RulesVersion: domain.RulesND61,
		}},
	})
}

func TestDecideTimeTransitions(t *testing.T) {
	runTransitions(t, timeTransitions())
}

func TestResumeMovesTheAppointmentByThePausedWorkingTime(t *testing.T) {
	cases := []struct {
		name                 string
		suspendedAt, resumed time.Time
		paused               time.Duration
		newAppointment       time.Time
	}{
		{"over two days", vn(2025, time.March, 11, 14, 0), vn(2025, time.March, 13, 14, 0), 16 * time.Hour, vn(2025, time.April, 2, 8, 0)},
		// Friday 16:00–17:00 and Monday 07:30–08:30: 2 h; Monday 31/3 08:00 + 2 h = 10:00.
		{"over a weekend", vn(2025, time.March, 14, 16, 0), vn(2025, time.March, 17, 8, 30), 2 * time.Hour, vn(2025, time.March, 31, 10, 0)},
		// Saturday to Sunday: no working time passes, the appointment stays.
		{"within a weekend", vn(2025, time.March, 15, 9, 0), vn(2025, time.March, 16, 9, 0), 0, appointment},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			given := extend(historyIn(domain.StatusProcessing), domain.Suspended{Reason: "Chờ xác minh", SuspendedAt: tc.suspendedAt})
			events, err := domain.Decide(domain.Fold(given...), domain.Resume{At: tc.resumed, Calendar: cal})
			if err != nil {
				t.Fatal(err)
			}
			e := events[0].(domain.Resumed)
			if e.PausedWorkingTime != tc.paused || !e.NewAppointmentDate.Equal(tc.newAppointment) || !e.OldAppointmentDate.Equal(appointment) {
				t.Errorf("paused %v, appointment %v → %v; want %v, → %v", e.PausedWorkingTime, e.OldAppointmentDate, e.NewAppointmentDate, tc.paused, tc.newAppointment)
			}
			if want := cal.AddWorkingTime(appointment, cal.WorkingTimeBetween(tc.suspendedAt, tc.resumed)); !e.NewAppointmentDate.Equal(want) {
				t.Errorf("new appointment %v, calendar says %v", e.NewAppointmentDate, want)
			}
			d := domain.Fold(extend(given, e)...)
			if d.Status != domain.StatusProcessing || !d.AppointmentDate.Equal(tc.newAppointment) || !d.SuspendedAt.IsZero() {
				t.Errorf("after resuming: %s, appointment %v, suspended at %v", d.Status, d.AppointmentDate, d.SuspendedAt)
			}
		})
	}
}

func TestApologyMovesTheAppointmentOnce(t *testing.T) {
	given := extend(historyIn(domain.StatusProcessing), apologyIssued())
	d := domain.Fold(given...)
	if !d.AppointmentDate.Equal(apologyDate) || !d.FirstAppointment.Equal(appointment) || d.Apology == nil {
		t.Fatalf("after the apology: appointment %v, first %v, apology %+v", d.AppointmentDate, d.FirstAppointment, d.Apology)
	}
	second := domain.IssueApology{Reason: "Vẫn chờ ý kiến", NewAppointmentDate: apologyDate.AddDate(0, 0, 7), At: now, Calendar: cal}
	te := thenRefused(t, given, second)
	if !strings.Contains(te.Reason, "only once") || !strings.Contains(te.Reason, "12/03/2025") {
		t.Errorf("reason %q does not say when the first apology was issued and that it is allowed once", te.Reason)
	}
}

func TestApologyAtLeastOneWorkingDayBeforeTheDueDate(t *testing.T) {
	// The appointment is Monday 31/3 08:00. NĐ 61 art. 19 says "chậm nhất 01 ngày trước ngày hết
	// hạn": a day, not 8 working hours, so the whole of Friday 28/3 is in time even though less than
	// a working day of hours remains; the weekend and Monday itself are not.
	cases := []struct {
		name    string
		at      time.Time
		allowed bool
	}{
		{"a week before", vn(2025, time.March, 24, 8, 0), true},
		{"the working day before, in the morning", vn(2025, time.March, 28, 8, 1), true},
		{"the working day before, at the end of the day", vn(2025, time.March, 28, 16, 59), true},
		{"on the weekend before", vn(2025, time.March, 29, 9, 0), false},
		{"on the due day, before the due hour", vn(2025, time.March, 31, 7, 30), false},
		{"after the appointment", vn(2025, time.March, 31, 9, 0), false},
	}
	given := historyIn(domain.StatusProcessing)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			when := domain.IssueApology{Reason: "Chờ ý kiến của Sở Xây dựng", NewAppointmentDate: apologyDate, At: tc.at, Calendar: cal}
			if tc.allowed {
				thenEvents(t, given, when, domain.ApologyIssued{
					Reason: when.Reason, OldAppointmentDate: appointment, NewAppointmentDate: apologyDate, IssuedAt: tc.at,
					LatestAllowedDate: apologyLatest, CalendarVersion: cal.Version(), RulesVersion: domain.RulesND61,
				})
				return
			}
			te := thenRefused(t, given, when)
			if !strings.Contains(te.Reason, "one working day before") || !strings.Contains(te.Reason, "28/03/2025") {
				t.Errorf("reason %q does not name the rule and the last day, Friday 28/03/2025", te.Reason)
			}
		})
	}
}

func TestApologyNewDateIsBoundedByTheResolutionTime(t *testing.T) {
	// The procedure takes 15 working days; the appointment is Monday 31/3 08:00, so an apology may
	// promise at most Tuesday 22/4 08:00 (Hùng Kings' day, 7/4, is off).
	processing := historyIn(domain.StatusProcessing)
	apologise := func(date time.Time, days int) domain.IssueApology {
		return domain.IssueApology{Reason: "Chờ ý kiến của Sở Xây dựng", NewAppointmentDate: date, ExtraWorkingDays: days, At: now, Calendar: cal}
	}
	runInvalid(t, []invalidCase{
		{"a date far in the future", processing, apologise(vn(9999, time.December, 31, 8, 0), 0), []string{"new_appointment_date"}},
		{"one minute past the bound", processing, apologise(apologyLatest.Add(time.Minute), 0), []string{"new_appointment_date"}},
		{"a billion working days", processing, apologise(time.Time{}, 1_000_000_000), []string{"extra_working_days"}},
		{"one working day more than the procedure's time", processing, apologise(time.Time{}, 16), []string{"extra_working_days"}},
		{"negative working days", processing, apologise(time.Time{}, -3), []string{"extra_working_days"}},
		{"both a date and working days", processing, apologise(apologyDate, 2), []string{"extra_working_days"}},
		{"a Sunday", processing, apologise(vn(2025, time.April, 6, 9, 0), 0), []string{"new_appointment_date"}},
		{"Hùng Kings' day", processing, apologise(vn(2025, time.April, 7, 9, 0), 0), []string{"new_appointment_date"}},
		{"the lunch break", processing, apologise(vn(2025, time.April, 3, 12, 0), 0), []string{"new_appointment_date"}},
		{"the evening", processing, apologise(vn(2025, time.April, 3, 19, 0), 0), []string{"new_appointment_date"}},
	})
	t.Run("the bound itself and whole working days up to it are allowed", func(t *testing.T) {
		for _, when := range []domain.IssueApology{apologise(apologyLatest, 0), apologise(time.Time{}, 15), apologise(vn(2025, time.April, 3, 17, 0), 0)} {
			events, err := domain.Decide(domain.Fold(processing...), when)
			if err != nil {
				t.Fatalf("Decide(%+v) = %v", when, err)
			}
			e := events[0].(domain.ApologyIssued)
			if want := firstNonZero(when.NewAppointmentDate, apologyLatest); !e.NewAppointmentDate.Equal(want) || !e.LatestAllowedDate.Equal(apologyLatest) {
				t.Errorf("new date %v (bound %v), want %v (bound %v)", e.NewAppointmentDate, e.LatestAllowedDate, want, apologyLatest)
			}
		}
	})
	t.Run("a rule set may lower the bound", func(t *testing.T) {
		book, err := domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd61-2018", "apology_max_extension_percent": 20}]}`))
		if err != nil {
			t.Fatal(err)
		}
		withRules := received()
		withRules.Rules = book.At(receivedAt)
		withRules.RulesVersion = withRules.Rules.Version
		given := extend([]domain.Event{withRules}, transferred())
		// 20% of 15 working days is 3 working days: Thursday 3/4 08:00.
		thenInvalid(t, given, apologise(time.Time{}, 4), "extra_working_days")
		thenInvalid(t, given, apologise(vn(2025, time.April, 3, 8, 1), 0), "new_appointment_date")
		events, err := domain.Decide(domain.Fold(given...), apologise(time.Time{}, 3))
		if err != nil {
			t.Fatal(err)
		}
		if e := events[0].(domain.ApologyIssued); !e.NewAppointmentDate.Equal(vn(2025, time.April, 3, 8, 0)) {
			t.Errorf("three working days after 31/3 08:00 = %v", e.NewAppointmentDate)
		}
	})
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func TestTimeInvalidInput(t *testing.T) {
	processing := historyIn(domain.StatusProcessing)
	runInvalid(t, []invalidCase{
		{"apologise with nothing", processing, domain.IssueApology{Calendar: cal}, []string{"reason", "new_appointment_date", "at"}},
		{"apologise with an earlier date", processing,
			domain.IssueApology{Reason: "Chậm", NewAppointmentDate: appointment.Add(-time.Hour), At: now, Calendar: cal},
			[]string{"new_appointment_date"}},
		{"apologise with the same date", processing,
			domain.IssueApology{Reason: "Chậm", NewAppointmentDate: appointment, At: now, Calendar: cal},
			[]string{"new_appointment_date"}},
		{"suspend without a reason", processing, domain.Suspend{}, []string{"reason", "at"}},
		{"resume before the suspension", extend(processing, suspended()),
			domain.Resume{At: suspended().SuspendedAt.Add(-time.Minute), Calendar: cal}, []string{"at"}},
		{"resume at no time", extend(processing, suspended()), domain.Resume{Calendar: cal}, []string{"at", "at"}},
		{"withdraw without a reason", processing, domain.Withdraw{At: now}, []string{"reason"}},
		{"withdraw with a reason too long", processing, domain.Withdraw{Reason: strings.Repeat("ơ", 2001), At: now}, []string{"reason"}},
	})
}
