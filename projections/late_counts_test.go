package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// The late dashboard's period summaries come from counters the process-control fold keeps. Here a
// history made for the periods' edges — a dossier resolved late at the last instant of March and
// one at the first of April, an apology at the last instant of March, a step that ends exactly at
// a midnight that bounds a period, a dossier resolved on time after a late step (its step does not
// count), a written rejection after the due date, a dossier still open and overdue — is read over
// periods cut at those edges, with every filter the dashboard takes, and each summary is compared
// with what the raw events say, computed here from the log alone; then again after a rebuild.
func TestLateDashboardSummariesEqualTheEventsAtPeriodEdges(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, b backend, name string) {
		s := newScenario(t, b)
		playPeriodEdges(t, s)
		s.feed(t, projections.ProcessControlView{})
		checkLateSummaries(t, s, "live")
		checkLateRollups(t, s, "live")
		rebuilder := &engine.Rebuilder{Store: s.store, DB: s.db, Dialect: s.dialect, Consumers: []engine.Consumer{projections.ProcessControlView{}},
			BatchSize: 7, Logger: slog.New(slog.DiscardHandler)}
		if _, err := rebuilder.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkLateSummaries(t, s, "rebuilt")
		checkLateRollups(t, s, "rebuilt")
	})
}

// lateEdgesNow is when the summaries are read: Monday 20 April 2026, 10:00.
var lateEdgesNow = time.Date(2026, 4, 20, 10, 0, 0, 0, domain.VietnamTime)

// playPeriodEdges acts the history in time order. Every dossier is received on Thursday 5 March at
// 08:00; most are of procedure 2.000908 (3 working days: due Tuesday 10 March at 08:00, the review
// of 12 hours due Friday 6 March at 13:30), the two apologised ones of 2.001417 (10 working days:
// due Thursday 19 March at 08:00), as an apology must come a working day before the appointment.
func playPeriodEdges(t *testing.T, s *scenario) {
	t.Helper()
	procedure, _ := s.app.Catalog().Procedure("2.000908")
	longer, _ := s.app.Catalog().Procedure("2.001417")
	justiceDesk, centreDesk := s.staff[justice][0], s.staff[centre][0]
	specialist, other, signer := s.staff[justice][2], s.staff[justice][3], s.staff[justice][4]
	dossier := func(index int, desk official, p domain.Procedure) *dossierBook {
		return &dossierBook{Index: 900 + index, Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect,
			ReceivingUnit: desk.Agency, CompetentAgency: justice, Procedure: p}
	}
	lastOfMarch, firstOfApril := dossier(0, justiceDesk, procedure), dossier(1, centreDesk, procedure)
	apologised, onTime, midnightStep := dossier(2, justiceDesk, longer), dossier(3, centreDesk, procedure), dossier(4, justiceDesk, procedure)
	rejected, open, apologisedAtMidnight := dossier(5, centreDesk, procedure), dossier(6, centreDesk, procedure), dossier(7, centreDesk, longer)
	all := []*dossierBook{lastOfMarch, firstOfApril, apologised, onTime, midnightStep, rejected, open, apologisedAtMidnight}
	at := func(year int, month time.Month, day, hour, minute, second int) {
		s.clock = time.Date(year, month, day, hour, minute, second, 0, domain.VietnamTime)
	}
	must := func(ok bool) {
		t.Helper()
		if !ok {
			t.Fatal(s.err)
		}
	}
	review := func(to official) commands.TransferInput {
		return commands.TransferInput{ToUnit: "TP.HCTP", ToOfficialID: to.ID, ToOfficialName: to.Name, Step: "Thẩm định hồ sơ"}
	}
	toSign := commands.TransferInput{ToUnit: "TP.BGD", ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: "Trình ký"}
	approve := commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"}
	sign := func(b *dossierBook) {
		t.Helper()
		must(s.act(b, signer, commands.SignInput{DocumentNumber: fmt.Sprintf("%d/TP", b.Index), DocumentHash: strings.Repeat("ab", 32)}) &&
			s.act(b, signer, commands.MarkResultReadyInput{}))
	}

	at(2026, time.March, 5, 8, 0, 0)
	for i, b := range all {
		desk, reviewer := justiceDesk, specialist
		if b.ReceivingUnit == centre {
			desk = centreDesk
		}
		if i%2 == 1 {
			reviewer = other
		}
		must(s.receive(b, desk) && s.act(b, desk, review(reviewer)))
	}
	// Monday 9 March 09:30: five reviews end 5.5 working hours late.
	at(2026, time.March, 9, 9, 30, 0)
	for _, b := range []*dossierBook{lastOfMarch, firstOfApril, apologised, onTime} {
		must(s.act(b, s.staff[justice][2+b.Index%2], approve) && s.act(b, s.staff[justice][2+b.Index%2], toSign))
	}
	must(s.act(rejected, other, commands.AppraiseInput{Conclusion: domain.ConclusionReject, Opinion: "Không đủ điều kiện"}) && s.act(rejected, other, toSign))
	// Resolved on time the same morning: its late review is no late dossier's.
	at(2026, time.March, 9, 10, 0, 0)
	sign(onTime)
	// The last instant of 15 March: an apology; the first of 16 March: another, and a review
	// that ends exactly then.
	at(2026, time.March, 15, 23, 59, 59)
	must(s.act(apologised, signer, commands.IssueApologyInput{Reason: "Cần xác minh thêm", ExtraWorkingDays: 2}))
	at(2026, time.March, 16, 0, 0, 0)
	must(s.act(apologisedAtMidnight, signer, commands.IssueApologyInput{Reason: "Cần xác minh thêm", ExtraWorkingDays: 1}))
	must(s.act(midnightStep, specialist, approve) && s.act(midnightStep, specialist, toSign))
	at(2026, time.March, 17, 9, 0, 0)
	sign(midnightStep)
	// Resolved before its due date, after its apology: the apology counts, no late resolution.
	at(2026, time.March, 18, 9, 0, 0)
	must(s.act(apologisedAtMidnight, other, approve) && s.act(apologisedAtMidnight, other, toSign))
	sign(apologisedAtMidnight)
	at(2026, time.March, 31, 10, 0, 0)
	must(s.act(rejected, signer, commands.RejectInput{Reason: "Không đủ điều kiện theo quy định"}))
	// The last instant of March.
	at(2026, time.March, 31, 23, 59, 59)
	sign(lastOfMarch)
	// The first instant of April.
	at(2026, time.April, 1, 0, 0, 0)
	sign(firstOfApril)
	at(2026, time.April, 15, 10, 0, 0)
	sign(apologised)
}

