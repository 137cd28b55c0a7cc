package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// TestLateDashboardLateAcceptancesAtEveryNow counts the late acceptances — online submissions
// answered or withdrawn after their acceptance deadline, and those not answered yet once now
// passes it — at moments around each deadline, over periods cut at the submissions' days, with
// every filter the dashboard takes: the list's total (from the counters of the pending
// submissions, less those whose deadline is still ahead) must equal what the books say and the
// list paged through, live and after a rebuild, on both databases.
func TestLateDashboardLateAcceptancesAtEveryNow(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, b backend, name string) {
		s := newScenario(t, b)
		books := playLateAcceptances(t, s)
		s.feed(t, projections.ProcessControlView{})
		checkLateAcceptances(t, s, books, "live")
		if name == "sqlite" {
			checkPendingReadsFromNowOn(t, s)
		}
		rebuilder := &engine.Rebuilder{Store: s.store, DB: s.db, Dialect: s.dialect, Consumers: []engine.Consumer{projections.ProcessControlView{}},
			BatchSize: 3, Logger: slog.New(slog.DiscardHandler)}
		if _, err := rebuilder.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkLateAcceptances(t, s, books, "rebuilt")
	})
}

// playLateAcceptances submits online dossiers at the justice desk and the centre's (two
// procedures of two fields), each due for an answer within 8 working hours: some never
// answered, one accepted late, one withdrawn late, one accepted in time, one submitted on the last
// afternoon of March and due for an answer on the first of April.
func playLateAcceptances(t *testing.T, s *scenario) []*dossierBook {
	t.Helper()
	procedure, _ := s.app.Catalog().Procedure("2.000908")
	other, _ := s.app.Catalog().Procedure("2.001417")
	if other.Code == "" || other.Field.Code == procedure.Field.Code {
		t.Fatalf("procedure 2.001417 (%+v) is not of another field than %s's", other, procedure.Code)
	}
	justiceDesk, centreDesk := s.staff[justice][0], s.staff[centre][0]
	var books []*dossierBook
	submit := func(desk official, p domain.Procedure, year int, month time.Month, day, hour int) *dossierBook {
		t.Helper()
		s.clock = time.Date(year, month, day, hour, 0, 0, 0, domain.VietnamTime)
		b := &dossierBook{Index: 950 + len(books), Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelOnline,
			ReceivingUnit: desk.Agency, CompetentAgency: p.CompetentAgency, Procedure: p}
		if !s.receive(b, desk) {
			t.Fatal(s.err)
		}
		books = append(books, b)
		return b
	}
	act := func(b *dossierBook, who official, in commands.Input, year int, month time.Month, day, hour int) {
		t.Helper()
		s.clock = time.Date(year, month, day, hour, 0, 0, 0, domain.VietnamTime)
		if !s.act(b, who, in) {
			t.Fatal(s.err)
		}
	}
	// Thursday 5 March 08:00, due for an answer on Friday at 08:00.
	submit(justiceDesk, procedure, 2026, time.March, 5, 8)
	submit(centreDesk, other, 2026, time.March, 5, 8)
	acceptedLate := submit(justiceDesk, procedure, 2026, time.March, 5, 8)
	withdrawnLate := submit(centreDesk, procedure, 2026, time.March, 5, 8)
	acceptedInTime := submit(justiceDesk, other, 2026, time.March, 5, 9)
	// Friday 6 March 10:00, due on Monday at 10:00; Monday 9 March 08:00, due on Tuesday at 08:00.
	submit(justiceDesk, other, 2026, time.March, 6, 10)
	submit(centreDesk, procedure, 2026, time.March, 9, 8)
	// Tuesday 31 March 16:00, due on Wednesday 1 April.
	submit(justiceDesk, procedure, 2026, time.March, 31, 16)
	act(acceptedInTime, justiceDesk, &commands.AcceptInput{}, 2026, time.March, 5, 14)
	act(acceptedLate, justiceDesk, &commands.AcceptInput{}, 2026, time.March, 9, 9)
	act(withdrawnLate, centreDesk, commands.WithdrawInput{Reason: "Nộp nhầm thủ tục"}, 2026, time.March, 9, 10)
	return books
}

