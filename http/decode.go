package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/motcua/motcua/domain"
)

// maxBodyBytes bounds a request body: a dossier's metadata, not its scanned documents.
const maxBodyBytes = 64 << 10

// readBody reads a request's body up to limit bytes; a larger or unreadable one is invalid input
// naming the body, so the client learns which.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, invalid("body", fmt.Sprintf("is larger than %d bytes", limit))
	}
	if err != nil {
		return nil, invalid("body", "could not be read")
	}
	return body, nil
}

// decodeBody reads a JSON request body into dst: at most maxBodyBytes, valid UTF-8, no unknown
// fields, one value; every string is then trimmed and normalised to NFC and checked for characters
// no text may hold (domain.CheckTextFields). Errors are EINVALID with the field at fault.
func decodeBody(r *http.Request, dst any) error {
	body, err := readBody(r, maxBodyBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; refuse it instead of storing garbage.
	if !utf8.Valid(body) {
		return invalid("body", "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("body", "must hold a single JSON object")
	}
	// A lone UTF-16 surrogate escape ("\ud800") is valid JSON that encoding/json also turns into
	// U+FFFD: refuse it too, unless the client really sent U+FFFD.
	if containsReplacementChar(reflect.ValueOf(dst)) && !bytes.Contains(body, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`)) {
		return invalid("body", "holds an invalid \\u escape (a lone UTF-16 surrogate)")
	}
	normalizeStrings(reflect.ValueOf(dst))
	// Every write route decodes its body here, so no route and no field can skip the check; the
	// commands check their inputs again for the web forms, which do not come through here.
	return domain.CheckTextFields(dst)
}

// containsReplacementChar reports whether any string reachable from v holds U+FFFD.
func containsReplacementChar(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && containsReplacementChar(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && containsReplacementChar(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if containsReplacementChar(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if containsReplacementChar(k) || containsReplacementChar(v.MapIndex(k)) {
				return true
			}
		}
	case reflect.String:
		return strings.ContainsRune(v.String(), utf8.RuneError)
	}
	return false
}

func invalid(field, message string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "invalid input", Fields: []domain.FieldError{{Field: field, Message: message}}}
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, fmt.Sprintf("must be a %s", jsonKind(typeErr.Type)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "is truncated JSON")
	}
	return invalid("body", err.Error())
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	}
	if t.String() == "time.Time" {
		return "date-time (RFC 3339)"
	}
	return "object"
}

// normalizeStrings trims and NFC-normalises every settable string reachable from v, so Vietnamese
// typed with combining marks is stored the same as precomposed text.
func normalizeStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalizeStrings(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeStrings(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			normalizeStrings(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			val := v.MapIndex(k)
			if val.Kind() == reflect.String {
				v.SetMapIndex(k, reflect.ValueOf(domain.NormalizeText(val.String())).Convert(val.Type()))
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(domain.NormalizeText(v.String()))
		}
	}
}
