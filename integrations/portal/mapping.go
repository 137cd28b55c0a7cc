package portal

// mapping.go is the whole mapping from a dossier's history to the national portal's documents
// (regulations §9–§10; the table in docs/integrations.md follows this file, and the golden files
// in testdata/golden show one document per portal status).

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/eventstore"
)

// The portal's services (their names are the protocol's).
const (
	ServiceSync     = "DongBoHoSoMC"
	ServiceProgress = "CapNhatTienDoHoSoMC"
)

// Kinds of delivery: which documents an event calls for. A kind is part of the idempotency key.
const (
	KindCreate = "create" // DongBoHoSoMC, the first one of the dossier (isUpdating false)
	KindUpdate = "update" // DongBoHoSoMC again
	// KindProgress is CapNhatTienDoHoSoMC: the step history, after a transfer.
	KindProgress = "progress"
	// KindUpdateProgress is a transfer that also changes the public status (the first transfer
	// takes a received dossier into processing): both documents, the status first.
	KindUpdateProgress = "update+progress"
)

// Services lists the documents a kind sends, in order.
func Services(kind string) []string {
	switch kind {
	case KindCreate, KindUpdate:
		return []string{ServiceSync}
	case KindProgress:
		return []string{ServiceProgress}
	case KindUpdateProgress:
		return []string{ServiceSync, ServiceProgress}
	}
	return nil
}

// DateLayout is the portal's yyyyMMddHHmmss, written in Vietnam time.
const DateLayout = "20060102150405"

// Date writes t as the portal does; "" for no date.
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format(DateLayout)
}

// Envelope is a request to one of the portal's services.
type Envelope struct {
	Service string `json:"service"`
	// IsUpdating is false for the first DongBoHoSoMC of a dossier, true afterwards (and for
	// CapNhatTienDoHoSoMC, always true: it updates a dossier the portal knows).
	IsUpdating bool              `json:"isUpdating"`
	Data       []json.RawMessage `json:"data"`
}

// SyncDocument is DongBoHoSoMC's dossier.
type SyncDocument struct {
	MaHoSo        string `json:"MaHoSo"`
	MaTTHC        string `json:"MaTTHC"`
	TenTTHC       string `json:"TenTTHC"`
	MaLinhVuc     string `json:"MaLinhVuc,omitempty"`
	TenLinhVuc    string `json:"TenLinhVuc,omitempty"`
	KenhThucHien  int    `json:"KenhThucHien"`
	TrangThaiHoSo int    `json:"TrangThaiHoSo"`

	// The applicant, as the portal requires (regulations §9). Sent to the state's system only:
	// never logged, never stored outside the sealed log.
	LoaiDoiTuong    int    `json:"LoaiDoiTuong"` // 1 citizen, 2 organisation
	ChuHoSo         string `json:"ChuHoSo"`
	LoaiGiayTo      int    `json:"LoaiGiayTo"` // 1 citizen ID (CCCD), 2 enterprise or tax code
	SoGiayToChuHoSo string `json:"SoGiayToChuHoSo"`
	SoDienThoai     string `json:"SoDienThoai,omitempty"`
	Email           string `json:"Email,omitempty"`
	DiaChi          string `json:"DiaChi,omitempty"`

	DonViTiepNhan        string           `json:"DonViTiepNhan,omitempty"`
	CoQuanGiaiQuyet      string           `json:"CoQuanGiaiQuyet,omitempty"`
	NgayNopHoSo          string           `json:"NgayNopHoSo,omitempty"`
	NgayTiepNhan         string           `json:"NgayTiepNhan,omitempty"`
	NgayHenTra           string           `json:"NgayHenTra,omitempty"`
	NgayKetThucXuLy      string           `json:"NgayKetThucXuLy,omitempty"`
	NgayTra              string           `json:"NgayTra,omitempty"`
	NgayTuChoi           string           `json:"NgayTuChoi,omitempty"`
	NgayRutHoSo          string           `json:"NgayRutHoSo,omitempty"`
	LyDo                 string           `json:"LyDo,omitempty"` // of a refusal, stop, rejection or withdrawal
	NgayCapNhat          string           `json:"NgayCapNhat"`    // when the state sent happened
	DanhSachHoSoBoSung   []Supplement     `json:"DanhSachHoSoBoSung"`
	DanhSachLePhi        []Fee            `json:"DanhSachLePhi"`
	DanhSachGiayToKetQua []ResultDocument `json:"DanhSachGiayToKetQua"`

	DuocSoHoa                   int `json:"DuocSoHoa"`                   // 0: motcua records no digitisation yet
	DuocThanhToanTrucTuyen      int `json:"DuocThanhToanTrucTuyen"`      // 1 when a fee was paid online
	TaiKhoanDuocXacThucVoiVNeID int `json:"TaiKhoanDuocXacThucVoiVNeID"` // 0: motcua records no VNeID sign-in yet
}

