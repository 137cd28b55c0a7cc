package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// parallelCatalog is the catalog fixture with the permit on the parallel workflow of workflow().
func parallelCatalog() domain.Catalog {
	c := catalogFixture()
	c.Procedures[0].Workflow = workflow()
	return c
}

func TestCriticalPathOfAParallelWorkflow(t *testing.T) {
	c, err := domain.ParseCatalog(encodeCatalog(t, parallelCatalog()), cal)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Procedure("1.013225")
	// 4 + 16 + max(40, 24, 16) + 8 + 16 + 4: the parts run at once, so only the longest counts.
	if got := p.CriticalPathHours(); got != 88 {
		t.Errorf("CriticalPathHours = %v, want 88", got)
	}
	consult, ok := p.Step("Lấy ý kiến các cơ quan liên quan")
	if !ok || !consult.IsParallel() || consult.Hours() != 40 || len(consult.Parallel) != 3 {
		t.Errorf("Step(parallel) = %+v, %v", consult, ok)
	}
	if part, ok := p.Step("Ý kiến Sở Nông nghiệp và Môi trường"); !ok || part.Unit != landAgency || part.Hours() != 24 {
		t.Errorf("Step(part) = %+v, %v", part, ok)
	}
	want := []string{"Tiếp nhận hồ sơ", "Thẩm định hồ sơ", "Lấy ý kiến các cơ quan liên quan", "Ý kiến Sở Xây dựng",
		"Ý kiến Sở Nông nghiệp và Môi trường", "Kiểm tra thực địa", "Xem xét của trưởng phòng", "Ký giấy phép", "Trả kết quả"}
	if got := p.StepNames(); !slices.Equal(got, want) {
		t.Errorf("StepNames = %q", got)
	}
}

func TestParseCatalogChecksParallelSteps(t *testing.T) {
	const consult = 2 // index of the parallel step in workflow()
	cases := []struct {
		name   string
		change func(p *domain.Procedure)
		fields []string
	}{
		{"a parallel step with one part", func(p *domain.Procedure) { p.Workflow[consult].Parallel = p.Workflow[consult].Parallel[:1] },
			[]string{"procedures[0].workflow[2].parallel"}},
		{"hours on the parallel step itself", func(p *domain.Procedure) { p.Workflow[consult].AllottedHours = 40 },
			[]string{"procedures[0].workflow[2].allotted_hours"}},
		{"a nested parallel step", func(p *domain.Procedure) {
			p.Workflow[consult].Parallel[1].Parallel = []domain.WorkflowStep{{Name: "x"}, {Name: "y"}}
		}, []string{"procedures[0].workflow[2].parallel[1]"}},
		{"a part without hours", func(p *domain.Procedure) { p.Workflow[consult].Parallel[0].AllottedHours = 0 },
			[]string{"procedures[0].workflow[2].parallel[0]"}},
		{"a part at an unknown agency", func(p *domain.Procedure) { p.Workflow[consult].Parallel[1].Unit = "000.00.99.H56" },
			[]string{"procedures[0].workflow[2].parallel[1].unit"}},
		{"a part named like a step", func(p *domain.Procedure) { p.Workflow[consult].Parallel[2].Name = "Thẩm định hồ sơ" },
			[]string{"procedures[0].workflow[2].parallel[2].name"}},
		{"an unknown coordinating unit", func(p *domain.Procedure) { p.Workflow[consult].Unit = "PKT" },
			[]string{"procedures[0].workflow[2].unit"}},
		// 4 + 16 + 73 + 8 + 16 + 4 = 121 h: the longest part no longer fits the 120 h.
		{"the longest part makes the path too long", func(p *domain.Procedure) { p.Workflow[consult].Parallel[0].AllottedHours = 73 },
			[]string{"procedures[0].workflow"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := parallelCatalog()
			tc.change(&c.Procedures[0])
			_, err := domain.ParseCatalog(encodeCatalog(t, c), cal)
			var e *domain.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseCatalog = %v, want an EINVALID error", err)
			}
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields %q, want %q (%v)", fields, tc.fields, err)
			}
		})
	}
	// Parts that add up to more than the statutory time are fine: they run at once.
	c := parallelCatalog()
	c.Procedures[0].Workflow[consult].Parallel[1].AllottedHours = 72
	c.Procedures[0].Workflow[consult].Parallel[2].AllottedHours = 72
	if _, err := domain.ParseCatalog(encodeCatalog(t, c), cal); err != nil {
		t.Errorf("parts of 40 + 72 + 72 h on a 120 h budget with a 120 h critical path: %v", err)
	}
}

