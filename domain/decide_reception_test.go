package domain_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func receptionTransitions() []transitionCase {
	extra := []domain.Component{{Name: "Bản vẽ mặt bằng móng", Copies: 2}}
	fromSubmission := received()
	fromSubmission.Channel = domain.ChannelOnline
	fromSubmission.Components = append(components(), extra...)
	fromPortal := submitted()
	fromPortal.ExternalCode = "G22.99-250309-000045"
	acceptedFromPortal := fromSubmission
	acceptedFromPortal.ExternalCode = fromPortal.ExternalCode

	requestAt := func(e domain.SupplementRequested, at time.Time, number int, noticeDeadline time.Time) domain.SupplementRequested {
		e.RequestedAt, e.RequestNumber, e.NoticeDeadline = at, number, noticeDeadline
		e.BeforeReceipt = noticeDeadline.IsZero()
		if e.BeforeReceipt {
			e.CalendarVersion, e.RulesVersion = "", "" // nothing was computed
		}
		return e
	}
	request := domain.RequestSupplement{MissingItems: supplementRequested().MissingItems, Reason: supplementRequested().Reason, At: now, Calendar: cal}

	return []transitionCase{
		{
			name:  "submit a new dossier online",
			given: nil,
			when: domain.Submit{DossierID: dossierID, Procedure: procedure(), Applicant: applicant(), Components: components(),
				ReceivingUnit: receivingUnit, At: submittedAt, Calendar: cal},
			then: []domain.Event{submitted()},
		},
		{
			name:  "receive a new dossier at the desk",
			given: nil,
			when: domain.Receive{DossierID: dossierID, Code: dossierCode, Procedure: procedure(), Applicant: applicant(),
				Channel: domain.ChannelDirect, Components: components(), ReceivingUnit: receivingUnit,
				RatingSecretHash: domain.HashRatingSecret(ratingSecret), At: receivedAt, Calendar: cal},
			then: []domain.Event{received()},
		},
		{
			// Accepting keeps what the applicant filed; the command's applicant, channel and unit are ignored.
			name:  "accept a dossier submitted online",
			given: []domain.Event{submitted()},
			when: domain.Receive{Code: dossierCode, Procedure: procedure(), Applicant: domain.Applicant{Name: "ignored"},
				Channel: domain.ChannelPostal, Components: extra, ReceivingUnit: "999.99.99.Z99",
				RatingSecretHash: domain.HashRatingSecret(ratingSecret), At: receivedAt, Calendar: cal},
			then: []domain.Event{fromSubmission},
		},
		{
			name:  "a dossier filed on the national portal keeps the portal's id",
			given: nil,
			when: domain.Submit{DossierID: dossierID, ExternalCode: "G22.99-250309-000045", Procedure: procedure(), Applicant: applicant(),
				Components: components(), ReceivingUnit: receivingUnit, At: submittedAt, Calendar: cal},
			then: []domain.Event{fromPortal},
		},
		{
			name:  "accepting a dossier filed on the national portal keeps the portal's id beside the new code",
			given: []domain.Event{fromPortal},
			when: domain.Receive{Code: dossierCode, Procedure: procedure(), Components: extra,
				RatingSecretHash: domain.HashRatingSecret(ratingSecret), At: receivedAt, Calendar: cal},
			then: []domain.Event{acceptedFromPortal},
		},
		{
			name:  "refuse a dossier submitted online",
			given: []domain.Event{submitted()},
			when:  domain.RefuseReception{Reason: refused().Reason, At: refused().RefusedAt},
			then:  []domain.Event{refused()},
		},
		{
			name:  "send an online submission back for completion",
			given: []domain.Event{submitted()},
			when:  request,
			then:  []domain.Event{requestAt(supplementRequested(), now, 1, time.Time{})},
		},
		{
			name:  "ask for a supplement after receipt",
			given: []domain.Event{received()},
			when: domain.RequestSupplement{MissingItems: supplementRequested().MissingItems, Reason: supplementRequested().Reason,
				At: supplementRequested().RequestedAt, Calendar: cal},
			then: []domain.Event{supplementRequested()},
		},
		{
			name:  "ask a second time during processing",
			given: []domain.Event{received(), supplementRequested(), supplemented(), transferred()},
			when:  request,
			// Three working days count again from the return of the completed dossier, Thursday 13/3 10:00.
			then: []domain.Event{requestAt(supplementRequested(), now, 2, vn(2025, time.March, 18, 10, 0))},
		},
		{
			name:  "the applicant completes the dossier",
			given: []domain.Event{received(), supplementRequested()},
			when:  domain.Supplement{Components: supplemented().Components, At: supplemented().SupplementedAt, Calendar: cal},
			then:  []domain.Event{supplemented()},
		},
	}
}

