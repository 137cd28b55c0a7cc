package domain

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorCode classifies application errors; the HTTP layer maps each code to a status.
type ErrorCode string

const (
	ECONFLICT     ErrorCode = "conflict"               // the action is not allowed now, or lost a race
	EINVALID      ErrorCode = "invalid"                // the input is wrong; FieldErrors say where
	ENOTFOUND     ErrorCode = "not_found"              // no such dossier, procedure, …
	EUNAUTHORIZED ErrorCode = "unauthorized"           // no or bad credentials
	EFORBIDDEN    ErrorCode = "forbidden"              // authenticated but not allowed
	EPRECONDITION ErrorCode = "precondition"           // the caller's view of the dossier is stale (If-Match)
	EIDEMPOTENCY  ErrorCode = "idempotency_key_reused" // an Idempotency-Key sent again with another request
	EINTERNAL     ErrorCode = "internal"
)

// Error is motcua's application error: a code, a message safe to show to users and, for invalid
// input, the fields at fault.
type Error struct {
	Code    ErrorCode
	Message string
	Fields  []FieldError
}

// FieldError names one field at fault, as a JSON path ("applicant.name", "components[1].copies").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an *Error with the given code.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCodeOf returns the code of the first *Error or *TransitionError in err's chain, else EINTERNAL.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var te *TransitionError
	if errors.As(err, &te) {
		return ECONFLICT
	}
	var fe *FeedbackTransitionError
	if errors.As(err, &fe) {
		return ECONFLICT
	}
	return EINTERNAL
}

// Validation collects field errors; Err returns nil when there are none.
type Validation struct{ fields []FieldError }

// Add records a field error.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records a field error when ok is false.
func (v *Validation) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns the collected errors as an EINVALID *Error, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "invalid input", Fields: v.fields}
}

// TransitionError says that an action is not allowed while the dossier is in a status, and why.
type TransitionError struct {
	Action Action
	Status Status
	Reason string // optional detail, e.g. "an apology was already issued"
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("action %q is not allowed while the dossier is %q", e.Action, e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}