// sequentialWorkflow is catalogFixture's permit workflow: the Department of Construction is
// consulted as a step of its own, after the appraisal.
func sequentialWorkflow() []domain.WorkflowStep { return catalogFixture().Procedures[0].Workflow }

func TestTransferToANamedWorkflowStep(t *testing.T) {
	received := []domain.Event{received()}
	transfer := func(step string, hours float64, wf []domain.WorkflowStep) domain.Transfer {
		return domain.Transfer{From: receptionist, To: domain.Handler{OfficialID: specialist.OfficialID}, Step: step,
			AllottedHours: hours, Workflow: wf, At: transferredAt, Calendar: cal}
	}
	t.Run("the unit and hours come from the workflow", func(t *testing.T) {
		events, err := domain.Decide(domain.Fold(received...), transfer("Thẩm định hồ sơ", 0, workflow()))
		if err != nil {
			t.Fatal(err)
		}
		e := events[0].(domain.Transferred)
		if e.To.Unit != "KTHTDT" || e.AllottedHours != 16 || !e.StepDeadline.Equal(appraisalDeadline) || !e.FromWorkflow {
			t.Errorf("event %+v", e)
		}
	})
	t.Run("explicit hours win over the workflow's", func(t *testing.T) {
		events, err := domain.Decide(domain.Fold(received...), transfer("Thẩm định hồ sơ", 0.5, workflow()))
		if err != nil {
			t.Fatal(err)
		}
		if e := events[0].(domain.Transferred); e.AllottedHours != 0.5 || !e.StepDeadline.Equal(vn(2025, time.March, 10, 9, 30)) || !e.FromWorkflow {
			t.Errorf("event %+v", e)
		}
	})
	t.Run("a step outside the workflow with explicit hours", func(t *testing.T) {
		events, err := domain.Decide(domain.Fold(received...), domain.Transfer{From: receptionist, To: departmentHead,
			Step: "Phân công thụ lý", AllottedHours: 4, Workflow: workflow(), At: transferredAt, Calendar: cal})
		if err != nil {
			t.Fatal(err)
		}
		if e := events[0].(domain.Transferred); e.FromWorkflow || e.AllottedHours != 4 || !e.StepDeadline.Equal(vn(2025, time.March, 10, 14, 30)) {
			t.Errorf("event %+v", e)
		}
	})

	runInvalid(t, []invalidCase{
		{"an unknown step without hours", received, transfer("Phân công thụ lý", 0, workflow()), []string{"step"}},
		{"one part of a parallel step", received, transfer("Ý kiến Sở Xây dựng", 0, workflow()), []string{"step"}},
		{"a parallel step with explicit hours", received, transfer("Lấy ý kiến các cơ quan liên quan", 40, workflow()), []string{"allotted_hours"}},
		{"another agency's step", received, transfer("Lấy ý kiến Sở Xây dựng", 0, sequentialWorkflow()), []string{"step"}},
	})

	// The field error says what is wrong and what to do.
	_, err := domain.Decide(domain.Fold(received...), transfer("Phân công thụ lý", 0, workflow()))
	var e *domain.Error
	if !errors.As(err, &e) || !strings.Contains(e.Fields[0].Message, "1.013225") || !strings.Contains(e.Fields[0].Message, `"Ký giấy phép"`) ||
		!strings.Contains(e.Fields[0].Message, "allotted_hours") {
		t.Errorf("unknown step: %v", err)
	}
	_, err = domain.Decide(domain.Fold(received...), transfer("Lấy ý kiến Sở Xây dựng", 0, sequentialWorkflow()))
	if !errors.As(err, &e) || !strings.Contains(e.Fields[0].Message, consultedAgency) || !strings.Contains(e.Fields[0].Message, "inter-agency-transfer") {
		t.Errorf("another agency's step: %v", err)
	}
}

