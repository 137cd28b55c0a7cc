package l10n

import (
	"maps"

	"github.com/motcua/motcua/domain"
)

// The catalog's words: its history's events and its pages (docs/catalog.md, "The catalog's history").

func init() { maps.Copy(messages, catalogMessages) }

var catalogMessages = map[string][2]string{
	domain.TypeCatalogImported:           {"Nhập danh mục thủ tục hành chính", "Catalog imported"},
	domain.TypeCatalogProcedurePublished: {"Công bố, sửa đổi thủ tục hành chính", "Procedure published or amended"},
	domain.TypeCatalogProcedureWithdrawn: {"Bãi bỏ thủ tục hành chính", "Procedure withdrawn"},
	domain.TypeCatalogAgencyPublished:    {"Công bố, sửa đổi cơ quan", "Agency published or amended"},
	domain.TypeCatalogAgencyWithdrawn:    {"Bãi bỏ cơ quan khỏi danh mục", "Agency withdrawn"},

	"nav.catalog":                  {"Danh mục thủ tục", "Procedure catalog"},
	"catalog.title":                {"Danh mục thủ tục hành chính", "Administrative procedure catalog"},
	"catalog.intro":                {"Danh mục thủ tục đang áp dụng vào ngày đã chọn, theo quyết định công bố của Chủ tịch UBND tỉnh. Hồ sơ giữ phí, quy trình và thành phần hồ sơ của phiên bản áp dụng khi tiếp nhận.", "The procedures in force on the chosen day, as published by the Chairman of the Provincial People's Committee. A dossier keeps the fees, workflow and documents of the version in force when it was received."},
	"catalog.at":                   {"Áp dụng vào ngày", "In force on"},
	"catalog.show":                 {"Xem", "Show"},
	"catalog.summary":              {"%d thủ tục — phiên bản danh mục %d", "%d procedures — catalog revision %d"},
	"catalog.code":                 {"Mã thủ tục", "Code"},
	"catalog.name":                 {"Tên thủ tục", "Name"},
	"catalog.fees":                 {"Phí, lệ phí", "Fees"},
	"catalog.version":              {"Phiên bản", "Version"},
	"catalog.revision":             {"Phiên bản %d", "Revision %d"},
	"catalog.in_force_from":        {"Áp dụng từ", "In force from"},
	"catalog.effective_from":       {"Ngày có hiệu lực", "Date of effect"},
	"catalog.always":               {"Từ khi khởi tạo", "Since the start"},
	"catalog.pages":                {"Các trang", "Pages"},
	"catalog.empty":                {"Không có thủ tục nào áp dụng vào ngày này.", "No procedure was in force on that day."},
	"catalog.history_title":        {"Lịch sử thủ tục %s", "History of procedure %s"},
	"catalog.history_intro":        {"Mỗi lần công bố, sửa đổi, bãi bỏ là một sự kiện không thể sửa, xoá: căn cứ pháp lý, ngày có hiệu lực, người ghi nhận và thời điểm.", "Every publication, amendment and withdrawal is an event that cannot be changed or deleted: its legal basis, date of effect, who recorded it and when."},
	"catalog.change":               {"Thay đổi", "Change"},
	"catalog.basis":                {"Căn cứ (quyết định công bố)", "Legal basis (publishing decision)"},
	"catalog.recorded":             {"Ghi nhận", "Recorded"},
	"catalog.withdrawn":            {"đã bãi bỏ", "withdrawn"},
	"catalog.amend":                {"Sửa đổi thủ tục", "Amend the procedure"},
	"catalog.withdraw":             {"Bãi bỏ thủ tục", "Withdraw the procedure"},
	"catalog.publish":              {"Công bố thủ tục mới", "Publish a new procedure"},
	"catalog.procedure_json":       {"Nội dung thủ tục (JSON, như tệp danh mục)", "The procedure (JSON, as in the catalog file)"},
	"catalog.bad_change":           {"Thay đổi không hợp lệ, chưa ghi nhận gì.", "The change is not valid; nothing was recorded."},
	"catalog.done_amended":         {"Đã ghi nhận sửa đổi.", "The amendment is recorded."},
	"catalog.done_published":       {"Đã ghi nhận công bố.", "The publication is recorded."},
	"catalog.done_withdrawn":       {"Đã ghi nhận bãi bỏ.", "The withdrawal is recorded."},
	"catalog.tab_procedures":       {"Thủ tục hành chính", "Procedures"},
	"catalog.tab_agencies":         {"Cơ quan, đơn vị", "Agencies"},
	"catalog.agencies_title":       {"Danh mục cơ quan, đơn vị", "Agencies and units"},
	"catalog.agencies_intro":       {"Các cơ quan, đơn vị tiếp nhận và giải quyết hồ sơ vào ngày đã chọn, theo quyết định của Chủ tịch UBND tỉnh. Hồ sơ, báo cáo và sổ theo dõi vẫn ghi tên cơ quan như lúc ghi nhận.", "The agencies and units that receive and decide dossiers on the chosen day, as decided by the Chairman of the Provincial People's Committee. Dossiers, reports and the register keep naming an agency as it was when recorded."},
	"catalog.agencies_summary":     {"%d cơ quan — phiên bản danh mục %d", "%d agencies — catalog revision %d"},
	"catalog.agencies_empty":       {"Không có cơ quan nào vào ngày này.", "No agency was in the catalog on that day."},
	"catalog.agency_code":          {"Mã cơ quan", "Agency code"},
	"catalog.agency_code_hint":     {"Mã định danh theo QCVN 102:2016/BTTTT, ví dụ 000.00.41.H56.", "The QCVN 102:2016/BTTTT identifier, e.g. 000.00.41.H56."},
	"catalog.agency_name":          {"Tên cơ quan", "Agency name"},
	"catalog.agency_content":       {"Nội dung", "Content"},
	"catalog.departments":          {"Phòng, ban", "Departments"},
	"catalog.departments_hint":     {"Mỗi dòng một phòng, ban: mã | tên, ví dụ P.KTHTĐT | Phòng Kinh tế, Hạ tầng và Đô thị.", "One department a line: code | name, e.g. P.KTHTĐT | Phòng Kinh tế, Hạ tầng và Đô thị."},
	"catalog.departments_count":    {"%d phòng, ban", "%d departments"},
	"catalog.territory":            {"Địa bàn tiếp nhận (trung tâm phục vụ hành chính công)", "Territory received for (one-stop centres)"},
	"catalog.territory_hint":       {"Mã các cơ quan mà trung tâm tiếp nhận trong địa giới hành chính, mỗi dòng một mã; để trống nếu tiếp nhận cho mọi cơ quan.", "The codes of the agencies the centre receives for within its boundary, one a line; empty when it receives for every agency."},
	"catalog.succession":           {"Cơ quan kế thừa (khi cơ quan chấm dứt hoạt động, sáp nhập)", "Successor (when the agency ceases to exist or merges)"},
	"catalog.succession_hint":      {"Để trống nếu cơ quan vẫn hoạt động. Từ ngày có hiệu lực, hồ sơ của cơ quan do cơ quan kế thừa giải quyết.", "Leave empty while the agency exists. From the date of effect, its procedures are decided by the successor."},
	"catalog.successor":            {"Mã cơ quan kế thừa", "Successor's code"},
	"catalog.successor_from":       {"Ngày kế thừa có hiệu lực", "Succession's date of effect"},
	"catalog.successor_basis":      {"Căn cứ kế thừa (nghị quyết, quyết định)", "Succession's basis (resolution, decision)"},
	"catalog.succeeded_by":         {"Kế thừa bởi %s từ %s", "Succeeded by %s from %s"},
	"catalog.agency_history_title": {"Lịch sử cơ quan %s", "History of agency %s"},
	"catalog.publish_agency":       {"Công bố cơ quan mới", "Publish a new agency"},
	"catalog.amend_agency":         {"Sửa đổi cơ quan", "Amend the agency"},
	"catalog.republish":            {"Công bố lại thủ tục", "Publish the procedure again"},
	"catalog.republish_agency":     {"Công bố lại cơ quan", "Publish the agency again"},
	"catalog.withdraw_agency":      {"Bãi bỏ cơ quan khỏi danh mục", "Withdraw the agency"},
}