func TestDecideReceptionTransitions(t *testing.T) {
	runTransitions(t, receptionTransitions())
}

func TestReceiptRecordsTheCalendarsAppointment(t *testing.T) {
	// A count that starts at 07:30 ends at 17:00 of the 15th working day (07:30 + 8 h of sessions).
	cases := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"Monday 08:00: three full weeks later", receivedAt, appointment},
		// After the 15:00 cut-off: the count starts Thursday 13/3 07:30; Thu–Fri, two full weeks, Mon–Wed.
		{"Wednesday 15:01", vn(2025, time.March, 12, 15, 1), vn(2025, time.April, 2, 17, 0)},
		// After the cut-off on a Friday: the count starts Monday 17/3 07:30 and takes Mon 17/3–Fri 4/4.
		{"Friday 16:55", vn(2025, time.March, 14, 16, 55), vn(2025, time.April, 4, 17, 0)},
		// A Saturday is not worked: the same Monday 07:30 start.
		{"Saturday 10:00", vn(2025, time.March, 15, 10, 0), vn(2025, time.April, 4, 17, 0)},
		// At 15:00 sharp the cut-off has not passed: 15 days from 15:00 is 15:00 three weeks later.
		{"Wednesday 15:00", vn(2025, time.March, 12, 15, 0), vn(2025, time.April, 2, 15, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := commandFor(t, domain.ActionReceive).(domain.Receive)
			cmd.At = tc.at
			events, err := domain.Decide(domain.Fold(), cmd)
			if err != nil {
				t.Fatal(err)
			}
			e := events[0].(domain.Received)
			if want := cal.AppointmentFrom(tc.at, 15); !e.AppointmentDate.Equal(want) {
				t.Errorf("appointment %v, calendar says %v", e.AppointmentDate, want)
			}
			if !e.AppointmentDate.Equal(tc.want) {
				t.Errorf("appointment %v, want %v", e.AppointmentDate, tc.want)
			}
			if e.CalendarVersion != cal.Version() || e.ReceivedAt != tc.at {
				t.Errorf("calendar version %q, received at %v", e.CalendarVersion, e.ReceivedAt)
			}
		})
	}
}

func TestSupplementAfterReceiptRestartsTheClock(t *testing.T) {
	given := []domain.Event{received(), transferred(), supplementRequested()}
	when := domain.Supplement{Components: supplemented().Components, At: supplemented().SupplementedAt, Calendar: cal}
	thenEvents(t, given, when, supplemented())

	e := supplemented()
	if want := cal.AppointmentFrom(e.SupplementedAt, 15); !e.NewAppointmentDate.Equal(want) {
		t.Errorf("fixture's new appointment %v, calendar says %v", e.NewAppointmentDate, want)
	}
	if want := cal.WorkingTimeBetween(supplementRequested().RequestedAt, e.SupplementedAt); e.WaitingTime != want {
		t.Errorf("fixture's waiting time %v, calendar says %v", e.WaitingTime, want)
	}
	d := domain.Fold(extend(given, e)...)
	if d.Status != domain.StatusProcessing || !d.AppointmentDate.Equal(e.NewAppointmentDate) || !d.FirstAppointment.Equal(appointment) {
		t.Errorf("after the supplement: %s, appointment %v, first %v", d.Status, d.AppointmentDate, d.FirstAppointment)
	}
}

