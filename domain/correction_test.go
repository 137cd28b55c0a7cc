package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// The fixtures of corrections: the desk typed the applicant's name wrong, a head of the receiving
// unit approves.
var (
	deskHead     = domain.Handler{Unit: receivingUnit, OfficialID: "tn-01", OfficialName: "Vũ Thị Mai"}
	correctionAt = vn(2025, time.March, 14, 9, 0)
	approvedAt   = vn(2025, time.March, 14, 11, 0)
	nameChange   = domain.FieldChange{Field: domain.FieldApplicantName, Old: "Nguyễn Thị Lan", New: "Nguyễn Thị Lanh"}
)

func requestCorrection(changes ...domain.FieldChange) domain.RequestCorrection {
	return domain.RequestCorrection{Changes: changes, Reason: "Nhập sai so với căn cước", By: receptionist, Agency: receivingUnit, At: correctionAt}
}

func correctionRequested(number int) domain.CorrectionRequested {
	return domain.CorrectionRequested{
		Number:    number,
		Code:      dossierCode,
		Applicant: &domain.ApplicantCorrection{Type: domain.ApplicantCitizen, IDNumber: applicant().IDNumber, Changes: []domain.FieldChange{nameChange}},
		Reason:    "Nhập sai so với căn cước", RequestedBy: receptionist, RequesterAgency: receivingUnit, RequestedAt: correctionAt,
	}
}

func approveCorrection(number int) domain.ApproveCorrection {
	return domain.ApproveCorrection{Number: number, By: deskHead, Agency: receivingUnit, At: approvedAt, Calendar: cal}
}

func rejectCorrection(number int) domain.RejectCorrection {
	return domain.RejectCorrection{Number: number, Reason: "Tên trên căn cước đúng như đã nhập", By: deskHead, Agency: receivingUnit, At: approvedAt}
}

func correctionApproved(number int) domain.CorrectionApproved {
	r := correctionRequested(number)
	return domain.CorrectionApproved{Number: number, Applicant: r.Applicant, Reason: r.Reason, RequestedBy: receptionist,
		ApprovedBy: deskHead, ApprovedAt: approvedAt}
}

func correctionRejected(number int) domain.CorrectionRejected {
	return domain.CorrectionRejected{Number: number, Reason: "Tên trên căn cước đúng như đã nhập", RejectedBy: deskHead, RejectedAt: approvedAt}
}

// correctionTransitions request, approve and reject a correction in every status that allows it.
func correctionTransitions() []transitionCase {
	var cases []transitionCase
	for _, status := range domain.Allowed[domain.ActionRequestCorrection] {
		cases = append(cases, transitionCase{name: "request correction in " + string(status), given: historyIn(status),
			when: requestCorrection(nameChange), then: []domain.Event{correctionRequested(1)}})
	}
	for _, status := range domain.Allowed[domain.ActionApproveCorrection] {
		// The request was made while the dossier was open; it may be decided after it closed.
		given := extend(historyIn(status), correctionRequested(1))
		cases = append(cases, transitionCase{name: "approve correction in " + string(status), given: given,
			when: approveCorrection(1), then: []domain.Event{correctionApproved(1)}})
	}
	for _, status := range domain.Allowed[domain.ActionRejectCorrection] {
		given := extend(historyIn(status), correctionRequested(1))
		cases = append(cases, transitionCase{name: "reject correction in " + string(status), given: given,
			when: rejectCorrection(1), then: []domain.Event{correctionRejected(1)}})
	}
	return cases
}

func TestCorrectionTransitions(t *testing.T) { runTransitions(t, correctionTransitions()) }

