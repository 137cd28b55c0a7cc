package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// parallelStarted: on Friday 14/3 10:00 the specialist sends the dossier to the consultation step,
// which runs at two provincial departments and the ward's own specialist at once.
func parallelStarted() domain.ParallelStepStarted {
	return domain.ParallelStepStarted{
		From: specialist, Coordinator: specialist, Step: "Lấy ý kiến các cơ quan liên quan",
		Parts: []domain.ParallelPart{
			// 40 h from Friday 10:00: 5.5 h on Friday, 8 h on each of Mon–Thu, 2.5 h from Friday 21/3 07:30.
			{Step: "Ý kiến Sở Xây dựng", Unit: consultedAgency, Agency: consultedAgency, Role: "specialist", AllottedHours: 40,
				StepDeadline: vn(2025, time.March, 21, 10, 0)},
			// 24 h: 5.5 h on Friday, 8 h on Monday and Tuesday, 2.5 h on Wednesday 19/3.
			{Step: "Ý kiến Sở Nông nghiệp và Môi trường", Unit: landAgency, Agency: landAgency, Role: "specialist", AllottedHours: 24,
				StepDeadline: vn(2025, time.March, 19, 10, 0)},
			// 16 h: 5.5 h on Friday, 8 h on Monday, 2.5 h on Tuesday 18/3. The ward's own department.
			{Step: "Kiểm tra thực địa", Unit: "KTHTDT", Agency: competentAgency, Role: "specialist", AllottedHours: 16,
				StepDeadline: vn(2025, time.March, 18, 10, 0)},
		},
		StepDeadline: vn(2025, time.March, 21, 10, 0), StartedAt: now, PreviousStepDeadline: appraisalDeadline,
		CalendarVersion: cal.Version(),
	}
}

// partCompleted: the Department of Construction answers on Wednesday 19/3 at 15:00, within its share.
func partCompleted() domain.PartCompleted {
	return domain.PartCompleted{
		ParallelStep: "Lấy ý kiến các cơ quan liên quan", Step: "Ý kiến Sở Xây dựng", Agency: consultedAgency, By: consultant,
		Opinion: "Thống nhất cấp phép", StepDeadline: vn(2025, time.March, 21, 10, 0), CompletedAt: vn(2025, time.March, 19, 15, 0),
	}
}

