package domain_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// The fixtures tell one dossier's story: an application for a construction permit for a private
// house (procedure 1.013225, 15 working days), received at the provincial Public Service Centre for
// a ward People's Committee in March 2025. March 2025 has no public holiday, so every expected
// date below can be worked out by hand from the default working day, 07:30–11:30 and 13:00–17:00 (8 h).

var cal = calendar.Default()

func vn(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, domain.VietnamTime)
}

const (
	dossierID       = "0195a3f0-7c2e-7d41-b8a6-5e2f9c1d4a07"
	receivingUnit   = "000.00.01.H56" // provincial Public Service Centre
	competentAgency = "000.00.41.H56" // the ward People's Committee that issues the permit
	consultedAgency = "000.00.12.H56" // Department of Construction, consulted (liên thông)
	landAgency      = "000.00.13.H56" // Department of Agriculture and Environment, consulted at the same time
	ratingSecret    = "K7Q2M9XW4D"

	dossierCode domain.DossierCode = "000.00.01.H56-250310-0007"
)

var (
	submittedAt   = vn(2025, time.March, 9, 20, 0) // a Sunday evening, online
	receivedAt    = vn(2025, time.March, 10, 8, 0) // Monday 08:00
	transferredAt = vn(2025, time.March, 10, 9, 0)
	// 15 working days from Monday 08:00 is three full weeks later.
	appointment = vn(2025, time.March, 31, 8, 0)
	// 16 working hours from Monday 09:00: 2.5 h + 4 h on Monday, 8 h on Tuesday, 1.5 h from Wednesday 07:30.
	appraisalDeadline = vn(2025, time.March, 12, 9, 0)
	// now is a Friday, after every fixture event: the moment of each "when" unless a test says otherwise.
	now = vn(2025, time.March, 14, 10, 0)
	// apologyDate is the new date an apology promises: after the appointment, before Hùng Kings' day (7/4/2025).
	apologyDate = vn(2025, time.April, 4, 17, 0)
	// apologyLatest is the latest date an apology may give: the appointment plus the procedure's 15
	// working days (Hùng Kings' day, Monday 7/4/2025, is off).
	apologyLatest = vn(2025, time.April, 22, 8, 0)
	// nd61 is the rule set in force in March 2025, which the fixture dossier keeps.
	nd61 = domain.DefaultRuleBook().At(receivedAt)
)

