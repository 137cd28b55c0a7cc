package workbook

import (
	"fmt"
	"strconv"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// UnitLine names who a report covers: an agency by its name and identifier, or every agency.
func UnitLine(label, code, name string) string {
	if code == "" {
		return label + ": tất cả cơ quan, đơn vị"
	}
	if name == "" || name == code {
		return label + ": " + code
	}
	return fmt.Sprintf("%s: %s (%s)", label, name, code)
}

// ResolutionColumns are form II.06a's headings (regulations §6): received = online + in person or
// by post + carried over; resolved = early + on time + late; in progress = within time + overdue;
// withdrawn apart.
var ResolutionColumns = []Column{
	{Heading: "STT", Width: 6},
	{Heading: "Mã lĩnh vực", Width: 10},
	{Heading: "Lĩnh vực, thủ tục", Width: 44},
	{Heading: "Mã thủ tục", Width: 14},
	{Heading: "Số hồ sơ nhận giải quyết", Children: []Column{
		{Heading: "Tổng số", Width: 10},
		{Heading: "Trong kỳ", Children: []Column{{Heading: "Trực tuyến", Width: 11}, {Heading: "Trực tiếp, dịch vụ bưu chính", Width: 13}}},
		{Heading: "Từ kỳ trước chuyển qua", Width: 12},
	}},
	{Heading: "Kết quả giải quyết", Children: []Column{
		{Heading: "Số hồ sơ đã giải quyết", Children: []Column{
			{Heading: "Tổng số", Width: 10}, {Heading: "Trước hạn", Width: 10}, {Heading: "Đúng hạn", Width: 10},
			{Heading: "Quá hạn", Width: 10}, {Heading: "Trong đó từ chối giải quyết", Width: 12},
		}},
		{Heading: "Số hồ sơ đang giải quyết", Children: []Column{
			{Heading: "Tổng số", Width: 10}, {Heading: "Trong hạn", Width: 10}, {Heading: "Quá hạn", Width: 10},
		}},
	}},
	{Heading: "Số hồ sơ rút (tính riêng)", Width: 12},
	// A succession (docs/rules.md, "Agencies that cease to exist"): taken over counts in the total received.
	{Heading: "Nhận từ cơ quan bị sắp xếp", Width: 12},
	{Heading: "Chuyển cơ quan kế thừa (tính riêng)", Width: 12},
}

// Resolution adds the report of form II.06a: each field, then its procedures, then the total.
func Resolution(b *Book, report projections.ResolutionReport, unit string) error {
	s, err := b.Sheet("II.06a", Top{Form: "Biểu số II.06a/VPCP/KSTT",
		Title:  "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
		Period: PeriodLine(report.Period.From, report.Period.To), Unit: unit}, ResolutionColumns, true)
	if err != nil {
		return err
	}
	line := func(total bool, no, fieldCode, name, procedureCode string, c projections.ResolutionCounts) error {
		values := []Value{Text(no), Text(fieldCode), Text(name), Text(procedureCode)}
		for _, n := range []int{c.ReceivedTotal, c.ReceivedOnline, c.ReceivedInPersonOrPostal, c.CarriedOver,
			c.ResolvedTotal, c.ResolvedEarly, c.ResolvedOnTime, c.ResolvedLate, c.ResolvedByRejection,
			c.InProgressTotal, c.InProgressWithinTime, c.InProgressOverdue, c.Withdrawn, c.TakenOver, c.HandedOver} {
			values = append(values, Int(n))
		}
		if total {
			return s.TotalRow(values...)
		}
		return s.Row(values...)
	}
	for i, f := range report.Fields {
		if err := line(true, strconv.Itoa(i+1), f.FieldCode, f.FieldName, "", f.ResolutionCounts); err != nil {
			return err
		}
		for j, p := range f.Procedures {
			if err := line(false, fmt.Sprintf("%d.%d", i+1, j+1), f.FieldCode, p.ProcedureName, p.ProcedureCode, p.ResolutionCounts); err != nil {
				return err
			}
		}
	}
	if err := line(true, "", "", l10n.VI.ResolutionCSVTotal(), "", report.Total); err != nil {
		return err
	}
	return s.Done()
}

// RegisterColumns are the register's headings (form 06 of TT 01/2018), grouped as on the form.
var RegisterColumns = func() []Column {
	h := l10n.VI.RegisterCSVHeader() // number, code, procedure, field, applicant, address, phone, channel, competent agency, received at, received by, appointment, in force, transferred to, transferred at, resolved at, returned at, note
	leaf := func(i int, width float64) Column { return Column{Heading: h[i], Width: width} }
	return []Column{
		leaf(0, 7), leaf(1, 22), leaf(2, 40), leaf(3, 20),
		{Heading: "Tổ chức, cá nhân", Children: []Column{leaf(4, 24), leaf(5, 30), leaf(6, 14)}},
		leaf(7, 14), leaf(8, 24),
		{Heading: "Nhận hồ sơ", Children: []Column{leaf(9, 17), leaf(10, 20)}},
		{Heading: "Hẹn trả kết quả", Children: []Column{{Heading: "Theo phiếu hẹn", Width: 17}, {Heading: "Hiện hành", Width: 17}}},
		{Heading: "Chuyển hồ sơ đến cơ quan giải quyết", Children: []Column{leaf(13, 24), leaf(14, 17)}},
		leaf(15, 17), leaf(16, 17), leaf(17, 30),
	}
}()

// Register is the register's sheet being written, page by page.
type Register struct{ s *Sheet }

// NewRegister adds the register of a receiving unit's year.
func NewRegister(b *Book, year int, unit string) (*Register, error) {
	s, err := b.Sheet("Sổ theo dõi", Top{Form: "Mẫu số 06 — Thông tư 01/2018/TT-VPCP", Title: "SỔ THEO DÕI HỒ SƠ",
		Period: "Năm " + strconv.Itoa(year), Unit: unit}, RegisterColumns, true)
	if err != nil {
		return nil, err
	}
	return &Register{s: s}, nil
}

// Write adds entries, in the register's order.
func (r *Register) Write(entries []projections.RegisterEntry) error {
	// The texts (the note joins why it closed and any apology) are the CSV's own.
	texts := projections.RegisterCSVRecords(entries, l10n.VI)
	for i, e := range entries {
		t := texts[i]
		if err := r.s.Row(Int(e.Number), Text(e.Code), Text(e.ProcedureName), Text(e.FieldName), Text(e.ApplicantName),
			Text(e.ApplicantAddress), Text(e.ApplicantPhone), Text(t[7]), Text(e.CompetentAgency), DateTime(e.ReceivedAt),
			Text(e.ReceivedBy), DateTime(e.AppointmentDate), DateTime(e.AppointmentInForce), Text(e.TransferredTo),
			DateTime(e.TransferredAt), DateTime(e.ResolvedAt), DateTime(e.ReturnedAt), Text(t[17])); err != nil {
			return err
		}
	}
	return nil
}

// Done ends the register's sheet.
func (r *Register) Done() error { return r.s.Done() }

// AgencyNames names agencies by their identifier (the catalog's names).
type AgencyNames func(code string) string

var lateGroupColumns = []Column{
	{Heading: "STT", Width: 6}, {Heading: "Mã", Width: 16}, {Heading: "Tên", Width: 40},
	{Heading: "Số hồ sơ", Children: []Column{
		{Heading: "Đang giải quyết quá hạn", Width: 14}, {Heading: "Đã giải quyết quá hạn", Width: 14}, {Heading: "Văn bản xin lỗi", Width: 12},
	}},
}

var overrunGroupColumns = []Column{
	{Heading: "STT", Width: 6}, {Heading: "Mã", Width: 16}, {Heading: "Tên", Width: 40},
	{Heading: "Bước xử lý quá hạn", Children: []Column{{Heading: "Số bước", Width: 12}, {Heading: "Số giờ làm việc quá hạn", Width: 14}}},
	{Heading: "Hồ sơ quá hạn đang giữ", Width: 14},
}

var lateDossierColumns = []Column{
	{Heading: "STT", Width: 6}, {Heading: "Mã hồ sơ", Width: 22}, {Heading: "Thủ tục", Width: 40}, {Heading: "Lĩnh vực", Width: 20},
	{Heading: "Cơ quan giải quyết", Width: 16},
	{Heading: "Thời hạn", Children: []Column{
		{Heading: "Hạn giải quyết theo quy định", Width: 17}, {Heading: "Ngày hẹn", Width: 17}, {Heading: "Ngày có kết quả", Width: 17},
	}},
	{Heading: "Số giờ làm việc quá hạn", Width: 12},
	{Heading: "Đang giữ hồ sơ", Children: []Column{{Heading: "Đơn vị", Width: 16}, {Heading: "Cán bộ", Width: 20}}},
	{Heading: "Bước quá hạn", Width: 40},
	{Heading: "Văn bản xin lỗi", Width: 10},
}

// LateDashboard adds the late-dossier dashboard as the JSON answers it: the summaries, then each
// list's page (bounded as the JSON is), with a line saying how many more the list holds.
func LateDashboard(b *Book, dash projections.LateDashboard, unit string, agencyName AgencyNames) error {
	period := PeriodLine(dash.Period.From, dash.Period.To)
	top := func(title string) Top { return Top{Title: title, Period: period, Unit: unit} }
	groups := []struct {
		sheet, title string
		lines        []projections.LateGroup
		names        AgencyNames
	}{
		{"Theo cơ quan", "HỒ SƠ TRỄ HẠN THEO CƠ QUAN", dash.ByAgency, agencyName},
		{"Theo thủ tục", "HỒ SƠ TRỄ HẠN THEO THỦ TỤC", dash.ByProcedure, nil},
		{"Theo lĩnh vực", "HỒ SƠ TRỄ HẠN THEO LĨNH VỰC", dash.ByField, nil},
	}
	for _, g := range groups {
		s, err := b.Sheet(g.sheet, top(g.title), lateGroupColumns, false)
		if err != nil {
			return err
		}
		var total [3]int
		for i, l := range g.lines {
			name := l.Name
			if g.names != nil {
				name = g.names(l.Key)
			}
			if err := s.Row(Int(i+1), Text(l.Key), Text(name), Int(l.OpenOverdue), Int(l.ResolvedLate), Int(l.Apologies)); err != nil {
				return err
			}
			total[0], total[1], total[2] = total[0]+l.OpenOverdue, total[1]+l.ResolvedLate, total[2]+l.Apologies
		}
		if err := s.TotalRow(nil, nil, Text(l10n.VI.ResolutionCSVTotal()), Int(total[0]), Int(total[1]), Int(total[2])); err != nil {
			return err
		}
		if err := s.Done(); err != nil {
			return err
		}
	}
	for _, g := range []struct {
		sheet, title string
		lines        []projections.OverrunGroup
	}{
		{"Theo đơn vị", "BƯỚC XỬ LÝ QUÁ HẠN THEO ĐƠN VỊ", dash.ByUnit},
		{"Theo cán bộ", "BƯỚC XỬ LÝ QUÁ HẠN THEO CÁN BỘ", dash.ByOfficial},
	} {
		s, err := b.Sheet(g.sheet, top(g.title), overrunGroupColumns, false)
		if err != nil {
			return err
		}
		for i, l := range g.lines {
			name := l.Name
			if l.Others > 0 {
				name = l10n.VI.T("dash.satisfaction.others", l.Others)
			}
			if err := s.Row(Int(i+1), Text(l.Key), Text(name), Int(l.OverrunSteps), Decimal(l.OverrunHours), Int(l.HoldingOverdue)); err != nil {
				return err
			}
		}
		if err := s.Done(); err != nil {
			return err
		}
	}
	for _, list := range []struct {
		sheet, title string
		page         projections.Page[projections.LateDossier]
	}{
		{"Đang quá hạn", "HỒ SƠ ĐANG GIẢI QUYẾT QUÁ HẠN", dash.OpenOverdue},
		{"Đã giải quyết quá hạn", "HỒ SƠ ĐÃ GIẢI QUYẾT QUÁ HẠN", dash.ResolvedLate},
	} {
		if err := lateList(b, list.sheet, top(list.title), list.page); err != nil {
			return err
		}
	}
	s, err := b.Sheet("Sắp đến hạn", top(fmt.Sprintf("HỒ SƠ ĐẾN HẠN TRONG %d NGÀY LÀM VIỆC", dash.DueWithinDays)), []Column{
		{Heading: "STT", Width: 6}, {Heading: "Mã hồ sơ", Width: 22}, {Heading: "Thủ tục", Width: 40}, {Heading: "Cơ quan giải quyết", Width: 16},
		{Heading: "Ngày hẹn", Width: 17}, {Heading: "Số giờ làm việc còn lại", Width: 12},
		{Heading: "Đang giữ hồ sơ", Children: []Column{{Heading: "Đơn vị", Width: 16}, {Heading: "Cán bộ", Width: 20}}},
	}, false)
	if err != nil {
		return err
	}
	for i, d := range dash.DueSoon.Items {
		if err := s.Row(Int(i+1), Text(d.Code), Text(d.ProcedureName), Text(d.CompetentAgency), DateTime(d.AppointmentDate),
			Decimal(d.WorkingHoursLeft), Text(d.HolderUnit), Text(d.HolderOfficial)); err != nil {
			return err
		}
	}
	if err := more(s, dash.DueSoon.Total, len(dash.DueSoon.Items), dash.DueSoon.Next); err != nil {
		return err
	}
	return s.Done()
}

func lateList(b *Book, sheet string, top Top, page projections.Page[projections.LateDossier]) error {
	s, err := b.Sheet(sheet, top, lateDossierColumns, false)
	if err != nil {
		return err
	}
	for i, d := range page.Items {
		var steps string
		for _, h := range d.OverrunSteps {
			p := h.Responsible()
			if steps != "" {
				steps += "; "
			}
			steps += fmt.Sprintf("%s — %s %s (%s giờ)", l10n.VI.Step(h.Step), p.Unit, p.OfficialName, l10n.VI.Hours(h.OverrunHours))
		}
		apology := ""
		if d.ApologyIssued {
			apology = "Có"
		}
		if err := s.Row(Int(i+1), Text(d.Code), Text(d.ProcedureName), Text(d.FieldName), Text(d.CompetentAgency), DateTime(d.DueDate),
			DateTime(d.AppointmentDate), DateTime(d.ResolvedAt), Decimal(d.LateHours), Text(d.HolderUnit), Text(d.HolderOfficial),
			Text(steps), Text(apology)); err != nil {
			return err
		}
	}
	if err := more(s, page.Total, len(page.Items), page.Next); err != nil {
		return err
	}
	return s.Done()
}

// more says, below a list cut at its page, how many the list holds: the rest is paged through the
// list's own route.
func more(s *Sheet, total, shown int, next string) error {
	if next == "" {
		return nil
	}
	return s.Note(fmt.Sprintf("Danh sách có %d hồ sơ; bảng này liệt kê %d hồ sơ đầu.", total, shown))
}

// satisfactionGroupColumns head the rating statistics of a group: TT 01/2018 art. 13–15's nine
// criteria, each scored 0–2, and the grade by the average total out of 18.
var satisfactionGroupColumns = func() []Column {
	criteria := make([]Column, len(domain.Criteria))
	for i, c := range domain.Criteria {
		criteria[i] = Column{Heading: l10n.VI.Criterion(c), Width: 14}
	}
	return []Column{
		{Heading: "STT", Width: 6}, {Heading: "Mã", Width: 14}, {Heading: "Tên", Width: 36},
		{Heading: "Số lượt đánh giá", Children: []Column{
			{Heading: "Tổng số", Width: 10}, {Heading: "Đủ 9 tiêu chí", Width: 10}, {Heading: "Có tiêu chí không hài lòng", Width: 12},
		}},
		{Heading: "Điểm trung bình (tối đa 18)", Width: 12},
		{Heading: "Xếp loại", Width: 12},
		{Heading: "Điểm trung bình từng tiêu chí (tối đa 2)", Children: criteria},
	}
}()

// Satisfaction adds the satisfaction statistics: the Quyết định 766 indicators, then the rating
// statistics overall and by agency, department, procedure, official and month (capped as the JSON
// is: projections.SatisfactionGroupLimit lines, then one summing the others).
func Satisfaction(b *Book, report projections.SatisfactionReport, unit string, agencyName AgencyNames) error {
	period := PeriodLine(report.Period.From, report.Period.To)
	top := func(title string) Top { return Top{Title: title, Period: period, Unit: unit} }
	s, err := b.Sheet("Chỉ số 766", top("CHỈ SỐ CHẤT LƯỢNG PHỤC VỤ (QUYẾT ĐỊNH 766/QĐ-TTg)"), []Column{
		{Heading: "Chỉ số", Width: 60}, {Heading: "Tử số", Width: 12}, {Heading: "Mẫu số", Width: 12}, {Heading: "Tỷ lệ", Width: 12},
	}, false)
	if err != nil {
		return err
	}
	in := report.Indicators
	for _, r := range []struct {
		name       string
		num, denom int
		rate       float64
	}{
		{"Tiến độ giải quyết: hồ sơ đúng hạn / hồ sơ đã và đang giải quyết", in.OnTime, in.Processed, in.OnTimeRate},
		{"Hồ sơ quá hạn / hồ sơ đã và đang giải quyết", in.Late, in.Processed, in.LateRate},
		{"Hồ sơ có đánh giá không hài lòng / hồ sơ đã và đang giải quyết", in.Dissatisfied, in.Processed, in.DissatisfiedShare},
		{"Hồ sơ nộp trực tuyến / hồ sơ tiếp nhận trong kỳ", in.ReceivedOnline, in.ReceivedInPeriod, in.OnlineDossierRate},
		{"Hồ sơ thanh toán trực tuyến / hồ sơ đã nộp phí, lệ phí", in.PaidOnline, in.PaidDossiers, in.OnlinePaymentRate},
		{"4.1 Hồ sơ có tệp kết quả điện tử / hồ sơ có kết quả trong kỳ", in.ResultFiles, in.Resulted, in.ResultFileRate},
		{"4.2 Hồ sơ có thành phần và kết quả là tệp điện tử / hồ sơ có kết quả trong kỳ", in.ComponentsAndResultFiles, in.Resulted, in.ComponentsAndResultRate},
		{"4.3 Hồ sơ được số hóa thành phần / hồ sơ có kết quả trong kỳ", in.ComponentFiles, in.Resulted, in.DigitisedRate},
	} {
		if err := s.Row(Text(r.name), Int(r.num), Int(r.denom), PercentOf(r.rate)); err != nil {
			return err
		}
	}
	if err := s.TotalRow(Text("Mức độ hài lòng về giải quyết hồ sơ = 100% − (tỷ lệ quá hạn + tỷ lệ không hài lòng)"), nil, nil, PercentOf(in.SatisfactionRate)); err != nil {
		return err
	}
	for _, n := range in.NotComputed {
		if err := s.Note("Chưa tính được: " + l10n.VI.Indicator(n.Code)); err != nil {
			return err
		}
	}
	if err := s.Done(); err != nil {
		return err
	}
	overall := []projections.SatisfactionGroup{{Key: "", Name: "Toàn bộ", RatingStats: report.Overall}}
	for _, g := range []struct {
		sheet, title string
		lines        []projections.SatisfactionGroup
		names        AgencyNames
	}{
		{"Tổng hợp", "MỨC ĐỘ HÀI LÒNG — TỔNG HỢP", overall, nil},
		{"Theo cơ quan", "MỨC ĐỘ HÀI LÒNG THEO CƠ QUAN", report.ByAgency, agencyName},
		{"Theo phòng ban", "MỨC ĐỘ HÀI LÒNG THEO PHÒNG, BAN", report.ByDepartment, nil},
		{"Theo thủ tục", "MỨC ĐỘ HÀI LÒNG THEO THỦ TỤC", report.ByProcedure, nil},
		{"Theo cán bộ", "MỨC ĐỘ HÀI LÒNG THEO CÁN BỘ", report.ByOfficial, nil},
		{"Theo tháng", "MỨC ĐỘ HÀI LÒNG THEO THÁNG", report.ByMonth, nil},
	} {
		s, err := b.Sheet(g.sheet, top(g.title), satisfactionGroupColumns, false)
		if err != nil {
			return err
		}
		for i, l := range g.lines {
			name := l.Name
			switch {
			case l.Others > 0:
				name = l10n.VI.T("dash.satisfaction.others", l.Others)
			case g.names != nil:
				name = g.names(l.Key)
			}
			values := []Value{Int(i + 1), Text(l.Key), Text(name), Int(l.Ratings), Int(l.CompleteRatings), Int(l.DissatisfiedRatings)}
			if l.CompleteRatings > 0 {
				values = append(values, Decimal(l.AverageTotal), Text(l10n.VI.Grade(string(l.Grade))))
			} else {
				values = append(values, nil, nil)
			}
			for _, c := range l.Criteria {
				if c.VerySatisfied+c.Satisfied+c.Dissatisfied == 0 {
					values = append(values, nil)
					continue
				}
				values = append(values, Decimal(c.AverageScore))
			}
			if err := s.Row(values...); err != nil {
				return err
			}
		}
		if err := s.Done(); err != nil {
			return err
		}
	}
	return nil
}