func processingTransitions() []transitionCase {
	processing := []domain.Event{received(), transferred()}
	consulting := extend(processing, parallelStarted())
	completePart := domain.CompletePart{Step: "Ý kiến Sở Xây dựng", By: consultant, Opinion: "Thống nhất cấp phép", At: vn(2025, time.March, 19, 15, 0)}
	consult := domain.InterAgencyTransfer{From: receptionist, FromAgency: receivingUnit, ToAgency: consultedAgency,
		Purpose: "Lấy ý kiến về chỉ giới xây dựng", AllottedHours: 40, At: now, Calendar: cal}
	// 40 working hours from Friday 14/3 10:00: 5.5 h on Friday, 8 h on each of Mon–Thu, 2.5 h from Friday 21/3 07:30.
	consultDeadline := vn(2025, time.March, 21, 10, 0)

	return []transitionCase{
		{
			name:  "the desk hands the dossier to the department",
			given: []domain.Event{received()},
			when: domain.Transfer{From: receptionist, To: specialist, Step: "Thẩm định hồ sơ", Workflow: workflow(),
				At: transferredAt, Calendar: cal},
			then: []domain.Event{transferred()},
		},
		{
			// 8 working hours from Friday 10:00: 1.5 h + 4 h on Friday, 2.5 h from Monday 07:30.
			name:  "the coordinator hands the consulted dossier to the department head",
			given: consulting,
			when:  domain.Transfer{From: specialist, To: departmentHead, Step: "Xem xét của trưởng phòng", Workflow: workflow(), At: now, Calendar: cal},
			then: []domain.Event{domain.Transferred{
				From: specialist, To: departmentHead, Step: "Xem xét của trưởng phòng", AllottedHours: 8,
				StepDeadline: vn(2025, time.March, 17, 10, 0), TransferredAt: now, PreviousStepDeadline: parallelStarted().StepDeadline,
				CalendarVersion: cal.Version(), FromWorkflow: true,
			}},
		},
		{
			name:  "the desk sends the dossier to another agency",
			given: []domain.Event{received()},
			when:  consult,
			then: []domain.Event{domain.InterAgencyTransferred{
				FromAgency: receivingUnit, ToAgency: consultedAgency, From: receptionist, Purpose: consult.Purpose,
				AllottedHours: 40, StepDeadline: consultDeadline, TransferredAt: now, CalendarVersion: cal.Version(),
				PreviousStepDeadline: received().TransferDeadline,
			}},
		},
		{
			name:  "the department consults another agency",
			given: processing,
			when: domain.InterAgencyTransfer{From: specialist, FromAgency: competentAgency, ToAgency: consultedAgency,
				Purpose: consult.Purpose, AllottedHours: 40, At: now, Calendar: cal},
			then: []domain.Event{domain.InterAgencyTransferred{
				FromAgency: competentAgency, ToAgency: consultedAgency, From: specialist, Purpose: consult.Purpose,
				AllottedHours: 40, StepDeadline: consultDeadline, TransferredAt: now, PreviousStepDeadline: appraisalDeadline,
				CalendarVersion: cal.Version(),
			}},
		},
		{
			// The parts take their units and hours from the workflow; the step's own unit coordinates.
			name:  "the specialist sends the dossier to a parallel step",
			given: processing,
			when: domain.Transfer{From: specialist, To: domain.Handler{OfficialID: specialist.OfficialID, OfficialName: specialist.OfficialName},
				Step: "Lấy ý kiến các cơ quan liên quan", Workflow: workflow(), At: now, Calendar: cal},
			then: []domain.Event{parallelStarted()},
		},
		{
			name:  "a consulted agency completes its part",
			given: consulting,
			when:  completePart,
			then:  []domain.Event{partCompleted()},
		},
		{
			name:  "a part is completed while the fees are awaited",
			given: extend(consulting, feeAssessed()),
			when:  completePart,
			then:  []domain.Event{partCompleted()},
		},
		{
			name:  "the specialist appraises",
			given: processing,
			when: domain.Appraise{Appraiser: specialist, Conclusion: domain.ConclusionApprove,
				Opinion: appraised(domain.ConclusionApprove).Opinion, At: appraised(domain.ConclusionApprove).AppraisedAt},
			then: []domain.Event{appraised(domain.ConclusionApprove)},
		},
		{
			name:  "the leader signs an approved dossier",
			given: extend(processing, appraised(domain.ConclusionApprove)),
			when: domain.Sign{Signer: signer, SignerTitle: signed().SignerTitle, DocumentNumber: "45/GPXD",
				DocumentHash: permitHash, At: signed().SignedAt},
			then: []domain.Event{signed()},
		},
		{
			name:  "the agency rejects after appraisal",
			given: extend(processing, appraised(domain.ConclusionReject)),
			when:  domain.Reject{Reason: rejected().Reason, At: rejected().RejectedAt},
			then:  []domain.Event{rejected()},
		},
	}
}

func TestDecideProcessingTransitions(t *testing.T) {
	runTransitions(t, processingTransitions())
}

func TestTransferRecordsTheStepDeadline(t *testing.T) {
	cases := []struct {
		name  string
		at    time.Time
		hours float64
		want  time.Time
	}{
		{"two days from Monday 09:00", transferredAt, 16, appraisalDeadline},
		{"half an hour", transferredAt, 0.5, vn(2025, time.March, 10, 9, 30)},
		// 11:00–11:30 then 13:00–13:30.
		{"over the lunch break", vn(2025, time.March, 10, 11, 0), 1, vn(2025, time.March, 10, 13, 30)},
		// 5 minutes on Friday, 1 h 55 from Monday 07:30.
		{"Friday 16:55 over the weekend", vn(2025, time.March, 14, 16, 55), 2, vn(2025, time.March, 17, 9, 25)},
		{"handed over on a Saturday", vn(2025, time.March, 15, 10, 0), 2, vn(2025, time.March, 17, 9, 30)},
		// 2 h on Friday 4/4; Monday 7/4/2025 is Hùng Kings' day (10/3 lunar); 6 h on Tuesday from 07:30.
		{"over Hùng Kings' day", vn(2025, time.April, 4, 15, 0), 8, vn(2025, time.April, 8, 15, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			given := []domain.Event{received()}
			events, err := domain.Decide(domain.Fold(given...), domain.Transfer{
				From: receptionist, To: specialist, Step: "Thẩm định hồ sơ", AllottedHours: tc.hours, At: tc.at, Calendar: cal,
			})
			if err != nil {
				t.Fatal(err)
			}
			e := events[0].(domain.Transferred)
			if !e.StepDeadline.Equal(tc.want) {
				t.Errorf("step deadline %v, want %v", e.StepDeadline, tc.want)
			}
			d := domain.Fold(extend(given, e)...)
			if d.Status != domain.StatusProcessing || d.Holder != specialist || d.Step != "Thẩm định hồ sơ" ||
				!d.StepDeadline.Equal(tc.want) || d.Transfers != 1 {
				t.Errorf("after the transfer: %s, holder %+v, step %q due %v, %d transfers", d.Status, d.Holder, d.Step, d.StepDeadline, d.Transfers)
			}
		})
	}
}