var (
	receptionist   = domain.Handler{Unit: receivingUnit, OfficialID: "tn-04", OfficialName: "Lê Thị Hoa"}
	specialist     = domain.Handler{Unit: "KTHTDT", OfficialID: "kt-11", OfficialName: "Trần Văn Bình"}
	departmentHead = domain.Handler{Unit: "KTHTDT", OfficialID: "kt-01", OfficialName: "Phạm Quốc Dũng"}
	signer         = domain.Handler{Unit: "LD", OfficialID: "ld-02", OfficialName: "Hoàng Minh Châu"}
	consultant     = domain.Handler{Unit: consultedAgency, OfficialID: "sxd-07", OfficialName: "Đỗ Thanh Tâm"}

	permitHash       = sha256Hex("giấy phép xây dựng số 45/GPXD")
	secondResultHash = sha256Hex("bản vẽ kèm theo giấy phép số 45/GPXD")
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func procedure() domain.Procedure {
	return domain.Procedure{
		Code:            "1.013225",
		Name:            "Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV và nhà ở riêng lẻ",
		Field:           domain.Field{Code: "H56-XD", Name: "Hoạt động xây dựng"},
		CompetentAgency: competentAgency,
		ResolutionTime:  domain.ResolutionTime{Days: 15},
		Fees:            []domain.Fee{{Name: "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", Amount: 75_000}},
		OnlineLevel:     "full",
		Workflow:        workflow(),
	}
}

// workflow is the ward's internal process for the permit: 88 of the 15 days' 120 working hours on
// its critical path, with a parallel step that consults two departments of the province while the
// ward's own specialist inspects the site.
func workflow() []domain.WorkflowStep {
	return []domain.WorkflowStep{
		{Name: "Tiếp nhận hồ sơ", Unit: receivingUnit, Role: "reception", AllottedHours: 4},
		{Name: "Thẩm định hồ sơ", Unit: "KTHTDT", Role: "specialist", AllottedHours: 16},
		{Name: "Lấy ý kiến các cơ quan liên quan", Unit: "KTHTDT", Role: "specialist", Parallel: []domain.WorkflowStep{
			{Name: "Ý kiến Sở Xây dựng", Unit: consultedAgency, Role: "specialist", AllottedHours: 40},
			{Name: "Ý kiến Sở Nông nghiệp và Môi trường", Unit: landAgency, Role: "specialist", AllottedHours: 24},
			{Name: "Kiểm tra thực địa", Unit: "KTHTDT", Role: "specialist", AllottedHours: 16},
		}},
		{Name: "Xem xét của trưởng phòng", Unit: "KTHTDT", Role: "head", AllottedHours: 8},
		{Name: "Ký giấy phép", Unit: "LD", Role: "signer", AllottedHours: 16},
		{Name: "Trả kết quả", Unit: receivingUnit, Role: "reception", AllottedHours: 4},
	}
}

func applicant() domain.Applicant {
	return domain.Applicant{
		Type: domain.ApplicantCitizen, Name: "Nguyễn Thị Lan", IDNumber: "038190001234",
		Phone: "0912 345 678", Email: "lan.nguyen@example.vn", Address: "12 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa",
	}
}

func components() []domain.Component {
	return []domain.Component{
		{Name: "Đơn đề nghị cấp giấy phép xây dựng (Mẫu số 01)", Copies: 1},
		{Name: "Bản sao Giấy chứng nhận quyền sử dụng đất", Copies: 1},
		{Name: "Bản vẽ thiết kế xây dựng", Copies: 2},
	}
}

func submitted() domain.Submitted {
	return domain.Submitted{
		DossierID: dossierID, Procedure: domain.RefOf(procedure()), Applicant: applicant(), Components: components(),
		ReceivingUnit: receivingUnit, CompetentAgency: competentAgency, SubmittedAt: submittedAt,
		// Filed on a Sunday: 8 working hours counted from Monday 07:30.
		AcceptanceDeadline: vn(2025, time.March, 10, 17, 0), CalendarVersion: cal.Version(), RulesVersion: domain.RulesND61,
	}
}

func received() domain.Received {
	return domain.Received{
		DossierID: dossierID, Code: dossierCode, Procedure: domain.RefOf(procedure()), Applicant: applicant(),
		Channel: domain.ChannelDirect, Components: components(), ReceivingUnit: receivingUnit,
		CompetentAgency: competentAgency, ReceivedAt: receivedAt, AppointmentDate: appointment,
		CalendarVersion: cal.Version(), RatingSecretHash: domain.HashRatingSecret(ratingSecret),
		// Received on a working day before the 15:00 cut-off: to the department the same day.
		TransferDeadline: vn(2025, time.March, 10, 17, 0), RulesVersion: domain.RulesND61, Rules: nd61,
	}
}

func refused() domain.ReceptionRefused {
	return domain.ReceptionRefused{
		Reason:    "Thửa đất nằm trong khu vực quy hoạch chưa cho phép xây dựng nhà ở",
		RefusedAt: vn(2025, time.March, 10, 9, 0),
	}
}

func supplementRequested() domain.SupplementRequested {
	return domain.SupplementRequested{
		MissingItems:  []string{"Bản vẽ mặt bằng móng", "Sơ đồ đấu nối hạ tầng kỹ thuật"},
		Reason:        "Bản vẽ thiết kế chưa đủ thành phần theo quy định",
		RequestNumber: 1, RequestedAt: vn(2025, time.March, 11, 10, 0),
		// Three working days from the receipt, Monday 08:00.
		NoticeDeadline: vn(2025, time.March, 13, 8, 0), CalendarVersion: cal.Version(), RulesVersion: domain.RulesND61,
	}
}

func supplemented() domain.Supplemented {
	return domain.Supplemented{
		Components:     []domain.Component{{Name: "Bản vẽ mặt bằng móng", Copies: 2}},
		SupplementedAt: vn(2025, time.March, 13, 10, 0),
		// Tuesday 10:00–11:30 and 13:00–17:00 (5.5 h), Wednesday (8 h), Thursday 07:30–10:00 (2.5 h).
		WaitingTime:        16 * time.Hour,
		OldAppointmentDate: appointment,
		// The 15 working days restart from Thursday 10:00: three weeks later.
		NewAppointmentDate: vn(2025, time.April, 3, 10, 0),
		CalendarVersion:    cal.Version(),
		// The indicator moves the receipt's date by the 16 h waited: Monday 31/3 08:00 gives 7.5 h,
		// Tuesday 8 h, and the last 0.5 h end on Wednesday 2/4 at 08:00.
		NewIndicatorDueDate: vn(2025, time.April, 2, 8, 0),
		RulesVersion:        domain.RulesND61,
	}
}

func transferred() domain.Transferred {
	return domain.Transferred{
		From: receptionist, To: specialist, Step: "Thẩm định hồ sơ", AllottedHours: 16,
		StepDeadline: appraisalDeadline, TransferredAt: transferredAt, CalendarVersion: cal.Version(),
		PreviousStepDeadline: received().TransferDeadline, FromWorkflow: true,
	}
}

func appraised(conclusion domain.AppraisalConclusion) domain.Appraised {
	opinion := "Hồ sơ đủ điều kiện cấp giấy phép xây dựng"
	if conclusion == domain.ConclusionReject {
		opinion = "Công trình vi phạm chỉ giới xây dựng"
	}
	return domain.Appraised{Conclusion: conclusion, Opinion: opinion, Appraiser: specialist, AppraisedAt: vn(2025, time.March, 12, 10, 0)}
}

func signed() domain.Signed {
	return domain.Signed{
		Signer: signer, SignerTitle: "Phó Chủ tịch UBND phường", DocumentNumber: "45/GPXD",
		DocumentHash: permitHash, SignedAt: vn(2025, time.March, 12, 15, 0),
	}
}

func feeAssessed() domain.FeeAssessed {
	return domain.FeeAssessed{Items: procedure().Fees, Total: 75_000, AssessedAt: vn(2025, time.March, 11, 9, 0)}
}

func paid() domain.Paid {
	return domain.Paid{Amount: 75_000, Channel: domain.PaymentOnline, ReceiptNumber: "BL-2025-000318", PaidAt: vn(2025, time.March, 11, 15, 0)}
}

func resultReady() domain.ResultReady {
	return domain.ResultReady{
		ResultCode: string(dossierCode) + "-KQ1", Index: 1, DocumentNumber: "45/GPXD", DocumentHash: permitHash,
		ReadyAt: vn(2025, time.March, 13, 9, 0),
	}
}

func resultReturned() domain.ResultReturned {
	return domain.ResultReturned{Channel: domain.ChannelDirect, ReturnedAt: vn(2025, time.March, 13, 10, 0), AppointmentDate: appointment}
}

func apologyIssued() domain.ApologyIssued {
	return domain.ApologyIssued{
		Reason: "Chờ ý kiến của Sở Xây dựng", OldAppointmentDate: appointment, NewAppointmentDate: apologyDate,
		IssuedAt: vn(2025, time.March, 12, 16, 0), LatestAllowedDate: apologyLatest, CalendarVersion: cal.Version(), RulesVersion: domain.RulesND61,
	}
}

func suspended() domain.Suspended {
	return domain.Suspended{Reason: "Chờ kết quả xác minh ranh giới thửa đất", SuspendedAt: vn(2025, time.March, 11, 14, 0)}
}

func withdrawn() domain.Withdrawn {
	return domain.Withdrawn{Reason: "Người nộp rút hồ sơ để điều chỉnh thiết kế", WithdrawnAt: vn(2025, time.March, 11, 11, 0)}
}

func rejected() domain.Rejected {
	return domain.Rejected{Reason: "Công trình vi phạm chỉ giới xây dựng", RejectedAt: vn(2025, time.March, 12, 11, 0)}
}

func ratingScores() map[domain.Criterion]domain.RatingLevel {
	return map[domain.Criterion]domain.RatingLevel{
		domain.CriterionTotalTime:     domain.VerySatisfied,
		domain.CriterionStaffAttitude: domain.Satisfied,
	}
}

// extend returns a new history: base followed by more. Unlike append it never writes into base's
// backing array, so table cases built from one base cannot overwrite each other.
func extend(base []domain.Event, more ...domain.Event) []domain.Event {
	return slices.Concat(base, more)
}

// historyIn returns the past events of a dossier that is now in status (nil for StatusNew);
// TestFixtureHistoriesReachTheirStatus checks it knows every status.
func historyIn(status domain.Status) []domain.Event {
	processing := []domain.Event{received(), transferred()}
	signedResult := extend(processing, appraised(domain.ConclusionApprove), signed(), resultReady())
	switch status {
	case domain.StatusNew:
		return nil
	case domain.StatusSubmitted:
		return []domain.Event{submitted()}
	case domain.StatusReceived:
		return []domain.Event{received()}
	case domain.StatusReceptionRefused:
		return []domain.Event{submitted(), refused()}
	case domain.StatusSupplementRequested:
		return []domain.Event{received(), supplementRequested()}
	case domain.StatusProcessing:
		return processing
	case domain.StatusAwaitingPayment:
		return extend(processing, feeAssessed())
	case domain.StatusSuspended:
		return extend(processing, suspended())
	case domain.StatusResultReady:
		return signedResult
	case domain.StatusResultReturned:
		return extend(signedResult, resultReturned())
	case domain.StatusWithdrawn:
		return []domain.Event{received(), withdrawn()}
	case domain.StatusRejected:
		return extend(processing, appraised(domain.ConclusionReject), rejected())
	}
	return nil
}

// commandFor returns a command for action that is valid in every status that allows the action.
func commandFor(t *testing.T, action domain.Action) domain.Command {
	t.Helper()
	switch action {
	case domain.ActionSubmit:
		return domain.Submit{DossierID: dossierID, Procedure: procedure(), Applicant: applicant(), Components: components(),
			ReceivingUnit: receivingUnit, At: now, Calendar: cal}
	case domain.ActionReceive:
		return domain.Receive{DossierID: dossierID, Code: dossierCode, Procedure: procedure(), Applicant: applicant(),
			Channel: domain.ChannelDirect, Components: components(), ReceivingUnit: receivingUnit,
			RatingSecretHash: domain.HashRatingSecret(ratingSecret), At: now, Calendar: cal}
	case domain.ActionRefuseReception:
		return domain.RefuseReception{Reason: "Hồ sơ không thuộc thẩm quyền", At: now}
	case domain.ActionRequestSupplement:
		return domain.RequestSupplement{MissingItems: []string{"Bản vẽ mặt bằng móng"}, Reason: "Thiếu bản vẽ", At: now, Calendar: cal}
	case domain.ActionSupplement:
		return domain.Supplement{Components: []domain.Component{{Name: "Bản vẽ mặt bằng móng", Copies: 2}}, At: now, Calendar: cal}
	case domain.ActionTransfer:
		return domain.Transfer{From: specialist, To: departmentHead, Step: "Xem xét của trưởng phòng", Workflow: workflow(), At: now, Calendar: cal}
	case domain.ActionInterAgencyTransfer:
		return domain.InterAgencyTransfer{From: specialist, FromAgency: competentAgency, ToAgency: consultedAgency,
			Purpose: "Lấy ý kiến về chỉ giới xây dựng", AllottedHours: 40, At: now, Calendar: cal}
	case domain.ActionAppraise:
		return domain.Appraise{Appraiser: specialist, Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện", At: now}
	case domain.ActionSign:
		return domain.Sign{Signer: signer, SignerTitle: "Phó Chủ tịch UBND phường", DocumentNumber: "45/GPXD", DocumentHash: permitHash, At: now}
	case domain.ActionAssessFee:
		return domain.AssessFee{Items: procedure().Fees, At: now}
	case domain.ActionPay:
		return domain.Pay{Amount: 75_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-2025-000400", At: now}
	case domain.ActionMarkResultReady:
		return domain.MarkResultReady{At: now}
	case domain.ActionReturnResult:
		return domain.ReturnResult{Channel: domain.ChannelDirect, At: now}
	case domain.ActionIssueApology:
		return domain.IssueApology{Reason: "Chờ ý kiến của Sở Xây dựng", NewAppointmentDate: apologyDate, At: now, Calendar: cal}
	case domain.ActionSuspend:
		return domain.Suspend{Reason: "Chờ xác minh", At: now}
	case domain.ActionResume:
		return domain.Resume{At: now, Calendar: cal}
	case domain.ActionWithdraw:
		return domain.Withdraw{Reason: "Người nộp đề nghị rút", At: now}
	case domain.ActionReject:
		return domain.Reject{Reason: "Công trình vi phạm chỉ giới xây dựng", At: now}
	case domain.ActionRate:
		return domain.Rate{Secret: ratingSecret, Scores: ratingScores(), At: now}
	case domain.ActionCompletePart:
		return domain.CompletePart{Step: "Ý kiến Sở Xây dựng", By: consultant, Opinion: "Thống nhất", At: now}
	case domain.ActionRequestCorrection:
		return requestCorrection(nameChange)
	case domain.ActionApproveCorrection:
		return approveCorrection(1)
	case domain.ActionRejectCorrection:
		return rejectCorrection(1)
	case domain.ActionAttachDocument:
		return attachDocument()
	case domain.ActionSucceedAgency:
		return succeed(receivingUnit, nil)
	case domain.ActionOriginalsArrived:
		return arrive()
	}
	t.Fatalf("no command for action %q", action)
	return nil
}

// transitionCase is one given/when/then: past events, a command, and the events it must produce.
type transitionCase struct {
	name  string
	given []domain.Event
	when  domain.Command
	then  []domain.Event
}

func allTransitionCases() []transitionCase {
	return slices.Concat(receptionTransitions(), processingTransitions(), resultTransitions(), timeTransitions(), correctionTransitions(),
		documentTransitions(), successionTransitions(), boundaryFreeTransitions())
}

func runTransitions(t *testing.T, cases []transitionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			thenEvents(t, tc.given, tc.when, tc.then...)
		})
	}
}

