package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
)

func TestRuleBookSelectsBySetEffectiveDate(t *testing.T) {
	book := domain.DefaultRuleBook()
	cases := []struct {
		at   time.Time
		want string
	}{
		{vn(2017, time.January, 3, 8, 0), domain.RulesND61}, // before the first set: the first set
		{vn(2018, time.June, 21, 0, 0), domain.RulesND61},
		{vn(2025, time.June, 30, 23, 59), domain.RulesND61},
		{vn(2025, time.July, 1, 0, 0), domain.RulesND118},
		// Midnight of 1/7 in Vietnam is still 30/6 in UTC: the date is Vietnam's.
		{time.Date(2025, time.June, 30, 17, 0, 0, 0, time.UTC), domain.RulesND118},
		{vn(2026, time.November, 23, 9, 0), domain.RulesND118},
	}
	for _, tc := range cases {
		if got := book.At(tc.at).Version; got != tc.want {
			t.Errorf("At(%v) = %s, want %s", tc.at, got, tc.want)
		}
	}
	var nilBook *domain.RuleBook
	if got := nilBook.At(vn(2025, time.July, 1, 8, 0)); got.Version != domain.RulesND118 || got.OnlineAcceptanceHours != 8 {
		t.Errorf("a nil book is not the built-in one: %+v", got)
	}
	sets := book.Sets()
	if len(sets) != 2 || sets[0].Forms.ControlSheet != "05" || sets[1].Forms.ControlSheet != "06" || sets[0].Forms.StopNotice != "" || sets[1].Forms.StopNotice != "05" {
		t.Errorf("built-in sets: %+v", sets)
	}
}

