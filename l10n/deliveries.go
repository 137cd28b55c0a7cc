package l10n

import "maps"

// Destination names a destination of the outbox (the channel a notification went by).
func (l Lang) Destination(name string) string { return l.code("destination", name) }

// NotificationKind names the kind of a delivery (what the notification was about).
func (l Lang) NotificationKind(kind string) string { return l.code("notification", kind) }

// DeliveryState names the state of a delivery: pending, failing, dead, sent, skipped.
func (l Lang) DeliveryState(state string) string { return l.code("delivery_state", state) }

// The outbox's words: its destinations, kinds and states, and the admins' page of deliveries. Kept
// in their own file, beside the code, and added to the catalogue when the package loads.
func init() { maps.Copy(messages, deliveryMessages) }

var deliveryMessages = map[string][2]string{
	"destination.email": {"Thư điện tử", "E-mail"},
	"destination.sms":   {"Tin nhắn SMS", "SMS"},
	"destination.zalo":  {"Zalo", "Zalo"},
	"destination.dvcqg": {"Cổng Dịch vụ công quốc gia", "National Public Service Portal"},

	"notification.status_changed":       {"Thay đổi trạng thái hồ sơ", "Status changed"},
	"notification.supplement_requested": {"Yêu cầu bổ sung hồ sơ", "Supplement requested"},
	"notification.apology":              {"Thư xin lỗi, hẹn lại ngày trả kết quả", "Apology and new appointment"},
	"notification.result_ready":         {"Đã có kết quả", "Result ready"},
	"notification.payment_due":          {"Thông báo nộp phí, lệ phí", "Fees to pay"},
	// The national portal's documents (integrations/portal): what a delivery to it carries.
	"notification.create":          {"Đồng bộ hồ sơ lần đầu (DongBoHoSoMC)", "Dossier created on the portal (DongBoHoSoMC)"},
	"notification.update":          {"Đồng bộ trạng thái hồ sơ (DongBoHoSoMC)", "Dossier updated on the portal (DongBoHoSoMC)"},
	"notification.progress":        {"Cập nhật tiến độ xử lý (CapNhatTienDoHoSoMC)", "Processing steps updated (CapNhatTienDoHoSoMC)"},
	"notification.update+progress": {"Đồng bộ trạng thái và tiến độ xử lý", "Dossier and processing steps updated on the portal"},

	"delivery_state.pending": {"Chờ gửi", "Pending"},
	"delivery_state.failing": {"Đang gửi lỗi", "Failing"},
	"delivery_state.dead":    {"Gửi thất bại", "Dead"},
	"delivery_state.sent":    {"Đã gửi", "Sent"},
	"delivery_state.skipped": {"Bỏ qua", "Skipped"},

	"lookup.notifications":      {"Thông báo đã gửi", "Notifications sent"},
	"lookup.notifications_note": {"Thông báo gần nhất (tối đa 20); không hiển thị địa chỉ nhận.", "The latest notifications (at most 20); the address they went to is never shown."},
	"lookup.notification_sent":  {"Gửi lúc", "Sent at"},
	"lookup.notification_kind":  {"Nội dung", "About"},
	"lookup.notification_chan":  {"Kênh", "Channel"},

	"nav.deliveries":            {"Gửi thông báo", "Deliveries"},
	"deliveries.title":          {"Gửi thông báo và đồng bộ", "Deliveries"},
	"deliveries.intro":          {"Các thông báo và bản tin hệ thống gửi ra ngoài (hộp thư đi). Lỗi đã được lược bỏ dữ liệu cá nhân.", "What motcua sends to the outside world (the outbox). Errors are stripped of personal data."},
	"deliveries.by_destination": {"Theo nơi nhận", "By destination"},
	"deliveries.destination":    {"Nơi nhận", "Destination"},
	"deliveries.pending":        {"Chờ gửi", "Pending"},
	"deliveries.failing":        {"Đang lỗi", "Failing"},
	"deliveries.dead":           {"Thất bại", "Dead"},
	"deliveries.skipped":        {"Bỏ qua", "Skipped"},
	"deliveries.sent":           {"Đã gửi", "Sent"},
	"deliveries.oldest":         {"Chờ lâu nhất", "Oldest pending"},
	"deliveries.none_pending":   {"—", "—"},
	"deliveries.list":           {"Danh sách", "List"},
	"deliveries.state":          {"Trạng thái", "State"},
	"deliveries.any_state":      {"Mọi trạng thái", "Any state"},
	"deliveries.any_dest":       {"Mọi nơi nhận", "Any destination"},
	"deliveries.filter":         {"Lọc", "Filter"},
	"deliveries.id":             {"Số", "Id"},
	"deliveries.key":            {"Khóa", "Key"},
	"deliveries.dossier":        {"Hồ sơ", "Dossier"},
	"deliveries.kind":           {"Loại", "Kind"},
	"deliveries.attempts":       {"Số lần thử", "Attempts"},
	"deliveries.last_error":     {"Lỗi gần nhất", "Last error"},
	"deliveries.next_attempt":   {"Thử lại lúc", "Next attempt"},
	"deliveries.actions":        {"Thao tác", "Actions"},
	"deliveries.retry":          {"Gửi lại", "Retry"},
	"deliveries.retry_all_dead": {"Gửi lại tất cả thất bại", "Retry all dead"},
	"deliveries.retried":        {"Đã đưa %d thông báo vào hàng gửi lại.", "%d deliveries are due now."},
	"deliveries.empty":          {"Không có thông báo nào.", "No deliveries."},
	"deliveries.summary":        {"%d thông báo", "%d deliveries"},
	"deliveries.next":           {"Trang sau", "Next page"},
	"deliveries.first":          {"Trang đầu", "First page"},
	"deliveries.forbidden":      {"Chỉ quản trị hệ thống được xem và gửi lại thông báo.", "Only a system administrator may see and retry deliveries."},
	"deliveries.pages":          {"Các trang", "Pages"},
}
