package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

// receiveWith receives the fixture dossier at at for a procedure with the given limit, under book
// (nil: the built-in one), and returns the Received event.
func receiveWith(t *testing.T, limit domain.ResolutionTime, at time.Time, book *domain.RuleBook) domain.Received {
	t.Helper()
	cmd := commandFor(t, domain.ActionReceive).(domain.Receive)
	cmd.Procedure.ResolutionTime, cmd.At, cmd.Rules = limit, at, book
	events, err := domain.Decide(domain.Fold(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	e := events[0].(domain.Received)
	if e.Procedure.ResolutionTime != limit {
		t.Errorf("Received records the limit %+v, want %+v", e.Procedure.ResolutionTime, limit)
	}
	return e
}

func TestAppointmentOfLimitsInHoursAndWithinTheDay(t *testing.T) {
	sameDay := domain.ResolutionTime{SameDay: true}
	fourHours := domain.ResolutionTime{Hours: 4}
	oneDay := domain.ResolutionTime{Days: 1}
	// March 2026: Tuesday 10, Wednesday 11, Friday 13, Saturday 14, Monday 16. Sessions 07:30–11:30
	// and 13:00–17:00, cut-off 15:00.
	cases := []struct {
		name       string
		limit      domain.ResolutionTime
		receivedAt time.Time
		want       time.Time
	}{
		{"within the day, in the morning", sameDay, vn(2026, time.March, 10, 9, 0), vn(2026, time.March, 10, 17, 0)},
		{"within the day, at the cut-off", sameDay, vn(2026, time.March, 10, 15, 0), vn(2026, time.March, 10, 17, 0)},
		{"within the day, after the cut-off: the next working day", sameDay, vn(2026, time.March, 10, 15, 1), vn(2026, time.March, 11, 17, 0)},
		{"within the day, Friday after the cut-off: Monday", sameDay, vn(2026, time.March, 13, 16, 0), vn(2026, time.March, 16, 17, 0)},
		{"within the day, on a Saturday: Monday", sameDay, vn(2026, time.March, 14, 9, 0), vn(2026, time.March, 16, 17, 0)},
		{"within the day, before opening", sameDay, vn(2026, time.March, 10, 6, 0), vn(2026, time.March, 10, 17, 0)},
		{"four hours in the morning", fourHours, vn(2026, time.March, 10, 8, 0), vn(2026, time.March, 10, 13, 30)},
		// No cut-off for hours: 1 h on Tuesday, 3 h from Wednesday 07:30.
		{"four hours late in the afternoon", fourHours, vn(2026, time.March, 10, 16, 0), vn(2026, time.March, 11, 10, 30)},
		// The old catalog's "one working day" for a same-day procedure: 24 hours later.
		{"one working day", oneDay, vn(2026, time.March, 10, 9, 0), vn(2026, time.March, 11, 9, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := receiveWith(t, tc.limit, tc.receivedAt, nil).AppointmentDate; !got.Equal(tc.want) {
				t.Errorf("appointment %s, want %s", got.Format("Mon 2006-01-02 15:04"), tc.want.Format("Mon 2006-01-02 15:04"))
			}
		})
	}
}

func TestAfterCutoffCountingIsARuleSetOption(t *testing.T) {
	// Tuesday 10/3/2026 16:00, one working day. Practice (the built-in sets): from Wednesday 07:30,
	// due Wednesday 17:00. Counted from the receipt: 1 h on Tuesday and 7 h on Wednesday, 16:00.
	at := vn(2026, time.March, 10, 16, 0)
	if got := receiveWith(t, domain.ResolutionTime{Days: 1}, at, nil).AppointmentDate; !got.Equal(vn(2026, time.March, 11, 17, 0)) {
		t.Errorf("built-in rules: appointment %v", got)
	}
	book, err := domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd118-2025", "after_cutoff_counts_from": "receipt"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := receiveWith(t, domain.ResolutionTime{Days: 1}, at, book)
	if !e.AppointmentDate.Equal(vn(2026, time.March, 11, 16, 0)) || e.Rules.AfterCutoffCountsFrom != domain.CountFromReceipt {
		t.Errorf("counted from the receipt: appointment %v under %+v", e.AppointmentDate, e.Rules)
	}
	// The restart after a supplement follows the set the dossier kept, not the book.
	given := []domain.Event{e, transferred(), domain.SupplementRequested{MissingItems: []string{"Bản vẽ"}, Reason: "Thiếu", RequestNumber: 1, RequestedAt: vn(2026, time.March, 10, 16, 30)}}
	events, err := domain.Decide(domain.Fold(given...), domain.Supplement{Components: components(), At: vn(2026, time.March, 12, 16, 0), Calendar: cal})
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].(domain.Supplemented).NewAppointmentDate; !got.Equal(vn(2026, time.March, 13, 16, 0)) {
		t.Errorf("restart counted from the return at Thursday 16:00: %v, want Friday 16:00", got)
	}
	_, err = domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd118-2025", "after_cutoff_counts_from": "tomorrow"}]}`))
	if err == nil || !strings.Contains(err.Error(), "after_cutoff_counts_from") {
		t.Errorf("an unknown value = %v, want an error naming the key", err)
	}
	for _, percent := range []string{"0", "201"} {
		_, err = domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd118-2025", "apology_max_extension_percent": ` + percent + `}]}`))
		if err == nil || !strings.Contains(err.Error(), "apology_max_extension_percent") {
			t.Errorf("apology_max_extension_percent %s = %v, want an error naming the key", percent, err)
		}
	}
}

func TestApologyOfASameDayProcedureIsBoundedByOneWorkingDay(t *testing.T) {
	// Received Monday 9/3/2026 09:00, due the same day at 17:00; the apology, issued on Friday 6/3
	// — impossible in life, but the rule is what is tested — may promise at most Tuesday 17:00.
	e := receiveWith(t, domain.ResolutionTime{SameDay: true}, vn(2026, time.March, 9, 9, 0), nil)
	given := []domain.Event{e, transferred()}
	apology := domain.IssueApology{Reason: "Chờ xác minh", ExtraWorkingDays: 2, At: vn(2026, time.March, 6, 9, 0), Calendar: cal}
	thenInvalid(t, given, apology, "extra_working_days")
	apology.ExtraWorkingDays = 1
	events, err := domain.Decide(domain.Fold(given...), apology)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].(domain.ApologyIssued); !got.NewAppointmentDate.Equal(vn(2026, time.March, 10, 17, 0)) || !got.LatestAllowedDate.Equal(got.NewAppointmentDate) {
		t.Errorf("apology %+v", got)
	}
}