// A dossier received on 30/6/2025 keeps the NĐ 61 set for life, one received on 1/7/2025 gets the
// NĐ 118 set; an online dossier filed on 30/6 and accepted on 1/7 was received under NĐ 118.
func TestReceiptRecordsTheRuleSetInForce(t *testing.T) {
	receive := func(at time.Time) domain.Received {
		t.Helper()
		cmd := commandFor(t, domain.ActionReceive).(domain.Receive)
		cmd.At = at
		events, err := domain.Decide(domain.Fold(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		return events[0].(domain.Received)
	}
	// Monday 30/6/2025 at 16:00 is after the cut-off: counted from Tuesday 1/7, yet received under NĐ 61.
	before := receive(vn(2025, time.June, 30, 16, 0))
	after := receive(vn(2025, time.July, 1, 8, 0))
	if before.RulesVersion != domain.RulesND61 || before.Rules.Version != domain.RulesND61 || !strings.Contains(before.Rules.Basis, "61/2018") {
		t.Errorf("30/6/2025: rules %q %+v", before.RulesVersion, before.Rules)
	}
	if after.RulesVersion != domain.RulesND118 || after.Rules.Version != domain.RulesND118 || !strings.Contains(after.Rules.Basis, "118/2025") {
		t.Errorf("1/7/2025: rules %q %+v", after.RulesVersion, after.Rules)
	}
	if d := domain.Fold(before); d.RulesVersion != domain.RulesND61 || d.Rules != before.Rules {
		t.Errorf("the dossier keeps %q", d.RulesVersion)
	}

	submit := commandFor(t, domain.ActionSubmit).(domain.Submit)
	submit.At = vn(2025, time.June, 30, 20, 0)
	events, err := domain.Decide(domain.Fold(), submit)
	if err != nil {
		t.Fatal(err)
	}
	filed := events[0].(domain.Submitted)
	accept := domain.Receive{Code: dossierCode, Procedure: procedure(), RatingSecretHash: "h", At: vn(2025, time.July, 1, 8, 0), Calendar: cal}
	events, err = domain.Decide(domain.Fold(filed), accept)
	if err != nil {
		t.Fatal(err)
	}
	if filed.RulesVersion != domain.RulesND61 || events[0].(domain.Received).RulesVersion != domain.RulesND118 {
		t.Errorf("filed under %q, accepted under %q; want NĐ 61 for the acceptance time, NĐ 118 for the dossier",
			filed.RulesVersion, events[0].(domain.Received).RulesVersion)
	}
}

// The numbers a dossier follows are those of its own set, recorded at receipt: a book that changes
// a number changes it for dossiers received under that set from then on, never for earlier ones.
func TestTheDossierFollowsItsOwnRuleSet(t *testing.T) {
	lenient, err := domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd118-2025", "max_apologies": 2, "online_acceptance_hours": 4}]}`))
	if err != nil {
		t.Fatal(err)
	}
	receive := func(at time.Time) []domain.Event {
		t.Helper()
		cmd := commandFor(t, domain.ActionReceive).(domain.Receive)
		cmd.At, cmd.Rules = at, lenient
		events, err := domain.Decide(domain.Fold(), cmd)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	apologise := func(history []domain.Event, at time.Time) ([]domain.Event, error) {
		d := domain.Fold(history...)
		return domain.Decide(d, domain.IssueApology{Reason: "Chờ ý kiến", NewAppointmentDate: cal.AddWorkingDays(d.AppointmentDate, 5), At: at, Calendar: cal})
	}

	// Received on 30/6: the NĐ 61 set, untouched by the file — one apology only.
	old := receive(vn(2025, time.June, 30, 9, 0))
	first, err := apologise(old, vn(2025, time.July, 2, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apologise(extend(old, first...), vn(2025, time.July, 3, 9, 0)); !strings.Contains(errString(err), "only once") {
		t.Errorf("second apology under NĐ 61: %v", err)
	}

	// Received on 1/7: the changed NĐ 118 set — two apologies, then no more.
	recent := receive(vn(2025, time.July, 1, 9, 0))
	if v := recent[0].(domain.Received).RulesVersion; !strings.HasPrefix(v, domain.RulesND118+"+") {
		t.Errorf("a changed set is recorded as %q, want %s+<hash>", v, domain.RulesND118)
	}
	history := recent
	for i := range 2 {
		events, err := apologise(history, vn(2025, time.July, 2+i, 9, 0))
		if err != nil {
			t.Fatalf("apology %d under the changed NĐ 118: %v", i+1, err)
		}
		history = extend(history, events...)
	}
	if _, err := apologise(history, vn(2025, time.July, 4, 9, 0)); !strings.Contains(errString(err), "at most 2 times") {
		t.Errorf("third apology: %v", err)
	}
	if d := domain.Fold(history...); d.Apologies != 2 || !d.DueDate.Equal(d.FirstAppointment) || d.AppointmentDate.Equal(d.FirstAppointment) {
		t.Errorf("after two apologies: %d, due %v, appointment %v, first %v", d.Apologies, d.DueDate, d.AppointmentDate, d.FirstAppointment)
	}

	// The same file gives online dossiers filed from 1/7/2025 four working hours: Tuesday 08:00–12:30.
	submit := commandFor(t, domain.ActionSubmit).(domain.Submit)
	submit.At, submit.Rules = vn(2025, time.July, 1, 8, 0), lenient
	events, err := domain.Decide(domain.Fold(), submit)
	if err != nil {
		t.Fatal(err)
	}
	if e := events[0].(domain.Submitted); !e.AcceptanceDeadline.Equal(vn(2025, time.July, 1, 13, 30)) {
		t.Errorf("acceptance deadline %v, want Tuesday 13:30 (3.5 h before noon, 0.5 h after)", e.AcceptanceDeadline)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestTransferDeadline(t *testing.T) {
	rules := domain.DefaultRuleBook().At(vn(2026, time.January, 1, 0, 0))
	cases := []struct {
		name       string
		receivedAt time.Time
		want       time.Time
	}{
		{"a working morning", vn(2026, time.March, 9, 8, 0), vn(2026, time.March, 9, 17, 0)},
		{"before the desk opens", vn(2026, time.March, 9, 6, 0), vn(2026, time.March, 9, 17, 0)},
		{"in the lunch break", vn(2026, time.March, 9, 12, 0), vn(2026, time.March, 9, 17, 0)},
		{"15:00 sharp", vn(2026, time.March, 9, 15, 0), vn(2026, time.March, 9, 17, 0)},
		{"15:01", vn(2026, time.March, 9, 15, 1), vn(2026, time.March, 10, 7, 30)},
		{"after the desk closes", vn(2026, time.March, 9, 17, 30), vn(2026, time.March, 10, 7, 30)},
		{"Friday 16:55", vn(2026, time.March, 6, 16, 55), vn(2026, time.March, 9, 7, 30)},
		{"a Saturday", vn(2026, time.March, 7, 9, 0), vn(2026, time.March, 9, 7, 30)},
		{"a make-up Saturday", vn(2026, time.January, 10, 9, 0), vn(2026, time.January, 10, 17, 0)},
		{"the afternoon before Tết", vn(2026, time.February, 13, 16, 0), vn(2026, time.February, 23, 7, 30)},
	}
	for _, tc := range cases {
		if got := rules.TransferDeadline(cal, tc.receivedAt); !got.Equal(tc.want) {
			t.Errorf("%s: TransferDeadline(%v) = %v, want %v", tc.name, tc.receivedAt, got, tc.want)
		}
	}
	rules.TransferSameWorkingDay = false
	if got := rules.TransferDeadline(cal, vn(2026, time.March, 9, 8, 0)); !got.IsZero() {
		t.Errorf("without the rule: %v, want none", got)
	}
}

func TestParseRulesConfig(t *testing.T) {
	book, err := domain.ParseRulesConfig([]byte(`{"sets": [
		{"version": "nd118-2025", "supplement_notice_days": 5},
		{"version": "nd224-2026", "effective_from": "2026-07-01", "basis": "Nghị định 224/2026/NĐ-CP", "online_acceptance_hours": 4},
		{"version": "local-2019", "effective_from": "2019-01-01", "based_on": "nd118-2025", "transfer_same_working_day": false}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range book.Sets() {
		versions = append(versions, strings.SplitN(r.Version, "+", 2)[0])
	}
	if !slices.Equal(versions, []string{domain.RulesND61, "local-2019", domain.RulesND118, "nd224-2026"}) {
		t.Fatalf("sets %q", versions)
	}
	nd61 := book.At(vn(2018, time.July, 1, 0, 0))
	if nd61 != domain.DefaultRuleBook().At(vn(2018, time.July, 1, 0, 0)) {
		t.Errorf("NĐ 61 changed: %+v", nd61)
	}
	nd118 := book.At(vn(2025, time.July, 1, 0, 0))
	if nd118.SupplementNoticeDays != 5 || nd118.OnlineAcceptanceHours != 8 || !strings.HasPrefix(nd118.Version, "nd118-2025+") || len(nd118.Version) != len("nd118-2025+")+8 {
		t.Errorf("changed NĐ 118: %+v", nd118)
	}
	// A new set starts from the set in force the day before: the changed NĐ 118.
	nd224 := book.At(vn(2026, time.July, 1, 0, 0))
	if nd224.Version != "nd224-2026" || nd224.OnlineAcceptanceHours != 4 || nd224.SupplementNoticeDays != 5 || nd224.Forms.ControlSheet != "06" {
		t.Errorf("new set: %+v", nd224)
	}
	if local := book.At(vn(2019, time.June, 1, 0, 0)); local.Version != "local-2019" || local.TransferSameWorkingDay || local.Forms.StopNotice != "05" {
		t.Errorf("set based on NĐ 118: %+v", local)
	}

	refusals := []struct {
		name, file string
		fields     []string
	}{
		{"a misspelt key", `{"sets": [{"version": "nd118-2025", "max_apology": 2}]}`, nil},
		{"data after the object", `{"sets": []} {}`, nil},
		{"no version", `{"sets": [{"max_apologies": 2}]}`, []string{"sets[0].version"}},
		{"a '+' in the version", `{"sets": [{"version": "nd118-2025+abc"}]}`, []string{"sets[0].version"}},
		{"a new set without a date", `{"sets": [{"version": "x"}]}`, []string{"sets[0].effective_from"}},
		{"a bad date", `{"sets": [{"version": "x", "effective_from": "01/07/2026"}]}`, []string{"sets[0].effective_from"}},
		{"an unknown base", `{"sets": [{"version": "x", "effective_from": "2026-07-01", "based_on": "nd1-1990"}]}`, []string{"sets[0].based_on"}},
		{"a base for a built-in set", `{"sets": [{"version": "nd61-2018", "based_on": "nd118-2025"}]}`, []string{"sets[0].based_on"}},
		{"numbers out of range", `{"sets": [{"version": "nd118-2025", "online_acceptance_hours": 0, "max_apologies": -1, "supplement_notice_days": 99}]}`,
			[]string{"sets[0].online_acceptance_hours", "sets[0].supplement_notice_days", "sets[0].max_apologies"}},
		{"two sets on one day", `{"sets": [{"version": "x", "effective_from": "2025-07-01"}]}`, []string{"sets"}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			book, err := domain.ParseRulesConfig([]byte(tc.file))
			var e *domain.Error
			if book != nil || !errors.As(err, &e) || e.Code != domain.EINVALID {
				t.Fatalf("ParseRulesConfig = %v, %v; want an EINVALID error", book, err)
			}
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields %q, want %q (%v)", fields, tc.fields, err)
			}
		})
	}
}