// checkLateAcceptances compares the late acceptances' totals with the books at each now: the
// answered ones late whenever read (their answer is in the log), the pending ones late once now
// passes their deadline.
func checkLateAcceptances(t *testing.T, s *scenario, books []*dossierBook, when string) {
	t.Helper()
	ctx := context.Background()
	at := func(month time.Month, day, hour, minute, second int) time.Time {
		return time.Date(2026, month, day, hour, minute, second, 0, domain.VietnamTime)
	}
	var nows []time.Time
	for _, b := range books {
		d := b.AcceptanceDeadline
		nows = append(nows, d.Add(-time.Second), d, d.Add(time.Second))
	}
	nows = append(nows, at(time.March, 5, 12, 0, 0), at(time.April, 20, 10, 0, 0))
	day := func(month time.Month, d int) time.Time { return at(month, d, 0, 0, 0) }
	periods := map[string]projections.Period{
		"March": month(2026, time.March), "5 March": {From: day(time.March, 5), To: day(time.March, 6)},
		"from 6 March": {From: day(time.March, 6)}, "until 9 March": {To: day(time.March, 9)}, "ever": {},
		"2026": {From: day(time.January, 1), To: time.Date(2027, 1, 1, 0, 0, 0, 0, domain.VietnamTime)},
	}
	procedure := books[0].Procedure
	filters := map[string]projections.LateFilter{
		"all": {Agency: projections.AllAgencies()}, "justice": {Agency: projections.OneAgency(justice)}, "centre": {Agency: projections.OneAgency(centre)},
		"building": {Agency: projections.OneAgency(building)}, "received at the centre": {Agency: projections.AllAgencies(), Unit: centre},
		"procedure": {Agency: projections.OneAgency(justice), Procedure: procedure.Code}, "field": {Agency: projections.AllAgencies(), Field: procedure.Field.Code},
	}
	var sawPendingLate, sawPendingNotYet, sawAnsweredLate bool
	for _, now := range nows {
		for periodName, period := range periods {
			for filterName, f := range filters {
				f.Period, f.Now = period, now
				where := fmt.Sprintf("%s, now %v: %s, %s", when, now.In(domain.VietnamTime).Format(time.DateTime), periodName, filterName)
				want := 0
				for _, b := range books {
					if !period.Contains(b.SubmittedAt) || !b.visibleTo(f.Agency.Agency()) || f.Unit != "" && b.ReceivingUnit != f.Unit ||
						f.Procedure != "" && b.Procedure.Code != f.Procedure || f.Field != "" && b.Procedure.Field.Code != f.Field {
						continue
					}
					answered := firstTime(b.RespondedAt, b.WithdrawnAt)
					switch {
					case answered.IsZero() && now.After(b.AcceptanceDeadline):
						want++
						sawPendingLate = true
					case answered.IsZero():
						sawPendingNotYet = true
					case answered.After(b.AcceptanceDeadline):
						want++
						sawAnsweredLate = true
					}
				}
				dash, err := projections.LateDashboardOf(ctx, s.db, f, s.cal, projections.PageRequest{Limit: firstPage})
				if err != nil {
					t.Fatal(err)
				}
				listed := latePages(t, s, f, projections.LateListLateAcceptances, dash.LateAcceptances, func(l projections.LateAcceptance) string { return l.DossierID })
				alone, err := projections.LateListPage(ctx, s.db, projections.LateListLateAcceptances, f, s.cal, projections.PageRequest{Limit: firstPage})
				if err != nil {
					t.Fatal(err)
				}
				if got := alone.(projections.Page[projections.LateAcceptance]).Total; dash.LateAcceptances.Total != want || len(listed) != want || got != want {
					t.Errorf("%s: %d late acceptances in all on the dashboard, %d on the list's own page, %d listed; want %d", where,
						dash.LateAcceptances.Total, got, len(listed), want)
				}
			}
		}
	}
	if !sawPendingLate || !sawPendingNotYet || !sawAnsweredLate {
		t.Errorf("no pending submission late (%v) or not yet (%v), or answered late (%v), was counted", sawPendingLate, sawPendingNotYet, sawAnsweredLate)
	}
}

// checkPendingReadsFromNowOn checks that the late acceptances' total reads, of the submissions
// not answered yet, the range of those whose deadline is now or later alone — a search of
// control_late's key from now on, each summary looked up by its key —, never the pending ones
// of the period before now, which the counters hold.
func checkPendingReadsFromNowOn(t *testing.T, s *scenario) {
	t.Helper()
	f := projections.LateFilter{Agency: projections.OneAgency(justice), Field: "HT", Period: month(2026, time.March),
		Now: time.Date(2026, 3, 9, 12, 0, 0, 0, domain.VietnamTime)}
	statement, args := projections.PendingNotLateStatement(s.db, f)
	plan, err := s.db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+statement, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var details []string
	for plan.Next() {
		var id, parent, unused int
		var detail string
		if err := plan.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		details = append(details, detail)
	}
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"SEARCH l USING PRIMARY KEY (list=? AND key>?)", "SEARCH d USING INDEX sqlite_autoindex_control_dossiers_1 (dossier_id=?)"}
	if strings.Join(details, "; ") != strings.Join(want, "; ") {
		t.Errorf("the pending submissions not late yet are read by\n%s\nwant\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}
}
