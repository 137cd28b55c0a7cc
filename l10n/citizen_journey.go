package l10n

import "maps"

// The citizen's journey online: filing with files, answering a supplement request, the result
// (docs/citizens.md "Filing online").

func init() { maps.Copy(messages, journeyMessages) }

var journeyMessages = map[string][2]string{
	"journey.file_online":         {"Nộp hồ sơ trực tuyến", "File a dossier online"},
	"journey.choose_title":        {"Chọn thủ tục để nộp trực tuyến", "Choose a procedure to file online"},
	"journey.choose_intro":        {"Các thủ tục dưới đây nhận hồ sơ trực tuyến. Bạn gửi tệp (PDF, JPEG, PNG) cho từng thành phần hồ sơ; bộ phận tiếp nhận xem xét trong thời hạn quy định.", "These procedures accept dossiers online. You send a file (PDF, JPEG, PNG) for each component; the reception examines it within the time the rules set."},
	"journey.none_online":         {"Chưa có thủ tục nào nhận hồ sơ trực tuyến.", "No procedure accepts dossiers online yet."},
	"journey.level_full":          {"Trực tuyến toàn trình", "Fully online"},
	"journey.level_partial":       {"Trực tuyến một phần", "Partly online"},
	"journey.components_count":    {"%d thành phần hồ sơ", "%d components"},
	"journey.back_to_mine":        {"Về Hồ sơ của tôi", "Back to my dossiers"},
	"journey.no_procedure":        {"Thủ tục này không nhận hồ sơ trực tuyến.", "This procedure is not filed online."},
	"journey.not_found":           {"Không tìm thấy hồ sơ này trong hồ sơ của bạn.", "This dossier is not among yours."},
	"journey.submit_intro":        {"Kiểm tra thông tin người nộp (lấy từ VNeID), rồi chọn một tệp cho mỗi thành phần hồ sơ. Tệp được nhận theo nội dung, không theo tên.", "Check the applicant's details (from VNeID), then choose a file for each component. A file is judged by its content, not its name."},
	"journey.applicant":           {"Người nộp hồ sơ", "Applicant"},
	"journey.from_vneid":          {"theo VNeID", "from VNeID"},
	"journey.name":                {"Họ và tên", "Full name"},
	"journey.phone":               {"Số điện thoại", "Phone"},
	"journey.email":               {"Thư điện tử", "E-mail"},
	"journey.address":             {"Địa chỉ", "Address"},
	"journey.files":               {"Thành phần hồ sơ", "Components"},
	"journey.files_hint":          {"Mỗi tệp tối đa 20 MB; PDF, JPEG hoặc PNG.", "Each file at most 20 MB; PDF, JPEG or PNG."},
	"journey.original":            {"bản chính", "original"},
	"journey.reuse":               {"Dùng lại tệp bạn đã nộp", "Reuse a file you sent before"},
	"journey.reuse_none":          {"— Không, tải tệp mới —", "— No, send a new file —"},
	"journey.choose_file":         {"Chọn tệp", "Choose a file"},
	"journey.submit":              {"Nộp hồ sơ", "File the dossier"},
	"journey.other_procedure":     {"Chọn thủ tục khác", "Choose another procedure"},
	"journey.dossier_title":       {"Hồ sơ của tôi: chi tiết", "My dossier"},
	"journey.submitted":           {"Đã nộp hồ sơ. Bộ phận tiếp nhận sẽ xem xét và trả lời trong thời hạn ghi dưới đây.", "Your dossier is filed. The reception will examine it and answer by the deadline below."},
	"journey.answered":            {"Đã gửi hồ sơ bổ sung. Thời hạn giải quyết được tính lại theo quy định.", "Your supplement is sent. The time limit restarts as the rules say."},
	"journey.submitted_at":        {"Nộp trực tuyến lúc", "Filed online at"},
	"journey.acceptance_deadline": {"Hạn tiếp nhận", "To be accepted by"},
	"journey.received_at":         {"Tiếp nhận lúc", "Accepted at"},
	"journey.supplement_title":    {"Cần bổ sung hồ sơ", "Supplement requested"},
	"journey.supplement_intro":    {"Lúc %s, cơ quan đề nghị bổ sung đầy đủ các giấy tờ sau:", "At %s the agency asked for all of the following:"},
	"journey.reason":              {"Lý do:", "Reason:"},
	"journey.answer":              {"Gửi hồ sơ bổ sung", "Send the supplement"},
	"journey.open":                {"Tệp, yêu cầu bổ sung và kết quả", "Files, supplement requests and result"},
	"journey.answer_now":          {"Bổ sung ngay", "Answer now"},
	"journey.results":             {"Kết quả giải quyết", "Result"},
	"journey.download_result":     {"Tải kết quả đã ký số", "Download the signed result"},
	"journey.verify_result":       {"Xác thực kết quả", "Verify the result"},
	"journey.result_no_file":      {"Kết quả chưa có bản điện tử; vui lòng nhận tại bộ phận một cửa.", "The result has no electronic file yet; collect it at the one-stop desk."},
	"journey.no_files":            {"Chưa có tệp nào.", "No file yet."},
	"journey.reused":              {"dùng lại", "reused"},
	"journey.public_page":         {"Trang tra cứu công khai của hồ sơ", "The dossier's public lookup page"},
}