// thenEvents decides when on the dossier folded from given and compares the whole events with want.
func thenEvents(t *testing.T, given []domain.Event, when domain.Command, want ...domain.Event) {
	t.Helper()
	got, err := domain.Decide(domain.Fold(given...), when)
	if err != nil {
		t.Fatalf("Decide(%s) returned error %v, want %d event(s)", when.Action(), err, len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decide(%s) events differ\n got: %+v\nwant: %+v", when.Action(), got, want)
	}
}

// thenRefused checks that when is refused with a *TransitionError naming its action and the
// dossier's status, and returns the error for further checks.
func thenRefused(t *testing.T, given []domain.Event, when domain.Command) *domain.TransitionError {
	t.Helper()
	d := domain.Fold(given...)
	events, err := domain.Decide(d, when)
	var te *domain.TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("Decide(%s) in %s = %v, %v; want a *TransitionError", when.Action(), d.Status, events, err)
	}
	if te.Action != when.Action() || te.Status != d.Status {
		t.Errorf("TransitionError names %s in %s, want %s in %s", te.Action, te.Status, when.Action(), d.Status)
	}
	if events != nil {
		t.Errorf("a refused command returned events %+v", events)
	}
	if code := domain.ErrorCodeOf(err); code != domain.ECONFLICT {
		t.Errorf("ErrorCodeOf = %s, want %s", code, domain.ECONFLICT)
	}
	if !strings.Contains(err.Error(), string(when.Action())) || !strings.Contains(err.Error(), string(d.Status)) {
		t.Errorf("message %q does not name the action and the status", err)
	}
	return te
}

