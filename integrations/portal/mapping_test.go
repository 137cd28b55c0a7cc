package portal

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
	"github.com/motcua/motcua/integrations/portal/portalsim"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden/*.json from the mapping")

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 12, day, hour, minute, 0, 0, domain.VietnamTime)
}

var (
	procedure = domain.ProcedureRef{Code: "1.001612", Name: "Cấp giấy phép xây dựng", FieldCode: "H56-XD", FieldName: "Xây dựng"}
	applicant = domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An", IDNumber: "001090012345",
		Phone: "0912345678", Email: "an@example.vn", Address: "12 Lê Lợi, phường Hạc Thành, Thanh Hóa"}
	received = domain.Received{DossierID: "d-1", Code: "000.00.06.H56-261201-0001", Procedure: procedure, Applicant: applicant,
		Channel: domain.ChannelDirect, ReceivingUnit: "Trung tâm Phục vụ hành chính công tỉnh", CompetentAgency: "Sở Xây dựng",
		ReceivedAt: at(1, 9, 0), AppointmentDate: at(15, 17, 0), TransferDeadline: at(1, 17, 0)}
	submitted = domain.Submitted{DossierID: "d-2", Procedure: procedure, Applicant: applicant, ReceivingUnit: received.ReceivingUnit,
		CompetentAgency: received.CompetentAgency, SubmittedAt: at(1, 8, 0), AcceptanceDeadline: at(2, 8, 0)}
	toDepartment = domain.Transferred{From: domain.Handler{Unit: received.ReceivingUnit}, To: domain.Handler{Unit: "Phòng Quản lý xây dựng",
		OfficialID: "o-2", OfficialName: "Trần Thị Bình"}, Step: "appraisal", AllottedHours: 40, StepDeadline: at(8, 17, 0),
		Note: "Chuyển thẩm định", TransferredAt: at(1, 14, 0)}
	toOtherAgency = domain.InterAgencyTransferred{FromAgency: "Sở Xây dựng", ToAgency: "Sở Tài nguyên và Môi trường",
		From: toDepartment.To, Purpose: "Lấy ý kiến về quyền sử dụng đất", AllottedHours: 24, StepDeadline: at(11, 17, 0), TransferredAt: at(8, 10, 0)}
	toSigner = domain.Transferred{From: domain.Handler{Unit: "Sở Tài nguyên và Môi trường"}, To: domain.Handler{Unit: "Lãnh đạo Sở Xây dựng",
		OfficialID: "o-3", OfficialName: "Lê Văn Cường"}, Step: "signing", AllottedHours: 8, StepDeadline: at(14, 17, 0), TransferredAt: at(11, 15, 0)}
	supplementAsked = domain.SupplementRequested{MissingItems: []string{"Bản vẽ thiết kế", "Giấy chứng nhận quyền sử dụng đất"},
		Reason: "Thiếu bản vẽ và giấy tờ về đất", RequestNumber: 1, RequestedAt: at(2, 10, 0)}
	supplemented = domain.Supplemented{SupplementedAt: at(4, 9, 0), OldAppointmentDate: at(15, 17, 0), NewAppointmentDate: at(18, 17, 0)}
	fees         = domain.FeeAssessed{Items: []domain.Fee{{Name: "Lệ phí cấp giấy phép xây dựng", Amount: 150000}}, Total: 150000, AssessedAt: at(14, 9, 0)}
	paid         = domain.Paid{Amount: 150000, Channel: domain.PaymentOnline, ReceiptNumber: "BL-0001", PaidAt: at(14, 10, 0)}
	ready        = domain.ResultReady{ResultCode: "000.00.06.H56-261201-0001-KQ1", Index: 1, DocumentNumber: "123/GPXD", ReadyAt: at(15, 9, 0)}
	returned     = domain.ResultReturned{Channel: domain.ChannelDirect, ReturnedAt: at(16, 10, 0), AppointmentDate: at(18, 17, 0)}
)

// scenario is a dossier's history ending in one portal status.
type scenario struct {
	name   string
	status int
	events []domain.Event
}

// fromPortal is a dossier filed on the portal, which carries the portal's own id (statuses 1 and 3
// are only sent for those: ours gets its code at receipt).
func fromPortal(id string) domain.Submitted {
	s := submitted
	s.ExternalCode = id
	return s
}

var scenarios = []scenario{
	{name: "1-submitted", status: 1, events: []domain.Event{fromPortal("G22.99.99-261201-0007")}},
	{name: "2-received", status: 2, events: []domain.Event{received}},
	{name: "3-reception-refused", status: 3, events: []domain.Event{fromPortal("G22.99.99-261201-0008"),
		domain.ReceptionRefused{Reason: "Thủ tục không thuộc thẩm quyền", RefusedAt: at(1, 15, 0)}}},
	{name: "4-processing", status: 4, events: []domain.Event{received, toDepartment}},
	{name: "5-supplement-requested", status: 5, events: []domain.Event{received, toDepartment, supplementAsked}},
	{name: "6-fees-requested", status: 6, events: []domain.Event{received, toDepartment, fees}},
	{name: "7-withdrawn", status: 7, events: []domain.Event{received, domain.Withdrawn{Reason: "Công dân rút hồ sơ", WithdrawnAt: at(3, 9, 0)}}},
	{name: "8-suspended", status: 8, events: []domain.Event{received, toDepartment, domain.Suspended{Reason: "Chờ ý kiến cơ quan cấp trên", SuspendedAt: at(5, 9, 0)}}},
	{name: "8-rejected", status: 8, events: []domain.Event{received, toDepartment, domain.Rejected{Reason: "Không đủ điều kiện cấp phép", RejectedAt: at(6, 9, 0)}}},
	{name: "9-result-ready", status: 9, events: []domain.Event{received, toDepartment, supplementAsked, supplemented, toOtherAgency, toSigner, fees, paid, ready}},
	{name: "10-result-returned", status: 10, events: []domain.Event{received, toDepartment, supplementAsked, supplemented, toOtherAgency, toSigner, fees, paid, ready, returned}},
}

func (sc scenario) fold(t *testing.T) *history {
	t.Helper()
	h := &history{}
	for i, e := range sc.events {
		occurred := at(1, 0, 0).Add(time.Duration(i) * time.Hour)
		h.evolve(eventstore.RecordedEvent{EventData: eventstore.EventData{ID: uuid.New(), Type: e.EventType(),
			Metadata: eventstore.Metadata{OccurredAt: occurred}}, Stream: "dossier-x", Version: uint64(i + 1), RecordedAt: occurred}, e)
	}
	return h
}

func pretty(t *testing.T, raw []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the mapping's document:\n%s", path, got)
	}
}

// Each portal status has its document, valid against the portal's schema, with the status and
// the dates in Vietnam time; the golden files are the reviewed examples (docs/integrations.md).
func TestGoldenDocumentPerPortalStatus(t *testing.T) {
	sim, err := portalsim.New("x", "y")
	if err != nil {
		t.Fatal(err)
	}
	syncer := &Syncer{ResultLink: LookupLink("https://dichvucong.thanhhoa.gov.vn")}
	statuses := map[int]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := sc.fold(t)
			kind := KindUpdate
			if len(sc.events) == 1 {
				kind = KindCreate
			}
			body, err := syncer.document(h, ServiceSync, kind)
			if err != nil {
				t.Fatal(err)
			}
			if err := sim.Validate(ServiceSync, body); err != nil {
				t.Fatalf("the portal's schema refuses the document: %v", err)
			}
			var envelope struct {
				IsUpdating bool           `json:"isUpdating"`
				Data       []SyncDocument `json:"data"`
			}
			if err := json.Unmarshal(body, &envelope); err != nil {
				t.Fatal(err)
			}
			doc := envelope.Data[0]
			if doc.TrangThaiHoSo != sc.status || envelope.IsUpdating != (kind == KindUpdate) {
				t.Errorf("status %d updating %v, want %d %v", doc.TrangThaiHoSo, envelope.IsUpdating, sc.status, kind == KindUpdate)
			}
			if sc.status >= 2 && sc.status != 3 && doc.NgayTiepNhan != "20261201090000" {
				t.Errorf("NgayTiepNhan %q: want 9:00 Vietnam time on 01/12/2026", doc.NgayTiepNhan)
			}
			statuses[doc.TrangThaiHoSo] = true
			checkGolden(t, sc.name, pretty(t, body))
		})
	}
	for code := 1; code <= 10; code++ {
		if !statuses[code] {
			t.Errorf("no golden document of status %d", code)
		}
	}
}

// The step history carries every step with its unit, official, start, content, state and deadline.
func TestGoldenProgressDocument(t *testing.T) {
	sim, err := portalsim.New("x", "y")
	if err != nil {
		t.Fatal(err)
	}
	h := scenarios[len(scenarios)-1].fold(t)
	body, err := (&Syncer{}).document(h, ServiceProgress, KindProgress)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Validate(ServiceProgress, body); err != nil {
		t.Fatalf("the portal's schema refuses the document: %v", err)
	}
	var envelope struct {
		Data []ProgressDocument `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		t.Fatal(err)
	}
	steps := envelope.Data[0].QuaTrinhXuLy
	if len(steps) != 4 {
		t.Fatalf("%d steps, want reception, appraisal, the other agency and signing", len(steps))
	}
	if s := steps[1]; s.NgayKetThucTheoQuyDinh != "20261208170000" || s.NguoiXuLy != "Trần Thị Bình" || s.TrangThai != StepDone ||
		s.NgayKetThuc != "20261208100000" {
		t.Errorf("appraisal step %+v", s)
	}
	checkGolden(t, "progress", pretty(t, body))
}

// The schema is strict: a misspelt field, a date not in yyyyMMddHHmmss, a status out of 1–10 are
// refused.
func TestTheSchemaRefusesWhatThePortalWouldRefuse(t *testing.T) {
	sim, err := portalsim.New("x", "y")
	if err != nil {
		t.Fatal(err)
	}
	h := scenarios[1].fold(t)
	body, err := (&Syncer{}).document(h, ServiceSync, KindCreate)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"misspelt field": {`"NgayHenTra"`, `"NgayHenTraa"`},
		"ISO date":       {`"20261215170000"`, `"2026-12-15T17:00:00+07:00"`},
		"status 11":      {`"TrangThaiHoSo":2`, `"TrangThaiHoSo":11`},
		"no channel":     {`"KenhThucHien":1,`, ``},
	} {
		broken := strings.Replace(string(body), edit[0], edit[1], 1)
		if broken == string(body) {
			t.Fatalf("%s: the edit found nothing to change", name)
		}
		if err := sim.Validate(ServiceSync, []byte(broken)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Plan: create the first time the dossier has a code and a public status, then update on each
// public change; the step history on each transfer.
func TestPlanCreatesThenUpdates(t *testing.T) {
	var d domain.Dossier
	steps := []struct {
		event domain.Event
		want  string
	}{
		{submitted, ""}, // no code yet: the portal cannot know it
		{received, KindCreate},
		{toDepartment, KindUpdateProgress},
		{toOtherAgency, KindProgress},
		{domain.ApologyIssued{Reason: "Chậm", OldAppointmentDate: at(15, 17, 0), NewAppointmentDate: at(18, 17, 0), IssuedAt: at(12, 9, 0)}, KindUpdate},
		{domain.Appraised{Conclusion: "approve", AppraisedAt: at(12, 10, 0)}, ""},
		{ready, KindUpdate},
		{returned, KindUpdate},
		{domain.Rated{RatedAt: at(17, 9, 0)}, ""},
	}
	for _, s := range steps {
		after := domain.Evolve(d, s.event)
		if got := plan(s.event, d, after); got != s.want {
			t.Errorf("%s: plan %q, want %q", s.event.EventType(), got, s.want)
		}
		d = after
	}
}

// A dossier filed on the portal is known there by the portal's id from its submission on: created
// at once with status 1, then updated under the same id once received (it keeps the id).
func TestAPortalDossierKeepsThePortalsID(t *testing.T) {
	var d domain.Dossier
	accepted := received // as Decide makes it: the portal's id stays beside ours
	accepted.Channel, accepted.ExternalCode = domain.ChannelOnline, "G22.99-261201-000042"
	for _, s := range []struct {
		event domain.Event
		want  string
	}{{fromPortal("G22.99-261201-000042"), KindCreate}, {accepted, KindUpdate}, {toDepartment, KindUpdateProgress}} {
		after := domain.Evolve(d, s.event)
		if got := plan(s.event, d, after); got != s.want || portalCode(after) != "G22.99-261201-000042" {
			t.Errorf("%s: plan %q under %q, want %q under the portal's id", s.event.EventType(), got, portalCode(after), s.want)
		}
		d = after
	}
}