// Supplement is one supplement request and its answer.
type Supplement struct {
	LanBoSung           int      `json:"LanBoSung"`
	DonViYeuCau         string   `json:"DonViYeuCau"`
	NguoiYeuCau         string   `json:"NguoiYeuCau,omitempty"`
	NoiDungYeuCau       string   `json:"NoiDungYeuCau"`
	DanhSachGiayToThieu []string `json:"DanhSachGiayToThieu"`
	NgayYeuCau          string   `json:"NgayYeuCau"`
	NgayBoSung          string   `json:"NgayBoSung,omitempty"`
	NgayHenTraTruoc     string   `json:"NgayHenTraTruoc,omitempty"`
	NgayHenTraMoi       string   `json:"NgayHenTraMoi,omitempty"`
}

// Fee is one assessed fee.
type Fee struct {
	TenLePhi string `json:"TenLePhi"`
	MucLePhi int64  `json:"MucLePhi"`
}

// ResultDocument is one result of the dossier.
type ResultDocument struct {
	MaGiayToKetQua       string `json:"MaGiayToKetQua"`
	SoKyHieu             string `json:"SoKyHieu,omitempty"`
	NgayCoKetQua         string `json:"NgayCoKetQua"`
	DuongDanTepTinKetQua string `json:"DuongDanTepTinKetQua"`
}

// ProgressDocument is CapNhatTienDoHoSoMC's dossier: its steps so far.
type ProgressDocument struct {
	MaHoSo       string `json:"MaHoSo"`
	NgayCapNhat  string `json:"NgayCapNhat"`
	QuaTrinhXuLy []Step `json:"QuaTrinhXuLy"`
}

// Step is one step of the dossier's processing.
type Step struct {
	STT         int    `json:"STT"`
	TenBuoc     string `json:"TenBuoc"`
	DonViXuLy   string `json:"DonViXuLy"`
	NguoiXuLy   string `json:"NguoiXuLy,omitempty"`
	NgayBatDau  string `json:"NgayBatDau"`
	NoiDungXuLy string `json:"NoiDungXuLy,omitempty"`
	// TrangThai: 1 under way, 2 done.
	TrangThai              int    `json:"TrangThai"`
	NgayKetThuc            string `json:"NgayKetThuc,omitempty"`
	NgayKetThucTheoQuyDinh string `json:"NgayKetThucTheoQuyDinh"`
}

// Step states.
const (
	StepUnderWay = 1
	StepDone     = 2
)

// history is a dossier folded up to one event, with what the dossier itself does not keep: its
// supplement requests, fees and steps.
type history struct {
	dossier     domain.Dossier
	event       domain.Event
	at          eventstore.RecordedEvent
	supplements []Supplement
	fees        []Fee
	steps       []Step
	paidOnline  bool
	closedWhy   string // the reason of a refusal, suspension, rejection or withdrawal
}

// portalCode is the code the portal knows the dossier by: its own code when the dossier came from
// the portal with one, else ours, given at receipt (NĐ 61 art. 26). "" while it has neither.
func portalCode(d domain.Dossier) string {
	if d.ExternalCode != "" {
		return d.ExternalCode
	}
	return string(d.Code)
}

// plan is Destination.Plan's rule, on the dossier before and after one event.
func plan(e domain.Event, before, after domain.Dossier) string {
	code := portalCode(after)
	if code == "" || after.Status.PortalStatusCode() == 0 {
		return "" // the portal cannot know a dossier without a code
	}
	known := portalCode(before) == code && before.Status.PortalStatusCode() != 0
	sync := before.Status != after.Status
	switch e.(type) {
	case domain.ApologyIssued, domain.ResultReady, domain.Paid, domain.FeeAssessed:
		sync = true // the appointment, the results, the fees or the payment flag changed
	}
	progress := false
	switch e.(type) {
	case domain.Transferred, domain.InterAgencyTransferred, domain.ParallelStepStarted, domain.PartCompleted:
		progress = known
	}
	switch {
	case !known:
		return KindCreate
	case sync && progress:
		return KindUpdateProgress
	case sync:
		return KindUpdate
	case progress:
		return KindProgress
	}
	return ""
}