// lateTruth is what the raw events say of one dossier.
type lateTruth struct {
	receiving, competent, procedure, field string
	due, resolvedAt, apologyAt             time.Time
	steps                                  []truthStep
}

type truthStep struct {
	unit, official    string
	deadline, endedAt time.Time
}

// lateTruths replays the log's dossier events, knowing only what this history does: receipts,
// transfers, apologies, results and rejections.
func lateTruths(t *testing.T, s *scenario) map[string]*lateTruth {
	t.Helper()
	truths := map[string]*lateTruth{}
	for _, re := range s.log(t) {
		if !domain.IsDossierEvent(re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		d := truths[re.Stream]
		end := func(at time.Time) {
			if last := &d.steps[len(d.steps)-1]; last.endedAt.IsZero() {
				last.endedAt = at
				if last.official == "" {
					last.official = re.Metadata.Actor.ID
				}
			}
		}
		switch e := e.(type) {
		case domain.Received:
			d = &lateTruth{receiving: e.ReceivingUnit, competent: e.CompetentAgency, procedure: e.Procedure.Code, field: e.Procedure.FieldCode,
				due: e.AppointmentDate}
			d.steps = append(d.steps, truthStep{unit: e.ReceivingUnit, official: re.Metadata.Actor.ID, deadline: e.TransferDeadline})
			truths[re.Stream] = d
		case domain.Transferred:
			end(e.TransferredAt)
			d.steps = append(d.steps, truthStep{unit: e.To.Unit, official: e.To.OfficialID, deadline: e.StepDeadline})
		case domain.ApologyIssued:
			d.apologyAt = e.IssuedAt
		case domain.ResultReady:
			if d.resolvedAt.IsZero() {
				end(e.ReadyAt)
				d.resolvedAt = e.ReadyAt
			}
		case domain.Rejected:
			end(e.RejectedAt)
			d.resolvedAt = e.RejectedAt
		}
	}
	return truths
}

func checkLateSummaries(t *testing.T, s *scenario, when string) {
	t.Helper()
	truths := lateTruths(t, s)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, domain.VietnamTime) }
	periods := map[string]projections.Period{
		"March": month(2026, time.March), "April": month(2026, time.April),
		"the last day of March": {From: day(time.March, 31), To: day(time.April, 1)}, "the first of April": {From: day(time.April, 1), To: day(time.April, 2)},
		"1–15 March": {From: day(time.March, 1), To: day(time.March, 16)}, "16–31 March": {From: day(time.March, 16), To: day(time.April, 1)},
		"2026": {From: day(time.January, 1), To: time.Date(2027, 1, 1, 0, 0, 0, 0, domain.VietnamTime)},
		"ever": {}, "from 16 March": {From: day(time.March, 16)}, "until April": {To: day(time.April, 1)},
	}
	filters := map[string]projections.LateFilter{
		"all": {Agency: projections.AllAgencies()}, "justice": {Agency: projections.OneAgency(justice)}, "centre": {Agency: projections.OneAgency(centre)},
		"building": {Agency: projections.OneAgency(building)}, "received at the centre": {Agency: projections.AllAgencies(), Unit: centre},
		"procedure": {Agency: projections.OneAgency(justice), Procedure: "2.000908"}, "field": {Agency: projections.AllAgencies(), Field: "HT"},
		"another field": {Agency: projections.AllAgencies(), Field: "XD"},
	}
	var sawResolved, sawApology, sawSteps bool
	for periodName, period := range periods {
		for filterName, f := range filters {
			f.Period, f.Now = period, lateEdgesNow
			where := fmt.Sprintf("%s: %s, %s", when, periodName, filterName)
			dash, err := projections.LateDashboardOf(context.Background(), s.db, f, s.cal, projections.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			want := wantLateSummaries(s, truths, f)
			got := gotLateSummaries(dash)
			if got != want {
				t.Errorf("%s:\n got %s\nwant %s", where, got, want)
			}
			sawResolved = sawResolved || strings.Contains(want, "resolved 1")
			sawApology = sawApology || strings.Contains(want, "apologies 1")
			sawSteps = sawSteps || strings.Contains(want, "steps")
		}
	}
	if !sawResolved || !sawApology || !sawSteps {
		t.Errorf("the history checks no late resolution (%v), apology (%v) or overrun step (%v)", sawResolved, sawApology, sawSteps)
	}
}

