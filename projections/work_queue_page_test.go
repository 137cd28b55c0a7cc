package projections_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/domain/calendar"
	"github.com/motcua/motcua/projections"
)

// allPages follows a queue's pages of limit items from the first to the last, failing the test
// when a page holds more than limit items, when the total is not the number of items listed, or
// when an item comes twice.
func allPages(t testing.TB, db *sql.DB, f projections.WorkQueueFilter, limit int, cal *calendar.Calendar, now time.Time) []projections.WorkItem {
	t.Helper()
	items := []projections.WorkItem{}
	seen := map[string]bool{}
	total, estimated := -1, false
	for after, pages := projections.Cursor(nil), 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("the pages do not end")
		}
		page, err := projections.WorkQueueOf(context.Background(), db, f, projections.PageRequest{Limit: limit, After: after}, cal, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > limit {
			t.Fatalf("a page of limit %d holds %d items", limit, len(page.Items))
		}
		if total >= 0 && (page.Total != total || page.TotalEstimated != estimated) {
			t.Fatalf("the total changed from page to page: %d then %d", total, page.Total)
		}
		total, estimated = page.Total, page.TotalEstimated
		for _, it := range page.Items {
			if seen[it.DossierID] {
				t.Fatalf("dossier %s listed twice", it.DossierID)
			}
			seen[it.DossierID] = true
		}
		items = append(items, page.Items...)
		if page.Next == "" {
			break
		}
		if len(page.Items) < limit {
			t.Fatalf("a page of %d items before the last (limit %d)", len(page.Items), limit)
		}
		if after, err = projections.DecodeCursor(page.Next); err != nil {
			t.Fatal(err)
		}
	}
	if !estimated && total != len(items) {
		t.Fatalf("total %d, %d items listed", total, len(items))
	}
	return items
}

// queueGroup is an item's place in the order a holder acts in: overdue, then running by working
// hours left, then results waiting to be handed back, then paused.
func queueGroup(it projections.WorkItem) int {
	switch {
	case it.Paused:
		return 3
	case it.Overdue:
		return 0
	case it.Status == domain.StatusResultReady:
		return 2
	}
	return 1
}

// checkQueueOrder fails unless items come overdue first, then by working hours left, paused last.
func checkQueueOrder(t *testing.T, what string, items []projections.WorkItem) {
	t.Helper()
	for i := 1; i < len(items); i++ {
		a, b := items[i-1], items[i]
		ga, gb := queueGroup(a), queueGroup(b)
		if ga > gb {
			t.Errorf("%s: %s (group %d) before %s (group %d)", what, a.DossierID, ga, b.DossierID, gb)
		}
		if ga == 1 && gb == 1 && !a.DueAt.IsZero() && !b.DueAt.IsZero() && a.RemainingHours > b.RemainingHours {
			t.Errorf("%s: %s with %.2f h left before %s with %.2f h", what, a.DossierID, a.RemainingHours, b.DossierID, b.RemainingHours)
		}
	}
}

// queueOracle folds the scenario's log dossier by dossier with the domain's Evolve: the dossiers
// still in an agency's hands at the end, by id.
func queueOracle(t *testing.T, s *scenario) map[string]domain.Dossier {
	t.Helper()
	states := map[string]domain.Dossier{}
	for _, re := range s.log(t) {
		if !strings.HasPrefix(re.Stream, "dossier-") || !domain.IsDossierEvent(re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(re.Stream, "dossier-")
		states[id] = domain.Evolve(states[id], e)
	}
	queued := map[string]domain.Dossier{}
	for id, d := range states {
		if d.Status == domain.StatusSubmitted || d.Status == domain.StatusResultReady || d.Status.Open() {
			queued[id] = d
		}
	}
	return queued
}

func idsOf(items []projections.WorkItem) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.DossierID
	}
	slices.Sort(ids)
	return ids
}

// TestWorkQueuePagesAndScope plays a scenario and reads the work queue page by page under every
// scope and filter: the pages chain to exactly the dossiers an oracle folded from the raw events
// says are in the queue, each once, in the order a holder acts in; an agency sees exactly the
// dossiers it is involved in — inter-agency transfers and parallel parts included — and a scope of
// no agency nothing.
func TestWorkQueuePagesAndScope(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) backend{"sqlite": sqliteBackend, "postgres": postgresBackend} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := runScenario(t, open(t), 120, 1)
			s.feed(t, projections.WorkQueueView{})
			checkQueuePages(t, s)
		})
	}
}

