package commands_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore/sqlite"
)

// authzTax is the provincial tax office, consulted on 1.009972 in parallelCatalog.
const authzTax = "000.00.20.H56"

// parallelCatalog is the test catalog's building permit with a parallel step: the tax office gives
// its opinion while the department's specialist checks the site (4 + 16 + 8 + 8 + 4 = 40 h = 5 days).
const parallelCatalog = `{
  "agencies": [
    {"code": "000.00.00.H56", "name": "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa"},
    {"code": "000.00.06.H56", "name": "Sở Xây dựng tỉnh Thanh Hóa", "departments": [
      {"code": "PQLXD", "name": "Phòng Quản lý xây dựng"}, {"code": "BGD", "name": "Ban Giám đốc"}]},
    {"code": "000.00.10.H56", "name": "Sở Tài nguyên và Môi trường tỉnh Thanh Hóa"},
    {"code": "000.00.20.H56", "name": "Thuế tỉnh Thanh Hóa"}
  ],
  "procedures": [{
    "code": "1.009972", "name": "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
    "field": {"code": "XD", "name": "Hoạt động xây dựng"}, "competent_agency": "000.00.06.H56", "resolution_days": 5,
    "fees": [{"name": "Lệ phí cấp giấy phép xây dựng", "amount": 150000}],
    "components": [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "copies": 1, "original": true}], "online_level": "partial",
    "workflow": [
      {"name": "Tiếp nhận hồ sơ", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4},
      {"name": "Thẩm định hồ sơ", "unit": "PQLXD", "role": "specialist", "allotted_hours": 16},
      {"name": "Lấy ý kiến, kiểm tra thực địa", "unit": "PQLXD", "role": "specialist", "parallel": [
        {"name": "Ý kiến cơ quan thuế", "unit": "000.00.20.H56", "role": "specialist", "allotted_hours": 8},
        {"name": "Kiểm tra thực địa", "unit": "PQLXD", "role": "specialist", "allotted_hours": 8}]},
      {"name": "Trình ký", "unit": "BGD", "role": "signer", "allotted_hours": 8},
      {"name": "Trả kết quả", "unit": "000.00.00.H56", "role": "reception", "allotted_hours": 4}
    ]
  }]
}`