func TestApprovedApplicantCorrectionChangesTheDossierAndKeepsTheCode(t *testing.T) {
	idChange := domain.FieldChange{Field: domain.FieldApplicantIDNumber, Old: "038190001234", New: "038190001243"}
	given := []domain.Event{received(), transferred()}
	events, err := domain.Decide(domain.Fold(given...), requestCorrection(nameChange, idChange))
	if err != nil {
		t.Fatal(err)
	}
	given = append(given, events...)
	approved, err := domain.Decide(domain.Fold(given...), approveCorrection(1))
	if err != nil {
		t.Fatal(err)
	}
	d := domain.Fold(append(given, approved...)...)
	if d.Applicant.Name != "Nguyễn Thị Lanh" || d.Applicant.IDNumber != "038190001243" || d.Applicant.Phone != applicant().Phone {
		t.Errorf("applicant after the correction = %+v", d.Applicant)
	}
	if d.Code != dossierCode || d.Status != domain.StatusProcessing || d.Correction.Pending != nil || d.Correction.Approved != 1 {
		t.Errorf("dossier after the correction: code %s, status %s, correction %+v", d.Code, d.Status, d.Correction)
	}
	// A later correction of the same applicant is sealed under the key of the number first recorded,
	// so one erasure covers the receipt and every correction.
	again := domain.FieldChange{Field: domain.FieldApplicantPhone, Old: applicant().Phone, New: "0987 654 321"}
	events, err = domain.Decide(d, requestCorrection(again))
	if err != nil {
		t.Fatal(err)
	}
	if r := events[0].(domain.CorrectionRequested); r.Number != 2 || r.Applicant.IDNumber != "038190001234" {
		t.Errorf("second request = %+v, want number 2 sealed under the first number", r)
	}
}

func TestRejectedCorrectionChangesNothingAndFreesTheDossier(t *testing.T) {
	given := []domain.Event{received(), correctionRequested(1), correctionRejected(1)}
	d := domain.Fold(given...)
	if d.Applicant != applicant() || d.Correction.Pending != nil {
		t.Fatalf("after a rejection: applicant %+v, pending %+v", d.Applicant, d.Correction.Pending)
	}
	want := correctionRequested(2)
	thenEvents(t, given, requestCorrection(nameChange), want)
}

// otherProcedure is the procedure the desk should have chosen: the same agency, 10 working days.
func otherProcedure() domain.Procedure {
	p := procedure()
	p.Code, p.Name, p.ResolutionTime = "1.013226", "Cấp giấy phép sửa chữa, cải tạo công trình", domain.ResolutionTime{Days: 10}
	p.Fees = []domain.Fee{{Name: "Lệ phí cấp giấy phép sửa chữa", Amount: 50_000}}
	return p
}

func TestProcedureCorrectionRecomputesTheDatesFromTheReceipt(t *testing.T) {
	change := domain.FieldChange{Field: domain.FieldProcedureCode, Old: procedure().Code, New: otherProcedure().Code}
	p := otherProcedure()
	req := requestCorrection(change)
	req.Procedure = &p
	// Suspended for a while before the correction: the recomputed date moves by the same working time.
	given := []domain.Event{received(), transferred(), suspended()}
	resume, err := domain.Decide(domain.Fold(given...), domain.Resume{At: vn(2025, time.March, 13, 14, 0), Calendar: cal})
	if err != nil {
		t.Fatal(err)
	}
	given = append(given, resume...)
	paused := resume[0].(domain.Resumed).PausedWorkingTime
	events, err := domain.Decide(domain.Fold(given...), req)
	if err != nil {
		t.Fatal(err)
	}
	given = append(given, events...)
	approve := approveCorrection(1)
	approve.Procedure = &p
	approved, err := domain.Decide(domain.Fold(given...), approve)
	if err != nil {
		t.Fatal(err)
	}
	pc := approved[0].(domain.CorrectionApproved).Procedure
	first := nd61.Appointment(cal, p.ResolutionTime, receivedAt)
	wantDue := cal.AddWorkingTime(first, paused)
	if pc == nil || !pc.NewFirstAppointment.Equal(first) || !pc.NewDueDate.Equal(wantDue) || !pc.NewAppointmentDate.Equal(wantDue) ||
		!pc.NewIndicatorDueDate.Equal(wantDue) || pc.CatalogFeeTotal != 50_000 || pc.Procedure.Code != p.Code ||
		pc.PreviousProcedure.Code != procedure().Code || pc.CalendarVersion != cal.Version() || pc.RulesVersion != nd61.Version {
		t.Fatalf("procedure correction = %+v; want first %v, due %v (paused %v)", pc, first, wantDue, paused)
	}
	if !wantDue.Before(domain.Fold(given...).AppointmentDate) {
		t.Errorf("10 days should come before 15: %v", wantDue)
	}
	d := domain.Fold(append(given, approved...)...)
	if d.Procedure.Code != p.Code || !d.AppointmentDate.Equal(wantDue) || !d.DueDate.Equal(wantDue) || !d.FirstAppointment.Equal(first) {
		t.Errorf("dossier after the correction: %s due %v/%v first %v", d.Procedure.Code, d.AppointmentDate, d.DueDate, d.FirstAppointment)
	}
}

