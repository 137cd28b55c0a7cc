package phone_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/motcua/motcua/integrations/notification"
	"github.com/motcua/motcua/integrations/phone"
)

// Every kind's built-in text renders from a dossier's data, in Vietnamese NFC with diacritics on
// a Unicode route and in plain ASCII on a GSM-7 one, names the dossier and ends with the lookup
// link, within the length cap — even when the procedure's name, the reason and the missing items
// are far too long for an SMS: they are shortened, the link is kept whole.
func TestSMSTextsRenderEveryKindWithinTheirLength(t *testing.T) {
	long := notification.SampleData()
	long.ProcedureName = strings.Repeat("Cấp đổi giấy chứng nhận quyền sử dụng đất ", 8)
	long.Reason = strings.Repeat("Thiếu chữ ký của đồng sở hữu ", 10)
	long.MissingItems = []string{strings.Repeat("Bản sao hợp đồng chuyển nhượng ", 6), "Tờ khai lệ phí trước bạ"}
	for _, unicode := range []bool{true, false} {
		templates := phone.Templates{Unicode: unicode}
		if err := templates.Check(); err != nil {
			t.Fatal(err)
		}
		for _, kind := range notification.Kinds {
			tmpl, err := templates.Load(kind)
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.Version == "" || tmpl.Source != "built-in" {
				t.Fatalf("%s: version %q from %s", kind, tmpl.Version, tmpl.Source)
			}
			for name, data := range map[string]notification.Data{"sample": notification.SampleData(), "long": long} {
				text, err := tmpl.Render(data)
				if err != nil {
					t.Fatal(err)
				}
				if n := utf8.RuneCountInString(text); n > templates.Limit() {
					t.Fatalf("%s/%s unicode=%v: %d characters, the cap is %d:\n%s", kind, name, unicode, n, templates.Limit(), text)
				}
				if !strings.HasSuffix(text, data.LookupURL) || !strings.Contains(strings.TrimSuffix(text, data.LookupURL), data.Code) {
					t.Fatalf("%s/%s unicode=%v: the text lost the code or the whole link:\n%s", kind, name, unicode, text)
				}
				if unicode {
					if !norm.NFC.IsNormalString(text) || !strings.Contains(text, "hồ sơ") && !strings.Contains(text, "Hồ sơ") {
						t.Fatalf("%s/%s: not Vietnamese NFC:\n%s", kind, name, text)
					}
				} else {
					for _, r := range text {
						if r >= utf8.RuneSelf {
							t.Fatalf("%s/%s: %q is not GSM-7 ASCII in:\n%s", kind, name, r, text)
						}
					}
					if !strings.Contains(strings.ToLower(text), "ho so") {
						t.Fatalf("%s/%s: diacritics not removed as expected:\n%s", kind, name, text)
					}
				}
			}
		}
	}
	if got := phone.ASCII("Đã tiếp nhận hồ sơ – Ủy ban nhân dân xã Quảng Đức"); got != "Da tiep nhan ho so - Uy ban nhan dan xa Quang Duc" {
		t.Fatalf("ASCII = %q", got)
	}
}

// A province's file in the templates directory replaces the built-in text without a rebuild, with
// its own version; a file that does not parse is found by Check.
func TestSMSTemplatesAreOverriddenFromADirectory(t *testing.T) {
	dir := t.TempDir()
	custom := "Version: 3-tinh\n\nUBND tinh: ho so {{.Code}} da co ket qua. {{.LookupURL}}\n"
	if err := os.WriteFile(filepath.Join(dir, "result_ready.txt"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	templates := phone.Templates{Dir: dir}
	tmpl, err := templates.Load(notification.KindResultReady)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tmpl.Render(notification.SampleData())
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Version != "3-tinh" || !strings.HasPrefix(text, "UBND tinh: ho so 000.00.00.H01-261204-0001 da co ket qua.") {
		t.Fatalf("version %q, text %q", tmpl.Version, text)
	}
	if err := templates.Check(); err != nil {
		t.Fatal(err)
	}
	// A wording too long for its cap with the link in the middle: cut, the link whole and last.
	middle := "Version: 1\n\nHo so {{.Code}}, xem {{.LookupURL}} ngay. " + strings.Repeat("Loi nhac rat dai. ", 30) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "payment_due.txt"), []byte(middle), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err = templates.Load(notification.KindPaymentDue)
	if err != nil {
		t.Fatal(err)
	}
	sample := notification.SampleData()
	text, err = tmpl.Render(sample)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.RuneCountInString(text) > templates.Limit() || !strings.HasSuffix(text, sample.LookupURL) ||
		strings.Count(text, "https://") != 1 || !strings.HasPrefix(text, "Ho so "+sample.Code) {
		t.Fatalf("a long wording with the link inside renders as %q", text)
	}
	if err := os.WriteFile(filepath.Join(dir, "apology.txt"), []byte("Version: 1\n\n{{.NoSuchField}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := templates.Check(); err == nil || !strings.Contains(err.Error(), "apology") {
		t.Fatalf("Check = %v, want the apology template's error", err)
	}
}

// Numbers as applicants write them become the providers' forms; foreign numbers are not sent.
func TestPhoneNumbersInTheProvidersForms(t *testing.T) {
	for in, want := range map[string]string{
		"0912 345 678": "84912345678", "+84 912.345.678": "84912345678", "84912345678": "84912345678",
		"024 3825 1234": "842438251234", "+1 415 555 0100": "", "12345": "",
	} {
		got, ok := phone.International(in)
		if got != want || ok != (want != "") {
			t.Errorf("International(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got := phone.National("84912345678"); got != "0912345678" {
		t.Errorf("National = %q", got)
	}
	if got := phone.Scrub("số 0912345678, +84 912 345 678, 84912345678 và 0912.345.678 không nhận"); strings.ContainsAny(got, "0123456789") {
		t.Errorf("Scrub left digits: %q", got)
	}
	for _, kept := range []string{`Post "http://127.0.0.1:8080/x"`, "hồ sơ 000.00.00.H01-261204-0001", "CodeResult 103", "2026-03-02 09:15:30"} {
		if got := phone.Scrub(kept); got != kept {
			t.Errorf("Scrub(%q) = %q: not a phone number", kept, got)
		}
	}
}