// evolve folds one event into h.
func (h *history) evolve(re eventstore.RecordedEvent, e domain.Event) {
	before := h.dossier
	h.dossier = domain.Evolve(before, e)
	h.dossier.Version = re.Version
	h.event, h.at = e, re
	switch e := e.(type) {
	case domain.Received:
		h.steps = append(h.steps, Step{TenBuoc: "Tiếp nhận hồ sơ", DonViXuLy: e.ReceivingUnit, NgayBatDau: Date(e.ReceivedAt),
			// Events recorded before the reception step had a deadline: the appointment bounds it.
			TrangThai: StepUnderWay, NgayKetThucTheoQuyDinh: Date(firstTime(e.TransferDeadline, e.AppointmentDate))})
	case domain.ReceptionRefused:
		h.closedWhy = e.Reason
	case domain.SupplementRequested:
		h.supplements = append(h.supplements, Supplement{LanBoSung: e.RequestNumber, DonViYeuCau: before.Holder.Unit,
			NguoiYeuCau: before.Holder.OfficialName, NoiDungYeuCau: e.Reason, DanhSachGiayToThieu: nonNil(e.MissingItems),
			NgayYeuCau: Date(e.RequestedAt)})
	case domain.Supplemented:
		if n := len(h.supplements); n > 0 {
			s := &h.supplements[n-1]
			s.NgayBoSung = Date(e.SupplementedAt)
			s.NgayHenTraTruoc, s.NgayHenTraMoi = Date(e.OldAppointmentDate), Date(e.NewAppointmentDate)
		}
	case domain.Transferred:
		h.endSteps(e.TransferredAt)
		h.steps = append(h.steps, Step{TenBuoc: stepName(e.Step), DonViXuLy: e.To.Unit, NguoiXuLy: e.To.OfficialName,
			NgayBatDau: Date(e.TransferredAt), NoiDungXuLy: e.Note, TrangThai: StepUnderWay, NgayKetThucTheoQuyDinh: Date(e.StepDeadline)})
	case domain.InterAgencyTransferred:
		h.endSteps(e.TransferredAt)
		h.steps = append(h.steps, Step{TenBuoc: stepName(firstOf(e.Step, e.Purpose)), DonViXuLy: e.ToAgency,
			NgayBatDau: Date(e.TransferredAt), NoiDungXuLy: e.Purpose, TrangThai: StepUnderWay, NgayKetThucTheoQuyDinh: Date(e.StepDeadline)})
	case domain.ParallelStepStarted:
		h.endSteps(e.StartedAt)
		for _, p := range e.Parts {
			h.steps = append(h.steps, Step{TenBuoc: stepName(e.Step) + " — " + p.Step, DonViXuLy: firstOf(p.Unit, p.Agency),
				NgayBatDau: Date(e.StartedAt), NoiDungXuLy: e.Note, TrangThai: StepUnderWay, NgayKetThucTheoQuyDinh: Date(p.StepDeadline)})
		}
	case domain.PartCompleted:
		name := stepName(e.ParallelStep) + " — " + e.Step
		for i := range h.steps {
			if s := &h.steps[i]; s.TenBuoc == name && s.TrangThai == StepUnderWay {
				s.TrangThai, s.NgayKetThuc, s.NguoiXuLy, s.NoiDungXuLy = StepDone, Date(e.CompletedAt), e.By.OfficialName, e.Opinion
			}
		}
	case domain.FeeAssessed:
		for _, f := range e.Items {
			h.fees = append(h.fees, Fee{TenLePhi: f.Name, MucLePhi: f.Amount})
		}
	case domain.Paid:
		h.paidOnline = h.paidOnline || e.Channel == domain.PaymentOnline
	case domain.ResultReady:
		h.endSteps(e.ReadyAt)
	case domain.Suspended:
		h.closedWhy = e.Reason
	case domain.Resumed:
		h.closedWhy = ""
	case domain.Rejected:
		h.endSteps(e.RejectedAt)
		h.closedWhy = e.Reason
	case domain.Withdrawn:
		h.endSteps(e.WithdrawnAt)
		h.closedWhy = e.Reason
	}
}

// endSteps marks every step under way done at t.
func (h *history) endSteps(t time.Time) {
	for i := range h.steps {
		if h.steps[i].TrangThai == StepUnderWay {
			h.steps[i].TrangThai, h.steps[i].NgayKetThuc = StepDone, Date(t)
		}
	}
}

// stepNames words the internal steps the portal's readers see.
var stepNames = map[string]string{
	"reception": "Tiếp nhận hồ sơ",
	"appraisal": "Thẩm định hồ sơ",
	"approval":  "Phê duyệt kết quả",
	"signing":   "Ký duyệt kết quả",
	"result":    "Trả kết quả",
}

