package domain

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text that reaches the log is read back for years — by read models in SQL databases, by pages,
// CSV exports and printed forms. Some characters do harm on that way and carry nothing a person
// typed on purpose into a form:
//   - C0 and C1 control characters and DEL: U+0000 cannot be stored in PostgreSQL text at all, the
//     others corrupt exports and terminals. Tab, line feed and carriage return are allowed in
//     multi-line fields (reasons, opinions, notes, comments: a textarea sends CR LF) and nowhere else;
//   - bidirectional controls (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), which make a
//     name or a code read differently from what it holds ("Trojan source");
//   - zero-width and invisible characters (U+200B–U+200D, U+2060, U+FEFF, U+00AD), which make two
//     names that look the same differ, and the line and paragraph separators U+2028–U+2029.
//
// The edge refuses them (CheckText, CheckTextFields); the read models replace any that an older
// event still holds (SanitizeText).

// forbiddenRune reports whether r may not appear in a text field; multiline fields may hold tab,
// line feed and carriage return.
func forbiddenRune(r rune, multiline bool) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return !multiline
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	}
	switch r {
	case 0x00ad, 0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029,
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff:
		return true
	}
	return false
}

// firstForbidden returns the first forbidden rune of s and its position in characters (from 1), or
// ok false when there is none. Invalid UTF-8 counts as forbidden (reported as U+FFFD); a U+FFFD
// that s really holds does not.
func firstForbidden(s string, multiline bool) (r rune, at int, ok bool) {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n++
		if (r == utf8.RuneError && size == 1) || forbiddenRune(r, multiline) {
			return r, n, true
		}
		i += size
	}
	return 0, 0, false
}

// CheckText records a field error when s holds a character no text field may hold (see above).
func CheckText(v *Validation, field, s string, multiline bool) {
	if r, at, found := firstForbidden(s, multiline); found {
		what := "a control, bidirectional or invisible character"
		if r == utf8.RuneError {
			what = "invalid UTF-8"
		}
		v.Add(field, "holds %s (U+%04X at character %d)", what, r, at)
	}
}

// CheckTextFields checks every string reachable from in — struct fields, list items, map keys and
// values — with CheckText, naming each by its JSON path ("applicant.name", "components[1].name").
// A field tagged `text:"multiline"` may hold line breaks and tabs. Walking the whole value, rather
// than listing fields, means a field added later cannot be forgotten.
func CheckTextFields(in any) error {
	var v Validation
	checkValue(&v, reflect.ValueOf(in), "", false)
	return v.Err()
}

func checkValue(v *Validation, val reflect.Value, path string, multiline bool) {
	switch val.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !val.IsNil() {
			checkValue(v, val.Elem(), path, multiline)
		}
	case reflect.Struct:
		t := val.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			fieldPath := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				fieldPath = joinPath(path, name)
			}
			checkValue(v, val.Field(i), fieldPath, f.Tag.Get("text") == "multiline")
		}
	case reflect.Slice, reflect.Array:
		if val.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes, not text
		}
		for i := range val.Len() {
			checkValue(v, val.Index(i), path+"["+strconv.Itoa(i)+"]", multiline)
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if iter.Key().Kind() == reflect.String {
				if _, _, found := firstForbidden(key, false); found {
					CheckText(v, joinPath(path, "(key)"), key, false)
					continue
				}
			}
			checkValue(v, iter.Value(), joinPath(path, key), multiline)
		}
	case reflect.String:
		CheckText(v, fieldName(path), val.String(), multiline)
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// SanitizeText returns s with every character no field may hold — invalid UTF-8 included — replaced
// by U+FFFD; tab and line breaks stay. Read models store text through it: the edge refuses such
// characters, but an event recorded before it did (or written to the log by other means) must not
// stop a read model — PostgreSQL cannot store U+0000 in text — nor reach a page or an export.
func SanitizeText(s string) string {
	if cleanText(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || forbiddenRune(r, true) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
		i += size
	}
	return sb.String()
}

// cleanText is SanitizeText's fast path, on every text a read model writes: it looks at the bytes
// that can start a forbidden character (ASCII controls and the lead bytes of C1 controls, U+00AD,
// U+061C and the U+2000 and U+FEFF blocks) and leaves the rest to utf8.ValidString.
func cleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b < 0x20:
			if b != '\t' && b != '\n' && b != '\r' {
				return false
			}
		case b == 0x7f, b == 0xc2, b == 0xd8, b == 0xe2, b == 0xef:
			r, _ := utf8.DecodeRuneInString(s[i:])
			if forbiddenRune(r, true) {
				return false
			}
		}
	}
	return utf8.ValidString(s)
}
