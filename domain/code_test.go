package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func TestNewDossierCode(t *testing.T) {
	cases := []struct {
		name string
		unit string
		at   time.Time
		seq  int
		want domain.DossierCode
	}{
		{"the real example", "000.00.06.H56", vn(2023, time.October, 27, 9, 15), 361, "000.00.06.H56-231027-0361"},
		{"the first of the day", receivingUnit, receivedAt, 1, "000.00.01.H56-250310-0001"},
		{"the last of the day", receivingUnit, receivedAt, domain.MaxDailySequence, "000.00.01.H56-250310-9999"},
		// 17:30 UTC on 26/10 is 00:30 on 27/10 in Vietnam: the code carries the Vietnamese date.
		{"just after midnight in Vietnam", "000.00.06.H56", time.Date(2023, time.October, 26, 17, 30, 0, 0, time.UTC), 1, "000.00.06.H56-231027-0001"},
		{"a ministry unit", "000.00.00.G12", vn(2026, time.January, 5, 8, 0), 42, "000.00.00.G12-260105-0042"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.NewDossierCode(tc.unit, tc.at, tc.seq)
			if err != nil || got != tc.want {
				t.Fatalf("NewDossierCode = %q, %v; want %q", got, err, tc.want)
			}
			parsed, err := domain.ParseDossierCode(string(got))
			want := domain.DossierCodeParts{Code: got, Unit: tc.unit, Day: domain.DayKey(tc.at), Seq: tc.seq}
			if err != nil || parsed != want {
				t.Errorf("ParseDossierCode(%q) = %+v, %v; want %+v", got, parsed, err, want)
			}
		})
	}
}

func TestNewDossierCodeRefuses(t *testing.T) {
	cases := []struct {
		name string
		unit string
		seq  int
		code domain.ErrorCode
	}{
		{"a unit that is not a QCVN 102 identifier", "H56", 1, domain.EINVALID},
		{"a lowercase unit", "000.00.06.h56", 1, domain.EINVALID},
		{"sequence zero", "000.00.06.H56", 0, domain.ECONFLICT},
		{"the 10000th dossier of the day", "000.00.06.H56", domain.MaxDailySequence + 1, domain.ECONFLICT},
	}
	for _, tc := range cases {
		got, err := domain.NewDossierCode(tc.unit, receivedAt, tc.seq)
		if got != "" || domain.ErrorCodeOf(err) != tc.code {
			t.Errorf("%s: NewDossierCode = %q, %v; want a %s error", tc.name, got, err, tc.code)
		}
	}
}

func TestParseTheRealExample(t *testing.T) {
	parsed, err := domain.ParseDossierCode("000.00.06.H56-231027-0361")
	want := domain.DossierCodeParts{Code: "000.00.06.H56-231027-0361", Unit: "000.00.06.H56", Day: "231027", Seq: 361}
	if err != nil || parsed != want {
		t.Errorf("ParseDossierCode = %+v, %v; want %+v", parsed, err, want)
	}
}

func TestParseMalformedDossierCodes(t *testing.T) {
	for _, s := range []string{
		"",
		"000.00.06.H56",
		"000.00.06.H56-231027",
		"000.00.06.H56-231027-361",      // three-digit sequence
		"000.00.06.H56-231027-03610",    // five-digit sequence
		"000.00.06.H56-231027-0000",     // sequences start at 0001
		"000.00.06.H56-231327-0361",     // month 13
		"000.00.06.H56-230230-0361",     // 30 February
		"000.00.06.H56-2310270-361",     // misplaced dash
		"000.00.06.h56-231027-0361",     // lowercase province
		"00.00.06.H56-231027-0361",      // short first group
		"000.00.06.HH6-231027-0361",     // top group not a letter and two digits
		"000.00.06.H56_231027_0361",     // underscores
		" 000.00.06.H56-231027-0361",    // leading space
		"000.00.06.H56-231027-0361\n",   // trailing newline
		"000.00.06.H56-231027-0361-KQ1", // a result code
		"000.00.06.H56-２３１０２７-0361",     // full-width digits
	} {
		parsed, err := domain.ParseDossierCode(s)
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.EINVALID || parsed != (domain.DossierCodeParts{}) {
			t.Errorf("ParseDossierCode(%q) = %+v, %v; want EINVALID", s, parsed, err)
		}
	}
}

func TestResultCodeRoundTrip(t *testing.T) {
	for _, n := range []int{1, 2, 12} {
		s := domain.ResultCode("000.00.06.H56-231027-0361", n)
		code, got, err := domain.ParseResultCode(s)
		if err != nil || code != "000.00.06.H56-231027-0361" || got != n {
			t.Errorf("ParseResultCode(%q) = %q %d, %v", s, code, got, err)
		}
	}
	if got := domain.ResultCode("000.00.06.H56-231027-0361", 2); got != "000.00.06.H56-231027-0361-KQ2" {
		t.Errorf("ResultCode = %q", got)
	}
	for _, s := range []string{
		"000.00.06.H56-231027-0361",
		"000.00.06.H56-231027-0361-KQ",
		"000.00.06.H56-231027-0361-KQ0",
		"000.00.06.H56-231027-0361-KQx",
		"000.00.06.H56-231027-0361-KQ-1",
		"000.00.06.H56-231327-0361-KQ1",
		"KQ1",
	} {
		if code, n, err := domain.ParseResultCode(s); domain.ErrorCodeOf(err) != domain.EINVALID {
			t.Errorf("ParseResultCode(%q) = %q %d, %v; want EINVALID", s, code, n, err)
		}
	}
}

func TestValidUnitCode(t *testing.T) {
	for s, want := range map[string]bool{
		"000.00.06.H56": true,
		"000.00.00.H56": true,
		"G22.99.01.A00": true,
		"000.00.06.G12": true,
		"000.00.06.H5":  false,
		"000.00.06":     false,
		"000.00.06.56H": false,
		"000-00-06-H56": false,
		"":              false,
	} {
		if got := domain.ValidUnitCode(s); got != want {
			t.Errorf("ValidUnitCode(%q) = %v, want %v", s, got, want)
		}
	}
}