func TestTransferCorrectionRedirectsTheLatestTransfer(t *testing.T) {
	changes := []domain.FieldChange{
		{Field: domain.FieldTransferUnit, Old: "KTHTDT", New: "QLDT"},
		{Field: domain.FieldTransferOfficial, Old: specialist.OfficialID, New: "qldt-03"},
		{Field: domain.FieldTransferName, Old: specialist.OfficialName, New: "Ngô Văn Hải"},
	}
	req := requestCorrection(changes...)
	req.By, req.Agency = departmentHead, competentAgency
	given := []domain.Event{received(), transferred()}
	events, err := domain.Decide(domain.Fold(given...), req)
	if err != nil {
		t.Fatal(err)
	}
	given = append(given, events...)
	approve := approveCorrection(1)
	approve.By, approve.Agency = signer, competentAgency
	approved, err := domain.Decide(domain.Fold(given...), approve)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Handler{Unit: "QLDT", OfficialID: "qldt-03", OfficialName: "Ngô Văn Hải"}
	tc := approved[0].(domain.CorrectionApproved).Transfer
	if tc == nil || tc.OldTo != specialist || tc.NewTo != want || !tc.TransferredAt.Equal(transferredAt) || tc.Step != transferred().Step {
		t.Fatalf("transfer correction = %+v", tc)
	}
	d := domain.Fold(append(given, approved...)...)
	if d.Holder != want || d.StepDeadline != appraisalDeadline || d.Transfers != 1 {
		t.Errorf("after the correction the dossier is held by %+v (deadline %v, %d transfers)", d.Holder, d.StepDeadline, d.Transfers)
	}
}