func TestInterAgencyTransferToANamedWorkflowStep(t *testing.T) {
	processing := []domain.Event{received(), transferred()}
	consult := domain.InterAgencyTransfer{From: specialist, FromAgency: competentAgency, Step: "Lấy ý kiến Sở Xây dựng",
		Workflow: sequentialWorkflow(), At: now, Calendar: cal}
	// The workflow gives the agency, the purpose and the 40 h: due Friday 21/3 10:00.
	thenEvents(t, processing, consult, domain.InterAgencyTransferred{
		FromAgency: competentAgency, ToAgency: consultedAgency, From: specialist, Purpose: "Lấy ý kiến Sở Xây dựng", AllottedHours: 40,
		StepDeadline: vn(2025, time.March, 21, 10, 0), TransferredAt: now, PreviousStepDeadline: appraisalDeadline,
		CalendarVersion: cal.Version(), Step: "Lấy ý kiến Sở Xây dựng", FromWorkflow: true,
	})
	// A purpose that names the step is read as the step.
	byPurpose := consult
	byPurpose.Step, byPurpose.Purpose = "", "Lấy ý kiến Sở Xây dựng"
	if events, err := domain.Decide(domain.Fold(processing...), byPurpose); err != nil || !events[0].(domain.InterAgencyTransferred).FromWorkflow {
		t.Errorf("by purpose: %+v, %v", events, err)
	}

	inside, unknown, part := consult, consult, consult
	inside.Step = "Ký giấy phép"
	unknown.Step, unknown.ToAgency, unknown.Purpose = "Xác nhận nghĩa vụ tài chính", consultedAgency, "Xác nhận nghĩa vụ tài chính"
	part.Step, part.Workflow = "Ý kiến Sở Xây dựng", workflow()
	runInvalid(t, []invalidCase{
		{"a step inside the agency", processing, inside, []string{"step"}},
		{"an unknown step without hours", processing, unknown, []string{"step"}},
		{"one part of a parallel step", processing, part, []string{"step"}},
	})
}

