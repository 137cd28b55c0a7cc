package l10n

import (
	"maps"

	"github.com/motcua/motcua/domain"
)

// The words of complaints, petitions and questions (phản ánh, kiến nghị — PAKN).

// FeedbackKind names a kind of feedback.
func (l Lang) FeedbackKind(k domain.FeedbackKind) string { return l.code("feedback_kind", string(k)) }

// FeedbackStatus names where a feedback stands.
func (l Lang) FeedbackStatus(s domain.FeedbackStatus) string {
	return l.code("feedback_status", string(s))
}

// FeedbackAction names an action on a feedback.
func (l Lang) FeedbackAction(a domain.Action) string { return l.code("feedback_action", string(a)) }

// FeedbackStage names a stage of handling whose time QĐ 766 group 5 counts (route, refuse, ask,
// answer, publish).
func (l Lang) FeedbackStage(stage string) string { return l.code("feedback_stage", stage) }

// FeedbackPath is the path segment of a feedback action in the API and the pages (the refusal's is
// "refuse": its code is distinct from the dossier's refusal of reception).
func (l Lang) FeedbackPath(a domain.Action) string {
	if a == domain.ActionFeedbackRefuse {
		return "refuse"
	}
	return string(a)
}

func init() { maps.Copy(messages, feedbackMessages) }

