package demo

import (
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

func vn(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, domain.VietnamTime)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func demoProcedure(t *testing.T, code string) domain.Procedure {
	t.Helper()
	c, err := Catalog(calendar.Default())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Procedure(code)
	if !ok {
		t.Fatalf("the demo catalog has no procedure %s", code)
	}
	return p
}

func receiveAt(t *testing.T, p domain.Procedure, at time.Time) domain.Received {
	t.Helper()
	events, err := domain.Decide(domain.Fold(), domain.Receive{
		DossierID: "0195a3f0-7c2e-7d41-b8a6-5e2f9c1d4a07", Code: "000.00.00.H56-260213-0001", Procedure: p,
		Applicant: domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lê Văn Tám", IDNumber: "038090001111"},
		Channel:   domain.ChannelDirect, Components: []domain.Component{{Name: p.Components[0].Name, Copies: 1}},
		ReceivingUnit: "000.00.00.H56", RatingSecretHash: domain.HashRatingSecret("K7Q2M9XW4D"), At: at, Calendar: calendar.Default(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return events[0].(domain.Received)
}

// TestDemoAppointmentsOnTrickyMoments receives dossiers of the demo procedures through Decide at the
// moments that go wrong in practice and checks the receipt's appointment date and the transfer
// deadline against dates worked out by hand. The default calendar: sessions 07:30–11:30 and
// 13:00–17:00 (a working day is 8 h), cut-off 15:00, the announced 2026 breaks.
func TestDemoAppointmentsOnTrickyMoments(t *testing.T) {
	tests := []struct {
		name, procedure, receivedAt string
		appointment, transfer       string
		reasoning                   string
	}{
		{
			name: "Friday 16:55, private enterprise (3 days)", procedure: "2.001610", receivedAt: "2026-03-06 16:55",
			appointment: "2026-03-11 17:00", transfer: "2026-03-09 07:30",
			reasoning: "After the 15:00 cut-off the count starts on the next working day, Monday 09/03 07:30; " +
				"three 8-hour days end on Wednesday 11/03 at 17:00. The desk may transfer the dossier at the start " +
				"of Monday instead of the same day.",
		},
		{
			name: "the day before Tết, building permit (15 days)", procedure: "1.013225", receivedAt: "2026-02-13 10:00",
			appointment: "2026-03-13 10:00", transfer: "2026-02-13 17:00",
			reasoning: "Friday 13/02 is the last working day before the 14–22/02 break and gives 1.5 h + 4 h = 5.5 h. " +
				"The other 114.5 h are 14 days and 2.5 h from Monday 23/02: 23–27/02, 02–06/03 and 09–12/03 " +
				"are the 14 days (no holiday among them), and 07:30–10:00 on Friday 13/03 the rest. Received " +
				"before the cut-off, it goes to the department the same day, by 17:00.",
		},
		{
			name: "the day before Tết, birth registration (within the day)", procedure: "1.001193", receivedAt: "2026-02-13 10:00",
			appointment: "2026-02-13 17:00", transfer: "2026-02-13 17:00",
			reasoning: "Birth registration is done within the day of receipt: by 17:00 on Friday 13/02, before the " +
				"Tết break, not after it.",
		},
		{
			name: "a make-up Saturday, household business (3 days)", procedure: "1.001612", receivedAt: "2026-01-10 09:00",
			appointment: "2026-01-14 09:00", transfer: "2026-01-10 17:00",
			reasoning: "Saturday 10/01/2026 is worked in exchange for Friday 02/01, so the count starts at 09:00: " +
				"2.5 h + 4 h = 6.5 h on Saturday, 8 h on Monday 12/01 and Tuesday 13/01 (22.5 h), and the last " +
				"1.5 h end at 09:00 on Wednesday 14/01. It is a working day before the cut-off: transfer by 17:00.",
		},
		{
			name: "15:01, civil status extract (within the day)", procedure: "2.000635", receivedAt: "2026-03-10 15:01",
			appointment: "2026-03-11 17:00", transfer: "2026-03-11 07:30",
			reasoning: "One minute after the cut-off, a same-day request is returned within the next working day, " +
				"Wednesday 11/03, by 17:00; the transfer may wait for the start of Wednesday.",
		},
		{
			name: "15:00 sharp, civil status extract (within the day)", procedure: "2.000635", receivedAt: "2026-03-10 15:00",
			appointment: "2026-03-10 17:00", transfer: "2026-03-10 17:00",
			reasoning: "Not after the cut-off: the extract is due the same day, by 17:00, and the dossier goes to " +
				"the department the same day.",
		},
		{
			name: "before the 2/9 break of 2026, birth registration (within the day)", procedure: "1.001193", receivedAt: "2026-08-28 16:00",
			appointment: "2026-09-03 17:00", transfer: "2026-09-03 07:30",
			reasoning: "Friday 28/08 16:00 is after the cut-off, and 29/08–02/09 is the announced break (31/08 made " +
				"up on Saturday 22/08): the next working day is Thursday 03/09, and the result is due by its 17:00.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := receiveAt(t, demoProcedure(t, tt.procedure), vn(t, tt.receivedAt))
			if !e.AppointmentDate.Equal(vn(t, tt.appointment)) {
				t.Errorf("appointment %s, want %s\nreasoning: %s", e.AppointmentDate.Format("Mon 2006-01-02 15:04"), tt.appointment, tt.reasoning)
			}
			if !e.TransferDeadline.Equal(vn(t, tt.transfer)) {
				t.Errorf("transfer deadline %s, want %s\nreasoning: %s", e.TransferDeadline.Format("Mon 2006-01-02 15:04"), tt.transfer, tt.reasoning)
			}
			if e.RulesVersion != domain.RulesND118 || e.CalendarVersion != calendar.Default().Version() {
				t.Errorf("recorded rules %q and calendar %q; a 2026 receipt is under NĐ 118", e.RulesVersion, e.CalendarVersion)
			}
		})
	}
}

// TestDemoPermitWorkflowDeadlinesOverTet follows the building permit received the day before Tết
// through its first two handovers: the step deadlines come from the demo workflow's hours.
func TestDemoPermitWorkflowDeadlinesOverTet(t *testing.T) {
	p := demoProcedure(t, "1.013225")
	cal := calendar.Default()
	history := []domain.Event{receiveAt(t, p, vn(t, "2026-02-13 10:00"))}
	desk := domain.Handler{Unit: "000.00.00.H56", OfficialID: "tn-1", OfficialName: "Lê Thị Hoa"}
	specialist := domain.Handler{OfficialID: "kt-3", OfficialName: "Trần Văn Bình"}

	// The desk transfers at 11:00 to the appraisal step, 24 h: 0.5 h + 4 h on Friday 13/02, then after
	// Tết 8 h on Monday 23/02 and Tuesday 24/02 (20.5 h), and 3.5 h to 11:00 on Wednesday 25/02.
	events, err := domain.Decide(domain.Fold(history...), domain.Transfer{
		From: desk, To: specialist, Step: "Thẩm định hồ sơ", Workflow: p.Workflow, At: vn(t, "2026-02-13 11:00"), Calendar: cal,
	})
	if err != nil {
		t.Fatal(err)
	}
	appraisal := events[0].(domain.Transferred)
	if appraisal.To.Unit != "P.KTHTĐT" || appraisal.AllottedHours != 24 || !appraisal.FromWorkflow ||
		!appraisal.StepDeadline.Equal(vn(t, "2026-02-25 11:00")) || !appraisal.PreviousStepDeadline.Equal(vn(t, "2026-02-13 17:00")) {
		t.Fatalf("transfer to appraisal: %+v", appraisal)
	}
	history = append(history, appraisal)

	// On Wednesday 25/02 at 11:00 the specialist sends the consultation out. From then, 24 h end on
	// Monday 02/03 11:00 (4.5 h Wednesday, 8 h Thursday and Friday, 3.5 h Monday), 40 h two days
	// later on Wednesday 04/03 11:00, 56 h on Friday 06/03 11:00 — the step's deadline.
	events, err = domain.Decide(domain.Fold(history...), domain.Transfer{
		From: appraisal.To, To: appraisal.To, Step: "Lấy ý kiến cơ quan quản lý nhà nước có liên quan, kiểm tra thực địa",
		Workflow: p.Workflow, At: vn(t, "2026-02-25 11:00"), Calendar: cal,
	})
	if err != nil {
		t.Fatal(err)
	}
	started := events[0].(domain.ParallelStepStarted)
	want := map[string]string{
		"Ý kiến Sở Xây dựng về quy hoạch, kiến trúc":     "2026-03-06 11:00",
		"Ý kiến Sở Nông nghiệp và Môi trường về đất đai": "2026-03-04 11:00",
		"Kiểm tra hiện trạng thực địa":                   "2026-03-02 11:00",
	}
	agencies := map[string]string{
		"Ý kiến Sở Xây dựng về quy hoạch, kiến trúc":     "000.00.17.H56",
		"Ý kiến Sở Nông nghiệp và Môi trường về đất đai": "000.00.18.H56",
		"Kiểm tra hiện trạng thực địa":                   "000.00.41.H56", // the ward's own department
	}
	if len(started.Parts) != len(want) || !started.StepDeadline.Equal(vn(t, "2026-03-06 11:00")) ||
		!started.PreviousStepDeadline.Equal(appraisal.StepDeadline) {
		t.Fatalf("parallel step: %+v", started)
	}
	for _, part := range started.Parts {
		if !part.StepDeadline.Equal(vn(t, want[part.Step])) || part.Agency != agencies[part.Step] {
			t.Errorf("part %q: due %s at %s, want %s at %s", part.Step, part.StepDeadline.Format("2006-01-02 15:04"), part.Agency, want[part.Step], agencies[part.Step])
		}
	}
}
