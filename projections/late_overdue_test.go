package projections_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/engine"
	"github.com/motcua/motcua/projections"
)

// The late dashboard counts the open overdue dossiers — by agency, procedure, field and holding
// unit — from counters per statutory due day and today's entries of the list. Here dossiers due on
// many days — across the 30 April holiday and the new year, some paused before their due date
// (never overdue), some after (overdue however long the pause), one whose clock restarted after a
// supplement, one handed to another unit after its due date, one resolved late — are counted at
// many moments, with the list's total (a minute before, at and after each due moment, the midnights around it, days
// later, the first of a month and of a year), under every filter, and each count is compared
// with the open_overdue list itself paged through; live and after a rebuild, on SQLite and
// PostgreSQL, whose counter tables must be equal.
func TestLateDashboardOpenOverdueEqualsItsListAtEveryNow(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, b backend, name string) {
		s := newScenario(t, b)
		playOpenOverdue(t, s)
		s.feed(t, projections.ProcessControlView{})
		nows := openOverdueNows(t, s)
		checkOpenOverdue(t, s, "live", nows)
		checkNoPausedEarlyInOpenOverdue(t, s)
		live, liveSteps := overdueCountsTable(t, s), overdueStepsTable(t, s)
		rebuilder := &engine.Rebuilder{Store: s.store, DB: s.db, Dialect: s.dialect, Consumers: []engine.Consumer{projections.ProcessControlView{}},
			BatchSize: 5, Logger: slog.New(slog.DiscardHandler)}
		if _, err := rebuilder.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkOpenOverdue(t, s, "rebuilt", nows)
		if rebuilt := overdueCountsTable(t, s); rebuilt != live {
			t.Errorf("the rebuilt counters differ from the live ones:\n live %s\n rebuilt %s", live, rebuilt)
		}
		if rebuilt := overdueStepsTable(t, s); rebuilt != liveSteps {
			t.Errorf("the rebuilt steps' counters differ from the live ones:\n live %s\n rebuilt %s", liveSteps, rebuilt)
		}
	})
}

// checkNoPausedEarlyInOpenOverdue: a dossier in progress whose clock stopped before its due date
// can be overdue at no now, so the open overdue list does not hold it (its first page would walk
// them); the history has such dossiers, so the check is not empty.
func checkNoPausedEarlyInOpenOverdue(t *testing.T, s *scenario) {
	t.Helper()
	var pausedEarly, listed int
	if err := s.db.QueryRowContext(context.Background(), `SELECT
		(SELECT COUNT(*) FROM control_dossiers d WHERE d.paused_at IS NOT NULL AND d.paused_at <= d.due_date
			AND d.received_at IS NOT NULL AND d.resolved_at IS NULL AND d.closed_at IS NULL),
		(SELECT COUNT(*) FROM control_late l JOIN control_dossiers d ON d.dossier_id = l.dossier_id
			WHERE l.list = 'open_overdue' AND d.paused_at IS NOT NULL AND d.paused_at <= d.due_date)`).Scan(&pausedEarly, &listed); err != nil {
		t.Fatal(err)
	}
	if pausedEarly == 0 || listed != 0 {
		t.Errorf("%d dossiers paused before their due date, %d of them in the open overdue list: want some, none listed", pausedEarly, listed)
	}
}