func TestParseCatalogChecksTheResolutionTime(t *testing.T) {
	cases := []struct {
		name, procedure string
		field           string // "" when the catalog is valid
	}{
		{"whole days", `"resolution_days": 15`, ""},
		{"working hours", `"resolution_hours": 4`, ""},
		{"within the day", `"resolution_same_day": true`, ""},
		{"none", ``, "procedures[0].resolution_days"},
		{"two forms", `"resolution_days": 1, "resolution_same_day": true`, "procedures[0].resolution_days"},
		{"too many days", `"resolution_days": 100000`, "procedures[0].resolution_days"},
		{"negative hours", `"resolution_hours": -4`, "procedures[0].resolution_hours"},
		{"a misspelt key", `"resolution_day": 15`, `unknown field "resolution_day"`},
		{"an unknown key", `"resolution_days": 15, "thoi_han": "15 ngày"`, `unknown field "thoi_han"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.procedure != "" {
				tc.procedure += ","
			}
			data := `{"agencies": [{"code": "000.00.41.H56", "name": "UBND phường", "departments": [{"code": "VP", "name": "Văn phòng"}]}],
			  "procedures": [{"code": "1.001193", "name": "Đăng ký khai sinh", "field": {"code": "HT", "name": "Hộ tịch"},
			    "competent_agency": "000.00.41.H56", ` + tc.procedure + ` "components": [], "online_level": "full",
			    "workflow": [{"name": "Ghi sổ", "unit": "VP", "role": "specialist", "allotted_hours": 2}]}]}`
			c, err := domain.ParseCatalog([]byte(data), cal)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("ParseCatalog = %v", err)
			case tc.field != "" && (err == nil || c != nil || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("ParseCatalog = %v, %v; want an error naming %s", c, err, tc.field)
			}
		})
	}
}

func TestApologyOfAnHourLimitedProcedureTakesADate(t *testing.T) {
	// Four working hours from Monday 9/3/2026 08:00: due 13:30. An apology issued the Friday before
	// may move it by four more working hours — 3.5 h to 17:00 and 0.5 h on Tuesday, to 08:00 — not
	// by a whole working day.
	e := receiveWith(t, domain.ResolutionTime{Hours: 4}, vn(2026, time.March, 9, 8, 0), nil)
	given := []domain.Event{e, transferred()}
	byDays := domain.IssueApology{Reason: "Chờ xác minh", ExtraWorkingDays: 1, At: vn(2026, time.March, 6, 9, 0), Calendar: cal}
	thenInvalid(t, given, byDays, "extra_working_days")
	tooLate := domain.IssueApology{Reason: "Chờ xác minh", NewAppointmentDate: vn(2026, time.March, 10, 8, 1), At: vn(2026, time.March, 6, 9, 0), Calendar: cal}
	thenInvalid(t, given, tooLate, "new_appointment_date")
	inTime := tooLate
	inTime.NewAppointmentDate = vn(2026, time.March, 10, 8, 0)
	events, err := domain.Decide(domain.Fold(given...), inTime)
	if err != nil {
		t.Fatal(err)
	}
	if got := events[0].(domain.ApologyIssued); !got.LatestAllowedDate.Equal(inTime.NewAppointmentDate) {
		t.Errorf("bound %v, want %v", got.LatestAllowedDate, inTime.NewAppointmentDate)
	}
}