// thenInvalid checks that when is refused as EINVALID with exactly the given fields at fault, in order.
func thenInvalid(t *testing.T, given []domain.Event, when domain.Command, fields ...string) {
	t.Helper()
	events, err := domain.Decide(domain.Fold(given...), when)
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.EINVALID {
		t.Fatalf("Decide(%s) = %+v, %v; want an EINVALID *Error", when.Action(), events, err)
	}
	if events != nil {
		t.Errorf("invalid input returned events %+v", events)
	}
	got := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		got[i] = f.Field
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
	}
	if !slices.Equal(got, fields) {
		t.Errorf("fields at fault = %q, want %q (%v)", got, fields, err)
	}
}

// invalidCase is a command that must be refused as EINVALID, naming fields.
type invalidCase struct {
	name   string
	given  []domain.Event
	when   domain.Command
	fields []string
}

func runInvalid(t *testing.T, cases []invalidCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			thenInvalid(t, tc.given, tc.when, tc.fields...)
		})
	}
}

func TestFixtureHistoriesReachTheirStatus(t *testing.T) {
	for _, status := range domain.AllStatuses {
		if got := domain.Fold(historyIn(status)...).Status; got != status {
			t.Errorf("history for %s folds to %s", status, got)
		}
	}
}

func TestEveryAllowedTransitionIsTested(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range allTransitionCases() {
		status := domain.Fold(tc.given...).Status
		if !slices.Contains(domain.Allowed[tc.when.Action()], status) {
			t.Errorf("case %q: %s is not allowed in %s, yet the case expects events", tc.name, tc.when.Action(), status)
		}
		tested[fmt.Sprint(tc.when.Action(), " in ", status)] = true
	}
	for action, statuses := range domain.Allowed {
		for _, status := range statuses {
			if !tested[fmt.Sprint(action, " in ", status)] {
				t.Errorf("no given/when/then case for %s in %s", action, status)
			}
		}
	}
}

