// Package l10n is motcua's one catalogue of words: every code the read models, the API and the pages
// carry (statuses, channels, roles, actions, rating criteria and levels, verdicts, grades, events) and
// every page text, in Vietnamese and English. Read models return codes; the API's CSV exports and the
// pages turn them into words here, so one code always reads the same. Vietnamese comes first: it is
// the default language and the language of every CSV export (VI).
package l10n

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/domain"
)

// Lang is a language: "vi" (the default) or "en". Its methods are what the pages' templates call to
// say anything in that language.
type Lang string

// VI is Vietnamese, the language of the public face and of every CSV export.
const VI Lang = "vi"

// EN is English, offered second.
const EN Lang = "en"

// T returns the message for key in l, formatted with args. An unknown key shows as itself, so a
// missing translation is visible rather than blank (TestPageMessagesExist catches them).
func (l Lang) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	text := m[0]
	if l == EN {
		text = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

// Has reports whether the catalogue holds both words for key.
func Has(key string) bool {
	m, ok := messages[key]
	return ok && m[0] != "" && m[1] != ""
}

// Other is the language the switch link offers.
func (l Lang) Other() Lang {
	if l == EN {
		return VI
	}
	return EN
}

func (l Lang) pick(vi, en string) string {
	if l == EN {
		return en
	}
	return vi
}

// code names the code of kind ("status", "channel"…), or shows the code itself when the catalogue
// does not know it.
func (l Lang) code(kind, code string) string {
	if code == "" {
		return ""
	}
	if m, ok := messages[kind+"."+code]; ok {
		return l.pick(m[0], m[1])
	}
	return code
}

// Status names a dossier status.
func (l Lang) Status(s domain.Status) string { return l.code("status", string(s)) }

// Channel names how a dossier came in or went out.
func (l Lang) Channel(c domain.Channel) string { return l.code("channel", string(c)) }

// Step names a processing step; the desk's own steps have internal names.
func (l Lang) Step(step string) string {
	if m, ok := messages["step."+step]; ok {
		return l.pick(m[0], m[1])
	}
	return step
}

// RoleName names a role recorded on an event or held by an official (or "applicant").
func (l Lang) RoleName(role string) string { return l.code("role", role) }

// Action names an action on a dossier.
func (l Lang) Action(a domain.Action) string { return l.code("action", string(a)) }

// Criterion names one of the nine rating criteria of TT 01/2018.
func (l Lang) Criterion(c domain.Criterion) string { return l.code("criterion", string(c)) }

// Level names a rating level.
func (l Lang) Level(v domain.RatingLevel) string { return l.code("level", string(v)) }

// Verdict names the verdict on a step's or a dossier's timing (early, on_time, late).
func (l Lang) Verdict(code string) string { return l.code("verdict", code) }

// Grade names a satisfaction grade (excellent … weak).
func (l Lang) Grade(code string) string { return l.code("grade", code) }

// Indicator names a Quyết định 766 indicator that the read models list by code.
func (l Lang) Indicator(code string) string { return l.code("indicator", code) }

// DateTime formats an instant in Vietnam time, as forms print it.
func (l Lang) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format(l.pick("15:04 ngày 02/01/2006", "02/01/2006 15:04"))
}

// Date formats an instant's Vietnam civil date.
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format("02/01/2006")
}

// Hours formats working hours, with the decimal comma in Vietnamese.
func (l Lang) Hours(h float64) string {
	s := strconv.FormatFloat(math.Round(h*10)/10, 'f', -1, 64)
	if l == VI {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Percent formats a rate held as a percentage.
func (l Lang) Percent(p float64) string { return l.Hours(p) + "%" }

// Money formats đồng with thousands separators (dots in Vietnamese, commas in English).
func (l Lang) Money(amount int64) string {
	digits := strconv.FormatInt(amount, 10)
	sep := l.pick(".", ",")
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 && d != '-' {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	return b.String() + " đ"
}

// RegisterCSVHeader is the dossier register's column headings (form 06), in the order of
// projections.Register.CSVRecords.
func (l Lang) RegisterCSVHeader() []string { return l.headings("csv.register.", registerCSVColumns) }

var registerCSVColumns = []string{"number", "code", "procedure", "field", "applicant", "address", "phone", "channel", "competent_agency", "received_at", "received_by", "appointment", "appointment_in_force", "transferred_to", "transferred_at", "resolved_at", "returned_at", "note"}

// ResolutionCSVHeader is the resolution report's column headings, as on form II.06a, in the order
// of projections.ResolutionReport.CSVRecords.
func (l Lang) ResolutionCSVHeader() []string {
	return l.headings("csv.resolution.", resolutionCSVColumns)
}

var resolutionCSVColumns = []string{"number", "field_code", "name", "procedure_code", "received_total", "received_online", "received_in_person_or_postal", "carried_over", "resolved_total", "resolved_early", "resolved_on_time", "resolved_late", "resolved_by_rejection", "in_progress_total", "in_progress_within_time", "in_progress_overdue", "withdrawn", "taken_over", "handed_over"}

// ApologyNote is the register's note of a letter of apology: the new appointment date and why.
func (l Lang) ApologyNote(newDate time.Time, reason string) string {
	return l.T("csv.register.apology_note", l.Date(newDate), reason)
}

// ControlNote words a note of the process-control sheet (projections.ControlNote): kind is its
// code, param the supplement round or the completed part's step, date a new appointment date and
// detail the event's own text. It returns the note's name and its detail in l's words.
func (l Lang) ControlNote(kind, param string, date time.Time, detail string) (event, text string) {
	key := "note." + kind
	if _, ok := messages[key]; !ok {
		return kind, detail
	}
	switch kind {
	case "part_completed", "supplement_requested", "agency_succeeded", "boundary_free":
		return l.T(key, param), detail
	case "supplemented": // a supplement restarts the time limit only in some cases: a new date then
		if date.IsZero() {
			return l.T(key), detail
		}
		return l.T(key), l.T("note.new_appointment", l.noteTime(date))
	case "resumed":
		return l.T(key), l.T("note.new_appointment", l.noteTime(date))
	case "apology":
		return l.T(key), l.noteTime(date) + ": " + detail
	}
	return l.T(key), detail
}

// noteTime is an instant as the control sheet's notes print it, hour first in Vietnamese.
func (l Lang) noteTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.VietnamTime).Format(l.pick("15:04 02/01/2006", "02/01/2006 15:04"))
}

// ResolutionCSVTotal labels the resolution report's last row, the total.
func (l Lang) ResolutionCSVTotal() string { return l.T("csv.resolution.total") }

func (l Lang) headings(prefix string, columns []string) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = l.T(prefix + c)
	}
	return out
}