func TestParallelPartsAreTrackedUntilCompleted(t *testing.T) {
	consulting := []domain.Event{received(), transferred(), parallelStarted()}
	d := domain.Fold(consulting...)
	if d.Status != domain.StatusProcessing || d.Step != "Lấy ý kiến các cơ quan liên quan" || d.Holder.Unit != "KTHTDT" ||
		!d.StepDeadline.Equal(vn(2025, time.March, 21, 10, 0)) || len(d.OpenParts) != 3 || d.Transfers != 2 {
		t.Fatalf("after the parallel step started: %s, step %q at %+v due %v, %d parts, %d transfers",
			d.Status, d.Step, d.Holder, d.StepDeadline, len(d.OpenParts), d.Transfers)
	}
	// The consulted agencies act on the dossier while their parts are open; nobody else new does.
	if !d.AgencyInvolved(consultedAgency) || !d.AgencyInvolved(landAgency) || d.AgencyInvolved("000.00.99.H56") || d.AgencyInvolved("") {
		t.Error("AgencyInvolved does not follow the open parts")
	}

	done := domain.Fold(extend(consulting, partCompleted())...)
	if len(done.OpenParts) != 2 || done.AgencyInvolved(consultedAgency) || !done.AgencyInvolved(landAgency) {
		t.Errorf("after one part: %+v", done.OpenParts)
	}
	if len(d.OpenParts) != 3 {
		t.Error("folding a completion changed an earlier fold's parts")
	}

	te := thenRefused(t, extend(consulting, partCompleted()), domain.CompletePart{Step: "Ý kiến Sở Xây dựng", By: consultant, Opinion: "Lần nữa", At: now})
	if !strings.Contains(te.Reason, `"Ý kiến Sở Nông nghiệp và Môi trường"`) || !strings.Contains(te.Reason, `"Kiểm tra thực địa"`) {
		t.Errorf("reason %q does not list the open parts", te.Reason)
	}
	te = thenRefused(t, []domain.Event{received(), transferred()}, domain.CompletePart{Step: "Ý kiến Sở Xây dựng", By: consultant, Opinion: "Thống nhất", At: now})
	if !strings.Contains(te.Reason, "no part") {
		t.Errorf("reason %q", te.Reason)
	}
	runInvalid(t, []invalidCase{
		{"complete a part without an opinion", consulting, domain.CompletePart{Step: "Ý kiến Sở Xây dựng", At: now}, []string{"opinion"}},
	})

	// The coordinator may move on with parts still open (silence may mean consent); the parts stay
	// open until answered, and the result closes them.
	moved := extend(consulting, domain.Transferred{From: specialist, To: departmentHead, Step: "Xem xét của trưởng phòng", AllottedHours: 8,
		StepDeadline: vn(2025, time.March, 24, 10, 0), TransferredAt: vn(2025, time.March, 21, 10, 0), CalendarVersion: cal.Version(), FromWorkflow: true})
	if d := domain.Fold(moved...); len(d.OpenParts) != 3 || d.Step != "Xem xét của trưởng phòng" {
		t.Errorf("after moving on: step %q, %d open parts", d.Step, len(d.OpenParts))
	}
	closed := extend(moved, appraised(domain.ConclusionApprove), signed(), resultReady())
	if d := domain.Fold(closed...); len(d.OpenParts) != 0 {
		t.Errorf("open parts after the result: %+v", d.OpenParts)
	}
}