func TestCorrectionRefusals(t *testing.T) {
	transferChange := domain.FieldChange{Field: domain.FieldTransferUnit, Old: "KTHTDT", New: "QLDT"}
	procedureChange := domain.FieldChange{Field: domain.FieldProcedureCode, Old: procedure().Code, New: otherProcedure().Code}
	p := otherProcedure()
	withProcedure := requestCorrection(procedureChange)
	withProcedure.Procedure = &p
	elsewhere := otherProcedure()
	elsewhere.CompetentAgency = consultedAgency
	otherAgency := requestCorrection(procedureChange)
	otherAgency.Procedure = &elsewhere
	pending := []domain.Event{received(), correctionRequested(1)}

	t.Run("one pending correction at a time", func(t *testing.T) {
		thenRefused(t, pending, requestCorrection(domain.FieldChange{Field: domain.FieldApplicantPhone, Old: applicant().Phone, New: "0987 654 321"}))
	})
	t.Run("nothing to approve", func(t *testing.T) { thenRefused(t, []domain.Event{received()}, approveCorrection(1)) })
	t.Run("nothing to reject", func(t *testing.T) { thenRefused(t, []domain.Event{received()}, rejectCorrection(1)) })
	t.Run("approving a correction already decided", func(t *testing.T) {
		thenRefused(t, extend(pending, correctionRejected(1)), approveCorrection(1))
	})
	t.Run("approving another number", func(t *testing.T) { thenRefused(t, pending, approveCorrection(2)) })
	t.Run("a transfer acted on", func(t *testing.T) {
		thenRefused(t, []domain.Event{received(), transferred(), appraised(domain.ConclusionApprove)}, requestCorrection(transferChange))
	})
	t.Run("a transfer acted on after the request", func(t *testing.T) {
		req, _ := domain.Decide(domain.Fold(received(), transferred()), requestCorrection(transferChange))
		thenRefused(t, slices.Concat([]domain.Event{received(), transferred()}, req, []domain.Event{appraised(domain.ConclusionApprove)}), approveCorrection(1))
	})
	t.Run("procedure after fees were assessed", func(t *testing.T) {
		thenRefused(t, []domain.Event{received(), transferred(), feeAssessed(), paid()}, withProcedure)
	})
	t.Run("procedure after an appraisal", func(t *testing.T) {
		thenRefused(t, []domain.Event{received(), transferred(), appraised(domain.ConclusionApprove)}, withProcedure)
	})
	t.Run("procedure of another agency", func(t *testing.T) { thenRefused(t, []domain.Event{received()}, otherAgency) })

	forbidden := func(t *testing.T, given []domain.Event, when domain.Command) {
		t.Helper()
		events, err := domain.Decide(domain.Fold(given...), when)
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.EFORBIDDEN || events != nil {
			t.Errorf("Decide(%s) = %v, %v; want EFORBIDDEN", when.Action(), events, err)
		}
	}
	t.Run("the requester approves their own", func(t *testing.T) {
		self := approveCorrection(1)
		self.By = receptionist
		forbidden(t, pending, self)
	})
	t.Run("another agency approves", func(t *testing.T) {
		other := approveCorrection(1)
		other.Agency = competentAgency
		forbidden(t, pending, other)
	})
	t.Run("another agency rejects", func(t *testing.T) {
		other := rejectCorrection(1)
		other.Agency = competentAgency
		forbidden(t, pending, other)
	})
}

func TestCorrectionInvalidInput(t *testing.T) {
	given := []domain.Event{received()}
	noReason := requestCorrection(nameChange)
	noReason.Reason = ""
	noProcedure := requestCorrection(domain.FieldChange{Field: domain.FieldProcedureCode, Old: procedure().Code, New: "9.999999"})
	rejectNoReason := rejectCorrection(1)
	rejectNoReason.Reason = ""
	runInvalid(t, []invalidCase{
		{"no changes", given, requestCorrection(), []string{"changes"}},
		{"no reason", given, noReason, []string{"reason"}},
		{"unknown field", given, requestCorrection(domain.FieldChange{Field: "code", Old: string(dossierCode), New: "X"}), []string{"changes[0].field"}},
		{"old value not recorded", given, requestCorrection(domain.FieldChange{Field: domain.FieldApplicantName, Old: "Nguyễn Thị Lam", New: "Nguyễn Thị Lanh"}),
			[]string{"changes[0].old"}},
		{"same value", given, requestCorrection(domain.FieldChange{Field: domain.FieldApplicantName, Old: "Nguyễn Thị Lan", New: "Nguyễn Thị Lan"}),
			[]string{"changes[0].new"}},
		{"field twice", given, requestCorrection(nameChange, nameChange), []string{"changes[1].field"}},
		{"invalid e-mail", given, requestCorrection(domain.FieldChange{Field: domain.FieldApplicantEmail, Old: applicant().Email, New: "lan at example"}),
			[]string{"changes[0].new"}},
		{"procedure not in the catalog", given, noProcedure, []string{"changes[0].new"}},
		{"reject without a reason", extend(given, correctionRequested(1)), rejectNoReason, []string{"reason"}},
	})
}

