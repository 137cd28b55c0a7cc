package calendar

import (
	"fmt"
	"strings"
)

// ConfigError says what is wrong with an agency calendar file: a message and, when the JSON was
// read, the fields at fault. The wiring reports it at start-up, before any request is served.
type ConfigError struct {
	Message string
	Fields  []FieldError
}

// FieldError names one field at fault, as a JSON path ("sessions[1]", "workDays[0].date").
type FieldError struct {
	Field   string
	Message string
}

func (e *ConfigError) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// validation collects the field errors of one file; err returns nil when there are none.
type validation struct{ fields []FieldError }

func (v *validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validation) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

func (v *validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ConfigError{Message: "invalid input", Fields: v.fields}
}