// TestTransfersFollowTheInternalProcess: a dossier moves to its next workflow step, stays in its step
// or goes back; passing over a step is refused, naming the step due next, unless the transfer gives
// a reason, which the event records with the steps passed over.
func TestTransfersFollowTheInternalProcess(t *testing.T) {
	atReceipt := []domain.Event{received()}
	inAppraisal := []domain.Event{received(), transferred()} // at "Thẩm định hồ sơ"
	consulting := extend(inAppraisal, parallelStarted())     // at "Lấy ý kiến các cơ quan liên quan"
	transfer := func(step, reason string) domain.Transfer {
		return domain.Transfer{From: departmentHead, To: signer, Step: step, SkipReason: reason, Workflow: workflow(), At: now, Calendar: cal}
	}

	refusals := []struct {
		name          string
		given         []domain.Event
		when          domain.Command
		skipped, next string
	}{
		{"from the desk straight to signing", atReceipt, transfer("Ký giấy phép", ""),
			`"Thẩm định hồ sơ", "Lấy ý kiến các cơ quan liên quan", "Xem xét của trưởng phòng"`, `"Thẩm định hồ sơ"`},
		{"from appraisal past the consultations", inAppraisal, transfer("Xem xét của trưởng phòng", ""),
			`"Lấy ý kiến các cơ quan liên quan"`, `"Lấy ý kiến các cơ quan liên quan"`},
		{"a blank reason is no reason", inAppraisal, transfer("Ký giấy phép", " \t"),
			`"Lấy ý kiến các cơ quan liên quan", "Xem xét của trưởng phòng"`, `"Lấy ý kiến các cơ quan liên quan"`},
		{"from the desk to the consultations", atReceipt, transfer("Lấy ý kiến các cơ quan liên quan", ""),
			`"Thẩm định hồ sơ"`, `"Thẩm định hồ sơ"`},
		{"to a step after an off-process one", extend(inAppraisal, domain.Transferred{From: specialist, To: departmentHead,
			Step: "Phân công thụ lý", AllottedHours: 4, StepDeadline: now, TransferredAt: now, CalendarVersion: cal.Version()}),
			transfer("Xem xét của trưởng phòng", ""), `"Lấy ý kiến các cơ quan liên quan"`, `"Lấy ý kiến các cơ quan liên quan"`},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			te := thenRefused(t, tc.given, tc.when)
			if !strings.Contains(te.Reason, "would skip "+tc.skipped+":") || !strings.Contains(te.Reason, "the next step of the internal process is "+tc.next) ||
				!strings.Contains(te.Reason, "skip_reason") {
				t.Errorf("reason %q, want the skipped steps %s and the next step %s", te.Reason, tc.skipped, tc.next)
			}
		})
	}

	t.Run("a skip with a reason is recorded", func(t *testing.T) {
		reason := "Nhà ở riêng lẻ không thuộc trường hợp phải lấy ý kiến cơ quan liên quan"
		events, err := domain.Decide(domain.Fold(inAppraisal...), transfer("Xem xét của trưởng phòng", "  "+reason+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		e := events[0].(domain.Transferred)
		want := domain.StepSkip{SkippedSteps: []string{"Lấy ý kiến các cơ quan liên quan"}, SkipReason: reason}
		if !reflect.DeepEqual(e.StepSkip, want) || !e.FromWorkflow || e.Step != "Xem xét của trưởng phòng" {
			t.Errorf("event %+v, want the skip %+v", e, want)
		}
		if d := domain.Fold(extend(inAppraisal, e)...); d.LatestWorkflowStep != "Xem xét của trưởng phòng" {
			t.Errorf("after the skip the dossier's place is %q", d.LatestWorkflowStep)
		}
	})
	t.Run("a skip into a parallel step is recorded", func(t *testing.T) {
		events, err := domain.Decide(domain.Fold(atReceipt...), transfer("Lấy ý kiến các cơ quan liên quan", "Lãnh đạo chỉ đạo lấy ý kiến ngay"))
		if err != nil {
			t.Fatal(err)
		}
		if e := events[0].(domain.ParallelStepStarted); !reflect.DeepEqual(e.StepSkip.SkippedSteps, []string{"Thẩm định hồ sơ"}) || e.SkipReason != "Lãnh đạo chỉ đạo lấy ý kiến ngay" {
			t.Errorf("event %+v", e)
		}
	})

	allowed := []struct {
		name  string
		given []domain.Event
		when  domain.Transfer
		place string // the dossier's place after it
	}{
		{"the next step after the receipt", atReceipt, transfer("Thẩm định hồ sơ", ""), "Thẩm định hồ sơ"},
		{"the same step: the head assigns another specialist", inAppraisal, transfer("Thẩm định hồ sơ", ""), "Thẩm định hồ sơ"},
		{"the next step after the consultations", consulting, transfer("Xem xét của trưởng phòng", ""), "Xem xét của trưởng phòng"},
		{"back for rework", consulting, transfer("Thẩm định hồ sơ", ""), "Thẩm định hồ sơ"},
		{"back to the desk", inAppraisal, transfer("Tiếp nhận hồ sơ", ""), "Tiếp nhận hồ sơ"},
		{"a step outside the workflow keeps the place", inAppraisal,
			domain.Transfer{From: specialist, To: departmentHead, Step: "Phân công thụ lý", AllottedHours: 4, Workflow: workflow(), At: now, Calendar: cal},
			"Thẩm định hồ sơ"},
		// A transfer recorded before from_workflow was kept: its step, which the workflow has, is the place.
		{"a place recorded before from_workflow", extend(atReceipt, domain.Transferred{From: receptionist, To: specialist,
			Step: "Thẩm định hồ sơ", AllottedHours: 16, StepDeadline: now, TransferredAt: now, CalendarVersion: cal.Version()}),
			transfer("Lấy ý kiến các cơ quan liên quan", ""), "Lấy ý kiến các cơ quan liên quan"},
		// The catalog renamed the dossier's step: its place is unknown, so nothing counts as skipped.
		{"a place the workflow no longer has", extend(atReceipt, domain.Transferred{From: receptionist, To: specialist,
			Step: "Thẩm định hồ sơ (cũ)", AllottedHours: 16, StepDeadline: now, TransferredAt: now, CalendarVersion: cal.Version(), FromWorkflow: true}),
			transfer("Ký giấy phép", ""), "Ký giấy phép"},
	}
	for _, tc := range allowed {
		t.Run("allowed: "+tc.name, func(t *testing.T) {
			events, err := domain.Decide(domain.Fold(tc.given...), tc.when)
			if err != nil {
				t.Fatal(err)
			}
			if e, ok := events[0].(domain.Transferred); ok && (e.SkippedSteps != nil || e.SkipReason != "") {
				t.Errorf("an ordinary transfer records a skip: %+v", e.StepSkip)
			}
			if d := domain.Fold(extend(tc.given, events...)...); d.LatestWorkflowStep != tc.place {
				t.Errorf("the dossier's place is %q, want %q", d.LatestWorkflowStep, tc.place)
			}
		})
	}

	runInvalid(t, []invalidCase{
		{"a reason for a transfer that skips nothing", inAppraisal, transfer("Lấy ý kiến các cơ quan liên quan", "Khẩn"), []string{"skip_reason"}},
		{"a reason for a step outside the workflow", inAppraisal, domain.Transfer{From: specialist, To: departmentHead, Step: "Phân công thụ lý",
			AllottedHours: 4, SkipReason: "Khẩn", Workflow: workflow(), At: now, Calendar: cal}, []string{"skip_reason"}},
		{"a reason too long", inAppraisal, transfer("Ký giấy phép", strings.Repeat("ý", 2001)), []string{"skip_reason"}},
		// Bad input is answered before the refusal, so the official fixes everything at once.
		{"a skip with a bad note", inAppraisal, domain.Transfer{From: departmentHead, To: signer, Step: "Ký giấy phép",
			Note: strings.Repeat("ý", 2001), Workflow: workflow(), At: now, Calendar: cal}, []string{"note"}},
	})
}

// TestInterAgencyTransfersFollowTheInternalProcess: sending the dossier to another agency's step
// follows the same order.
func TestInterAgencyTransfersFollowTheInternalProcess(t *testing.T) {
	atReceipt := []domain.Event{received()}
	consult := domain.InterAgencyTransfer{From: receptionist, FromAgency: receivingUnit, Step: "Lấy ý kiến Sở Xây dựng",
		Workflow: sequentialWorkflow(), At: now, Calendar: cal}
	te := thenRefused(t, atReceipt, consult)
	if !strings.Contains(te.Reason, `would skip "Thẩm định hồ sơ":`) || !strings.Contains(te.Reason, `next step of the internal process is "Thẩm định hồ sơ"`) {
		t.Errorf("reason %q", te.Reason)
	}
	consult.SkipReason = "Hồ sơ đã được thẩm định trong thủ tục liên thông trước"
	events, err := domain.Decide(domain.Fold(atReceipt...), consult)
	if err != nil {
		t.Fatal(err)
	}
	e := events[0].(domain.InterAgencyTransferred)
	if !reflect.DeepEqual(e.SkippedSteps, []string{"Thẩm định hồ sơ"}) || e.SkipReason != consult.SkipReason {
		t.Errorf("event %+v", e)
	}
	// The dossier's place is the other agency's step: the signing step is next.
	if d := domain.Fold(extend(atReceipt, e)...); d.LatestWorkflowStep != "Lấy ý kiến Sở Xây dựng" {
		t.Errorf("place %q", d.LatestWorkflowStep)
	}
}
