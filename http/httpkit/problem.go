package httpkit

import (
	"net/http"

	"github.com/motcua/motcua/domain"
)

// Problem is an RFC 9457 problem detail. Errors lists the fields at fault for invalid input.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Code     domain.ErrorCode    `json:"code"`
	Errors   []domain.FieldError `json:"errors,omitempty"`
}

// FieldErrors maps each field at fault to its message, for showing next to a form's inputs.
func (p *Problem) FieldErrors() map[string]string {
	out := map[string]string{}
	if p != nil {
		for _, f := range p.Errors {
			out[f.Field] = f.Message
		}
	}
	return out
}

// StatusOf is the HTTP status of each domain error code.
var StatusOf = map[domain.ErrorCode]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	domain.EPRECONDITION: http.StatusPreconditionFailed,
	domain.EIDEMPOTENCY:  http.StatusUnprocessableEntity,
	domain.EINTERNAL:     http.StatusInternalServerError,
}