// checkLateRollups compares control_late_rollups with its line rows summed along each dimension:
// the unfiltered summaries read the one, filtered ones the other, and each group's figures must be
// the same whichever is read — for every scope, month and year, not only the periods checked
// against the events. Days have no rollups.
func checkLateRollups(t *testing.T, s *scenario, when string) {
	t.Helper()
	dossiers := func(column, dimension, name string) string {
		return `SELECT scope, span, period_start, '` + dimension + `', ` + column + `, ` + name + `, SUM(resolved_late), SUM(apologies), SUM(late_acceptances), 0, 0
			FROM control_late_counts WHERE span <> 'day' GROUP BY scope, span, period_start, ` + column
	}
	steps := func(column, dimension, name string) string {
		return `SELECT scope, span, period_start, '` + dimension + `', ` + column + `, ` + name + `, 0, 0, 0, SUM(overrun_steps), SUM(overrun_centihours)
			FROM control_late_counts WHERE span <> 'day' AND (` + column + ` <> '' OR '` + dimension + `' = 'unit') GROUP BY scope, span, period_start, ` + column
	}
	summed := strings.Join([]string{dossiers("competent_agency", "agency", "''"), dossiers("procedure_code", "procedure", "MAX(procedure_name)"),
		dossiers("field_code", "field", "MAX(field_name)"), steps("unit", "unit", "''"), steps("official_id", "official", "MAX(official_name)")}, " UNION ALL ")
	rollups := `SELECT scope, span, period_start, dimension, group_key, name, resolved_late, apologies, late_acceptances, overrun_steps, overrun_centihours
		FROM control_late_rollups`
	table := func(query string) string {
		rows, err := s.db.QueryContext(context.Background(), `SELECT * FROM (`+query+`) r ORDER BY 1, 2, 3, 4, 5`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var scope, span, start, dimension, key, name string
			var counts [5]int64
			if err := rows.Scan(&scope, &span, &start, &dimension, &key, &name, &counts[0], &counts[1], &counts[2], &counts[3], &counts[4]); err != nil {
				t.Fatal(err)
			}
			if counts == [5]int64{} {
				continue // a group whose counts all were taken back
			}
			out = append(out, fmt.Sprint(scope, " ", span, " ", start, " ", dimension, " ", key, " ", name, " ", counts))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, "\n")
	}
	want, got := table(summed), table(rollups)
	if want == "" {
		t.Fatalf("%s: no counter rows", when)
	}
	if got != want {
		t.Errorf("%s: the rollups are not their line rows summed:\n got %s\nwant %s", when, got, want)
	}
}