func TestInterAgencyTransferMovesTheDossierToTheOtherAgency(t *testing.T) {
	cmd := commandFor(t, domain.ActionInterAgencyTransfer).(domain.InterAgencyTransfer)
	given := []domain.Event{received(), transferred()}
	events, err := domain.Decide(domain.Fold(given...), cmd)
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Fold(extend(given, events...)...)
	if d.HolderAgency != consultedAgency || d.Holder.Unit != consultedAgency || d.Step != cmd.Purpose || d.Transfers != 2 {
		t.Errorf("after the inter-agency transfer: agency %s, holder %+v, step %q, %d transfers", d.HolderAgency, d.Holder, d.Step, d.Transfers)
	}
}

func TestProcessingRefusals(t *testing.T) {
	processing := []domain.Event{received(), transferred()}
	approved := extend(processing, appraised(domain.ConclusionApprove))
	cases := []struct {
		name   string
		given  []domain.Event
		when   domain.Command
		reason string
	}{
		{"sign without an appraisal", processing, commandFor(t, domain.ActionSign), "not been appraised"},
		{"sign when the appraisal proposed rejection", extend(processing, appraised(domain.ConclusionReject)),
			commandFor(t, domain.ActionSign), "proposed rejection"},
		{"sign twice", extend(approved, signed()), commandFor(t, domain.ActionSign), "already signed"},
		{"appraise after signing", extend(approved, signed()), commandFor(t, domain.ActionAppraise), "already signed"},
		{"reject without an appraisal", processing, commandFor(t, domain.ActionReject), "needs an appraisal"},
		{"reject after signing", extend(approved, signed()), commandFor(t, domain.ActionReject), "already signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			te := thenRefused(t, tc.given, tc.when)
			if te.Status != domain.StatusProcessing || !strings.Contains(te.Reason, tc.reason) {
				t.Errorf("refused in %s because %q, want processing and a reason containing %q", te.Status, te.Reason, tc.reason)
			}
		})
	}
}

func TestReappraisalBeforeSigningIsAllowed(t *testing.T) {
	given := []domain.Event{received(), transferred(), appraised(domain.ConclusionReject)}
	thenEvents(t, given, domain.Appraise{Appraiser: specialist, Conclusion: domain.ConclusionApprove, Opinion: "Đã điều chỉnh thiết kế", At: now},
		domain.Appraised{Appraiser: specialist, Conclusion: domain.ConclusionApprove, Opinion: "Đã điều chỉnh thiết kế", AppraisedAt: now})
}

func TestProcessingInvalidInput(t *testing.T) {
	processing := []domain.Event{received(), transferred()}
	approved := extend(processing, appraised(domain.ConclusionApprove))
	longNote := commandFor(t, domain.ActionTransfer).(domain.Transfer)
	longNote.Note = strings.Repeat("ý", 2001)
	longNote.AllottedHours = 8*260 + 1
	toItself := commandFor(t, domain.ActionInterAgencyTransfer).(domain.InterAgencyTransfer)
	toItself.ToAgency = competentAgency

	runInvalid(t, []invalidCase{
		{"transfer to nobody", processing, domain.Transfer{At: now, Calendar: cal}, []string{"step", "to.unit", "allotted_hours"}},
		{"transfer with a long note and a year-long step", processing, longNote, []string{"note", "allotted_hours"}},
		{"transfer at no time", processing, domain.Transfer{To: specialist, Step: "Thẩm định", AllottedHours: 8, Calendar: cal}, []string{"at"}},
		{"consult nobody", processing, domain.InterAgencyTransfer{At: now, Calendar: cal},
			[]string{"to_agency", "to_agency", "purpose", "allotted_hours"}},
		{"consult the agency that holds the dossier", processing, toItself, []string{"to_agency"}},
		{"appraise with no conclusion", processing, domain.Appraise{Conclusion: "maybe", At: now}, []string{"conclusion", "opinion"}},
		{"sign an unnumbered document with a bad hash", approved, domain.Sign{DocumentHash: "abc", At: now},
			[]string{"document_number", "document_hash"}},
		{"reject without a reason", extend(processing, appraised(domain.ConclusionReject)), domain.Reject{},
			[]string{"reason", "at"}},
	})
}