func TestSupplementBeforeReceiptOpensANewAcceptanceWindow(t *testing.T) {
	given := []domain.Event{submitted(), domain.SupplementRequested{
		MissingItems: []string{"Bản vẽ mặt bằng móng"}, Reason: "Thiếu bản vẽ", BeforeReceipt: true, RequestNumber: 1,
		RequestedAt: vn(2025, time.March, 10, 9, 0),
	}}
	at := vn(2025, time.March, 11, 9, 0)
	extra := []domain.Component{{Name: "Bản vẽ mặt bằng móng", Copies: 2}}
	// The completed submission waits for acceptance again: 8 working hours from Tuesday 09:00.
	completed := domain.Supplemented{Components: extra, SupplementedAt: at, CalendarVersion: cal.Version(),
		AcceptanceDeadline: vn(2025, time.March, 12, 9, 0), RulesVersion: domain.RulesND61}
	thenEvents(t, given, domain.Supplement{Components: extra, At: at, Calendar: cal}, completed)

	d := domain.Fold(extend(given, completed)...)
	if d.Status != domain.StatusSubmitted || !d.AppointmentDate.IsZero() || !d.DueDate.IsZero() || len(d.Components) != 4 {
		t.Errorf("after completing an online submission: %s, appointment %v, due %v, %d components", d.Status, d.AppointmentDate, d.DueDate, len(d.Components))
	}
	want := []domain.AcceptanceWindow{
		{OpenedAt: submittedAt, Deadline: submitted().AcceptanceDeadline, AnsweredAt: vn(2025, time.March, 10, 9, 0), Answer: "supplement_requested"},
		{OpenedAt: at, Deadline: completed.AcceptanceDeadline},
	}
	if !reflect.DeepEqual(d.AcceptanceWindows, want) {
		t.Errorf("acceptance windows %+v, want %+v", d.AcceptanceWindows, want)
	}
}

func TestReceptionInvalidInput(t *testing.T) {
	submit := commandFor(t, domain.ActionSubmit).(domain.Submit)
	partial := submit
	partial.Procedure.OnlineLevel = ""

	receive := commandFor(t, domain.ActionReceive).(domain.Receive)
	badApplicant := receive
	badApplicant.Applicant = domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Thị Lan", IDNumber: "12", Phone: "call me", Email: "lan@"}
	badCopies := receive
	badCopies.Components = []domain.Component{{Name: "Đơn đề nghị", Copies: 1}, {Name: "Bản vẽ", Copies: 0}, {Name: "", Copies: 101}}
	otherProcedure := domain.Receive{Code: dossierCode, Procedure: procedure(), RatingSecretHash: "h", At: now, Calendar: cal}
	otherProcedure.Procedure.Code = "2.001610"
	noTime := receive
	noTime.Procedure.ResolutionTime = domain.ResolutionTime{}
	noTime.At = time.Time{}

	runInvalid(t, []invalidCase{
		{"submit an empty command", nil, domain.Submit{Calendar: cal},
			[]string{"dossier_id", "procedure_code", "procedure_code", "applicant.type", "applicant.name", "applicant.id_number", "components", "receiving_unit", "at"}},
		{"submit a procedure that cannot be filed online", nil, partial, []string{"procedure_code"}},
		{"receive an empty command", nil, domain.Receive{Calendar: cal},
			[]string{"code", "procedure_code", "procedure_code", "rating_secret", "at", "dossier_id", "channel",
				"applicant.type", "applicant.name", "applicant.id_number", "components", "receiving_unit"}},
		{"receive with bad contact details", nil, badApplicant, []string{"applicant.id_number", "applicant.phone", "applicant.email"}},
		{"receive with bad components", nil, badCopies, []string{"components[1].copies", "components[2].name", "components[2].copies"}},
		{"receive without a resolution time or a moment", nil, noTime, []string{"procedure_code", "at"}},
		{"accept a submission under another procedure", []domain.Event{submitted()}, otherProcedure, []string{"procedure_code"}},
		{"refuse without a reason", []domain.Event{submitted()}, domain.RefuseReception{At: now}, []string{"reason"}},
		{"ask for nothing", []domain.Event{received()}, domain.RequestSupplement{At: now}, []string{"missing_items", "reason"}},
		{"ask for a blank item", []domain.Event{received()},
			domain.RequestSupplement{MissingItems: []string{"Bản vẽ", ""}, Reason: "Thiếu", At: now}, []string{"missing_items[1]"}},
		{"ask for one item twice", []domain.Event{received()},
			domain.RequestSupplement{MissingItems: []string{"Bản vẽ", "Sơ đồ", "Bản vẽ"}, Reason: "Thiếu", At: now}, []string{"missing_items[2]"}},
		{"supplement with a nameless document at no time", []domain.Event{received(), supplementRequested()},
			domain.Supplement{Components: []domain.Component{{Copies: 1}}, Calendar: cal}, []string{"components[0].name", "at"}},
	})
}