// messages holds every word and page text: {Vietnamese, English}.
var messages = map[string][2]string{
	"csv.late.status":                             {"Trạng thái", "Status"},
	"csv.late.code":                               {"Mã hồ sơ", "Dossier code"},
	"csv.late.procedure":                          {"Thủ tục", "Procedure"},
	"csv.late.competent_agency":                   {"Cơ quan giải quyết", "Deciding agency"},
	"csv.late.due_date":                           {"Hạn giải quyết theo quy định", "Statutory due date"},
	"csv.late.appointment":                        {"Ngày hẹn", "Appointment date"},
	"csv.late.resolved_at":                        {"Ngày có kết quả", "Resolved on"},
	"csv.late.late_hours":                         {"Số giờ làm việc quá hạn", "Working hours late"},
	"csv.late.step":                               {"Bước quá hạn", "Step that overran"},
	"csv.late.unit":                               {"Đơn vị", "Unit"},
	"csv.late.official":                           {"Cán bộ", "Official"},
	"csv.late.step_hours":                         {"Số giờ quá hạn của bước", "Hours the step overran"},
	"csv.ontime.month":                            {"Tháng", "Month"},
	"csv.ontime.resolved":                         {"Đã giải quyết", "Resolved"},
	"csv.ontime.in_time":                          {"Trước hạn và đúng hạn", "Early and on time"},
	"csv.ontime.late":                             {"Quá hạn", "Late"},
	"csv.ontime.rate":                             {"Tỷ lệ đúng hạn (%)", "On-time rate (%)"},
	"csv.register.number":                         {"STT", "No."},
	"csv.register.code":                           {"Mã hồ sơ", "Dossier code"},
	"csv.register.procedure":                      {"Tên thủ tục hành chính", "Administrative procedure"},
	"csv.register.field":                          {"Lĩnh vực", "Field"},
	"csv.register.applicant":                      {"Tên tổ chức, cá nhân", "Organisation or individual"},
	"csv.register.apology_note":                   {"Xin lỗi, hẹn lại ngày %s: %s", "Apologised, new appointment %s: %s"},
	"csv.register.address":                        {"Địa chỉ", "Address"},
	"csv.register.phone":                          {"Số điện thoại", "Phone number"},
	"csv.register.channel":                        {"Hình thức nộp", "How submitted"},
	"csv.register.competent_agency":               {"Cơ quan chủ trì giải quyết", "Lead deciding agency"},
	"csv.register.received_at":                    {"Nhận hồ sơ lúc", "Received at"},
	"csv.register.received_by":                    {"Người tiếp nhận", "Received by"},
	"csv.register.appointment":                    {"Hẹn trả kết quả", "Appointment for the result"},
	"csv.register.appointment_in_force":           {"Hẹn trả kết quả (hiện hành)", "Appointment for the result (in force)"},
	"csv.register.transferred_to":                 {"Chuyển hồ sơ đến", "Transferred to"},
	"csv.register.transferred_at":                 {"Chuyển lúc", "Transferred at"},
	"csv.register.resolved_at":                    {"Nhận kết quả lúc", "Result received at"},
	"csv.register.returned_at":                    {"Trả kết quả lúc", "Result returned at"},
	"csv.register.note":                           {"Ghi chú", "Note"},
	"csv.resolution.number":                       {"STT", "No."},
	"csv.resolution.field_code":                   {"Mã lĩnh vực", "Field code"},
	"csv.resolution.name":                         {"Lĩnh vực, thủ tục", "Field, procedure"},
	"csv.resolution.procedure_code":               {"Mã thủ tục", "Procedure code"},
	"csv.resolution.received_total":               {"Số hồ sơ nhận giải quyết - Tổng số", "Dossiers received - Total"},
	"csv.resolution.received_online":              {"Trong kỳ - Trực tuyến", "In the period - Online"},
	"csv.resolution.received_in_person_or_postal": {"Trong kỳ - Trực tiếp, dịch vụ bưu chính", "In the period - In person or by post"},
	"csv.resolution.carried_over":                 {"Từ kỳ trước chuyển qua", "Carried over from the previous period"},
	"csv.resolution.resolved_total":               {"Số hồ sơ đã giải quyết - Tổng số", "Dossiers resolved - Total"},
	"csv.resolution.resolved_early":               {"Trước hạn", "Early"},
	"csv.resolution.resolved_on_time":             {"Đúng hạn", "On time"},
	"csv.resolution.resolved_late":                {"Quá hạn", "Late"},
	"csv.resolution.resolved_by_rejection":        {"Trong đó từ chối giải quyết", "Of which rejected"},
	"csv.resolution.in_progress_total":            {"Số hồ sơ đang giải quyết - Tổng số", "Dossiers in progress - Total"},
	"csv.resolution.in_progress_within_time":      {"Trong hạn", "Within time"},
	"csv.resolution.in_progress_overdue":          {"Quá hạn", "Overdue"},
	"csv.resolution.withdrawn":                    {"Số hồ sơ rút (tính riêng)", "Dossiers withdrawn (counted separately)"},
	"csv.resolution.taken_over":                   {"Nhận từ cơ quan bị sắp xếp (trong tổng số nhận)", "Taken over from an abolished agency (in the received total)"},
	"csv.resolution.handed_over":                  {"Chuyển cơ quan kế thừa (tính riêng)", "Handed to the successor agency (counted separately)"},
	"csv.resolution.total":                        {"Tổng cộng", "Total"},
	"csv.satisfaction.agency_code":                {"Mã cơ quan", "Agency code"},
	"csv.satisfaction.agency":                     {"Cơ quan", "Agency"},
	"csv.satisfaction.ratings":                    {"Số lượt đánh giá", "Ratings"},
	"csv.satisfaction.average":                    {"Điểm trung bình (tối đa 18)", "Average score (of 18)"},
	"csv.satisfaction.grade":                      {"Xếp loại", "Grade"},
	"csv.satisfaction.criterion_average":          {"Điểm TB: %s", "Average: %s"},
	"status.new":                                  {"Chưa có", "None"},
	"status.submitted":                            {"Mới nộp trực tuyến, chờ tiếp nhận", "Submitted online, awaiting acceptance"},
	"status.received":                             {"Đã tiếp nhận", "Received"},
	"status.reception_refused":                    {"Từ chối tiếp nhận", "Reception refused"},
	"status.supplement_requested":                 {"Yêu cầu bổ sung hồ sơ", "Supplement requested"},
	"status.processing":                           {"Đang giải quyết", "Processing"},
	"status.awaiting_payment":                     {"Chờ nộp phí, lệ phí", "Awaiting fee payment"},
	"status.suspended":                            {"Tạm dừng xử lý", "Processing suspended"},
	"status.result_ready":                         {"Đã có kết quả", "Result ready"},
	"status.result_returned":                      {"Đã trả kết quả", "Result returned"},
	"status.withdrawn":                            {"Đã rút hồ sơ", "Withdrawn"},
	"status.rejected":                             {"Từ chối giải quyết", "Rejected"},
	"channel.direct":                              {"Trực tiếp", "In person"},
	"channel.online":                              {"Trực tuyến", "Online"},
	"channel.postal":                              {"Qua dịch vụ bưu chính công ích", "By public postal service"},
	"step.reception":                              {"Tiếp nhận hồ sơ", "Reception"},
	"step.return":                                 {"Trả kết quả", "Returning the result"},
	"step.online_reception":                       {"Tiếp nhận hồ sơ trực tuyến", "Accepting the online dossier"},
	"step.forwarding":                             {"Chuyển hồ sơ giấy đến cơ quan giải quyết", "Forwarding the paper originals"},
	"indicator.publication":                       {"Công khai, minh bạch (công bố, công khai thủ tục, tiến độ, kết quả trên Cổng Dịch vụ công)", "Publicity and transparency (procedures, progress and results published on the public service portal)"},
	"indicator.digitisation_reuse":                {"Tái sử dụng dữ liệu từ cơ sở dữ liệu quốc gia; tài khoản xác thực VNeID", "Reuse from national databases; VNeID-verified accounts"},
	"indicator.online_service_level":              {"Cung cấp dịch vụ công trực tuyến toàn trình / một phần; thủ tục có thanh toán trực tuyến", "Full or partial online public services; procedures with online payment"},
	"indicator.complaint_rate":                    {"Tỷ lệ hồ sơ có phản ánh, kiến nghị", "Share of dossiers with complaints or petitions"},
	"note.refused":                                {"Từ chối tiếp nhận", "Reception refused"},
	"note.part_completed":                         {"Hoàn thành phần việc: %s", "Part completed: %s"},
	"note.agency_succeeded":                       {"Chuyển cho cơ quan kế thừa: %s", "Handed to the successor agency: %s"},
	"note.boundary_free":                          {"Tiếp nhận không phụ thuộc địa giới hành chính; trả kết quả tại %s", "Received regardless of boundary; result collected at %s"},
	"note.more_result":                            {"Có thêm kết quả", "A further result"},
	"note.rejected":                               {"Từ chối giải quyết", "Rejected"},
	"note.withdrawn":                              {"Rút hồ sơ", "Withdrawn"},
	"note.supplement_requested":                   {"Yêu cầu bổ sung lần %s", "Supplement requested (round %s)"},
	"note.supplemented":                           {"Đã bổ sung hồ sơ", "Dossier supplemented"},
	"note.suspended":                              {"Tạm dừng xử lý", "Processing suspended"},
	"note.resumed":                                {"Tiếp tục xử lý", "Processing resumed"},
	"note.apology":                                {"Xin lỗi và hẹn lại ngày trả kết quả", "Apology and new appointment date"},
	"note.appraised":                              {"Thẩm định", "Appraised"},
	"note.signed":                                 {"Ký số", "Digitally signed"},
	"note.new_appointment":                        {"Hẹn lại ngày trả kết quả: %s", "New appointment date: %s"},
	"role.applicant":                              {"Người nộp hồ sơ", "Applicant"},
	"level.very_satisfied":                        {"Rất hài lòng", "Very satisfied"},
	"level.satisfied":                             {"Hài lòng", "Satisfied"},
	"level.dissatisfied":                          {"Không hài lòng", "Dissatisfied"},
	"grade.excellent":                             {"Xuất sắc", "Excellent"},
	"grade.good":                                  {"Tốt", "Good"},
	"grade.fair":                                  {"Khá", "Fair"},
	"grade.average":                               {"Trung bình", "Average"},
	"grade.weak":                                  {"Yếu", "Weak"},
	"site.name":                                   {"Hệ thống một cửa điện tử", "One-stop dossier service"},
	"site.footer":                                 {"Dữ liệu một cửa điện tử là nguồn duy nhất để thống kê hồ sơ đúng hạn, trễ hạn.", "The one-stop data is the sole source of on-time and late statistics."},
	"nav.skip":                                    {"Bỏ qua, đến nội dung chính", "Skip to main content"},
	"nav.label":                                   {"Điều hướng chính", "Main navigation"},
	"nav.lookup":                                  {"Tra cứu hồ sơ", "Look up a dossier"},
	"nav.queue":                                   {"Hồ sơ cần xử lý", "Work queue"},
	"nav.receive":                                 {"Tiếp nhận hồ sơ", "Receive a dossier"},
	"nav.dashboards":                              {"Thống kê", "Dashboards"},
	"nav.signin":                                  {"Cán bộ đăng nhập", "Officials' sign-in"},
	"nav.signout":                                 {"Đăng xuất", "Sign out"},
	"nav.other_lang":                              {"English", "Tiếng Việt"},

	"error.back":         {"Về trang tra cứu", "Back to the lookup page"},
	"error.internal":     {"Lỗi hệ thống, vui lòng thử lại sau.", "Something went wrong on our side; please try again later."},
	"error.unavailable":  {"Hệ thống tạm thời gián đoạn. Vui lòng thử lại sau giây lát.", "The service is briefly unavailable. Please try again in a moment."},
	"error.rate_limited": {"Quá nhiều yêu cầu từ địa chỉ của bạn. Vui lòng thử lại sau ít phút.", "Too many requests from your address. Please try again in a minute."},
	"error.bad_form":     {"Biểu mẫu gửi lên không đọc được.", "The form could not be read."},
	"error.not_found":    {"Không tìm thấy trang này.", "There is no such page."},
	"error.bad_link":     {"Liên kết không hợp lệ (trang tiếp theo của một danh sách khác?).", "This link is not valid (another list's next page?)."},
	"error.bad_page":     {"Tham số phân trang, bộ lọc không hợp lệ.", "A page or filter parameter is not valid."},
	"error.forbidden":    {"Bạn không có quyền xem hồ sơ này.", "You may not see this dossier."},
	"error.csrf":         {"Biểu mẫu đã hết hạn. Vui lòng tải lại trang và thử lại.", "The form has expired. Please reload the page and try again."},
	"error.no_agency": {"Tài khoản của bạn chưa được gắn với cơ quan nào nên không xem được hồ sơ, số liệu. Vui lòng liên hệ quản trị hệ thống.",
		"Your account belongs to no agency, so it may see no dossiers or figures. Please ask the system administrator."},
	"error.own_agency_only": {"Bạn chỉ xem được hồ sơ, số liệu của cơ quan mình.", "You may see your own agency's dossiers and figures only."},

	"badge.late":    {"Quá hạn", "Late"},
	"badge.early":   {"Trước hạn", "Early"},
	"badge.on_time": {"Đúng hạn", "On time"},
	"badge.within":  {"Trong hạn", "Within time"},
	"badge.paused":  {"Tạm dừng tính giờ", "Clock paused"},

	"lookup.title":          {"Tra cứu hồ sơ", "Look up a dossier"},
	"lookup.code_label":     {"Mã hồ sơ", "Dossier code"},
	"lookup.code_hint":      {"In trên giấy tiếp nhận và hẹn trả kết quả, ví dụ 000.00.00.H56-260302-0001.", "Printed on your receipt, e.g. 000.00.00.H56-260302-0001."},
	"lookup.submit":         {"Tra cứu", "Look up"},
	"lookup.malformed":      {"Mã hồ sơ không đúng định dạng. Mã có dạng <mã cơ quan>-<YYMMDD>-<số thứ tự>, ví dụ 000.00.00.H56-260302-0001.", "That is not a dossier code. A code looks like <agency>-<YYMMDD>-<number>, e.g. 000.00.00.H56-260302-0001."},
	"lookup.wrong_secret":   {"Mã bí mật không khớp với giấy tiếp nhận của hồ sơ này; chỉ hiển thị tiến độ.", "The secret does not match this dossier's receipt; only its progress is shown."},
	"lookup.unknown":        {"Không tìm thấy hồ sơ có mã này. Vui lòng kiểm tra lại mã trên giấy tiếp nhận.", "No dossier has this code. Please check the code on your receipt."},
	"lookup.dossier":        {"Hồ sơ", "Dossier"},
	"lookup.portal_status":  {"Mã trạng thái Cổng DVC:", "National portal status:"},
	"lookup.procedure":      {"Thủ tục", "Procedure"},
	"lookup.field":          {"Lĩnh vực", "Field"},
	"lookup.applicant":      {"Người nộp", "Applicant"},
	"lookup.receiving":      {"Nơi tiếp nhận", "Received by"},
	"lookup.competent":      {"Cơ quan giải quyết", "Competent agency"},
	"lookup.channel":        {"Hình thức nộp", "Channel"},
	"lookup.received_at":    {"Ngày tiếp nhận", "Received"},
	"lookup.appointment":    {"Ngày hẹn trả kết quả", "Appointment date"},
	"lookup.apology_issued": {"đã hẹn lại do chậm", "rescheduled after an apology"},
	"lookup.finished_at":    {"Ngày có kết quả", "Result ready"},
	"lookup.returned_at":    {"Ngày trả kết quả", "Result returned"},
	"lookup.current_step":   {"Bước đang xử lý", "Current step"},
	"lookup.timeline":       {"Quá trình xử lý", "Progress"},
	"lookup.privacy":        {"Trang tra cứu công khai chỉ cho biết tiến độ giải quyết; không hiển thị thông tin cá nhân của người nộp.", "The public lookup shows only how far processing has gone; the applicant's personal data is never shown."},
	"lookup.pay_online":     {"Thanh toán trực tuyến", "Pay online"},
	"lookup.live":           {"Trang tự cập nhật khi hồ sơ thay đổi.", "This page updates itself when the dossier changes."},

	"rating.title":     {"Đánh giá việc giải quyết thủ tục hành chính", "Rate how your dossier was handled"},
	"rating.intro":     {"Mỗi tiêu chí chọn một mức. Mã bí mật in trên giấy tiếp nhận xác nhận bạn là người nộp hồ sơ.", "Choose one level for each criterion. The secret printed on your receipt proves you filed the dossier."},
	"rating.comment":   {"Góp ý (không bắt buộc)", "Comment (optional)"},
	"rating.submit":    {"Gửi đánh giá", "Send rating"},
	"rating.thanks":    {"Cảm ơn bạn đã đánh giá. Đánh giá đã được ghi nhận.", "Thank you: your rating is recorded."},
	"rating.not_ready": {"Bạn có thể đánh giá sau khi nhận kết quả.", "You can rate once you have received the result."},

	"criterion.total_time":          {"Tổng thời gian giải quyết so với quy định", "Total time compared with the legal limit"},
	"criterion.unit_time":           {"Thời gian của từng cơ quan, đơn vị so với quy định", "Each unit's time compared with its share"},
	"criterion.contacts":            {"Số lần phải liên hệ để hoàn thiện hồ sơ", "How many times you had to come back"},
	"criterion.bodies_contacted":    {"Số cơ quan, đơn vị phải liên hệ", "How many bodies you dealt with"},
	"criterion.one_stop_handling":   {"Thực hiện trọn vẹn qua bộ phận một cửa", "Handled end to end at the one-stop desk"},
	"criterion.procedure_publicity": {"Công khai thủ tục hành chính", "The procedure was publicly posted"},
	"criterion.staff_attitude":      {"Thái độ của cán bộ, công chức", "Staff attitude"},
	"criterion.complaint_handling":  {"Tiếp thu, giải trình ý kiến, kiến nghị", "How feedback and complaints were handled"},
	"criterion.online_service":      {"Cung cấp dịch vụ công trực tuyến", "Online service"},

	"result.title":             {"Xác thực kết quả giải quyết", "Verify a result"},
	"result.malformed":         {"Mã kết quả không đúng định dạng <mã hồ sơ>-KQ<số>.", "That is not a result code (<dossier code>-KQ<n>)."},
	"result.unknown":           {"Không tìm thấy kết quả có mã này.", "No result has this code."},
	"result.dossier":           {"Hồ sơ", "Dossier"},
	"result.document_number":   {"Số văn bản", "Document number"},
	"result.signed_by":         {"Người ký", "Signed by"},
	"result.signed_at":         {"Thời điểm ký", "Signed at"},
	"result.ready_at":          {"Ngày có kết quả", "Result ready"},
	"result.hash":              {"Mã băm SHA-256 của văn bản đã ký", "SHA-256 of the signed document"},
	"result.genuine":           {"Văn bản bạn xuất trình là văn bản đã được ký, chữ ký số của cơ quan hợp lệ và lịch sử hồ sơ toàn vẹn.", "The document you presented is the signed one, the agency's signature verifies and the dossier's history is intact."},
	"result.signature":         {"Chữ ký số của cơ quan", "Agency's signature"},
	"result.signature_valid":   {"Hợp lệ", "Valid"},
	"result.signature_invalid": {"Không hợp lệ", "Invalid"},
	"result.signature_none":    {"Không có chữ ký số của cơ quan", "No agency signature recorded"},
	"result.history":           {"Lịch sử hồ sơ", "Dossier history"},
	"result.history_intact":    {"Toàn vẹn", "Intact"},
	"result.history_altered":   {"Đã bị thay đổi", "Altered"},
	"result.matches":           {"Văn bản bạn xuất trình đúng là văn bản đã được ký.", "The document you presented is the one that was signed."},
	"result.differs":           {"Văn bản bạn xuất trình KHÔNG khớp với văn bản đã được ký.", "The document you presented does NOT match the signed one."},
	"result.file_label":        {"Chọn tệp văn bản để kiểm tra", "Choose the document file to check"},
	"result.file_hint":         {"Trình duyệt băm tệp ngay trên máy của bạn khi có thể; nếu không, tệp được gửi lên để băm và không được lưu lại.", "Your browser hashes the file on your device when it can; otherwise the file is sent to be hashed and is not kept."},
	"result.verify_file":       {"Kiểm tra tệp", "Check the file"},
	"result.presented_file":    {"Mã băm SHA-256 của tệp bạn gửi:", "SHA-256 of the file you sent:"},
	"result.hash_label":        {"Hoặc dán mã SHA-256 của văn bản", "Or paste the document's SHA-256"},
	"result.verify":            {"Kiểm tra", "Check"},

	"role.reception":  {"Tiếp nhận, trả kết quả", "Reception"},
	"role.specialist": {"Chuyên viên", "Specialist"},
	"role.head":       {"Trưởng phòng", "Department head"},
	"role.signer":     {"Lãnh đạo ký duyệt", "Signer"},
	"role.cashier":    {"Thu phí", "Cashier"},
	"role.inspector":  {"Thanh tra", "Inspector"},
	"role.admin":      {"Quản trị", "Administrator"},

	"action.receive":               {"Tiếp nhận", "Receive"},
	"action.refuse":                {"Từ chối tiếp nhận", "Refuse reception"},
	"action.supplement-request":    {"Yêu cầu bổ sung", "Request a supplement"},
	"action.supplement":            {"Nhận hồ sơ bổ sung", "Record the supplement"},
	"action.transfer":              {"Chuyển xử lý", "Transfer"},
	"action.inter-agency-transfer": {"Chuyển liên thông", "Send to another agency"},
	"action.appraise":              {"Thẩm định", "Appraise"},
	"action.sign":                  {"Ký duyệt", "Sign"},
	"action.fee":                   {"Xác định phí, lệ phí", "Assess fees"},
	"action.payment":               {"Thu phí, lệ phí", "Record a payment"},
	"action.result":                {"Có kết quả", "Result ready"},
	"action.return":                {"Trả kết quả", "Return the result"},
	"action.apology":               {"Xin lỗi, hẹn lại", "Apologise and reschedule"},
	"action.suspend":               {"Tạm dừng", "Suspend"},
	"action.resume":                {"Tiếp tục xử lý", "Resume"},
	"action.withdraw":              {"Rút hồ sơ", "Withdraw"},
	"action.reject":                {"Từ chối giải quyết", "Reject"},
	"action.submit":                {"Nộp trực tuyến", "Submit online"},
	"action.rate":                  {"Đánh giá", "Rate"},
	"action.complete-part":         {"Hoàn thành phần việc phối hợp", "Complete a part"},
	"action.documents":             {"Đính kèm tệp", "Attach a file"},
	"action.agency-succession":     {"Chuyển cho cơ quan kế thừa", "Hand over to the successor agency"},
	"action.originals-arrived":     {"Xác nhận đã nhận hồ sơ giấy", "Confirm the paper originals arrived"},
	"action.done":                  {"Đã thực hiện: %s.", "Done: %s."},
	"signin.title":                 {"Cán bộ đăng nhập", "Officials' sign-in"},
	"signin.provider_intro":        {"Đăng nhập một lần bằng tài khoản công vụ của tỉnh.", "Single sign-on with the province's official account."},
	"signin.provider":              {"Đăng nhập qua cổng định danh của tỉnh", "Sign in through the province's identity provider"},
	"signin.provider_refused":      {"Cổng định danh không xác nhận được việc đăng nhập (hoặc tài khoản chưa được cấp vai trò, cơ quan trong motcua). Vui lòng thử lại.", "The identity provider's answer was refused (or the account has no motcua role or agency). Please try again."},
	"signin.login":                 {"Tên đăng nhập", "Login"},
	"signin.password":              {"Mật khẩu", "Password"},
	"signin.wrong_password":        {"Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khoá.", "Wrong login or password, or the account is disabled."},
	"signin.locked":                {"Đăng nhập sai quá nhiều lần từ địa chỉ này hoặc với tài khoản này. Vui lòng thử lại sau 15 phút.", "Too many failed sign-ins from this address or for this account. Please try again in 15 minutes."},
	"signin.token_summary":         {"Đăng nhập bằng mã truy cập API (quản trị hệ thống)", "Sign in with an API bearer token (administrators)"},
	"signin.token":                 {"Mã truy cập (bearer token)", "Bearer token"},
	"signin.token_hint":            {"Mã do lệnh motcua token cấp. Trình duyệt chỉ giữ một mã phiên ngẫu nhiên, không giữ mã truy cập.", "A token minted with motcua token. The browser keeps only a random session token, never the bearer token."},
	"signin.submit":                {"Đăng nhập", "Sign in"},
	"signin.invalid":               {"Mã đăng nhập không hợp lệ hoặc đã hết hạn.", "That token is invalid or has expired."},
	"signin.none":                  {"Chưa cấu hình cách đăng nhập nào cho cán bộ.", "No way for officials to sign in is configured."},
	"signout.title":                {"Đã đăng xuất", "Signed out"},
	"signout.provider":             {"Bạn đã đăng xuất khỏi motcua. Đang chuyển sang cổng định danh của tỉnh để kết thúc cả phiên đăng nhập ở đó.", "You are signed out of motcua. Going on to the province's identity provider to end the session there too."},
	"signout.continue":             {"Đăng xuất khỏi cổng định danh", "Sign out of the identity provider"},

	"queue.title":             {"Hồ sơ cần xử lý", "Work queue"},
	"queue.filters":           {"Lọc hồ sơ", "Filter the queue"},
	"queue.scope":             {"Phạm vi", "Scope"},
	"queue.scope_agency":      {"Của cơ quan, đơn vị tôi", "My agency and department"},
	"queue.scope_mine":        {"Được giao cho tôi", "Assigned to me"},
	"queue.unit":              {"Phòng, ban", "Department"},
	"queue.all_units":         {"Tất cả phòng, ban", "Every department"},
	"queue.apply":             {"Xem", "Show"},
	"queue.summary":           {"%d hồ sơ, trong đó %d quá hạn. Hồ sơ quá hạn xếp trước, sau đó theo số giờ làm việc còn lại; hồ sơ tạm dừng tính giờ xếp cuối.", "%d dossiers, %d of them overdue. Overdue first, then by working hours left; paused ones last."},
	"queue.summary_more":      {"Hơn %d hồ sơ, trong đó %d quá hạn. Hồ sơ quá hạn xếp trước, sau đó theo số giờ làm việc còn lại; hồ sơ tạm dừng tính giờ xếp cuối.", "More than %d dossiers, %d of them overdue. Overdue first, then by working hours left; paused ones last."},
	"queue.scope_involved":    {"Cơ quan tôi có tham gia", "My agency takes part in"},
	"queue.status_any":        {"Mọi trạng thái", "Any status"},
	"queue.due_within":        {"Đến hạn trong (ngày làm việc)", "Due within (working days)"},
	"queue.next":              {"Trang sau", "Next page"},
	"queue.first":             {"Trang đầu", "First page"},
	"queue.pages":             {"Các trang của danh sách", "Pages of the list"},
	"queue.by_agency":         {"Hồ sơ đang chờ xử lý theo cơ quan", "Dossiers waiting, by agency"},
	"queue.by_agency_note":    {"%d hồ sơ đang chờ xử lý, %d quá hạn. Chọn một cơ quan để xem danh sách hồ sơ.", "%d dossiers waiting, %d overdue. Choose an agency to see its queue."},
	"queue.open":              {"Đang chờ", "Waiting"},
	"queue.overdue":           {"Quá hạn", "Overdue"},
	"queue.due_soon":          {"Sắp đến hạn (%d ngày làm việc)", "Due within %d working days"},
	"queue.paused":            {"Tạm dừng tính giờ", "Clock paused"},
	"queue.waiting_applicant": {"Chờ người nộp bổ sung", "Waiting for the applicant"},
	"queue.code":              {"Mã hồ sơ", "Code"},
	"queue.no_code":           {"(chưa cấp mã)", "(no code yet)"},
	"queue.status":            {"Trạng thái", "Status"},
	"queue.holder":            {"Đang ở", "Held by"},
	"queue.more_files":        {"và %d tệp khác", "and %d more files"},
	"queue.mine":              {"của tôi", "mine"},
	// Deadline alarms shown on the work queue (timers.Kind codes; docs/timers.md).
	"alarm.acceptance_overdue":    {"Quá hạn tiếp nhận trực tuyến", "Online acceptance overdue"},
	"alarm.step_due":              {"Bước sắp đến hạn", "Step due soon"},
	"alarm.apology_due":           {"Hạn cuối gửi thư xin lỗi", "Last day to apologise"},
	"alarm.supplement_unanswered": {"Chưa bổ sung hồ sơ", "Supplement unanswered"},
	"alarm.armed":                 {"Hẹn báo lúc %s", "Alert at %s"},
	"alarm.fired":                 {"Đã báo lúc %s", "Alerted at %s"},
	// The alarms' e-mails in the admins' page of deliveries (destination alarm-email).
	"destination.alarm-email":            {"Thư điện tử báo hạn cho cán bộ", "Deadline e-mail to officials"},
	"notification.acceptance_overdue":    {"Quá hạn tiếp nhận trực tuyến", "Online acceptance overdue"},
	"notification.step_due":              {"Bước sắp đến hạn", "Step due soon"},
	"notification.apology_due":           {"Hạn cuối gửi thư xin lỗi", "Last day to apologise"},
	"notification.supplement_unanswered": {"Chưa bổ sung hồ sơ", "Supplement unanswered"},
	"queue.due":                          {"Hạn", "Due"},
	"queue.due_acceptance":               {"Hạn tiếp nhận", "Acceptance due"},
	"queue.due_step":                     {"Hạn của bước", "Step due"},
	"queue.due_appointment":              {"Ngày hẹn trả", "Appointment"},
	"queue.remaining":                    {"Giờ làm việc còn lại", "Working hours left"},
	"queue.your_actions":                 {"Bạn có thể", "You can"},
	"queue.empty":                        {"Không có hồ sơ nào đang chờ.", "Nothing is waiting."},

	"receive.title":          {"Tiếp nhận hồ sơ", "Receive a dossier"},
	"receive.applicant_type": {"Đối tượng", "Applicant type"},
	"receive.citizen":        {"Cá nhân", "Citizen"},
	"receive.organization":   {"Tổ chức", "Organisation"},
	"receive.name":           {"Họ tên / tên tổ chức", "Name"},
	"receive.id_number":      {"Số CCCD / mã số thuế", "Citizen ID / tax code"},
	"receive.id_hint":        {"9 đến 13 chữ số.", "9 to 13 digits."},
	"receive.phone":          {"Điện thoại", "Phone"},
	"receive.email":          {"Thư điện tử", "E-mail"},
	"receive.address":        {"Địa chỉ", "Address"},
	"receive.notify":         {"Nhận thông báo qua", "Notify by"},
	"receive.notify_hint":    {"Để trống: thư điện tử nếu có địa chỉ, tin nhắn SMS nếu có số điện thoại.", "Leave empty for e-mail if an address is given, SMS if a phone number is."},
	"receive.notify_email":   {"Thư điện tử", "E-mail"},
	"receive.notify_sms":     {"Tin nhắn SMS", "SMS"},
	"receive.notify_zalo":    {"Zalo", "Zalo"},
	"receive.notify_none":    {"Không nhận thông báo", "No notifications"},
	"receive.submit":         {"Tiếp nhận và in giấy hẹn", "Receive and print the receipt"},

	"dossier.title":         {"Hồ sơ", "Dossier"},
	"dossier.version":       {"phiên bản", "version"},
	"dossier.external_code": {"Mã hồ sơ trên Cổng DVCQG", "National portal dossier id"},
	"dossier.facts":         {"Thông tin hồ sơ", "Dossier"},
	"dossier.working_days":  {"ngày làm việc", "working days"},
	"dossier.working_hours": {"giờ làm việc", "working hours"},
	"dossier.same_day":      {"trong ngày", "within the day"},
	"dossier.applicant":     {"Người nộp hồ sơ", "Applicant"},
	"dossier.submitted_at":  {"Ngày nộp trực tuyến", "Submitted online"},
	"dossier.holder":        {"Đang xử lý tại", "Held by"},
	"dossier.step_deadline": {"hạn của bước:", "step due:"},
	"dossier.fees":          {"Phí, lệ phí", "Fees"},
	"dossier.paid":          {"đã nộp", "paid"},
	"dossier.reason":        {"Lý do", "Reason"},
	"dossier.documents":     {"Thành phần hồ sơ", "Documents"},
	"dossier.missing":       {"Giấy tờ cần bổ sung", "Missing documents"},
	"dossier.results":       {"Kết quả", "Results"},
	"dossier.files":         {"Tệp đính kèm", "Files"},
	"dossier.file_scanned":  {"số hóa tại bộ phận một cửa", "scanned at the desk"},
	"dossier.file_reused":   {"tái sử dụng", "reused"},
	"dossier.file_preview":  {"Xem trước", "Preview"},
	"dossier.print":         {"Biểu mẫu và tra soát", "Forms and records"},
	"dossier.public_view":   {"Trang tra cứu công khai", "Public lookup page"},
	"dossier.actions":       {"Việc bạn có thể làm", "What you can do now"},
	"dossier.no_actions":    {"Vai trò của bạn không có thao tác nào ở trạng thái này.", "Your roles have nothing to do in this status."},
	"dossier.timeline":      {"Quá trình xử lý", "Timeline"},

	"form.reason":                   {"Lý do", "Reason"},
	"form.missing_items":            {"Giấy tờ cần bổ sung", "Missing documents"},
	"form.one_per_line":             {"Mỗi dòng một giấy tờ; liệt kê đầy đủ một lần.", "One per line; list everything missing at once."},
	"form.components":               {"Thành phần hồ sơ", "Documents"},
	"form.components_hint":          {"Mỗi dòng một giấy tờ, dạng \"Tên giấy tờ | số bản\".", "One per line, as \"document name | copies\"."},
	"form.step":                     {"Bước xử lý", "Step"},
	"form.to_unit":                  {"Chuyển đến đơn vị", "To unit"},
	"form.unit_of_step":             {"Đơn vị của bước theo quy trình", "The step's unit in the workflow"},
	"form.to_official_id":           {"Mã cán bộ được giao (không bắt buộc)", "Assigned official's id (optional)"},
	"form.to_official_name":         {"Tên cán bộ được giao (không bắt buộc)", "Assigned official's name (optional)"},
	"form.allotted_hours":           {"Số giờ làm việc được giao", "Allotted working hours"},
	"form.allotted_hint":            {"Để trống để dùng thời gian của bước trong quy trình.", "Leave empty for the workflow step's time."},
	"form.note":                     {"Ghi chú", "Note"},
	"form.to_agency":                {"Cơ quan phối hợp", "Agency"},
	"form.purpose":                  {"Nội dung phối hợp", "Purpose"},
	"form.conclusion":               {"Đề xuất", "Proposal"},
	"form.approve":                  {"Đủ điều kiện giải quyết", "Eligible: approve"},
	"form.propose_reject":           {"Không đủ điều kiện, đề nghị từ chối", "Not eligible: propose rejection"},
	"form.part":                     {"Phần việc", "Part"},
	"form.opinion_part":             {"Ý kiến, kết quả phần việc", "Opinion or outcome of the part"},
	"form.opinion":                  {"Ý kiến thẩm định", "Appraisal opinion"},
	"form.document_number":          {"Số, ký hiệu văn bản", "Document number"},
	"form.signer_title":             {"Chức danh người ký", "Signer's title"},
	"form.document":                 {"Tệp văn bản đã ký", "Signed document file"},
	"form.document_hint":            {"Hệ thống chỉ lưu mã băm SHA-256 của tệp.", "Only the file's SHA-256 is recorded."},
	"form.document_hash":            {"Hoặc mã băm SHA-256 của văn bản", "Or the document's SHA-256"},
	"form.result_file":              {"Tệp kết quả (văn bản đã ký)", "The result's file (the signed document)"},
	"form.result_file_hint":         {"PDF, JPEG hoặc PNG. Tệp phải đúng là văn bản người ký đã ký (cùng mã băm SHA-256), nếu không sẽ bị từ chối. Để trống nếu chỉ ghi nhận có kết quả.", "PDF, JPEG or PNG. It must be the very document the signer signed (the same SHA-256), or it is refused. Leave empty to record the result without its file."},
	"form.attach_hint":              {"Tệp quét thành phần hồ sơ giấy được ghi nhận là số hóa tại bộ phận một cửa.", "A scan of a paper component is recorded as digitised at the desk."},
	"form.component":                {"Thành phần hồ sơ", "Component"},
	"form.origin":                   {"Nguồn của tệp", "Where the file comes from"},
	"form.origin_desk_scan":         {"Quét bản giấy tại bộ phận một cửa", "Scanned from paper at the desk"},
	"form.origin_national_database": {"Lấy từ cơ sở dữ liệu quốc gia", "Taken from a national database"},
	"form.file":                     {"Tệp", "File"},
	"form.file_hint":                {"PDF, JPEG hoặc PNG; loại tệp xét theo nội dung, không theo tên.", "PDF, JPEG or PNG; the content decides the type, not the name."},
	"form.result_hint":              {"Kết quả đầu tiên mặc định là văn bản đã ký.", "The first result defaults to the signed document."},
	"form.fee_hint":                 {"Áp dụng phí, lệ phí của thủ tục theo danh mục:", "The procedure's fees in the catalog apply:"},
	"form.amount":                   {"Số tiền (đồng)", "Amount (đồng)"},
	"form.payment_channel":          {"Hình thức nộp", "Paid by"},
	"form.receipt_number":           {"Số biên lai", "Receipt number"},
	"form.return_channel":           {"Hình thức trả kết quả", "Returned"},
	"form.extra_days":               {"Gia hạn thêm (ngày làm việc)", "Extra working days"},
	"form.new_date":                 {"Hoặc ngày hẹn mới", "Or the new appointment date"},

	"payment.cash":          {"Tiền mặt", "Cash"},
	"payment.bank_transfer": {"Chuyển khoản", "Bank transfer"},
	"payment.online":        {"Thanh toán trực tuyến", "Online payment"},

	"print.print":                    {"In", "Print"},
	"print.pdf":                      {"Tải PDF", "Download PDF"},
	"print.attach_scans":             {"Đính kèm bản quét thành phần hồ sơ", "Attach the scanned components"},
	"print.back":                     {"Quay lại hồ sơ", "Back to the dossier"},
	"print.one_stop":                 {"Bộ phận tiếp nhận và trả kết quả", "One-stop desk"},
	"print.not_applicable":           {"Hồ sơ này không có biểu mẫu đó.", "This dossier has no such form."},
	"print.form_01":                  {"Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "Receipt and appointment"},
	"print.form_02":                  {"Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", "Request to complete the dossier"},
	"print.form_03":                  {"Phiếu từ chối tiếp nhận giải quyết hồ sơ", "Refusal to receive the dossier"},
	"print.form_03_rejected":         {"Thông báo từ chối giải quyết hồ sơ", "Notice of rejection"},
	"print.form_04":                  {"Phiếu xin lỗi và hẹn lại ngày trả kết quả", "Apology and new appointment date"},
	"print.form_phieu-kiem-soat":     {"Phiếu kiểm soát quá trình giải quyết hồ sơ", "Process-control sheet"},
	"print.template_01":              {"Mẫu số 01 — Thông tư 01/2018/TT-VPCP", "Form 01 — Circular 01/2018/TT-VPCP"},
	"print.template_02":              {"Mẫu số 02 — Thông tư 01/2018/TT-VPCP", "Form 02 — Circular 01/2018/TT-VPCP"},
	"print.template_03":              {"Mẫu số 03 — Thông tư 01/2018/TT-VPCP", "Form 03 — Circular 01/2018/TT-VPCP"},
	"print.template_04":              {"Mẫu số 04 — Thông tư 01/2018/TT-VPCP", "Form 04 — Circular 01/2018/TT-VPCP"},
	"print.form_05":                  {"Thông báo dừng giải quyết hồ sơ", "Notice of stopping processing"},
	"print.template_05":              {"Mẫu số 05 — Thông tư 03/2025/TT-VPCP", "Form 05 — Circular 03/2025/TT-VPCP"},
	"print.stop_intro":               {"Cơ quan giải quyết thông báo dừng giải quyết hồ sơ đề nghị:", "We have stopped processing the dossier for:"},
	"print.stop_at":                  {"Dừng giải quyết từ", "Stopped since"},
	"print.stop_note":                {"Thời gian dừng không tính vào thời hạn giải quyết; cơ quan sẽ thông báo khi tiếp tục giải quyết hồ sơ.", "The time stopped does not count towards the deadline; you will be told when processing resumes."},
	"print.form_chuyen-doi":          {"Bản chuyển đổi kết quả điện tử sang văn bản giấy", "Paper copy of an electronic result"},
	"print.template_chuyen-doi":      {"Điều 16 Quyết định 27/2020/QĐ-UBND tỉnh Bình Định", "Art. 16, Decision 27/2020/QĐ-UBND of Bình Định"},
	"print.conversion_intro":         {"Văn bản này được chuyển đổi từ kết quả giải quyết thủ tục hành chính điện tử đã được ký số; quét mã QR để kiểm tra bản gốc.", "This paper copy was converted from the digitally signed electronic result; scan the QR code to check the original."},
	"print.result_code":              {"Mã kết quả:", "Result code:"},
	"print.verify_caption":           {"Quét để kiểm tra kết quả", "Scan to check the result"},
	"print.verify_at":                {"Kiểm tra tại", "Check it at"},
	"print.converted_at":             {"Thời điểm chuyển đổi", "Converted at"},
	"print.converted_by":             {"Người chuyển đổi", "Converted by"},
	"print.template_phieu-kiem-soat": {"Mẫu số 05 — Thông tư 01/2018/TT-VPCP (mẫu 06 Thông tư 03/2025/TT-VPCP)", "Form 05 — Circular 01/2018/TT-VPCP (form 06 of Circular 03/2025/TT-VPCP)"},
	"print.code":                     {"Mã hồ sơ:", "Dossier code:"},
	"print.qr_alt":                   {"Mã QR tra cứu hồ sơ", "QR code of the lookup page"},
	"print.qr_caption":               {"Quét để tra cứu", "Scan to look up"},
	"print.barcode_alt":              {"Mã vạch của hồ sơ", "Barcode of dossier"},
	"print.received_from":            {"đã tiếp nhận hồ sơ của:", "received the dossier of:"},
	"print.components":               {"Thành phần hồ sơ", "Documents received"},
	"print.copies":                   {"%d bản", "%d copies"},
	"print.count":                    {"Số lượng hồ sơ", "Number of documents"},
	"print.appointment":              {"Thời gian trả kết quả", "Result due"},
	"print.return_place":             {"Nơi trả kết quả", "Where to collect it"},
	"print.lookup_at":                {"Tra cứu tại", "Look it up at"},
	"print.secret":                   {"Mã bí mật để đánh giá:", "Secret for rating:"},
	"print.secret_hint":              {"Chỉ in một lần trên giấy này. Mã QR đã chứa mã bí mật; vui lòng giữ giấy hẹn cẩn thận.", "Printed only once, on this receipt. The QR code carries it; keep the receipt safe."},
	"print.applicant_sign":           {"Người nộp hồ sơ", "Applicant"},
	"print.official_sign":            {"Người tiếp nhận", "Official"},
	"print.head_sign":                {"Thủ trưởng cơ quan", "Head of agency"},
	"print.dear":                     {"Kính gửi:", "To:"},
	"print.supplement_intro":         {"Cơ quan tiếp nhận hồ sơ đề nghị:", "We have examined the dossier for:"},
	"print.supplement_list":          {"Hồ sơ cần bổ sung, hoàn thiện các nội dung sau:", "Please complete it with:"},
	"print.supplement_note":          {"Trong quá trình hoàn thiện hồ sơ nếu có vướng mắc, ông/bà liên hệ người tiếp nhận để được hướng dẫn.", "If anything is unclear, the official below will guide you."},
	"print.refusal_intro":            {"Cơ quan không tiếp nhận, giải quyết hồ sơ đề nghị:", "We cannot receive or resolve the dossier for:"},
	"print.apology_intro":            {"Ngày %[2]s, cơ quan đã tiếp nhận hồ sơ %[1]s đề nghị giải quyết thủ tục", "Dossier %[1]s, received %[2]s, for"},
	"print.apology_old":              {"Ngày hẹn trả kết quả đã ghi trên giấy tiếp nhận là", "The appointment date on your receipt was"},
	"print.apology_reason":           {"Tuy nhiên đến nay chưa giải quyết xong vì:", "It is not ready yet, because:"},
	"print.apology_sorry":            {"Cơ quan thành thật xin lỗi ông/bà về sự chậm trễ này và hẹn trả kết quả vào", "We sincerely apologise for the delay and will return the result by"},
	"print.coordinating":             {"Cơ quan phối hợp", "Coordinating agencies"},

	"sheet.no":        {"STT", "No."},
	"sheet.from":      {"Bên giao", "Handed by"},
	"sheet.to":        {"Bên nhận", "Received by"},
	"sheet.handed":    {"Thời gian giao nhận", "Handed at"},
	"sheet.deadline":  {"Hạn xử lý", "Due"},
	"sheet.ended":     {"Hoàn thành", "Finished"},
	"sheet.verdict":   {"Kết quả", "Verdict"},
	"sheet.ongoing":   {"Đang xử lý", "In progress"},
	"verdict.early":   {"Trước hạn", "Early"},
	"verdict.on_time": {"Đúng hạn", "On time"},
	"verdict.late":    {"Quá hạn", "Late"},

	"history.title":             {"Nhật ký sự kiện", "Event history"},
	"history.count":             {"%d sự kiện", "%d events"},
	"history.integrity":         {"Tính toàn vẹn", "Integrity"},
	"history.intact":            {"Lịch sử toàn vẹn", "History intact"},
	"history.altered":           {"Lịch sử đã bị thay đổi", "History altered"},
	"history.integrity_detail":  {"%d sự kiện trong chuỗi băm, %d sự kiện có điểm kiểm tra đã ký.", "%d events in the hash chain, %d covered by signed checkpoints."},
	"history.signature_result":  {"Chữ ký số trên kết quả", "Signature on the result"},
	"history.signature_receipt": {"Chữ ký số trên biên lai", "Signature on the payment receipt"},
	"history.as_of":             {"Trạng thái tại một thời điểm", "State as of a moment"},
	"history.moment":            {"Thời điểm", "Moment"},
	"history.show_state":        {"Xem trạng thái", "Show the state"},
	"history.bad_moment":        {"Thời điểm không đúng định dạng.", "That moment could not be read."},
	"history.as_of_result":      {"Trạng thái sau %d sự kiện đầu tiên:", "The state after the first %d events:"},
	"history.before_first":      {"Thời điểm này trước sự kiện đầu tiên của hồ sơ.", "That moment is before the dossier's first event."},
	"history.as_of_note":        {"Trạng thái được tính lại bằng cách áp dụng lần lượt các sự kiện xảy ra đến hết phút đã chọn (giờ Việt Nam).", "The state is folded from the events that occurred up to the end of the chosen minute (Vietnam time)."},
	"history.events":            {"Các sự kiện", "Events"},
	"history.occurred":          {"Xảy ra", "Occurred"},
	"history.recorded":          {"ghi nhận", "recorded"},
	"history.actor":             {"Người thực hiện", "Actor"},
	"history.role":              {"vai trò", "role"},
	"history.correlation":       {"Mã tương quan", "Correlation id"},
	"history.changes":           {"Thay đổi của hồ sơ", "What changed in the dossier"},
	"history.field":             {"Trường", "Field"},
	"history.before":            {"Trước", "Before"},
	"history.after":             {"Sau", "After"},
	"history.payload":           {"Nội dung sự kiện (JSON)", "Event payload (JSON)"},
	"history.time":              {"Thời gian", "Time"},
	"history.event":             {"Sự kiện", "Event"},
	"history.detail":            {"Chi tiết", "Detail"},

	"dossier.submitted.v1":                {"Nộp trực tuyến", "Submitted online"},
	"dossier.received.v1":                 {"Tiếp nhận", "Received"},
	"dossier.reception_refused.v1":        {"Từ chối tiếp nhận", "Reception refused"},
	"dossier.supplement_requested.v1":     {"Yêu cầu bổ sung", "Supplement requested"},
	"dossier.supplemented.v1":             {"Đã bổ sung", "Supplemented"},
	"dossier.transferred.v1":              {"Chuyển xử lý", "Transferred"},
	"dossier.inter_agency_transferred.v1": {"Chuyển liên thông", "Sent to another agency"},
	"dossier.appraised.v1":                {"Thẩm định", "Appraised"},
	"dossier.signed.v1":                   {"Ký duyệt", "Signed"},
	"dossier.fee_assessed.v1":             {"Xác định phí, lệ phí", "Fees assessed"},
	"dossier.paid.v1":                     {"Nộp phí, lệ phí", "Paid"},
	"dossier.result_ready.v1":             {"Có kết quả", "Result ready"},
	"dossier.result_returned.v1":          {"Trả kết quả", "Result returned"},
	"dossier.apology_issued.v1":           {"Xin lỗi, hẹn lại", "Apology issued"},
	"dossier.suspended.v1":                {"Tạm dừng", "Suspended"},
	"dossier.resumed.v1":                  {"Tiếp tục xử lý", "Resumed"},
	"dossier.withdrawn.v1":                {"Rút hồ sơ", "Withdrawn"},
	"dossier.rejected.v1":                 {"Từ chối giải quyết", "Rejected"},
	"dossier.parallel_step_started.v1":    {"Bắt đầu bước phối hợp song song", "Parallel step started"},
	"dossier.part_completed.v1":           {"Hoàn thành phần việc phối hợp", "Part completed"},
	"dossier.document_attached.v1":        {"Đính kèm tệp", "File attached"},
	"dossier.agency_succeeded.v1":         {"Chuyển cho cơ quan kế thừa", "Handed to the successor agency"},
	"dossier.boundary_free_received.v1":   {"Tiếp nhận không phụ thuộc địa giới hành chính", "Received regardless of administrative boundary"},
	"dossier.originals_arrived.v1":        {"Hồ sơ giấy đã chuyển đến cơ quan giải quyết", "Paper originals reached the competent agency"},
	"dossier.rated.v1":                    {"Đánh giá", "Rated"},

	"dash.title":                   {"Thống kê, báo cáo", "Dashboards"},
	"dash.filters":                 {"Phạm vi thống kê", "Scope"},
	"dash.from":                    {"Từ ngày", "From"},
	"dash.to":                      {"Đến ngày", "To"},
	"dash.agency":                  {"Cơ quan", "Agency"},
	"dash.all_agencies":            {"Tất cả cơ quan", "Every agency"},
	"dash.csv":                     {"Tải CSV", "Download CSV"},
	"dash.xlsx":                    {"Tải Excel", "Download Excel"},
	"dash.none":                    {"Không có.", "None."},
	"dash.total":                   {"Tổng số", "Total"},
	"dash.month":                   {"Tháng", "Month"},
	"dash.resolved":                {"Đã giải quyết", "Resolved"},
	"dash.on_time":                 {"Trước hạn, đúng hạn", "Early or on time"},
	"dash.rate":                    {"Tỷ lệ đúng hạn", "On-time rate"},
	"dash.ratings":                 {"Lượt đánh giá", "Ratings"},
	"dash.average":                 {"Điểm trung bình", "Average score"},
	"dash.grade":                   {"Xếp loại", "Grade"},
	"dash.criterion":               {"Tiêu chí", "Criterion"},
	"dash.late.title":              {"Hồ sơ trễ hạn", "Late dossiers"},
	"dash.late.summary":            {"%d hồ sơ đang quá hạn, %d hồ sơ giải quyết quá hạn trong kỳ, %d hồ sơ sắp đến hạn, %d lần xin lỗi.", "%d open past their date, %d resolved late in the period, %d due soon, %d apologies."},
	"dash.late.by_unit":            {"Số giờ làm việc quá hạn theo đơn vị", "Working hours overrun by unit"},
	"dash.late.by_agency":          {"Số hồ sơ trễ hạn theo cơ quan", "Late dossiers by agency"},
	"dash.late.others_units":       {"Các đơn vị khác (%d)", "Other units (%d)"},
	"dash.late.no_overrun":         {"Không có bước nào quá hạn.", "No step overran."},
	"dash.late.open":               {"Đang quá hạn", "Open past the due date"},
	"dash.late.due":                {"Hạn giải quyết theo quy định", "Statutory due date"},
	"dash.late.resolved":           {"Đã giải quyết quá hạn", "Resolved late"},
	"dash.late.due_soon":           {"Sắp đến hạn (trong %d ngày làm việc)", "Due within %d working days"},
	"dash.late.apologies":          {"Văn bản xin lỗi", "Apologies"},
	"dash.late.hours":              {"Giờ quá hạn", "Hours late"},
	"dash.late.attribution":        {"Bước, đơn vị, cán bộ làm chậm", "Which step, unit and official overran"},
	"dash.late.waiting":            {"Đang chờ người nộp bổ sung hoặc tạm dừng", "Waiting for the applicant or suspended"},
	"dash.late.next":               {"Trang sau", "Next page"},
	"dash.late.measured":           {"Giờ làm việc tính theo lịch %s.", "Working hours measured with calendar %s."},
	"dash.ontime.title":            {"Tỷ lệ đúng hạn theo tháng", "On-time rate by month"},
	"dash.ontime.chart":            {"Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn", "Share of dossiers resolved early or on time"},
	"dash.ontime.note":             {"Tính từ báo cáo mẫu II.06a: hồ sơ có kết quả (hoặc từ chối) trong tháng, so với ngày hẹn có hiệu lực khi giải quyết.", "From report II.06a: dossiers resolved (or rejected) in the month, against the appointment date in force then."},
	"dash.satisfaction.title":      {"Mức độ hài lòng", "Satisfaction"},
	"dash.satisfaction.chart":      {"Điểm trung bình theo cơ quan (tối đa 18)", "Average score by agency (out of 18)"},
	"dash.satisfaction.summary":    {"%d lượt đánh giá, điểm trung bình %s/18", "%d ratings, average %s/18"},
	"dash.satisfaction.others":     {"Các đơn vị khác (%d)", "Others (%d)"},
	"dash.satisfaction.criteria":   {"Theo 9 tiêu chí của Thông tư 01/2018/TT-VPCP", "By the nine criteria of Circular 01/2018"},
	"dash.satisfaction.indicators": {"Chỉ số theo Quyết định 766/QĐ-TTg", "Indicators of Decision 766/QĐ-TTg"},
	"dash.ind.on_time":             {"Tiến độ giải quyết (đúng hạn)", "Processing progress (on time)"},
	"dash.ind.satisfaction":        {"Mức độ hài lòng trong giải quyết", "Satisfaction with handling"},
	"dash.ind.online":              {"Tỷ lệ hồ sơ trực tuyến", "Share of dossiers filed online"},
	"dash.ind.payment":             {"Tỷ lệ thanh toán trực tuyến", "Share of online payments"},
	"dash.ind.result_file":         {"4.1 Kết quả có tệp điện tử", "4.1 Results with their electronic file"},
	"dash.ind.all_files":           {"4.2 Thành phần và kết quả là tệp điện tử", "4.2 Components and result as files"},
	"dash.ind.digitised":           {"4.3 Hồ sơ được số hóa thành phần", "4.3 Dossiers with every component digitised"},
	"dash.ind.not_computed":        {"Chỉ số chưa tính được từ dữ liệu", "Indicators our data cannot compute"},
	"dash.report.title":            {"Báo cáo kết quả giải quyết", "Resolution report"},
	"dash.report.form":             {"Mẫu II.06a/VPCP/KSTT, theo lĩnh vực và thủ tục.", "Form II.06a/VPCP/KSTT, by field and procedure."},
	"dash.report.field":            {"Lĩnh vực, thủ tục", "Field, procedure"},
	"dash.report.received":         {"Số hồ sơ nhận giải quyết", "Received"},
	"dash.report.resolved":         {"Đã giải quyết", "Resolved"},
	"dash.report.in_progress":      {"Đang giải quyết", "In progress"},
	"dash.report.withdrawn":        {"Rút hồ sơ", "Withdrawn"},
	"dash.report.direct_postal":    {"Trực tiếp, bưu chính", "In person, postal"},
	"dash.report.carried":          {"Kỳ trước chuyển qua", "Carried over"},
}