// wantLateSummaries computes the summaries from the raw events: each group's counts, each unit's
// and official's overrun steps and hours, in a canonical text.
func wantLateSummaries(s *scenario, truths map[string]*lateTruth, f projections.LateFilter) string {
	within := func(at time.Time) bool {
		return !at.IsZero() && (f.Period.From.IsZero() || !at.Before(f.Period.From)) && (f.Period.To.IsZero() || at.Before(f.Period.To))
	}
	lines := map[string][3]int{} // open overdue, resolved late, apologies
	steps := map[string][2]float64{}
	for _, d := range truths {
		if !f.Agency.All() && d.receiving != f.Agency.Agency() && d.competent != f.Agency.Agency() ||
			f.Unit != "" && d.receiving != f.Unit || f.Procedure != "" && d.procedure != f.Procedure || f.Field != "" && d.field != f.Field {
			continue
		}
		count := func(i int) {
			for _, key := range []string{"agency " + d.competent, "procedure " + d.procedure, "field " + d.field} {
				l := lines[key]
				l[i]++
				lines[key] = l
			}
		}
		overruns := func(until time.Time, running bool) {
			for _, st := range d.steps {
				end := st.endedAt
				if end.IsZero() && running {
					end = until
				}
				if st.deadline.IsZero() || end.IsZero() || !end.After(st.deadline) {
					continue
				}
				hours := s.workingHoursBetween(st.deadline, end)
				for _, key := range []string{"unit " + st.unit, "official " + st.official} {
					if key == "official " {
						continue
					}
					v := steps[key]
					steps[key] = [2]float64{v[0] + 1, v[1] + hours}
				}
			}
		}
		switch {
		case d.resolvedAt.IsZero() && lateEdgesNow.After(d.due):
			count(0)
			overruns(lateEdgesNow, true)
		case within(d.resolvedAt) && d.resolvedAt.After(d.due):
			count(1)
			overruns(d.resolvedAt, false)
		}
		if within(d.apologyAt) {
			count(2)
		}
	}
	var out []string
	for key, l := range lines {
		out = append(out, fmt.Sprintf("%s: open %d resolved %d apologies %d", key, l[0], l[1], l[2]))
	}
	for key, v := range steps {
		out = append(out, fmt.Sprintf("%s: steps %.0f hours %.2f", key, v[0], v[1]))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func gotLateSummaries(dash projections.LateDashboard) string {
	var out []string
	for _, by := range []struct {
		kind   string
		groups []projections.LateGroup
	}{{"agency", dash.ByAgency}, {"procedure", dash.ByProcedure}, {"field", dash.ByField}} {
		for _, g := range by.groups {
			out = append(out, fmt.Sprintf("%s %s: open %d resolved %d apologies %d", by.kind, g.Key, g.OpenOverdue, g.ResolvedLate, g.Apologies))
		}
	}
	for _, by := range []struct {
		kind   string
		groups []projections.OverrunGroup
	}{{"unit", dash.ByUnit}, {"official", dash.ByOfficial}} {
		for _, g := range by.groups {
			if g.OverrunSteps == 0 {
				continue // a unit listed for the overdue dossiers it holds
			}
			out = append(out, fmt.Sprintf("%s %s: steps %d hours %.2f", by.kind, g.Key, g.OverrunSteps, math.Round(g.OverrunHours*100)/100))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// The period summaries read counter rows in proportion to the lines and the calendar: years of
// history written beside a year's rows change nothing of what a year's summaries read, and
// SQLite reads ranges of the counters' key — of the rollups unfiltered, of the line rows under a
// filter on the lines.
func TestLateDashboardSummariesReadNoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newScenario(t, sqliteBackend(t))
	playPeriodEdges(t, s)
	s.feed(t, projections.ProcessControlView{})
	year := projections.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2027, 1, 1, 0, 0, 0, 0, domain.VietnamTime)}
	march := month(2026, time.March)
	filters := []projections.LateFilter{{Agency: projections.AllAgencies(), Period: year}, {Agency: projections.OneAgency(justice), Period: march},
		{Agency: projections.AllAgencies(), Period: projections.Period{From: time.Date(2026, 3, 17, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2026, 4, 2, 0, 0, 0, 0, domain.VietnamTime)}},
		{Agency: projections.AllAgencies(), Field: "HT", Period: year}, {Agency: projections.OneAgency(justice), Procedure: "2.000908", Period: march}}
	before := make([]int, len(filters))
	summaries := make([]string, len(filters))
	for i, f := range filters {
		f.Now = lateEdgesNow
		n, err := projections.LateCounterRowsRead(ctx, s.db, f)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%+v: no counter row read", f.Period)
		}
		before[i] = n
		dash, err := projections.LateDashboardOf(ctx, s.db, f, s.cal, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		summaries[i] = gotLateSummaries(dash)
	}
	// Ten years of history before: a late dossier a day in 2016–2025, each with a late step.
	if _, err := s.db.ExecContext(ctx, `WITH RECURSIVE days(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM days WHERE n < 3652)
		INSERT INTO control_late_counts (scope, span, period_start, competent_agency, receiving_unit, field_code, procedure_code, unit,
			official_id, procedure_name, field_name, official_name, resolved_late, apologies, overrun_steps, overrun_centihours)
		SELECT scope, span, period_start, '`+justice+`', '`+justice+`', 'HT', '2.000908', unit, official, 'x', 'x', official, 1 - steps, 0, steps, 100 * steps
		FROM (SELECT DISTINCT scope, span, CASE span WHEN 'day' THEN date('2016-01-01', '+' || n || ' days')
				WHEN 'month' THEN date('2016-01-01', '+' || (n / 31) || ' months') ELSE date('2016-01-01', '+' || (n / 366) || ' years') END AS period_start
			FROM days, (SELECT '*' AS scope UNION ALL SELECT '`+justice+`'), (SELECT 'day' AS span UNION ALL SELECT 'month' UNION ALL SELECT 'year')),
			(SELECT '' AS unit, '' AS official, 0 AS steps UNION ALL SELECT 'TP.HCTP', 'tp-cv1', 1)
		WHERE period_start < '2026-01-01'`); err != nil {
		t.Fatal(err)
	}
	// And their rollups.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO control_late_rollups (scope, span, period_start, dimension, group_key, name, resolved_late,
			overrun_steps, overrun_centihours)
		SELECT scope, span, period_start, 'agency', competent_agency, '', SUM(resolved_late), 0, 0 FROM control_late_counts
			WHERE period_start < '2026-01-01' AND span <> 'day' GROUP BY scope, span, period_start, competent_agency
		UNION ALL SELECT scope, span, period_start, 'unit', unit, '', 0, SUM(overrun_steps), SUM(overrun_centihours) FROM control_late_counts
			WHERE period_start < '2026-01-01' AND span <> 'day' GROUP BY scope, span, period_start, unit`); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM control_late_counts) + (SELECT COUNT(*) FROM control_late_rollups)`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	for i, f := range filters {
		f.Now = lateEdgesNow
		n, err := projections.LateCounterRowsRead(ctx, s.db, f)
		if err != nil {
			t.Fatal(err)
		}
		if n != before[i] {
			t.Errorf("%v–%v: the summaries read %d counter rows beside ten years of history, %d without it", f.Period.From, f.Period.To, n, before[i])
		}
		dash, err := projections.LateDashboardOf(ctx, s.db, f, s.cal, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if got := gotLateSummaries(dash); got != summaries[i] {
			t.Errorf("%v–%v: the history before the period changed the summaries:\n got %s\nwant %s", f.Period.From, f.Period.To, got, summaries[i])
		}
		statement, args, err := projections.LateCountsStatement(f)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+statement, args...)
		if err != nil {
			t.Fatal(err)
		}
		searches, rollupSearches := 0, 0
		for plan.Next() {
			var id, parent, unused int
			var detail string
			if err := plan.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(detail, "control_late_") {
				continue
			}
			searches++
			table := "control_late_counts"
			if strings.Contains(detail, "control_late_rollups") {
				table = "control_late_rollups"
				rollupSearches++
			}
			if !strings.Contains(detail, "SEARCH "+table+" USING PRIMARY KEY (scope=? AND span=? AND period_start>? AND period_start<?)") {
				t.Errorf("%+v: the summaries do not read a range of %s's key: %s", f, table, detail)
			}
		}
		if err := plan.Close(); err != nil {
			t.Fatal(err)
		}
		if searches == 0 {
			t.Error("the plan reads no counters")
		}
		// Unfiltered, a period of whole months and years is read from the rollups; its days, or
		// any range under a filter on the lines, from the line rows.
		wholeMonths := f.Period.From.Day() == 1 && f.Period.To.Day() == 1
		if unfiltered := f.Field == "" && f.Procedure == ""; (unfiltered && wholeMonths) != (rollupSearches == searches) || (!unfiltered && rollupSearches > 0) {
			t.Errorf("%+v: %d of %d ranges read from the rollups", f, rollupSearches, searches)
		}
	}
	t.Logf("a year's summaries read %d of %d counter rows", before[0], rows)
}