// TestEveryRefusedTransition tries every action in every status that does not allow it, with a
// command that would otherwise be valid, and expects a *TransitionError naming both.
func TestEveryRefusedTransition(t *testing.T) {
	if len(domain.Allowed) != 26 {
		t.Fatalf("Allowed lists %d actions; this test and commandFor know 26", len(domain.Allowed))
	}
	refusals := 0
	for _, status := range domain.AllStatuses {
		given := historyIn(status)
		d := domain.Fold(given...)
		for action, allowed := range domain.Allowed {
			if slices.Contains(allowed, status) {
				continue
			}
			refusals++
			t.Run(string(status)+"/"+string(action), func(t *testing.T) {
				when := commandFor(t, action)
				if when.Action() != action {
					t.Fatalf("commandFor(%s) returned a %s command", action, when.Action())
				}
				thenRefused(t, given, when)
				if slices.Contains(domain.AllowedActions(d), action) {
					t.Errorf("AllowedActions lists %s in %s", action, status)
				}
			})
		}
	}
	// 38 pairs of the process, corrections requested in 6 statuses and decided in 9, files in 6, a
	// succession in 7 and the originals' arrival in 5.
	if refusals != 26*len(domain.AllStatuses)-80 {
		t.Errorf("tried %d refused transitions, want %d (80 pairs are allowed)", refusals, 26*len(domain.AllStatuses)-80)
	}
}

func TestAllowedActionsFollowsAllowed(t *testing.T) {
	for _, status := range domain.AllStatuses {
		d := domain.Fold(historyIn(status)...)
		var want []domain.Action
		for _, a := range domain.AllowedActions(d) {
			if !slices.Contains(domain.Allowed[a], status) {
				t.Errorf("AllowedActions in %s lists %s, which Allowed does not", status, a)
			}
			want = append(want, a)
		}
		count := 0
		for action, statuses := range domain.Allowed {
			// Neither a succession (a bulk job) nor the arrival of originals no fixture dossier sends.
			if slices.Contains(statuses, status) && action != domain.ActionSucceedAgency && action != domain.ActionOriginalsArrived {
				count++
			}
		}
		if len(want) != count {
			t.Errorf("AllowedActions in %s lists %d actions, Allowed has %d", status, len(want), count)
		}
	}
	// A correction requested before the return may still be decided after it.
	returnedAllows := []domain.Action{domain.ActionRate, domain.ActionApproveCorrection, domain.ActionRejectCorrection}
	if got := domain.AllowedActions(domain.Fold(historyIn(domain.StatusResultReturned)...)); !slices.Equal(got, returnedAllows) {
		t.Errorf("a returned dossier allows %v, want %v", got, returnedAllows)
	}
}

type unknownCommand struct{}

func (unknownCommand) Action() domain.Action { return "teleport" }

func TestDecideRejectsAnUnknownCommand(t *testing.T) {
	_, err := domain.Decide(domain.Fold(received()), unknownCommand{})
	if domain.ErrorCodeOf(err) != domain.EINTERNAL {
		t.Errorf("Decide(unknown) = %v, want an EINTERNAL error", err)
	}
}

