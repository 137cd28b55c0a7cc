package l10n

import "maps"

// The access log's words: the inspectors' page of who read whose data (docs/security.md).

// AccessList names a list of many dossiers recorded in the access log (register, work_queue).
func (l Lang) AccessList(list string) string { return l.code("access_list", list) }

func init() { maps.Copy(messages, accessLogMessages) }

var accessLogMessages = map[string][2]string{
	"access_list.register":   {"Sổ theo dõi hồ sơ", "Dossier register"},
	"access_list.work_queue": {"Danh sách hồ sơ cần xử lý", "Work queue"},

	"nav.access_log":       {"Nhật ký truy cập dữ liệu", "Data access log"},
	"access_log.title":     {"Nhật ký truy cập dữ liệu cá nhân", "Personal data access log"},
	"access_log.intro":     {"Mỗi lần cán bộ xem thông tin người nộp hồ sơ (trang hồ sơ, lịch sử, phiếu in, sổ theo dõi, danh sách cần xử lý) đều được ghi lại và không thể sửa, xoá (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).", "Every time an official is shown an applicant's data (dossier page, history, printed forms, register, work queue) it is recorded and cannot be changed or deleted (Law 91/2025/QH15 on personal data protection)."},
	"access_log.dossier":   {"Mã hồ sơ", "Dossier code"},
	"access_log.applicant": {"Số định danh người nộp", "Applicant's ID number"},
	"access_log.search":    {"Tra cứu", "Search"},
	"access_log.summary":   {"%d lượt truy cập", "%d reads"},
	"access_log.at":        {"Thời điểm", "When"},
	"access_log.official":  {"Cán bộ", "Official"},
	"access_log.agency":    {"Cơ quan", "Agency"},
	"access_log.what":      {"Dữ liệu đã xem", "What was read"},
	"access_log.route":     {"Đường dẫn", "Route"},
	"access_log.empty":     {"Chưa có lượt truy cập nào.", "No reads recorded."},
	"access_log.next":      {"Trang sau", "Next page"},
	"access_log.first":     {"Trang đầu", "First page"},
	"access_log.pages":     {"Các trang", "Pages"},
	"access_log.forbidden": {"Chỉ thanh tra (và cán bộ bảo vệ dữ liệu cá nhân) được xem nhật ký truy cập.", "Only inspectors (and the data-protection officer) may see the access log."},
}
