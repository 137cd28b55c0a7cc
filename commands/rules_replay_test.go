package commands_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// TestReplayAfterTheRulesAndCalendarChange records a dossier's life under the built-in calendar and
// rules, then changes both — other working hours, a new day off before the dossier's recorded
// appointment date, other numbers for the dossier's rule set — and loads it again: every recorded date, and both verdicts, are the same.
// New decisions use the new calendar for new dates, and the rule set the dossier kept.
func TestReplayAfterTheRulesAndCalendarChange(t *testing.T) {
	ctx := context.Background()
	vn := func(day, hour int) time.Time {
		return time.Date(2025, time.July, day, hour, 0, 0, 0, domain.VietnamTime)
	}
	clock := time.Date(2025, time.June, 30, 14, 0, 0, 0, domain.VietnamTime) // Monday, under NĐ 61
	app, _ := newApp(t, clock)
	app.Now = func() time.Time { return clock }
	desk, building := official(commands.RoleReception, authzCentre), authzBuilding
	receipt, err := app.Receive(ctx, desk, authzReceipt(domain.ChannelDirect))
	if err != nil {
		t.Fatal(err)
	}
	id := receipt.DossierID
	steps := []struct {
		at     time.Time
		caller commands.Caller
		in     commands.Input
	}{
		{vn(1, 9), desk, commands.TransferInput{ToUnit: "PQLXD", Step: "Thẩm định hồ sơ"}},
		{vn(1, 10), official(commands.RoleSpecialist, building), commands.RequestSupplementInput{MissingItems: []string{"Bản vẽ mặt cắt"}, Reason: "Thiếu bản vẽ"}},
		{vn(3, 10), desk, commands.SupplementInput{Components: []domain.Component{{Name: "Bản vẽ mặt cắt", Copies: 1}}}},
		{vn(4, 9), official(commands.RoleHead, building), commands.SuspendInput{Reason: "Chờ xác minh ranh giới"}},
		{vn(7, 9), official(commands.RoleHead, building), commands.ResumeInput{}},
	}
	for _, s := range steps {
		clock = s.at
		if _, err := app.Execute(ctx, s.caller, id, nil, s.in); err != nil {
			t.Fatalf("%s: %v", s.in.Action(), err)
		}
	}
	before, recorded, err := app.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	judgedAt := vn(20, 9)
	legal, indicator := before.LegalVerdict(judgedAt), before.IndicatorVerdict(judgedAt)
	if before.RulesVersion != domain.RulesND61 || before.DueDate.IsZero() || before.IndicatorDueDate.IsZero() || before.DueDate.Equal(before.IndicatorDueDate) {
		t.Fatalf("recorded: rules %q, due %v, indicator due %v", before.RulesVersion, before.DueDate, before.IndicatorDueDate)
	}

	app.Calendar, err = calendar.ParseConfig([]byte(`{
		"sessions": [{"start": "07:00", "end": "11:00"}, {"start": "13:30", "end": "17:30"}],
		"daysOff": [{"from": "2025-07-08", "reason": "Nghỉ theo quyết định của tỉnh"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	app.Rules, err = domain.ParseRulesConfig([]byte(`{"sets": [{"version": "nd61-2018", "max_apologies": 3, "supplement_notice_days": 10}]}`))
	if err != nil {
		t.Fatal(err)
	}
	after, replayed, err := app.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) || len(replayed) != len(recorded) {
		t.Errorf("the replay changed the dossier\nbefore: %+v\n after: %+v", before, after)
	}
	if l, i := after.LegalVerdict(judgedAt), after.IndicatorVerdict(judgedAt); l != legal || i != indicator {
		t.Errorf("verdicts changed: %+v → %+v, %+v → %+v", legal, l, indicator, i)
	}

	// New dates use the new calendar: 4 h from Monday 7/7 16:00 are 1.5 h until 17:30, none on
	// Tuesday 8/7 (a day off now) and 2.5 h from Wednesday 07:00: 09:30. The old calendar said
	// Tuesday 10:30.
	clock = vn(7, 16)
	res, err := app.Execute(ctx, official(commands.RoleSpecialist, building), id, nil, commands.TransferInput{ToUnit: "PQLXD", Step: "Bổ sung thẩm định", AllottedHours: 4})
	if err != nil {
		t.Fatal(err)
	}
	if want := vn(9, 9).Add(30 * time.Minute); !res.Dossier.StepDeadline.Equal(want) {
		t.Errorf("new step deadline %v, want %v under the new calendar", res.Dossier.StepDeadline, want)
	}
	// The dossier keeps NĐ 61 as recorded at its receipt: one apology, whatever the file says now.
	head := official(commands.RoleHead, building)
	if _, err := app.Execute(ctx, head, id, nil, commands.IssueApologyInput{Reason: "Cần thêm thời gian", ExtraWorkingDays: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Execute(ctx, head, id, nil, commands.IssueApologyInput{Reason: "Lần nữa", ExtraWorkingDays: 2}); err == nil || !strings.Contains(err.Error(), "only once") {
		t.Errorf("second apology: %v, want it refused under the kept NĐ 61 set", err)
	}
}
