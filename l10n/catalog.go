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

	"nav.catalog":            {"Danh mục thủ tục", "Procedure catalog"},
	"catalog.title":          {"Danh mục thủ tục hành chính", "Administrative procedure catalog"},
	"catalog.intro":          {"Danh mục thủ tục đang áp dụng vào ngày đã chọn, theo quyết định công bố của Chủ tịch UBND tỉnh. Hồ sơ giữ phí, quy trình và thành phần hồ sơ của phiên bản áp dụng khi tiếp nhận.", "The procedures in force on the chosen day, as published by the Chairman of the Provincial People's Committee. A dossier keeps the fees, workflow and documents of the version in force when it was received."},
	"catalog.at":             {"Áp dụng vào ngày", "In force on"},
	"catalog.show":           {"Xem", "Show"},
	"catalog.summary":        {"%d thủ tục — phiên bản danh mục %d", "%d procedures — catalog revision %d"},
	"catalog.code":           {"Mã thủ tục", "Code"},
	"catalog.name":           {"Tên thủ tục", "Name"},
	"catalog.fees":           {"Phí, lệ phí", "Fees"},
	"catalog.version":        {"Phiên bản", "Version"},
	"catalog.revision":       {"Phiên bản %d", "Revision %d"},
	"catalog.in_force_from":  {"Áp dụng từ", "In force from"},
	"catalog.effective_from": {"Ngày có hiệu lực", "Date of effect"},
	"catalog.always":         {"Từ khi khởi tạo", "Since the start"},
	"catalog.pages":          {"Các trang", "Pages"},
	"catalog.empty":          {"Không có thủ tục nào áp dụng vào ngày này.", "No procedure was in force on that day."},
	"catalog.history_title":  {"Lịch sử thủ tục %s", "History of procedure %s"},
	"catalog.history_intro":  {"Mỗi lần công bố, sửa đổi, bãi bỏ là một sự kiện không thể sửa, xoá: căn cứ pháp lý, ngày có hiệu lực, người ghi nhận và thời điểm.", "Every publication, amendment and withdrawal is an event that cannot be changed or deleted: its legal basis, date of effect, who recorded it and when."},
	"catalog.change":         {"Thay đổi", "Change"},
	"catalog.basis":          {"Căn cứ (quyết định công bố)", "Legal basis (publishing decision)"},
	"catalog.recorded":       {"Ghi nhận", "Recorded"},
	"catalog.withdrawn":      {"đã bãi bỏ", "withdrawn"},
	"catalog.amend":          {"Sửa đổi thủ tục", "Amend the procedure"},
	"catalog.withdraw":       {"Bãi bỏ thủ tục", "Withdraw the procedure"},
	"catalog.publish":        {"Công bố thủ tục mới", "Publish a new procedure"},
	"catalog.procedure_json": {"Nội dung thủ tục (JSON, như tệp danh mục)", "The procedure (JSON, as in the catalog file)"},
	"catalog.bad_change":     {"Thay đổi không hợp lệ, chưa ghi nhận gì.", "The change is not valid; nothing was recorded."},
	"catalog.done_amended":   {"Đã ghi nhận sửa đổi.", "The amendment is recorded."},
	"catalog.done_withdrawn": {"Đã ghi nhận bãi bỏ.", "The withdrawal is recorded."},
}