// newParallelApp is newApp with parallelCatalog.
func newParallelApp(t *testing.T, now time.Time) (*commands.App, *sqlite.Store) {
	t.Helper()
	app, store := newApp(t, now)
	catalog, err := domain.ParseCatalog([]byte(parallelCatalog), app.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	app.SetCatalog(catalog)
	return app, store
}

func TestATransferNamesAWorkflowStep(t *testing.T) {
	r := newAuthzRig(t)
	id := r.received()
	desk := official(commands.RoleReception, authzCentre)

	before := r.eventCount()
	_, err := r.app.Execute(r.ctx, desk, id, nil, commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ xây dựng"})
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "step" {
		t.Fatalf("an unknown step without hours: %v, want a field error on step", err)
	}
	if r.eventCount() != before {
		t.Fatal("a refused transfer wrote events")
	}

	// With explicit hours the official may add a step outside the workflow; it is marked as such.
	res, err := r.app.Execute(r.ctx, desk, id, nil, commands.TransferInput{ToUnit: "PQLXD", Step: "Phân công thụ lý", AllottedHours: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, recorded, err := r.app.Load(r.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	event, _ := domain.DecodeEvent(recorded[len(recorded)-1].Type, recorded[len(recorded)-1].Data)
	if tr := event.(domain.Transferred); tr.FromWorkflow || tr.AllottedHours != 2 || res.Dossier.Step != "Phân công thụ lý" {
		t.Errorf("ad-hoc step: %+v", tr)
	}

	// A workflow step without a unit: the workflow's unit and hours (Monday 2/3/2026 08:00 + 16 h).
	res, err = r.app.Execute(r.ctx, official(commands.RoleHead, authzBuilding), id, nil, commands.TransferInput{Step: "Thẩm định hồ sơ"})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Dossier; d.Holder.Unit != "PQLXD" || !d.StepDeadline.Equal(time.Date(2026, 3, 4, 8, 0, 0, 0, domain.VietnamTime)) {
		t.Errorf("after the workflow transfer: holder %+v, deadline %v", d.Holder, d.StepDeadline)
	}
}

func TestAParallelStepThroughTheUseCases(t *testing.T) {
	r := newAuthzRig(t)
	id := stageProcessing(r)
	consult := commands.TransferInput{Step: "Lấy ý kiến, kiểm tra thực địa", ToOfficialID: "cv-1", ToOfficialName: "Vũ Minh Tâm"}

	// Sending a part to the tax office is inter-agency work: not for a specialist.
	if _, err := r.app.Execute(r.ctx, official(commands.RoleSpecialist, authzBuilding), id, nil, consult); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("a specialist started an inter-agency part: %v", err)
	}
	res, err := r.app.Execute(r.ctx, official(commands.RoleHead, authzBuilding), id, nil, consult)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Dossier; len(d.OpenParts) != 2 || d.Holder.Unit != "PQLXD" || d.Holder.OfficialID != "cv-1" || res.Events[0] != domain.TypeParallelStepStarted {
		t.Fatalf("after starting the parallel step: %+v, events %v", d, res.Events)
	}

	tax := official(commands.RoleSpecialist, authzTax)
	siteCheck := commands.CompletePartInput{Step: "Kiểm tra thực địa", Opinion: "Hiện trạng phù hợp"}
	taxOpinion := commands.CompletePartInput{Step: "Ý kiến cơ quan thuế", Opinion: "Không có nghĩa vụ tài chính còn nợ"}
	if _, err := r.app.Execute(r.ctx, tax, id, nil, siteCheck); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("the tax office answered for the department's part: %v", err)
	}
	if _, err := r.app.Execute(r.ctx, tax, id, nil, taxOpinion); err != nil {
		t.Fatalf("the tax office cannot answer its own part: %v", err)
	}
	// Its part done, the tax office has nothing more to do with the dossier.
	if _, err := r.app.Execute(r.ctx, tax, id, nil, taxOpinion); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
		t.Fatalf("the tax office acted after its part: %v", err)
	}
	res, err = r.app.Execute(r.ctx, official(commands.RoleSpecialist, authzBuilding), id, nil, siteCheck)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dossier.OpenParts) != 0 {
		t.Errorf("open parts after both answers: %+v", res.Dossier.OpenParts)
	}
	if _, err := r.app.Execute(r.ctx, official(commands.RoleHead, authzBuilding), id, nil, commands.TransferInput{Step: "Trình ký"}); err != nil {
		t.Fatal(err)
	}
}

// TestOnlyLeadersSkipStepsAndTheSkipIsRecorded: passing over a step of the internal process is
// refused (409) without a reason; a reason is for a head or signer (403 for the desk or a
// specialist), and the event keeps it with the steps passed over and the leader who decided.
func TestOnlyLeadersSkipStepsAndTheSkipIsRecorded(t *testing.T) {
	r := newAuthzRig(t)
	id := stageProcessing(r) // at "Thẩm định hồ sơ"
	head := official(commands.RoleHead, authzBuilding)
	toSigning := commands.TransferInput{Step: "Trình ký"}

	before := r.eventCount()
	_, err := r.app.Execute(r.ctx, head, id, nil, toSigning)
	var te *domain.TransitionError
	if !errors.As(err, &te) || !strings.Contains(te.Reason, `the next step of the internal process is "Lấy ý kiến, kiểm tra thực địa"`) {
		t.Fatalf("a skip without a reason: %v, want a refusal naming the next step", err)
	}
	toSigning.SkipReason = "Công trình không thuộc trường hợp phải lấy ý kiến cơ quan thuế"
	for _, role := range []commands.Role{commands.RoleReception, commands.RoleSpecialist} {
		if _, err := r.app.Execute(r.ctx, official(role, authzBuilding), id, nil, toSigning); domain.ErrorCodeOf(err) != domain.EFORBIDDEN {
			t.Errorf("a %s skipped steps: %v", role, err)
		}
	}
	if r.eventCount() != before {
		t.Fatal("a refused skip wrote events")
	}

	if _, err := r.app.Execute(r.ctx, head, id, nil, toSigning); err != nil {
		t.Fatal(err)
	}
	_, recorded, err := r.app.Load(r.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	last := recorded[len(recorded)-1]
	event, err := domain.DecodeEvent(last.Type, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	tr := event.(domain.Transferred)
	if !slices.Equal(tr.SkippedSteps, []string{"Lấy ý kiến, kiểm tra thực địa"}) || tr.SkipReason != toSigning.SkipReason ||
		last.Metadata.Actor.ID != head.ID || last.Metadata.Actor.Role != string(commands.RoleHead) {
		t.Errorf("the skip recorded as %+v by %+v", tr.StepSkip, last.Metadata.Actor)
	}
}
