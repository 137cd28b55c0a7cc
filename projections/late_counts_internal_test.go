package projections

import (
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
)

// A correction that names another unit for a step a late-resolved dossier ended late moves the
// step's overrun from the old unit to the new one: what the counters hold for the dossier must be
// the list as written, not the list the fold changes in place.
func TestLateCountsMoveACorrectedStep(t *testing.T) {
	deadline := time.Date(2026, 3, 6, 13, 30, 0, 0, domain.VietnamTime)
	ended := time.Date(2026, 3, 9, 9, 30, 0, 0, domain.VietnamTime) // 5.5 working hours late
	d := &controlDossier{row: summaryRow{DossierID: "d-1", CompetentAgency: "A", ReceivingUnit: "A", FieldCode: "F", ProcedureCode: "P",
		ResolvedAt: time.Date(2026, 3, 20, 9, 0, 0, 0, domain.VietnamTime), ResolvedDueDate: time.Date(2026, 3, 10, 8, 0, 0, 0, domain.VietnamTime)}}
	step := &handoverRow{seq: 2000, toUnit: "U1", toID: "cb-1", deadline: deadline, endedAt: ended}
	d.log.rows = []*handoverRow{step}
	cal := calendar.Default()
	if !d.noteOverruns(cal) || len(d.overruns) != 1 || d.overruns[0].Centihours != 550 {
		t.Fatalf("overruns %+v, want one step of 5.5 hours", d.overruns)
	}
	d.counted = lateCountedOf(&d.row, d.overruns)
	step.stored, step.changed = true, false

	step.toUnit, step.toID, step.changed = "U2", "cb-2", true
	if !d.noteOverruns(cal) {
		t.Fatal("the corrected step is not noted")
	}
	now := lateCountedOf(&d.row, d.overruns)
	if now.equal(d.counted) {
		t.Fatal("the dossier's counts look unchanged after its step moved to another unit")
	}
	changes := lateCountChanges{}
	changes.count(d.counted, -1)
	changes.count(now, 1)
	day := dayOf(d.row.ResolvedAt)
	for unit, want := range map[string]int64{"U1": -1, "U2": 1} {
		official := map[string]string{"U1": "cb-1", "U2": "cb-2"}[unit]
		got := changes[lateCountKey{day: day, competent: "A", receiving: "A", field: "F", proc: "P", unit: unit, official: official}]
		if got == nil || got.steps != want || got.centihours != want*550 {
			t.Errorf("unit %s: %+v, want %d step of 5.5 hours", unit, got, want)
		}
	}
}