// correctionGoldenExamples are the correction events with every field set; at places them in time
// (Vietnam time for the golden files, UTC for the round trip).
func correctionGoldenExamples(at func(hours int) time.Time) []domain.Event {
	applicant := &domain.ApplicantCorrection{Type: domain.ApplicantCitizen, IDNumber: "038012345678",
		Changes: []domain.FieldChange{{Field: domain.FieldApplicantName, Old: "Nguyễn Văn Ân", New: "Nguyễn Văn An"}}}
	changes := []domain.FieldChange{{Field: domain.FieldProcedureCode, Old: "1.013225", New: "1.013226"},
		{Field: domain.FieldTransferUnit, Old: "000.00.10.H56.KT", New: "000.00.10.H56.QLDT"}}
	requester := domain.Handler{Unit: "000.00.01.H56", OfficialID: "can-bo-1", OfficialName: "Lê Thị Bình"}
	head := domain.Handler{Unit: "000.00.01.H56", OfficialID: "truong-bo-phan", OfficialName: "Vũ Thị Mai"}
	ref := func(code string, days int) domain.ProcedureRef {
		return domain.ProcedureRef{Code: code, Name: "Thủ tục " + code, FieldCode: "XD", FieldName: "Xây dựng", ResolutionTime: domain.ResolutionTime{Days: days, Hours: 4, SameDay: true}}
	}
	return []domain.Event{
		domain.CorrectionRequested{Number: 1, Code: "000.00.01.H56-260302-0001", Applicant: applicant, Changes: changes, Reason: "Nhập sai tại bộ phận một cửa",
			RequestedBy: requester, RequesterAgency: "000.00.01.H56", RequestedAt: at(3)},
		domain.CorrectionApproved{Number: 1, Applicant: applicant, Changes: changes,
			Procedure: &domain.ProcedureCorrection{Procedure: ref("1.013226", 10), OldAppointmentDate: at(21 * 24),
				NewAppointmentDate: at(14 * 24), NewFirstAppointment: at(14 * 24), NewDueDate: at(14 * 24),
				NewIndicatorDueDate: at(15 * 24), CatalogFeeTotal: 50000, CalendarVersion: "vn-2026+a1b2c3", RulesVersion: "nd118-2025",
				PreviousProcedure: ref("1.013225", 15), PreviousFirstAppointment: at(21 * 24)},
			Transfer: &domain.TransferCorrection{TransferredAt: at(2), Step: "Thẩm định hồ sơ",
				OldTo: domain.Handler{Unit: "000.00.10.H56.KT", OfficialID: "cv-2", OfficialName: "Trần Văn Cường"}, NewTo: domain.Handler{Unit: "000.00.10.H56.QLDT", OfficialID: "cv-3", OfficialName: "Ngô Văn Hải"}},
			Reason: "Nhập sai tại bộ phận một cửa", RequestedBy: requester, ApprovedBy: head, ApprovedAt: at(5)},
		domain.CorrectionRejected{Number: 2, Reason: "Thông tin đã nhập đúng", RejectedBy: head, RejectedAt: at(6)},
	}
}

func correctionRoundTripSamples() []domain.Event {
	return correctionGoldenExamples(func(hours int) time.Time { return goldenTime(hours).UTC() })
}

func TestCorrectedByMarksTheEventsWhoseDataWasCorrected(t *testing.T) {
	transferApproved := correctionApproved(2)
	transferApproved.Applicant = nil
	transferApproved.Transfer = &domain.TransferCorrection{TransferredAt: transferredAt, OldTo: specialist, NewTo: departmentHead}
	events := []domain.Event{submitted(), received(), transferred(), correctionRequested(1), correctionApproved(1), transferApproved}
	got := domain.CorrectedBy(events)
	want := map[int][]int{1: {1}, 2: {2}}
	if len(got) != len(want) || !slices.Equal(got[1], want[1]) || !slices.Equal(got[2], want[2]) {
		t.Errorf("CorrectedBy = %v, want %v", got, want)
	}
	if got := domain.CorrectedBy([]domain.Event{received(), correctionRequested(1), correctionRejected(1)}); len(got) != 0 {
		t.Errorf("a rejected correction marks %v", got)
	}
}
