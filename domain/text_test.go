package domain_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/motcua/motcua/domain"
)

func TestCheckTextFieldsNamesEveryFieldAtFault(t *testing.T) {
	type note struct {
		Reason string `json:"reason" text:"multiline"`
	}
	in := struct {
		Applicant  domain.Applicant   `json:"applicant"`
		Components []domain.Component `json:"components"`
		Notes      map[string]note    `json:"notes"`
		Reason     string             `json:"reason" text:"multiline"`
		Title      string             `json:"title"`
	}{
		Applicant:  domain.Applicant{Name: "Nguyễn\x00An", Address: "12 Lê Lợi\u202e"},
		Components: []domain.Component{{Name: "Đơn"}, {Name: "Bản\u200bvẽ"}},
		Notes:      map[string]note{"a": {Reason: "dòng một\r\ndòng\thai"}, "b\x1b": {}},
		Reason:     "Thiếu bản vẽ\nvà đơn",
		Title:      "một\ndòng",
	}
	err := domain.CheckTextFields(&in)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID {
		t.Fatalf("got %v, want invalid input", err)
	}
	var fields []string
	for _, f := range de.Fields {
		fields = append(fields, f.Field)
	}
	got := strings.Join(fields, ",")
	for _, want := range []string{"applicant.name", "applicant.address", "components[1].name", "notes.(key)", "title"} {
		if !strings.Contains(","+got+",", ","+want+",") {
			t.Errorf("fields %s, want %s among them", got, want)
		}
	}
	if len(fields) != 5 {
		t.Errorf("fields %s: multi-line text with line breaks and tabs was refused", got)
	}
	if !strings.Contains(de.Fields[0].Message, "U+0000 at character 7") {
		t.Errorf("message %q does not say which character and where", de.Fields[0].Message)
	}
	if err := domain.CheckTextFields(domain.Applicant{Name: "Nguyễn Văn An � (sic)"}); err != nil {
		t.Fatalf("a real U+FFFD is refused: %v", err)
	}
}

func TestSanitizeTextReplacesWhatFieldsMayNotHold(t *testing.T) {
	cases := map[string]string{
		"Nguyễn Văn An":              "Nguyễn Văn An",
		"dòng một\r\ndòng\thai":      "dòng một\r\ndòng\thai",
		"An\x00\x1b\x7f\u0085":       "An\ufffd\ufffd\ufffd\ufffd",
		"\u202eAn\u2066\u200b\ufeff": "\ufffdAn\ufffd\ufffd\ufffd",
		"bad \xff\xfe utf-8":         "bad \ufffd\ufffd utf-8",
		"“trích dẫn” – … © °":        "“trích dẫn” – … © °",
	}
	for in, want := range cases {
		if got := domain.SanitizeText(in); got != want {
			t.Errorf("SanitizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever the text, SanitizeText's output passes the check of a multi-line field, keeps what was
// clean as it was, and has as many characters as the input has (valid or not).
func FuzzSanitizeText(f *testing.F) {
	for _, seed := range []string{"", "Nguyễn Văn An", "a\x00b", "\u202e", "\xff", "\xe2\x80", "\u00ad\u061c\u2029", "\ufffd"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean := domain.SanitizeText(s)
		if err := domain.CheckTextFields(struct {
			S string `json:"s" text:"multiline"`
		}{clean}); err != nil {
			t.Fatalf("SanitizeText(%q) = %q still fails the check: %v", s, clean, err)
		}
		if utf8.RuneCountInString(clean) != utf8.RuneCountInString(s) {
			t.Fatalf("SanitizeText(%q) = %q changed the length", s, clean)
		}
		passes := domain.CheckTextFields(struct {
			S string `json:"s" text:"multiline"`
		}{s}) == nil
		if passes != (clean == s) {
			t.Fatalf("%q passes the check: %v, but SanitizeText changes it: %v", s, passes, clean != s)
		}
	})
}