// playOpenOverdue acts the history in time order: procedure 2.000908, 3 working days.
func playOpenOverdue(t *testing.T, s *scenario) {
	t.Helper()
	procedure, _ := s.app.Catalog().Procedure("2.000908")
	justiceDesk, centreDesk, head := s.staff[justice][0], s.staff[centre][0], s.staff[justice][1]
	specialist, signer := s.staff[justice][2], s.staff[justice][4]
	index := 0
	dossier := func(desk official) *dossierBook {
		index++
		b := &dossierBook{Index: 700 + index, Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect,
			ReceivingUnit: desk.Agency, CompetentAgency: justice, Procedure: procedure}
		s.Books = append(s.Books, b)
		return b
	}
	at := func(year int, month time.Month, day, hour, minute int) {
		s.clock = time.Date(year, month, day, hour, minute, 0, 0, domain.VietnamTime)
	}
	must := func(ok bool) {
		t.Helper()
		if !ok {
			t.Fatal(s.err)
		}
	}
	review := commands.TransferInput{ToUnit: "TP.HCTP", ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ"}
	toSign := commands.TransferInput{ToUnit: "TP.BGD", ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: "Trình ký"}
	approve := commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"}
	supplement := commands.RequestSupplementInput{MissingItems: []string{"Bản sao giấy khai sinh"}, Reason: "Thiếu giấy tờ"}

	// Thursday 5 March 08:00 (due Tuesday 10 March 08:00).
	at(2026, time.March, 5, 8, 0)
	reviewed, atDesk, pausedLate, pausedEarly := dossier(justiceDesk), dossier(justiceDesk), dossier(justiceDesk), dossier(justiceDesk)
	suspendedLate, movedOn, resolvedLate, restarted := dossier(justiceDesk), dossier(justiceDesk), dossier(justiceDesk), dossier(justiceDesk)
	atCentre := dossier(centreDesk)
	for _, b := range []*dossierBook{reviewed, atDesk, pausedLate, pausedEarly, suspendedLate, movedOn, resolvedLate, restarted} {
		must(s.receive(b, justiceDesk))
	}
	must(s.receive(atCentre, centreDesk) && s.act(atCentre, centreDesk, review))
	for _, b := range []*dossierBook{reviewed, pausedLate, pausedEarly, movedOn, resolvedLate, restarted} {
		must(s.act(b, justiceDesk, review))
	}
	// Friday 6 March: two supplements requested before the due date.
	at(2026, time.March, 6, 9, 0)
	must(s.act(pausedEarly, specialist, supplement) && s.act(restarted, specialist, supplement))
	// Wednesday 11 March, after the due date: a supplement requested, a suspension, a hand-over.
	at(2026, time.March, 11, 9, 0)
	must(s.act(pausedLate, specialist, supplement) && s.act(suspendedLate, head, commands.SuspendInput{Reason: "Chờ kết quả xác minh"}))
	must(s.act(movedOn, specialist, approve) && s.act(movedOn, specialist, toSign))
	// Friday 13 March: the supplement arrives, the clock restarts with a new due date.
	at(2026, time.March, 13, 14, 0)
	must(s.act(restarted, justiceDesk, commands.SupplementInput{}))
	// Monday 16 March: resolved late, it leaves the open set.
	at(2026, time.March, 16, 9, 0)
	must(s.act(resolvedLate, specialist, approve) && s.act(resolvedLate, specialist, toSign))
	must(s.act(resolvedLate, signer, commands.SignInput{DocumentNumber: "716/TP", DocumentHash: strings.Repeat("ab", 32)}) &&
		s.act(resolvedLate, signer, commands.MarkResultReadyInput{}))
	// Across the 30 April – 1 May holiday, and a Friday afternoon's.
	for _, when := range []struct {
		month            time.Month
		day, hour, minue int
	}{{time.April, 28, 15, 30}, {time.April, 29, 8, 0}, {time.May, 8, 16, 0}} {
		at(2026, when.month, when.day, when.hour, when.minue)
		b := dossier(justiceDesk)
		must(s.receive(b, justiceDesk) && s.act(b, justiceDesk, review))
	}
	// Across the new year.
	for _, day := range []int{28, 30} {
		at(2026, time.December, day, 10, 0)
		b := dossier(centreDesk)
		must(s.receive(b, centreDesk))
	}
}

// openOverdueNows are the moments the open overdue counts are read at: around each open
// dossier's due date (as the list says at the end of time) and each step's deadline, and the
// first of a month and a year.
func openOverdueNows(t *testing.T, s *scenario) []time.Time {
	t.Helper()
	end := time.Date(2030, 1, 1, 0, 0, 0, 0, domain.VietnamTime)
	var dues []time.Time
	for _, d := range openOverdueList(t, s, projections.LateFilter{Agency: projections.AllAgencies(), Now: end}) {
		dues = append(dues, d.DueDate)
	}
	if len(dues) < 10 {
		t.Fatalf("%d dossiers overdue at the end of time, want at least 10", len(dues))
	}
	nows := []time.Time{time.Date(2026, 4, 1, 0, 0, 0, 0, domain.VietnamTime), time.Date(2027, 1, 1, 0, 0, 0, 0, domain.VietnamTime),
		time.Date(2027, 1, 1, 10, 0, 0, 0, domain.VietnamTime), time.Date(2027, 2, 1, 9, 0, 0, 0, domain.VietnamTime), end}
	// Around each step's deadline too: a running step overruns from it, read from the handovers on
	// its day and from the counters after.
	for _, b := range s.Books {
		for _, h := range b.Handovers {
			if !h.Deadline.IsZero() {
				dues = append(dues, h.Deadline)
			}
		}
	}
	for _, due := range dues {
		y, m, d := due.In(domain.VietnamTime).Date()
		midnight := time.Date(y, m, d, 0, 0, 0, 0, domain.VietnamTime)
		// An hour and two later: read from the counters of its hour.
		nows = append(nows, due.Add(-time.Minute), due, due.Add(time.Minute), due.Add(time.Hour), due.Add(2*time.Hour+time.Minute), midnight,
			midnight.AddDate(0, 0, 1), due.AddDate(0, 0, 1), due.AddDate(0, 0, 3))
	}
	slices.SortFunc(nows, time.Time.Compare)
	return slices.CompactFunc(nows, time.Time.Equal)
}

// openOverdueList pages through the open_overdue list under f.
func openOverdueList(t *testing.T, s *scenario, f projections.LateFilter) []projections.LateDossier {
	t.Helper()
	var out []projections.LateDossier
	req := projections.PageRequest{Limit: 2}
	for {
		page, err := projections.LateListPage(context.Background(), s.db, projections.LateListOpenOverdue, f, s.cal, req)
		if err != nil {
			t.Fatal(err)
		}
		p := page.(projections.Page[projections.LateDossier])
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		if req.After, err = projections.DecodeCursor(p.Next); err != nil {
			t.Fatal(err)
		}
	}
}

func checkOpenOverdue(t *testing.T, s *scenario, when string, nows []time.Time) {
	t.Helper()
	filters := []projections.LateFilter{{Agency: projections.AllAgencies()}, {Agency: projections.OneAgency(justice)},
		{Agency: projections.OneAgency(centre)}, {Agency: projections.AllAgencies(), Unit: centre}, {Agency: projections.OneAgency(building)},
		{Agency: projections.AllAgencies(), Procedure: "2.000908", Field: "HT"}, {Agency: projections.AllAgencies(), Procedure: "2.001417"}}
	seen := map[int]bool{}
	books := map[string]*dossierBook{}
	for _, b := range s.Books {
		books[b.ID] = b
	}
	noDay := projections.Period{From: time.Date(2100, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2100, 1, 1, 0, 0, 0, 0, domain.VietnamTime)}
	// The overrunning steps checked, by where the dashboard reads them from.
	stepsSeen := map[string]int{}
	for _, now := range nows {
		for _, f := range filters {
			f.Now = now
			want := map[string]int{}
			list := openOverdueList(t, s, f)
			for _, d := range list {
				want["agency "+d.CompetentAgency]++
				want["procedure "+d.ProcedureCode]++
				want["field "+d.FieldCode]++
				want["unit "+d.HolderUnit]++
			}
			seen[len(want)] = true
			// The overrunning steps of the listed dossiers, from the books of the events acted:
			// with a period of no day, the dashboard's units and officials sum those alone.
			f.Period = noDay
			// The counters the dashboard reads the steps of the days before today from.
			counters := "every line's rows"
			if f.Unit != "" || f.Procedure != "" || f.Field != "" {
				counters = "the line rows"
			}
			wantUnits, wantOfficials := map[string][2]float64{}, map[string][2]float64{}
			for _, d := range list {
				b := books[d.DossierID]
				want := s.overrunsOf(b, now)
				if got := gotOverruns(d); !equalStrings(got, want) {
					t.Errorf("%s, at %v: %s's overrunning steps %v, want %v", when, now.In(domain.VietnamTime), b.Code, got, want)
				}
				for _, step := range want {
					parts := strings.Split(step, "|")
					hours, err := strconv.ParseFloat(parts[3], 64)
					if err != nil {
						t.Fatal(err)
					}
					addOverrun(wantUnits, parts[1], hours)
					if parts[2] != "" {
						addOverrun(wantOfficials, parts[2], hours)
					}
				}
				day := func(t time.Time) string { return t.In(domain.VietnamTime).Format(time.DateOnly) }
				hour := func(t time.Time) string { return t.In(domain.VietnamTime).Format("2006-01-02T15") }
				for _, h := range d.OverrunSteps {
					// A step is counted under its dossier's due moment, or its deadline when later
					// and it is running.
					counted := d.DueDate
					if h.Ongoing && h.Deadline.After(counted) {
						counted = h.Deadline
					}
					// Every line's rows count today's hours; the line rows do not, so a filtered
					// dashboard reads all of today's from the handovers.
					today := "counted in today's hours"
					if counters == "the line rows" {
						today = "read from the handovers, by line"
					}
					switch {
					case hour(counted) == hour(now) && hour(d.DueDate) == hour(now):
						stepsSeen["of a dossier due in this hour"]++
					case hour(counted) == hour(now):
						stepsSeen["running past a deadline in this hour"]++
					case day(counted) == day(now) && day(d.DueDate) == day(now):
						stepsSeen["of a dossier due earlier today, "+today]++
					case day(counted) == day(now):
						stepsSeen["running past a deadline earlier today, "+today]++
					case h.Ongoing:
						stepsSeen["running, counted in "+counters]++
					default:
						stepsSeen["ended, counted in "+counters]++
					}
				}
			}
			dash, err := projections.LateDashboardOf(context.Background(), s.db, f, s.cal, projections.PageRequest{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, by := range []struct {
				kind   string
				groups []projections.LateGroup
			}{{"agency", dash.ByAgency}, {"procedure", dash.ByProcedure}, {"field", dash.ByField}} {
				for _, g := range by.groups {
					if g.OpenOverdue != 0 {
						got[by.kind+" "+g.Key] = g.OpenOverdue
					}
				}
			}
			for _, g := range dash.ByUnit {
				if g.HoldingOverdue != 0 {
					got["unit "+g.Key] = g.HoldingOverdue
				}
			}
			if dash.OpenOverdue.Total != len(list) {
				t.Errorf("%s, at %v, %+v: the open overdue total is %d, the list holds %d", when, now.In(domain.VietnamTime), f, dash.OpenOverdue.Total, len(list))
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s, at %v, %+v: the open overdue counts\n got %v\nwant %v", when, now.In(domain.VietnamTime), f, got, want)
			}
			where := fmt.Sprintf("%s, at %v, %+v: overrun", when, now.In(domain.VietnamTime), f)
			checkOverrunGroups(t, where+" by unit", dash.ByUnit, wantUnits)
			checkOverrunGroups(t, where+" by official", dash.ByOfficial, wantOfficials)
		}
	}
	if len(seen) < 3 {
		t.Errorf("%s: the moments read tell too few sets apart: %v", when, seen)
	}
	t.Logf("%s: overrunning steps checked: %v", when, stepsSeen)
	if len(stepsSeen) < 10 {
		t.Errorf("%s: the overrunning steps checked do not take every path: %v", when, stepsSeen)
	}
}

// overdueCountsTable is control_overdue_counts, row by row in key order.
func overdueCountsTable(t *testing.T, s *scenario) string {
	t.Helper()
	return counterTable(t, s, `SELECT scope, span, period_start, competent_agency, receiving_unit, field_code,
		procedure_code, holder_unit, procedure_name, field_name, dossiers FROM control_overdue_counts
		ORDER BY scope, span, period_start, competent_agency, receiving_unit, field_code, procedure_code, holder_unit`, 10,
		func(n []int64) bool { return n[0] > 0 })
}

// overdueStepsTable is control_overdue_steps, then control_overdue_steps_every_line, row by row
// in key order.
func overdueStepsTable(t *testing.T, s *scenario) string {
	t.Helper()
	// A row counts some step, and no counter is below zero.
	holdsSteps := func(n []int64) bool { return n[0] >= 0 && n[2] >= 0 && n[0]+n[2] > 0 }
	return counterTable(t, s, `SELECT scope, span, period_start, competent_agency, receiving_unit, field_code,
		procedure_code, unit, official_id, deadline_day, official_name, ended_steps, ended_centihours, running_steps, running_day_rest_ms
		FROM control_overdue_steps
		ORDER BY scope, span, period_start, competent_agency, receiving_unit, field_code, procedure_code, unit, official_id, deadline_day`, 11,
		holdsSteps) + " | every line: " + counterTable(t, s, `SELECT scope, span, period_start, unit, official_id, deadline_day, official_name,
		ended_steps, ended_centihours, running_steps, running_day_rest_ms FROM control_overdue_steps_every_line
		ORDER BY scope, span, period_start, unit, official_id, deadline_day`, 7, holdsSteps)
}

// counterTable returns the rows of query — keyColumns text columns, then counters — one after the
// other, and fails the test when there is none or a row's counters do not pass holds.
func counterTable(t *testing.T, s *scenario, query string, keyColumns int, holds func(counters []int64) bool) string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	key, counters := make([]string, keyColumns), make([]int64, len(columns)-keyColumns)
	dest := make([]any, 0, len(columns))
	for i := range key {
		dest = append(dest, &key[i])
	}
	for i := range counters {
		dest = append(dest, &counters[i])
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		if !holds(counters) {
			t.Errorf("a counter row of %v: %v", counters, key)
		}
		out = append(out, fmt.Sprint(key, counters))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no counter rows: %s", query)
	}
	return strings.Join(out, "; ")
}

// TestLateDashboardOpenOverdueReadsAnHoursEntriesAtMost reads the open overdue counts in the hour
// nine dossiers fall due — each an entry of this hour's range of the list —, later that day — the
// counter rows of their due hour —, and the day after — those of their due day, fewer than the
// dossiers —, then again after ten years of open overdue dossiers, one due each day, are written
// into the counters: the counts grow by those dossiers while the rows read grow by one a year.
// Every part of the statement reads a range of a key (EXPLAIN QUERY PLAN).
func TestLateDashboardOpenOverdueReadsAnHoursEntriesAtMost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newScenario(t, sqliteBackend(t))
	playOpenOverdue(t, s)
	s.feed(t, projections.ProcessControlView{})
	all := projections.LateFilter{Agency: projections.AllAgencies()}
	rowsRead := func(now time.Time) int {
		t.Helper()
		f := all
		f.Now = now
		n, err := projections.OpenOverdueRowsRead(ctx, s.db, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	openOverdue := func(now time.Time) int {
		t.Helper()
		f := all
		f.Now = now
		dash, err := projections.LateDashboardOf(ctx, s.db, f, s.cal, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range dash.ByAgency {
			n += g.OpenOverdue
		}
		return n
	}
	// Tuesday 10 March 08:30: every overdue dossier fell due at 08:00, in this hour.
	dueHour := time.Date(2026, 3, 10, 8, 30, 0, 0, domain.VietnamTime)
	f := all
	f.Now = dueHour
	dueThisHour := len(openOverdueList(t, s, f))
	if dueThisHour < 5 {
		t.Fatalf("%d dossiers due on 10 March at 08:00, want at least 5", dueThisHour)
	}
	if n := rowsRead(dueHour); n != dueThisHour {
		t.Errorf("in their due hour the counts read %d rows, want the %d entries of the hour", n, dueThisHour)
	}
	// At 16:00 the same day, and Wednesday 11 March 07:00: the same dossiers from the counter rows
	// of their due hour, then of their due day.
	for _, later := range []struct {
		now         time.Time
		span, start string
	}{{time.Date(2026, 3, 10, 16, 0, 0, 0, domain.VietnamTime), "hour", "2026-03-10T08"}, {time.Date(2026, 3, 11, 7, 0, 0, 0, domain.VietnamTime), "day", "2026-03-10"}} {
		f.Now = later.now
		if overdue := len(openOverdueList(t, s, f)); overdue != dueThisHour {
			t.Fatalf("at %v, %d dossiers overdue; want the %d due at 08:00 on 10 March", later.now, overdue, dueThisHour)
		}
		var counterRows int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM control_overdue_counts WHERE scope = '*' AND span = ? AND period_start = ?`,
			later.span, later.start).Scan(&counterRows); err != nil {
			t.Fatal(err)
		}
		if n := rowsRead(later.now); n != counterRows || counterRows >= dueThisHour {
			t.Errorf("at %v the counts read %d rows; want the %d counter rows of the %s %s, fewer than its %d dossiers", later.now, n, counterRows,
				later.span, later.start, dueThisHour)
		}
	}
	later := time.Date(2027, 2, 3, 9, 0, 0, 0, domain.VietnamTime)
	before, beforeCount := rowsRead(later), openOverdue(later)
	// Ten years of history: a dossier due every day of 2016–2025, still open.
	if _, err := s.db.ExecContext(ctx, `WITH RECURSIVE days(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM days WHERE n < 3652)
		INSERT INTO control_overdue_counts (scope, span, period_start, competent_agency, receiving_unit, field_code, procedure_code,
			holder_unit, procedure_name, field_name, dossiers)
		SELECT scope, span, period_start, '`+justice+`', '`+justice+`', 'HT', '2.000908', 'TP.HCTP', 'x', 'x', COUNT(*)
		FROM (SELECT scope, span, CASE span WHEN 'day' THEN date('2016-01-01', '+' || n || ' days')
				WHEN 'month' THEN strftime('%Y-%m-01', date('2016-01-01', '+' || n || ' days')) ELSE strftime('%Y-01-01', date('2016-01-01', '+' || n || ' days')) END AS period_start
			FROM days, (SELECT '*' AS scope UNION ALL SELECT '`+justice+`'), (SELECT 'day' AS span UNION ALL SELECT 'month' UNION ALL SELECT 'year')
			WHERE date('2016-01-01', '+' || n || ' days') < '2026-01-01')
		GROUP BY scope, span, period_start`); err != nil {
		t.Fatal(err)
	}
	history := int(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	if n := openOverdue(later); n != beforeCount+history {
		t.Errorf("with ten years of history the counts say %d, want %d + %d", n, beforeCount, history)
	}
	if n := rowsRead(later); n != before+10 {
		t.Errorf("with ten years of history the counts read %d rows, want %d + 10 (a row a year)", n, before)
	}
	f.Now = later
	statement, args := projections.OpenOverdueStatement(s.db, f)
	plan, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+statement, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var counters, lists int
	for plan.Next() {
		var id, parent, unused int
		var detail string
		if err := plan.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(detail, "control_overdue_counts"):
			counters++
			if !strings.Contains(detail, "SEARCH control_overdue_counts USING PRIMARY KEY (scope=? AND span=? AND period_start>? AND period_start<?)") {
				t.Errorf("the counts do not read a range of the counters' key: %s", detail)
			}
		case strings.HasPrefix(detail, "SEARCH l "):
			lists++
			if !strings.Contains(detail, "SEARCH l USING PRIMARY KEY (list=? AND key>? AND key<?)") {
				t.Errorf("the counts do not read today's range of the list: %s", detail)
			}
		case strings.HasPrefix(detail, "SCAN") && detail != "SCAN packed": // the union's rows, packed
			t.Errorf("the counts scan: %s", detail)
		}
	}
	if err := plan.Err(); err != nil {
		t.Fatal(err)
	}
	if counters != 4 || lists != 1 {
		t.Errorf("the plan reads %d counter ranges and %d list ranges, want 4 (years, months, days, hours) and 1", counters, lists)
	}
}

// addOverrun adds a step of the given hours to a group's [steps, hours].
func addOverrun(groups map[string][2]float64, key string, hours float64) {
	g := groups[key]
	groups[key] = [2]float64{g[0] + 1, g[1] + hours}
}

// TestLateDashboardOverrunStepsReadNoHistory reads the open overdue dossiers' overrunning steps
// after ten years of history — a step that ended an hour late on each day of 2016–2025, of a
// dossier due that day and still open — is written into their counters, the line rows and every
// line's: the steps and hours grow by that history while the rows read grow by one a year, unfiltered
// (every line's rows) and filtered by field (the line rows). Every statement reads a range of a key
// or of the running steps' deadlines (EXPLAIN QUERY PLAN).
func TestLateDashboardOverrunStepsReadNoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newScenario(t, sqliteBackend(t))
	playOpenOverdue(t, s)
	s.feed(t, projections.ProcessControlView{})
	now := time.Date(2027, 2, 3, 9, 0, 0, 0, domain.VietnamTime)
	noDay := projections.Period{From: time.Date(2100, 1, 1, 0, 0, 0, 0, domain.VietnamTime), To: time.Date(2100, 1, 1, 0, 0, 0, 0, domain.VietnamTime)}
	filters := []struct {
		f        projections.LateFilter
		counters string // the table the steps of the days before today are read from
	}{
		{projections.LateFilter{Agency: projections.AllAgencies(), Now: now, Period: noDay}, "control_overdue_steps_every_line"},
		{projections.LateFilter{Agency: projections.AllAgencies(), Field: "HT", Now: now, Period: noDay}, "control_overdue_steps"},
	}
	rowsRead := func(f projections.LateFilter) int {
		t.Helper()
		n, err := projections.OpenOverdueStepsRowsRead(ctx, s.db, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	specialist := func(f projections.LateFilter) projections.OverrunGroup {
		t.Helper()
		dash, err := projections.LateDashboardOf(ctx, s.db, f, s.cal, projections.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range dash.ByUnit {
			if g.Key == "TP.HCTP" {
				return g
			}
		}
		return projections.OverrunGroup{}
	}
	var before []int
	var units []projections.OverrunGroup
	for _, c := range filters {
		before, units = append(before, rowsRead(c.f)), append(units, specialist(c.f))
		if before[len(before)-1] == 0 || units[len(units)-1].OverrunSteps == 0 {
			t.Fatalf("%+v: %d rows read, %d steps of TP.HCTP: the scenario overruns nothing", c.f, before[len(before)-1], units[len(units)-1].OverrunSteps)
		}
	}
	const history = `WITH RECURSIVE days(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM days WHERE n < 3652)
		SELECT scope, span, period_start, COUNT(*) AS n
		FROM (SELECT scope, span, CASE span WHEN 'day' THEN date('2016-01-01', '+' || n || ' days')
				WHEN 'month' THEN strftime('%Y-%m-01', date('2016-01-01', '+' || n || ' days')) ELSE strftime('%Y-01-01', date('2016-01-01', '+' || n || ' days')) END AS period_start
			FROM days, (SELECT '*' AS scope UNION ALL SELECT '` + justice + `'), (SELECT 'day' AS span UNION ALL SELECT 'month' UNION ALL SELECT 'year')
			WHERE date('2016-01-01', '+' || n || ' days') < '2026-01-01')
		GROUP BY scope, span, period_start`
	if _, err := s.db.ExecContext(ctx, `INSERT INTO control_overdue_steps (scope, span, period_start, competent_agency, receiving_unit, field_code,
			procedure_code, unit, official_id, deadline_day, official_name, ended_steps, ended_centihours, running_steps, running_day_rest_ms)
		SELECT scope, span, period_start, '`+justice+`', '`+justice+`', 'HT', '2.000908', 'TP.HCTP', '', '', '', n, 100 * n, 0, 0 FROM (`+history+`)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO control_overdue_steps_every_line (scope, span, period_start, unit, official_id, deadline_day,
			official_name, ended_steps, ended_centihours, running_steps, running_day_rest_ms)
		SELECT scope, span, period_start, 'TP.HCTP', '', '', '', n, 100 * n, 0, 0 FROM (`+history+`)`); err != nil {
		t.Fatal(err)
	}
	days := int(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	for i, c := range filters {
		f, unit := c.f, units[i]
		if got := specialist(f); got.OverrunSteps != unit.OverrunSteps+days || math.Abs(got.OverrunHours-unit.OverrunHours-float64(days)) > 1e-6 {
			t.Errorf("%+v: with ten years of history TP.HCTP overran %d steps, %.2fh; want %d + %d, %.2f + %d", f, got.OverrunSteps, got.OverrunHours,
				unit.OverrunSteps, days, unit.OverrunHours, days)
		}
		if n := rowsRead(f); n != before[i]+10 {
			t.Errorf("%+v: with ten years of history the steps read %d counter rows, want %d + 10 (a row a year)", f, n, before[i])
		}
		statements, args := projections.OpenOverdueStepsStatements(s.db, f)
		want := []string{
			"SEARCH " + c.counters + " USING PRIMARY KEY (scope=? AND span=? AND period_start>? AND period_start<?)",
			"SEARCH l USING PRIMARY KEY (list=? AND key>? AND key<?)",
			"SEARCH h USING INDEX control_handovers_running (deadline>? AND deadline<?)",
		}
		var plans []string
		for i, statement := range statements {
			plan, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+statement, args[i]...)
			if err != nil {
				t.Fatal(err)
			}
			for plan.Next() {
				var id, parent, unused int
				var detail string
				if err := plan.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plans = append(plans, detail)
				// The counters' rows packed (SCAN packed) are the union's own, each a range above.
				if strings.HasPrefix(detail, "SCAN") && detail != "SCAN packed" {
					t.Errorf("statement %d scans: %s\n%s", i, detail, statement)
				}
			}
			if err := errors.Join(plan.Err(), plan.Close()); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range want {
			if !slices.Contains(plans, w) {
				t.Errorf("%+v: no statement reads %q: %q", f, w, plans)
			}
		}
	}
}
