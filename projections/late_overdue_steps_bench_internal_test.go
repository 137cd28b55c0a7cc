package projections

import (
	"fmt"
	"testing"
)

// BenchmarkOverdueStepWrites works out the overdue steps' counter rows of a flush holding n
// changed lines, as process control's fold does at each flush of a catch-up (≈ 9 % of a new
// PostgreSQL node's CPU at 1 M dossiers, session 22).
func BenchmarkOverdueStepWrites(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			base := overdueStepChangesOf(n)
			b.ReportAllocs()
			for b.Loop() {
				changes := make(overdueStepChanges, len(base))
				for k, v := range base {
					changes[k] = v
				}
				writes := ProcessControlView{}.overdueStepWrites(changes)
				if len(writes[0].rows) != n {
					b.Fatalf("%d lines' rows, want %d", len(writes[0].rows), n)
				}
			}
		})
	}
}

// overdueStepChangesOf are n lines' changes over a province's agencies, units and officials.
func overdueStepChangesOf(n int) overdueStepChanges {
	changes := overdueStepChanges{}
	for i := range n {
		row := overdueStepRow{scope: "agency", span: "day", start: civilDayOf(2026, 1, 1) + civilDay(i%365),
			competent: fmt.Sprintf("000.00.%02d.H56", i%40), receiving: fmt.Sprintf("000.%02d.00.H56", i%17),
			field: fmt.Sprintf("F%03d", i%90), proc: fmt.Sprintf("1.%06d", i%700),
			unit: fmt.Sprintf("U%03d", i%300), official: fmt.Sprintf("official-%05d", i), deadline: ""}
		changes[row] = &overdueStepSums{endedSteps: 1, endedCentihours: int64(i % 900), officialName: fmt.Sprintf("Cán bộ %d", i)}
	}
	return changes
}