func checkQueuePages(t *testing.T, s *scenario) {
	oracle := queueOracle(t, s)
	const limit = 3
	all := allPages(t, s.db, projections.WorkQueueFilter{Agency: projections.AllAgencies()}, limit, s.cal, s.End)
	if len(all) < 3*limit {
		t.Fatalf("%d dossiers queued: too few to chain pages", len(all))
	}
	var want []string
	for id := range oracle {
		want = append(want, id)
	}
	slices.Sort(want)
	if got := idsOf(all); !slices.Equal(got, want) {
		t.Fatalf("every agency's queue lists %d dossiers, the oracle %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	checkQueueOrder(t, "every agency", all)
	if queueGroup(all[0]) != 0 || queueGroup(all[len(all)-1]) != 3 {
		t.Errorf("the scenario's queue does not start overdue and end paused: the order is not tested")
	}

	agencies := map[string]bool{}
	for _, d := range oracle {
		for _, a := range []string{d.ReceivingUnit, d.CompetentAgency, d.HolderAgency} {
			agencies[a] = true
		}
		for _, p := range d.OpenParts {
			agencies[p.Agency] = true
		}
	}
	delete(agencies, "")
	throughWork := 0 // dossiers an agency sees only because it holds them or does a part
	for _, agency := range sortedKeys(agencies) {
		scope := projections.WorkQueueFilter{Agency: projections.OneAgency(agency)}
		got := allPages(t, s.db, scope, limit, s.cal, s.End)
		var want []string
		for id, d := range oracle {
			if d.AgencyInvolved(agency) {
				want = append(want, id)
				if agency != d.ReceivingUnit && agency != d.CompetentAgency {
					throughWork++
				}
			}
		}
		slices.Sort(want)
		if !slices.Equal(idsOf(got), want) {
			t.Errorf("agency %s sees %v, is involved in %v", agency, idsOf(got), want)
		}
		checkQueueOrder(t, agency, got)

		// Each filter keeps exactly the items of the agency's queue that match it.
		for _, filter := range []struct {
			name  string
			f     projections.WorkQueueFilter
			keeps func(projections.WorkItem) bool
		}{
			{"responsible", projections.WorkQueueFilter{Responsible: agency}, func(it projections.WorkItem) bool { return it.ResponsibleAgency == agency }},
			{"processing", projections.WorkQueueFilter{Status: domain.StatusProcessing}, func(it projections.WorkItem) bool { return it.Status == domain.StatusProcessing }},
			{"due within 3 days", projections.WorkQueueFilter{DueWithinDays: 3}, func(it projections.WorkItem) bool {
				return !it.Paused && it.Status != domain.StatusResultReady && !it.DueAt.IsZero() &&
					!it.DueAt.Before(s.End) && !it.DueAt.After(s.cal.AddWorkingDays(s.End, 3))
			}},
		} {
			f := filter.f
			f.Agency = scope.Agency
			var want []projections.WorkItem
			for _, it := range got {
				if filter.keeps(it) {
					want = append(want, it)
				}
			}
			if filtered := allPages(t, s.db, f, limit, s.cal, s.End); !slices.Equal(idsOf(filtered), idsOf(want)) {
				t.Errorf("agency %s, %s: %v, want %v", agency, filter.name, idsOf(filtered), idsOf(want))
			}
		}
	}
	if throughWork == 0 {
		t.Error("no dossier is seen by an agency through a transfer or a part: the scope of inter-agency work is not tested")
	}

	// Filters on every agency's queue: a holder, a unit, a procedure, a field.
	sample := all[len(all)/2]
	sampleState := oracle[sample.DossierID]
	for _, filter := range []struct {
		name  string
		f     projections.WorkQueueFilter
		keeps func(projections.WorkItem) bool
	}{
		{"unit", projections.WorkQueueFilter{Unit: sample.HolderUnit}, func(it projections.WorkItem) bool { return it.HolderUnit == sample.HolderUnit }},
		{"procedure", projections.WorkQueueFilter{ProcedureCode: sample.ProcedureCode}, func(it projections.WorkItem) bool { return it.ProcedureCode == sample.ProcedureCode }},
		{"field", projections.WorkQueueFilter{FieldCode: sampleState.Procedure.FieldCode}, func(it projections.WorkItem) bool {
			return oracle[it.DossierID].Procedure.FieldCode == sampleState.Procedure.FieldCode
		}},
		{"official", projections.WorkQueueFilter{OfficialID: sample.HolderOfficialID}, func(it projections.WorkItem) bool { return it.HolderOfficialID == sample.HolderOfficialID }},
	} {
		f := filter.f
		f.Agency = projections.AllAgencies()
		var want []projections.WorkItem
		for _, it := range all {
			if filter.keeps(it) {
				want = append(want, it)
			}
		}
		got := allPages(t, s.db, f, limit, s.cal, s.End)
		if len(want) == 0 || !slices.Equal(idsOf(got), idsOf(want)) {
			t.Errorf("%s: %v, want %v", filter.name, idsOf(got), idsOf(want))
		}
		checkQueueOrder(t, filter.name, got)
	}

	for name, scope := range map[string]projections.AgencyScope{"zero": {}, `OneAgency("")`: projections.OneAgency("")} {
		page, err := projections.WorkQueueOf(context.Background(), s.db, projections.WorkQueueFilter{Agency: scope}, projections.PageRequest{}, s.cal, s.End)
		if err != nil || len(page.Items) != 0 || page.Total != 0 || page.Next != "" {
			t.Errorf("a %s scope lists %+v (%v), want nothing", name, page, err)
		}
	}

	// The summary per agency counts each agency's own queue as its pages list it.
	summary, err := projections.WorkQueueSummaryOf(context.Background(), s.db, projections.AllAgencies(), 3, s.cal, s.End)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, row := range summary {
		items := allPages(t, s.db, projections.WorkQueueFilter{Agency: projections.AllAgencies(), Responsible: row.Agency}, projections.MaxPageSize, s.cal, s.End)
		var want projections.AgencyQueueSummary
		want.Agency, want.Open = row.Agency, len(items)
		for _, it := range items {
			switch {
			case it.Overdue:
				want.Overdue++
			case it.Paused:
				want.Paused++
				if it.Status == domain.StatusSupplementRequested {
					want.WaitingApplicant++
				}
			case it.Status != domain.StatusResultReady && !it.DueAt.IsZero() && !it.DueAt.After(s.cal.AddWorkingDays(s.End, 3)):
				want.DueSoon++
			}
		}
		if row != want {
			t.Errorf("summary %+v, its queue says %+v", row, want)
		}
		open += row.Open
	}
	if open != len(all) {
		t.Errorf("the agencies' summaries count %d open dossiers, every agency's queue lists %d", open, len(all))
	}

	// The overdue count of every queue its counters count — every dossier, each agency's own and
	// those it is involved in — is the number of its items overdue.
	queues := []projections.WorkQueueFilter{{Agency: projections.AllAgencies()}}
	for _, agency := range sortedKeys(agencies) {
		queues = append(queues, projections.WorkQueueFilter{Agency: projections.OneAgency(agency)},
			projections.WorkQueueFilter{Agency: projections.OneAgency(agency), Responsible: agency})
	}
	overdueSeen := 0
	for _, f := range queues {
		want := 0
		for _, it := range allPages(t, s.db, f, projections.MaxPageSize, s.cal, s.End) {
			if it.Overdue {
				want++
			}
		}
		got, err := projections.WorkQueueOverdueOf(context.Background(), s.db, f, s.cal, s.End)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("queue %+v: %d overdue counted, %d items overdue", f, got, want)
		}
		overdueSeen += want
	}
	if overdueSeen == 0 {
		t.Error("no queue holds an overdue dossier: the overdue counts are not tested")
	}
	checkQueueCounts(t, s.db)
	t.Logf("%d dossiers queued, %d agencies, %d seen through work", len(all), len(agencies), throughWork)
}

// checkQueueCounts fails unless work_queue_counts holds, row for row, what the queue's own rows
// count: every dossier, by responsible agency, by involved agency (its index rows) and by
// responsible agency involved, per rank and, for a running clock, per day due — and no row of zero.
func checkQueueCounts(t *testing.T, db *sql.DB) {
	t.Helper()
	want := map[string]int64{}
	rows, err := db.Query(`SELECT q.sort_rank, q.due_key, q.responsible_agency, a.agency FROM work_queue q
		JOIN work_queue_agencies a ON a.dossier_id = q.dossier_id AND a.sort_rank = q.sort_rank AND a.due_key = q.due_key AND a.code = q.code
		ORDER BY q.dossier_id, a.agency`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rank int
		var due, responsible, agency string
		if err := rows.Scan(&rank, &due, &responsible, &agency); err != nil {
			t.Fatal(err)
		}
		day := ""
		if rank == 0 {
			day = due[:10]
		}
		key := func(scope, agency string) string { return fmt.Sprintf("%s|%s|%d|%s", scope, agency, rank, day) }
		want[key("involved", agency)]++
		if agency == responsible {
			want[key("own", agency)]++
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err = db.Query(`SELECT sort_rank, due_key, responsible_agency FROM work_queue`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var rank int
		var due, responsible string
		if err := rows.Scan(&rank, &due, &responsible); err != nil {
			t.Fatal(err)
		}
		day := ""
		if rank == 0 {
			day = due[:10]
		}
		want[fmt.Sprintf("all||%d|%s", rank, day)]++
		want[fmt.Sprintf("responsible|%s|%d|%s", responsible, rank, day)]++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	rows, err = db.Query(`SELECT scope, agency, sort_rank, due_day, n FROM work_queue_counts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var scope, agency, day string
		var rank int
		var n int64
		if err := rows.Scan(&scope, &agency, &rank, &day, &n); err != nil {
			t.Fatal(err)
		}
		got[fmt.Sprintf("%s|%s|%d|%s", scope, agency, rank, day)] = n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !maps.Equal(got, want) {
		t.Errorf("work_queue_counts holds %d rows, the queue counts %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// A cursor the queue did not hand out is refused, not read as a position.
func TestWorkQueueRefusesAForeignCursor(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sqliteBackend(t))
	s.feed(t, projections.WorkQueueView{})
	for _, c := range []projections.Cursor{{"x"}, {"9", "a", "b", "c"}, {"0", "a", "b", ""}, {"a", "b", "c", "d"}} {
		_, err := projections.WorkQueueOf(context.Background(), s.db, projections.WorkQueueFilter{Agency: projections.AllAgencies()},
			projections.PageRequest{After: c}, s.cal, s.End)
		if !errors.Is(err, projections.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", fmt.Sprint(c), err)
		}
	}
}
