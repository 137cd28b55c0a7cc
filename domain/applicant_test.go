package domain_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/motcua/motcua/domain"
)

// "Nguyễn" typed two ways: precomposed (ễ is U+1EC5) and decomposed (e, combining circumflex U+0302,
// combining tilde U+0303), as some keyboards and PDF copies produce it.
const (
	precomposed = "Nguy\u1ec5n"
	decomposed  = "Nguye\u0302\u0303n"
)

func TestNormalizeMakesVietnameseComparable(t *testing.T) {
	if precomposed == decomposed {
		t.Fatal("the two spellings are the same bytes; the test proves nothing")
	}
	if utf8.RuneCountInString(precomposed) != 6 || utf8.RuneCountInString(decomposed) != 8 {
		t.Fatalf("rune counts %d and %d, want 6 and 8", utf8.RuneCountInString(precomposed), utf8.RuneCountInString(decomposed))
	}
	if got := domain.NormalizeText(decomposed); got != precomposed {
		t.Errorf("NormalizeText(decomposed) = %q (% x), want %q", got, got, precomposed)
	}
	if got := domain.NormalizeText(precomposed); got != precomposed {
		t.Errorf("NormalizeText changed the precomposed spelling to %q", got)
	}

	a := domain.Applicant{
		Type: domain.ApplicantCitizen, Name: "  " + decomposed + " Thi\u0323 Lan \n", IDNumber: " 038190001234 ",
		Phone: " 0912 345 678", Email: "lan.nguyen@example.vn ", Address: " Phu\u031bo\u031b\u0300ng Ha\u0323c Tha\u0300nh ",
	}.Normalize()
	want := domain.Applicant{
		Type: domain.ApplicantCitizen, Name: "Nguyễn Thị Lan", IDNumber: "038190001234",
		Phone: "0912 345 678", Email: "lan.nguyen@example.vn", Address: "Phường Hạc Thành",
	}
	if a != want {
		t.Errorf("Normalize = %+v\nwant %+v", a, want)
	}
}

func TestMaskedName(t *testing.T) {
	cases := []struct {
		applicant domain.Applicant
		want      string
	}{
		{domain.Applicant{Type: domain.ApplicantCitizen, Name: "Nguyễn Văn An"}, "N***** V** A*"},
		{domain.Applicant{Type: domain.ApplicantCitizen, Name: "Ê"}, "Ê"},
		{domain.Applicant{Type: domain.ApplicantCitizen, Name: "  Đặng   Thị  Ánh "}, "Đ*** T** Á**"},
		{domain.Applicant{Type: domain.ApplicantCitizen, Name: ""}, ""},
		// Organisations are bodies of record: their name is public.
		{domain.Applicant{Type: domain.ApplicantOrganization, Name: "Công ty TNHH Xây dựng Hạc Thành"}, "Công ty TNHH Xây dựng Hạc Thành"},
	}
	for _, tc := range cases {
		if got := tc.applicant.MaskedName(); got != tc.want {
			t.Errorf("MaskedName(%q) = %q, want %q", tc.applicant.Name, got, tc.want)
		}
	}
	// The masked name keeps one letter per word and never the rest.
	if masked := applicant().MaskedName(); strings.Contains(masked, "Lan") || strings.Contains(masked, "Nguyễn") {
		t.Errorf("MaskedName leaks the name: %q", masked)
	}
}

func TestApplicantValidate(t *testing.T) {
	cases := []struct {
		name      string
		applicant domain.Applicant
		fields    []string
	}{
		{"a citizen with a 12-digit ID", applicant(), nil},
		{"an enterprise branch with a 13-digit tax code", domain.Applicant{Type: domain.ApplicantOrganization, Name: "Công ty TNHH Hạc Thành", IDNumber: "2801234567-001"}, nil},
		{"an international phone number", domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lê Văn Tám", IDNumber: "038190001234", Phone: "+84 912.345.678"}, nil},
		{"nothing at all", domain.Applicant{}, []string{"a.type", "a.name", "a.id_number"}},
		{"an unknown type", domain.Applicant{Type: "robot", Name: "R2", IDNumber: "038190001234"}, []string{"a.type"}},
		{"an ID with letters", domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lan", IDNumber: "03819000123X"}, []string{"a.id_number"}},
		{"an ID too short", domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lan", IDNumber: "12345678"}, []string{"a.id_number"}},
		{"bad contacts", domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lan", IDNumber: "038190001234", Phone: "091-234", Email: "lan@example"},
			[]string{"a.phone", "a.email"}},
		{"a name too long", domain.Applicant{Type: domain.ApplicantCitizen, Name: strings.Repeat("ễ", 201), IDNumber: "038190001234"}, []string{"a.name"}},
		{"an address too long", domain.Applicant{Type: domain.ApplicantCitizen, Name: "Lan", IDNumber: "038190001234", Address: strings.Repeat("ư", 501)}, []string{"a.address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v domain.Validation
			tc.applicant.Validate(&v, "a")
			err := v.Err()
			if tc.fields == nil {
				if err != nil {
					t.Errorf("Validate = %v, want no error", err)
				}
				return
			}
			e, ok := err.(*domain.Error)
			if !ok || e.Code != domain.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields at fault %q, want %q", fields, tc.fields)
			}
		})
	}
}