func TestPortalStatusCodes(t *testing.T) {
	want := map[domain.Status]int{
		domain.StatusNew:                 0,
		domain.StatusSubmitted:           1,
		domain.StatusReceived:            2,
		domain.StatusReceptionRefused:    3,
		domain.StatusProcessing:          4,
		domain.StatusSupplementRequested: 5,
		domain.StatusAwaitingPayment:     6,
		domain.StatusWithdrawn:           7,
		domain.StatusSuspended:           8,
		domain.StatusRejected:            8,
		domain.StatusResultReady:         9,
		domain.StatusResultReturned:      10,
	}
	if len(want) != len(domain.AllStatuses) {
		t.Fatalf("AllStatuses has %d statuses, this table %d", len(domain.AllStatuses), len(want))
	}
	used := map[int]bool{}
	for _, s := range domain.AllStatuses {
		code := s.PortalStatusCode()
		if code != want[s] {
			t.Errorf("%s.PortalStatusCode() = %d, want %d", s, code, want[s])
		}
		used[code] = true
	}
	for code := 1; code <= 10; code++ {
		if !used[code] {
			t.Errorf("no status maps to portal code %d", code)
		}
	}
}

func TestFoldKeepsTheFacts(t *testing.T) {
	t.Run("received", func(t *testing.T) {
		d := domain.Fold(received())
		if d.Version != 1 || d.ID != dossierID || d.Code != dossierCode || !d.Exists() {
			t.Errorf("dossier = %+v", d)
		}
		if !d.AppointmentDate.Equal(appointment) || !d.FirstAppointment.Equal(appointment) {
			t.Errorf("appointment %v / first %v, want %v", d.AppointmentDate, d.FirstAppointment, appointment)
		}
		if d.Holder.Unit != receivingUnit || d.Channel != domain.ChannelDirect {
			t.Errorf("holder %+v channel %s", d.Holder, d.Channel)
		}
	})
	t.Run("supplemented after receipt", func(t *testing.T) {
		d := domain.Fold(received(), supplementRequested(), supplemented())
		if d.Status != domain.StatusReceived || d.SupplementRequests != 1 || d.PendingSupplement != nil {
			t.Errorf("status %s, %d requests, pending %+v", d.Status, d.SupplementRequests, d.PendingSupplement)
		}
		if !d.AppointmentDate.Equal(supplemented().NewAppointmentDate) || !d.FirstAppointment.Equal(appointment) {
			t.Errorf("appointment %v (first %v)", d.AppointmentDate, d.FirstAppointment)
		}
		if d.WaitingTime != 16*time.Hour || len(d.Components) != 4 {
			t.Errorf("waiting %v, %d components", d.WaitingTime, len(d.Components))
		}
	})
	t.Run("paid in full goes back to processing", func(t *testing.T) {
		d := domain.Fold(received(), transferred(), feeAssessed(), paid())
		if d.Status != domain.StatusProcessing || d.FeesDue != 75_000 || d.FeesPaid != 75_000 || len(d.Payments) != 1 {
			t.Errorf("dossier = %s, due %d, paid %d", d.Status, d.FeesDue, d.FeesPaid)
		}
	})
	t.Run("returned", func(t *testing.T) {
		d := domain.Fold(historyIn(domain.StatusResultReturned)...)
		if !d.Status.Final() || !d.ClosedAt.Equal(resultReturned().ReturnedAt) || len(d.Results) != 1 {
			t.Errorf("dossier = %+v", d)
		}
	})
}

func TestLate(t *testing.T) {
	after := appointment.Add(time.Minute)
	cases := []struct {
		name    string
		history []domain.Event
		at      time.Time
		late    bool
	}{
		{"open before the appointment", []domain.Event{received(), transferred()}, appointment, false},
		{"open after the appointment", []domain.Event{received(), transferred()}, after, true},
		{"result ready on time, looked at later", historyIn(domain.StatusResultReady), after, false},
		{"result ready after the appointment",
			[]domain.Event{received(), transferred(), appraised(domain.ConclusionApprove), signed(),
				domain.ResultReady{ResultCode: string(dossierCode) + "-KQ1", Index: 1, ReadyAt: after}}, after, true},
		{"apology moved the date", []domain.Event{received(), apologyIssued()}, after, false},
		{"withdrawn dossiers are never late", historyIn(domain.StatusWithdrawn), after, false},
		{"submitted, not yet received", []domain.Event{submitted()}, after, false},
	}
	for _, tc := range cases {
		if got := domain.Fold(tc.history...).Late(tc.at); got != tc.late {
			t.Errorf("%s: Late = %v, want %v", tc.name, got, tc.late)
		}
	}
}

