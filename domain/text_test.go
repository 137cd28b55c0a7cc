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

// SanitizeText passes eight bytes of printable ASCII over at once: every byte value, and every
// forbidden character, at every place of the first words of a text, between printable ASCII, is
// still found — or left alone when a multi-line field may hold it — whatever the word boundaries.
func TestSanitizeTextFindsEveryByteAtEveryPlaceOfAWord(t *testing.T) {
	multiline := func(s string) bool {
		return domain.CheckTextFields(struct {
			S string `json:"s" text:"multiline"`
		}{s}) == nil
	}
	var inserts []string
	for b := range 256 {
		inserts = append(inserts, string([]byte{byte(b)}))
	}
	inserts = append(inserts, "\u0085", "\u00ad", "\u061c", "\u200b", "\u202e", "\u2029", "\ufeff", "ễ", "\u00a0", "\ufffd")
	const printable = "{\"code\":\"000.00.00.H56-260310-0051\"} ~"
	for _, insert := range inserts {
		for at := range 17 {
			for _, tail := range []int{0, 1, 7, 8, 9} {
				s := printable[:at] + insert + printable[:tail]
				if passes, kept := multiline(s), domain.SanitizeText(s) == s; passes != kept {
					t.Fatalf("%q passes the check: %v, but SanitizeText keeps it: %v", s, passes, kept)
				}
			}
		}
	}
}

// A folded dossier's JSON state, what a flush sanitizes most of (1.5 KB, some of it Vietnamese).
func BenchmarkSanitizeTextOfAState(b *testing.B) {
	state := `{"id":"01a245f1-4977-7474-bd1c-8c3922b8dec0","version":6,"status":"processing","code":"000.00.00.H56-260310-0051",` +
		`"procedure":{"code":"2.001264","name":"Cấp chứng chỉ hành nghề luật sư","field_code":"H56-LLTP","field_name":"Lý lịch tư pháp","resolution_days":30},` +
		`"applicant":{"type":"organization","name":"Công ty TNHH Lý Đức Hương","id_number":""},"channel":"direct","components":null,` +
		`"receiving_unit":"000.00.00.H56","competent_agency":"000.00.04.H56","received_at":"2026-03-10T01:43:42Z",` +
		`"appointment_date":"2026-06-01T09:51:02.409910801+07:00","first_appointment_date":"2026-04-21T08:43:42+07:00",` +
		`"calendar_version":"vn-2026.1","due_date":"2026-06-01T09:51:02.409910801+07:00","indicator_due_date":"2026-05-04T10:20:38.069591131+07:00",` +
		`"clock_start":"2026-04-15T02:51:02.409910801Z","rules_version":"nd118-2025","catalog_revision":1,` +
		`"holder":{"unit":"P.HCTP","official_id":"p04-specialist-6","official_name":"Vũ Hoài Giang"},"holder_agency":"000.00.00.H56",` +
		`"step":"Xem xét, trình ký","latest_workflow_step":"Xem xét, trình ký","step_deadline":"2026-06-05T10:45:47.198990078+07:00",` +
		`"transfers":2,"supplement_requests":1,"waiting_working_time":178616069591131,"fees_due":0,"fees_paid":0,` +
		`"apology":{"reason":"Cần thêm thời gian thẩm định, xác minh thực tế","old_appointment_date":"2026-04-21T08:43:42+07:00",` +
		`"new_appointment_date":"2026-05-15T08:43:42+07:00","issued_at":"2026-03-10T03:17:36.480933485Z",` +
		`"latest_allowed_date":"2026-06-05T08:43:42+07:00","calendar_version":"vn-2026.1","rules_version":"nd118-2025"},"apologies":1,"resume_status":"processing"}`
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		if domain.SanitizeText(state) != state {
			b.Fatal("a clean state changed")
		}
	}
}