func stepName(step string) string {
	if name, ok := stepNames[step]; ok {
		return name
	}
	return step
}

// syncDocument is the DongBoHoSoMC dossier of h. resultLink gives a result's file link.
func (h *history) syncDocument(resultLink func(code, resultCode string) string) SyncDocument {
	d := h.dossier
	a := d.Applicant
	doc := SyncDocument{
		MaHoSo: portalCode(d), MaTTHC: d.Procedure.Code, TenTTHC: d.Procedure.Name,
		MaLinhVuc: d.Procedure.FieldCode, TenLinhVuc: d.Procedure.FieldName,
		KenhThucHien: channelCode(d), TrangThaiHoSo: d.Status.PortalStatusCode(),
		LoaiDoiTuong: 1, LoaiGiayTo: 1, ChuHoSo: a.Name, SoGiayToChuHoSo: a.IDNumber,
		SoDienThoai: a.Phone, Email: a.Email, DiaChi: a.Address,
		DonViTiepNhan: d.ReceivingUnit, CoQuanGiaiQuyet: d.CompetentAgency,
		NgayNopHoSo: Date(d.SubmittedAt), NgayTiepNhan: Date(d.ReceivedAt), NgayHenTra: Date(d.AppointmentDate),
		NgayTra: Date(d.ReturnedAt), NgayCapNhat: Date(occurredAt(h.at)),
		DanhSachHoSoBoSung: nonNilOf(h.supplements), DanhSachLePhi: nonNilOf(h.fees), DanhSachGiayToKetQua: []ResultDocument{},
	}
	if a.Type == domain.ApplicantOrganization {
		doc.LoaiDoiTuong, doc.LoaiGiayTo = 2, 2
	}
	switch d.Status {
	case domain.StatusReceptionRefused:
		doc.NgayTuChoi, doc.LyDo = Date(d.ClosedAt), h.closedWhy
	case domain.StatusWithdrawn:
		doc.NgayRutHoSo, doc.NgayKetThucXuLy, doc.LyDo = Date(d.ClosedAt), Date(d.ClosedAt), h.closedWhy
	case domain.StatusRejected:
		doc.NgayKetThucXuLy, doc.LyDo = Date(d.ClosedAt), h.closedWhy
	case domain.StatusSuspended:
		doc.LyDo = h.closedWhy
	}
	for _, r := range d.Results {
		if doc.NgayKetThucXuLy == "" {
			doc.NgayKetThucXuLy = Date(r.ReadyAt) // processing ended with the first result
		}
		doc.DanhSachGiayToKetQua = append(doc.DanhSachGiayToKetQua, ResultDocument{MaGiayToKetQua: r.ResultCode,
			SoKyHieu: r.DocumentNumber, NgayCoKetQua: Date(r.ReadyAt), DuongDanTepTinKetQua: resultLink(string(d.Code), r.ResultCode)})
	}
	if h.paidOnline {
		doc.DuocThanhToanTrucTuyen = 1
	}
	return doc
}

// progressDocument is the CapNhatTienDoHoSoMC dossier of h.
func (h *history) progressDocument() ProgressDocument {
	steps := make([]Step, len(h.steps))
	for i, s := range h.steps {
		s.STT = i + 1
		steps[i] = s
	}
	return ProgressDocument{MaHoSo: portalCode(h.dossier), NgayCapNhat: Date(occurredAt(h.at)), QuaTrinhXuLy: steps}
}

// channelCode is the portal's channel: the dossier's, or online for a submission not received yet.
func channelCode(d domain.Dossier) int {
	if c := d.Channel.PortalCode(); c != 0 {
		return c
	}
	if d.Status == domain.StatusSubmitted || !d.SubmittedAt.IsZero() {
		return domain.ChannelOnline.PortalCode()
	}
	return domain.ChannelDirect.PortalCode()
}

func occurredAt(re eventstore.RecordedEvent) time.Time {
	if !re.Metadata.OccurredAt.IsZero() {
		return re.Metadata.OccurredAt
	}
	return re.RecordedAt
}

// LookupLink returns the result link used when no file store is configured: the dossier's public
// lookup page, which shows its results (docs/integrations.md).
func LookupLink(publicURL string) func(code, resultCode string) string {
	base := strings.TrimRight(publicURL, "/")
	return func(code, resultCode string) string {
		if base == "" {
			return ""
		}
		return fmt.Sprintf("%s/tra-cuu/%s", base, code)
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilOf[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
