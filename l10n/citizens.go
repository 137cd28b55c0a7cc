package l10n

import "maps"

// The citizens' words: signing in through VNeID and "Hồ sơ của tôi" (docs/citizens.md).

func init() { maps.Copy(messages, citizenMessages) }

var citizenMessages = map[string][2]string{
	"nav.my_dossiers":    {"Hồ sơ của tôi", "My dossiers"},
	"me.title":           {"Hồ sơ của tôi", "My dossiers"},
	"me.signin_intro":    {"Đăng nhập bằng tài khoản định danh điện tử (VNeID) để xem mọi hồ sơ bạn đã nộp và tình trạng giải quyết.", "Sign in with your electronic identity (VNeID) to see every dossier you filed and how far it has gone."},
	"me.signin":          {"Đăng nhập bằng VNeID", "Sign in with VNeID"},
	"me.signin_failed":   {"Đăng nhập không thành công (phiên đăng nhập đã hết hạn hoặc không hợp lệ). Vui lòng đăng nhập lại.", "Sign-in failed (the sign-in expired or was not valid). Please sign in again."},
	"me.signout":         {"Đăng xuất", "Sign out"},
	"me.greeting":        {"Xin chào %s", "Hello %s"},
	"me.id_number":       {"Số định danh cá nhân", "Personal identification number"},
	"me.summary":         {"%d hồ sơ", "%d dossiers"},
	"me.empty":           {"Chưa có hồ sơ nào mang số định danh của bạn.", "No dossier carries your identification number yet."},
	"me.code":            {"Mã hồ sơ", "Dossier code"},
	"me.no_code":         {"Chưa có mã (đang chờ tiếp nhận)", "No code yet (awaiting acceptance)"},
	"me.procedure":       {"Thủ tục", "Procedure"},
	"me.since":           {"Ngày nộp", "Filed on"},
	"me.appointment":     {"Hẹn trả", "Appointment"},
	"me.status":          {"Tình trạng", "Status"},
	"me.late":            {"Quá hạn", "Late"},
	"me.details":         {"Xem chi tiết và theo dõi trực tiếp", "Details and live updates"},
	"me.next":            {"Trang sau", "Next page"},
	"me.first":           {"Trang đầu", "First page"},
	"me.session_ends":    {"Phiên đăng nhập kết thúc muộn nhất lúc %s, hoặc sớm hơn nếu bạn không thao tác trong một thời gian.", "Your session ends at %s at the latest, or earlier after a while without activity."},
	"me.privacy":         {"Danh sách này được tìm theo chỉ mục mã hoá của số định danh; hệ thống không lưu số định danh của bạn ngoài hồ sơ.", "This list is found through a keyed index of your number; motcua keeps your number nowhere but in your dossiers."},
	"error.citizen_only": {"Trang này dành cho công dân đã đăng nhập.", "This page is for signed-in citizens."},
}
