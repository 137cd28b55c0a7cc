package projections_test

import (
	"context"
	"testing"

	"github.com/motcua/motcua/projections"
)

// A read scope of no agency — the zero AgencyScope, or one agency named "" — covers no dossier in
// any read model, while every agency is asked for explicitly: an account without an agency can
// never read the whole province.
func TestAScopeOfNoAgencyReadsNothing(t *testing.T) {
	t.Parallel()
	s := runScenario(t, sqliteBackend(t), 40, 11)
	s.feed(t, append(scenarioViews(), projections.WorkQueueView{})...)
	ctx := context.Background()
	period := scenarioPeriods()["2026"]
	type counts struct{ resolution, late, ratings, queue int }
	count := func(scope projections.AgencyScope) counts {
		t.Helper()
		report, err := projections.ResolutionReportOf(ctx, s.db, scope, period)
		if err != nil {
			t.Fatal(err)
		}
		late, err := projections.LateDashboardOf(ctx, s.db, projections.LateFilter{Agency: scope, Period: period, Now: s.End, DueWithinDays: 3}, s.cal, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		satisfaction, err := projections.SatisfactionOf(ctx, s.db, scope, period)
		if err != nil {
			t.Fatal(err)
		}
		queue, err := projections.WorkQueueOf(ctx, s.db, projections.WorkQueueFilter{Agency: scope}, projections.PageRequest{}, s.cal, s.End)
		if err != nil {
			t.Fatal(err)
		}
		return counts{report.Total.ReceivedTotal, late.OpenOverdue.Total + late.ResolvedLate.Total + late.DueSoon.Total,
			satisfaction.Overall.Ratings, len(queue.Items)}
	}
	all := count(projections.AllAgencies())
	if all.resolution == 0 || all.late == 0 || all.ratings == 0 || all.queue == 0 {
		t.Fatalf("every agency: %+v — the scenario has nothing to leak, this test would prove nothing", all)
	}
	for name, scope := range map[string]projections.AgencyScope{"zero": {}, `OneAgency("")`: projections.OneAgency("")} {
		if got := count(scope); got != (counts{}) {
			t.Errorf("a %s scope reads %+v, want nothing (every agency reads %+v)", name, got, all)
		}
	}
}