// roundTripSamples has one fully populated value of every event type, with instants in UTC so that
// the decoded value compares equal field by field.
func roundTripSamples() []domain.Event {
	utc := func(t time.Time) time.Time { return t.UTC() }
	s := submitted()
	s.ExternalCode = "G22.99-250309-000045"
	s.SubmittedAt, s.AcceptanceDeadline = utc(s.SubmittedAt), utc(s.AcceptanceDeadline)
	r := received()
	r.ExternalCode, r.CatalogRevision = "G22.99-250310-000123", 7
	r.ReceivedAt, r.AppointmentDate, r.TransferDeadline = utc(r.ReceivedAt), utc(r.AppointmentDate), utc(r.TransferDeadline)
	r.Rules.EffectiveFrom = utc(r.Rules.EffectiveFrom)
	rf := refused()
	rf.RefusedAt = utc(rf.RefusedAt)
	sr := supplementRequested()
	sr.BeforeReceipt, sr.RequestedAt, sr.NoticeDeadline = true, utc(sr.RequestedAt), utc(sr.NoticeDeadline)
	sp := supplemented()
	sp.SupplementedAt, sp.OldAppointmentDate, sp.NewAppointmentDate = utc(sp.SupplementedAt), utc(sp.OldAppointmentDate), utc(sp.NewAppointmentDate)
	// Only a completed submission opens an acceptance window; set here so the round trip checks it.
	sp.NewIndicatorDueDate, sp.AcceptanceDeadline = utc(sp.NewIndicatorDueDate), utc(vn(2025, time.March, 14, 10, 0))
	tr := transferred()
	tr.Note = "Chuyển thẩm định"
	tr.StepSkip = domain.StepSkip{SkippedSteps: []string{"Phân công thụ lý"}, SkipReason: "Trưởng phòng trực tiếp thụ lý"}
	tr.StepDeadline, tr.TransferredAt, tr.PreviousStepDeadline = utc(tr.StepDeadline), utc(tr.TransferredAt), utc(appointment)
	ia := domain.InterAgencyTransferred{
		FromAgency: competentAgency, ToAgency: consultedAgency, From: specialist, Purpose: "Lấy ý kiến", AllottedHours: 40,
		StepDeadline: utc(vn(2025, time.March, 21, 10, 0)), TransferredAt: utc(now), PreviousStepDeadline: utc(appraisalDeadline),
		CalendarVersion: cal.Version(), Step: "Ý kiến Sở Xây dựng", FromWorkflow: true,
		StepSkip: domain.StepSkip{SkippedSteps: []string{"Thẩm định hồ sơ"}, SkipReason: "Đã thẩm định tại bộ phận một cửa"},
	}
	ap := appraised(domain.ConclusionApprove)
	ap.AppraisedAt = utc(ap.AppraisedAt)
	agencySignature := &domain.AgencySignature{Agency: competentAgency, Algorithm: "Ed25519", KeyID: "00112233445566778899aabbccddeeff",
		PublicKey: "MCowBQYDK2VwAyEA", Value: "c2lnbmF0dXJl"}
	sg := signed()
	sg.SignedAt, sg.AgencySignature = utc(sg.SignedAt), agencySignature
	fa := feeAssessed()
	fa.AssessedAt = utc(fa.AssessedAt)
	pd := paid()
	pd.PaidAt, pd.AgencySignature = utc(pd.PaidAt), agencySignature
	pd.Gateway, pd.OrderRef, pd.BankCode = "vnpay", "20250311000001", "NCB"
	rr := resultReady()
	rr.ReadyAt = utc(rr.ReadyAt)
	rt := resultReturned()
	rt.ReturnedAt, rt.AppointmentDate = utc(rt.ReturnedAt), utc(rt.AppointmentDate)
	ai := apologyIssued()
	ai.OldAppointmentDate, ai.NewAppointmentDate, ai.IssuedAt = utc(ai.OldAppointmentDate), utc(ai.NewAppointmentDate), utc(ai.IssuedAt)
	ai.LatestAllowedDate = utc(ai.LatestAllowedDate)
	su := suspended()
	su.SuspendedAt = utc(su.SuspendedAt)
	rs := domain.Resumed{
		ResumedAt: utc(now), PausedWorkingTime: 21*time.Hour + 30*time.Minute, OldAppointmentDate: utc(appointment),
		NewAppointmentDate: utc(vn(2025, time.April, 3, 8, 0)), CalendarVersion: cal.Version(),
		NewDueDate: utc(vn(2025, time.April, 2, 8, 0)), NewIndicatorDueDate: utc(vn(2025, time.April, 4, 8, 0)), RulesVersion: domain.RulesND61,
	}
	wd := withdrawn()
	wd.WithdrawnAt = utc(wd.WithdrawnAt)
	rj := rejected()
	rj.RejectedAt = utc(rj.RejectedAt)
	rd := domain.Rated{Scores: ratingScores(), Comment: "Cán bộ hướng dẫn tận tình", RatedAt: utc(now)}
	ps := parallelStarted()
	ps.StepDeadline, ps.StartedAt, ps.PreviousStepDeadline = utc(ps.StepDeadline), utc(ps.StartedAt), utc(ps.PreviousStepDeadline)
	ps.Note = "Gửi lấy ý kiến đồng thời"
	ps.StepSkip = domain.StepSkip{SkippedSteps: []string{"Thẩm định hồ sơ"}, SkipReason: "Lấy ý kiến ngay theo chỉ đạo của lãnh đạo"}
	for i := range ps.Parts {
		ps.Parts[i].StepDeadline = utc(ps.Parts[i].StepDeadline)
	}
	pc := partCompleted()
	pc.StepDeadline, pc.CompletedAt = utc(pc.StepDeadline), utc(pc.CompletedAt)
	da := documentAttached()
	da.ResultCode, da.AttachedAt = domain.ResultCode(dossierCode, 1), utc(da.AttachedAt)
	as := succeeded(competentAgency, true, true, specialist, domain.Handler{Unit: successor}, "Ý kiến Sở Xây dựng")
	as.EffectiveDate, as.SucceededAt = utc(as.EffectiveDate), utc(as.SucceededAt)
	bf := boundaryFreeReceived()
	bf.ForwardingDeadline, bf.ReceivedAt = utc(bf.ForwardingDeadline), utc(bf.ReceivedAt)
	oa := originalsArrived()
	oa.ArrivedAt, oa.ForwardingDeadline = utc(oa.ArrivedAt), utc(oa.ForwardingDeadline)
	fr := feedbackReceived()
	fr.ExternalID = "QG-2026-000123"
	fr.Submitter.Email = "an@example.vn"
	fsup := domain.FeedbackInformationSupplied{Information: "i", SuppliedAt: feedbackRoutedAt.UTC(), AnswerBy: feedbackAnswerBy.UTC(),
		CalendarVersion: cal.Version()}
	feedback := []domain.Event{fr, feedbackRouted(), feedbackAsked(feedbackAskBy), fsup, feedbackAnswered(),
		domain.FeedbackPublished{PublishedAt: feedbackPublishBy.UTC(), Due: feedbackPublishBy.UTC()},
		domain.FeedbackRefused{Reason: "r", RefusedAt: feedbackRoutedAt.UTC(), Due: feedbackRouteBy.UTC()}}
	return slices.Concat([]domain.Event{s, r, rf, sr, sp, tr, ia, ap, sg, fa, pd, rr, rt, ai, su, rs, wd, rj, rd, ps, pc, da, as, bf, oa},
		correctionRoundTripSamples(), feedback, catalogGoldenExamples(func(hours int) time.Time { return utc(goldenAt.Add(time.Duration(hours) * time.Hour)) }))
}

