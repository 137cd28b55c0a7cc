package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/http/httpkit"
)

var titleOf = map[domain.ErrorCode]string{
	domain.EINVALID:      "Dữ liệu không hợp lệ / Invalid input",
	domain.EUNAUTHORIZED: "Chưa đăng nhập / Not signed in",
	domain.EFORBIDDEN:    "Không có quyền / Forbidden",
	domain.ENOTFOUND:     "Không tìm thấy / Not found",
	domain.ECONFLICT:     "Không thực hiện được ở trạng thái hiện tại / Conflict",
	domain.EPRECONDITION: "Hồ sơ đã thay đổi / Dossier changed",
	domain.EIDEMPOTENCY:  "Khóa chống trùng lặp đã dùng cho yêu cầu khác / Idempotency key reused",
	domain.EINTERNAL:     "Lỗi hệ thống / Internal error",
}

// writeError answers with the problem that err describes. Internal details are logged, never shown.
// A store that cannot be reached is 503 with Retry-After, not a fault of the server's own; a client
// that went away is recorded as such, not as a server error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := domain.ErrorCodeOf(err)
	if code == domain.EINTERNAL {
		switch {
		case httpkit.ClientGone(r):
			s.logger.InfoContext(r.Context(), "client closed the request", "method", r.Method, "path", r.URL.Path, "err", err)
			w.WriteHeader(httpkit.StatusClientClosedRequest)
			return
		case httpkit.StoreUnavailable(err):
			s.logger.WarnContext(r.Context(), "store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
			writeUnavailable(w, r)
			return
		}
	}
	p := httpkit.Problem{Type: "https://motcua.vn/problems/" + string(code), Title: titleOf[code], Status: httpkit.StatusOf[code], Instance: r.URL.Path, Code: code}
	var de *domain.Error
	switch {
	case code == domain.EINTERNAL:
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case errors.As(err, &de):
		p.Detail, p.Errors = de.Message, de.Fields
	default:
		p.Detail = err.Error()
	}
	writeProblem(w, p)
}

// writeUnavailable answers 503: the store cannot be reached for now; try again shortly.
func writeUnavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", httpkit.RetryAfterUnavailable)
	writeProblem(w, httpkit.Problem{Type: "https://motcua.vn/problems/unavailable", Status: http.StatusServiceUnavailable,
		Title: "Tạm thời gián đoạn / Temporarily unavailable", Detail: "Vui lòng thử lại sau giây lát / please try again in a moment",
		Instance: r.URL.Path, Code: "unavailable"})
}

func writeProblem(w http.ResponseWriter, p httpkit.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Default().Warn("write response", "err", err)
	}
}
