package commands_test

import (
	"errors"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
)

// thenRefusedField runs in on dossier id and checks that it is refused as invalid input naming
// field, and that nothing was written.
func (r *authzRig) thenRefusedField(id string, caller commands.Caller, in commands.Input, field string) {
	r.t.Helper()
	before, _, err := r.app.Load(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	_, err = r.app.Execute(r.ctx, caller, id, nil, in)
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != field {
		r.t.Errorf("%s %+v = %v; want invalid input naming %s only", in.Action(), in, err, field)
	}
	if after, _, err := r.app.Load(r.ctx, id); err != nil || after.Version != before.Version {
		r.t.Errorf("the refused %s wrote: version %d → %d (%v)", in.Action(), before.Version, after.Version, err)
	}
}

// TestApologyDateIsBounded: the 5-day procedure received Monday 2/3/2026 08:00 is due Monday 9/3
// 08:00; an apology may promise at most five more working days, Monday 16/3 08:00.
func TestApologyDateIsBounded(t *testing.T) {
	r := newAuthzRig(t)
	id := stageProcessing(r)
	head := official(commands.RoleHead, authzBuilding)
	for _, tc := range []struct {
		in    commands.IssueApologyInput
		field string
	}{
		{commands.IssueApologyInput{Reason: "Chậm", ExtraWorkingDays: 1_000_000_000}, "extra_working_days"},
		{commands.IssueApologyInput{Reason: "Chậm", ExtraWorkingDays: 6}, "extra_working_days"},
		{commands.IssueApologyInput{Reason: "Chậm", ExtraWorkingDays: -1}, "extra_working_days"},
		{commands.IssueApologyInput{Reason: "Chậm", NewAppointmentDate: time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)}, "new_appointment_date"},
		{commands.IssueApologyInput{Reason: "Chậm", NewAppointmentDate: time.Date(2026, time.March, 15, 9, 0, 0, 0, domain.VietnamTime)}, "new_appointment_date"}, // a Sunday
		{commands.IssueApologyInput{Reason: "Chậm"}, "new_appointment_date"},
	} {
		r.thenRefusedField(id, head, tc.in, tc.field)
	}
	res, err := r.app.Execute(r.ctx, head, id, nil, commands.IssueApologyInput{Reason: "Chậm", ExtraWorkingDays: 5})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, time.March, 16, 8, 0, 0, 0, domain.VietnamTime); !res.Dossier.AppointmentDate.Equal(want) {
		t.Errorf("five more working days: %v, want %v", res.Dossier.AppointmentDate, want)
	}
}

func TestPaymentReceiptNumberIsRecordedOnce(t *testing.T) {
	r := newAuthzRig(t)
	id := stageAwaitingPayment(r)
	cashier := official(commands.RoleCashier, authzCentre)
	r.then(id, cashier, commands.PayInput{Amount: 50_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0007"})
	r.thenRefusedField(id, cashier, commands.PayInput{Amount: 50_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0007"}, "receipt_number")
	r.then(id, cashier, commands.PayInput{Amount: 100_000, Channel: domain.PaymentCash, ReceiptNumber: "BL-0008"})
}