func TestEventsRoundTrip(t *testing.T) {
	samples := roundTripSamples()
	covered := map[string]bool{}
	for _, e := range samples {
		t.Run(e.EventType(), func(t *testing.T) {
			v := reflect.ValueOf(e)
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					t.Errorf("sample leaves %s zero, so its round trip is not checked", v.Type().Field(i).Name)
				}
			}
			eventType, data, err := domain.EncodeEvent(e)
			if err != nil || eventType != e.EventType() {
				t.Fatalf("EncodeEvent = %q, %v", eventType, err)
			}
			aggregate := domain.DossierAggregate
			for _, a := range domain.Aggregates {
				if strings.HasPrefix(eventType, a.Name+".") {
					aggregate = a
				}
			}
			if !aggregate.Holds(aggregate.StreamName("x"), eventType) || !strings.HasPrefix(eventType, aggregate.Name+".") || !strings.HasSuffix(eventType, ".v1") {
				t.Errorf("wire name %q is not a versioned event of its aggregate", eventType)
			}
			decoded, err := domain.DecodeEvent(eventType, data)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if !reflect.DeepEqual(decoded, e) {
				t.Errorf("round trip changed the event\n got: %+v\nwant: %+v", decoded, e)
			}
		})
		covered[e.EventType()] = true
	}
	for _, eventType := range domain.EventTypes() {
		if !covered[eventType] {
			t.Errorf("no round-trip sample for %s", eventType)
		}
	}
	if len(covered) != len(domain.EventTypes()) {
		t.Errorf("%d samples for %d event types", len(covered), len(domain.EventTypes()))
	}
}

func TestEventsKeepVietnamInstants(t *testing.T) {
	_, data, err := domain.EncodeEvent(received())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"appointment_date":"2025-03-31T08:00:00+07:00"`) {
		t.Errorf("payload %s does not carry the appointment in Vietnam time", data)
	}
	decoded, err := domain.DecodeEvent(domain.TypeReceived, data)
	if err != nil {
		t.Fatal(err)
	}
	if got := decoded.(domain.Received).AppointmentDate; !got.Equal(appointment) {
		t.Errorf("decoded appointment %v, want %v", got, appointment)
	}
}

func TestDecodeEventRefusesUnknownAndMalformed(t *testing.T) {
	if _, err := domain.DecodeEvent("dossier.teleported.v1", []byte(`{}`)); err == nil {
		t.Error("an unknown event type decoded")
	}
	if domain.IsDossierEvent("dossier.teleported.v1") {
		t.Error("IsDossierEvent accepts an unknown type")
	}
	if _, err := domain.DecodeEvent(domain.TypePaid, []byte(`{"amount":"a lot"}`)); err == nil {
		t.Error("a malformed payload decoded")
	}
}