var feedbackMessages = map[string][2]string{
	domain.TypeFeedbackReceived:             {"Tiếp nhận phản ánh, kiến nghị", "Feedback received"},
	domain.TypeFeedbackRouted:               {"Chuyển cơ quan có thẩm quyền xử lý", "Routed to the responsible agency"},
	domain.TypeFeedbackInformationRequested: {"Đề nghị bổ sung thông tin", "More information requested"},
	domain.TypeFeedbackInformationSupplied:  {"Người gửi bổ sung thông tin", "Information supplied"},
	domain.TypeFeedbackAnswered:             {"Trả lời phản ánh, kiến nghị", "Answered"},
	domain.TypeFeedbackPublished:            {"Công khai kết quả trả lời", "Answer published"},
	domain.TypeFeedbackRefused:              {"Từ chối tiếp nhận, xử lý", "Refused"},

	"feedback_kind.complaint": {"Phản ánh", "Complaint"},
	"feedback_kind.petition":  {"Kiến nghị", "Petition"},
	"feedback_kind.question":  {"Hỏi đáp", "Question"},

	"feedback_status.received":             {"Chờ chuyển xử lý", "Waiting to be routed"},
	"feedback_status.routed":               {"Đang xử lý", "Being handled"},
	"feedback_status.awaiting_information": {"Chờ người gửi bổ sung thông tin", "Waiting for more information"},
	"feedback_status.answered":             {"Đã trả lời, chờ công khai", "Answered, to be published"},
	"feedback_status.published":            {"Đã trả lời và công khai", "Answered and published"},
	"feedback_status.refused":              {"Từ chối xử lý", "Refused"},

	"feedback_action.route":           {"Chuyển xử lý", "Route"},
	"feedback_action.ask":             {"Đề nghị bổ sung thông tin", "Ask for more information"},
	"feedback_action.information":     {"Bổ sung thông tin", "Supply information"},
	"feedback_action.answer":          {"Trả lời", "Answer"},
	"feedback_action.publish":         {"Công khai kết quả trả lời", "Publish the answer"},
	"feedback_action.refuse-feedback": {"Từ chối xử lý", "Refuse"},

	"feedback_stage.route":   {"Chuyển xử lý hoặc từ chối (≤ 2 ngày làm việc)", "Routed or refused (≤ 2 working days)"},
	"feedback_stage.refuse":  {"Từ chối của cơ quan xử lý (≤ 2 ngày làm việc)", "Refused by the responsible agency (≤ 2 working days)"},
	"feedback_stage.ask":     {"Đề nghị bổ sung thông tin (≤ 5 ngày làm việc)", "More information asked (≤ 5 working days)"},
	"feedback_stage.answer":  {"Trả lời (≤ 15 ngày làm việc)", "Answered (≤ 15 working days)"},
	"feedback_stage.publish": {"Công khai kết quả (≤ 2 ngày làm việc)", "Published (≤ 2 working days)"},

	"indicator.5.1": {"Tỷ lệ phản ánh, kiến nghị được tiếp nhận, chuyển xử lý hoặc từ chối đúng hạn", "Feedback routed or refused on time"},
	"indicator.5.2": {"Tỷ lệ đề nghị bổ sung thông tin đúng hạn", "More information asked on time"},
	"indicator.5.3": {"Tỷ lệ phản ánh, kiến nghị được trả lời đúng hạn", "Feedback answered on time"},
	"indicator.5.4": {"Tỷ lệ kết quả trả lời được công khai đúng hạn", "Answers published on time"},

	"nav.feedback":             {"Phản ánh, kiến nghị", "Complaints and petitions"},
	"feedback.title":           {"Phản ánh, kiến nghị", "Complaints and petitions"},
	"feedback.intro":           {"Gửi phản ánh, kiến nghị về thủ tục hành chính hoặc việc giải quyết hồ sơ; theo dõi bằng mã được cấp. Không cần đăng nhập.", "Send a complaint, petition or question about a procedure or how a dossier was handled, and follow it by the code you are given. No sign-in needed."},
	"feedback.code_label":      {"Mã phản ánh", "Feedback code"},
	"feedback.follow":          {"Theo dõi", "Follow"},
	"feedback.not_found":       {"Không tìm thấy phản ánh, kiến nghị có mã này.", "No feedback has this code."},
	"feedback.sent":            {"Đã gửi. Hãy ghi lại mã để theo dõi:", "Sent. Keep this code to follow it:"},
	"feedback.supplied":        {"Đã gửi thông tin bổ sung.", "Your information was sent."},
	"feedback.subject":         {"Tiêu đề", "Subject"},
	"feedback.content":         {"Nội dung", "Content"},
	"feedback.dossier_code":    {"Mã hồ sơ liên quan", "Related dossier code"},
	"feedback.optional":        {"không bắt buộc", "optional"},
	"feedback.received_at":     {"Ngày tiếp nhận", "Received"},
	"feedback.due":             {"Hạn xử lý bước hiện tại", "Due (current step)"},
	"feedback.answered_at":     {"Ngày trả lời", "Answered"},
	"feedback.published_at":    {"Ngày công khai", "Published"},
	"feedback.refused_at":      {"Ngày từ chối", "Refused"},
	"feedback.answer":          {"Nội dung trả lời", "Answer"},
	"feedback.refusal":         {"Lý do từ chối", "Reason for refusal"},
	"feedback.question":        {"Cơ quan đề nghị bổ sung", "The agency asks"},
	"feedback.information":     {"Thông tin bổ sung", "Your information"},
	"feedback.supply":          {"Gửi thông tin bổ sung", "Send the information"},
	"feedback.send_title":      {"Gửi phản ánh, kiến nghị", "Send a complaint or petition"},
	"feedback.kind":            {"Loại", "Kind"},
	"feedback.agency":          {"Cơ quan liên quan", "Agency concerned"},
	"feedback.agency_hint":     {"Nếu không rõ, để trống: bộ phận tiếp nhận phản ánh, kiến nghị sẽ chuyển đến cơ quan có thẩm quyền.", "If unsure, leave it: the feedback desk routes it to the responsible agency."},
	"feedback.agency_unknown":  {"Không rõ", "Not sure"},
	"feedback.submitter":       {"Người gửi", "Sender"},
	"feedback.send":            {"Gửi", "Send"},
	"feedback.status":          {"Trạng thái", "Status"},
	"feedback.paused":          {"Tạm dừng (chờ người gửi)", "Paused (waiting for the sender)"},
	"feedback.queue_title":     {"Phản ánh, kiến nghị cần xử lý", "Feedback to handle"},
	"feedback.queue_total":     {"%d phản ánh, kiến nghị đang chờ", "%d waiting"},
	"feedback.queue_empty":     {"Không có phản ánh, kiến nghị nào đang chờ.", "No feedback is waiting."},
	"feedback.done":            {"Đã ghi nhận.", "Recorded."},
	"feedback.route_to":        {"Cơ quan có thẩm quyền", "Responsible agency"},
	"feedback.note":            {"Ghi chú", "Note"},
	"feedback.reason":          {"Lý do", "Reason"},
	"feedback.back_to_queue":   {"Về danh sách phản ánh, kiến nghị", "Back to the feedback queue"},
	"feedback.dashboard_title": {"Xử lý đúng hạn từ đầu tháng", "On-time handling this month"},
	"feedback.stage":           {"Bước", "Stage"},
	"feedback.on_time":         {"Đúng hạn", "On time"},
	"feedback.late":            {"Trễ hạn", "Late"},
	"feedback.overdue":         {"Quá hạn chưa xử lý", "Overdue, not done"},
	"feedback.on_time_rate":    {"Tỷ lệ đúng hạn", "On-time rate"},
}
