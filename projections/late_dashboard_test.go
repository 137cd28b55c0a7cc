package projections_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/projections"
)

// overrunsOf lists, from the books, the dossier's steps that ended after their deadline or are
// running past it at now, as "step|unit|official|hours|number", the number the handover's place
// among all of the dossier's.
func (s *scenario) overrunsOf(b *dossierBook, now time.Time) []string {
	var out []string
	for i, h := range b.Handovers {
		if h.Deadline.IsZero() {
			continue
		}
		var hours float64
		switch {
		case !h.EndedAt.IsZero() && h.EndedAt.After(h.Deadline):
			hours = s.workingHoursBetween(h.Deadline, h.EndedAt)
		case h.EndedAt.IsZero() && now.After(h.Deadline):
			hours = s.workingHoursBetween(h.Deadline, now)
		default:
			continue
		}
		responsible := h.To.OfficialID
		if responsible == "" {
			responsible = h.EndedByID
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%.2f|%d", h.Step, h.To.Unit, responsible, hours, i+1))
	}
	return out
}

func gotOverruns(l projections.LateDossier) []string {
	var out []string
	for _, h := range l.OverrunSteps {
		out = append(out, fmt.Sprintf("%s|%s|%s|%.2f|%d", h.Step, h.To.Unit, h.Responsible().OfficialID, h.OverrunHours, h.No))
	}
	return out
}

func checkLateDashboards(t *testing.T, s *scenario) {
	ctx := context.Background()
	// The summaries below read the rollups of whole months and years: every one of them, not only
	// the periods read, must be its line rows summed.
	checkLateRollups(t, s, "scenario")
	now := s.End
	const dueWithin = 3
	dueBy := s.cal.AddWorkingDays(now, dueWithin)
	periods := scenarioPeriods()
	var sawOverrunHours, sawOngoing bool
	for _, name := range []string{"april", "may-to-7", "2026"} {
		period := periods[name]
		for _, agency := range scenarioAgencies {
			filter := projections.LateFilter{Agency: scenarioScope(agency), Period: period, Now: now, DueWithinDays: dueWithin}
			dash, err := projections.LateDashboardOf(ctx, s.db, filter, s.cal, projections.PageRequest{Limit: firstPage})
			if err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("%s, agency %q", name, agency)
			// Every list chained page by page, small pages so that most lists take several.
			openOverdue := latePages(t, s, filter, projections.LateListOpenOverdue, dash.OpenOverdue, func(l projections.LateDossier) string { return l.DossierID })
			resolvedLate := latePages(t, s, filter, projections.LateListResolvedLate, dash.ResolvedLate, func(l projections.LateDossier) string { return l.DossierID })
			dueSoon := latePages(t, s, filter, projections.LateListDueSoon, dash.DueSoon, func(l projections.DueDossier) string { return l.DossierID })
			apologies := latePages(t, s, filter, projections.LateListApologies, dash.Apologies, func(l projections.ApologyEntry) string { return l.DossierID })
			lateAcceptances := latePages(t, s, filter, projections.LateListLateAcceptances, dash.LateAcceptances, func(l projections.LateAcceptance) string { return l.DossierID })
			byCode := func(list []projections.LateDossier) map[string]projections.LateDossier {
				m := map[string]projections.LateDossier{}
				for _, l := range list {
					m[l.Code] = l
				}
				return m
			}
			openGot, resolvedGot := byCode(openOverdue), byCode(resolvedLate)
			dueGot := map[string]projections.DueDossier{}
			for _, d := range dueSoon {
				dueGot[d.Code] = d
			}
			apologiesGot := map[string]projections.ApologyEntry{}
			for _, a := range apologies {
				apologiesGot[a.Code] = a
			}
			acceptancesGot := map[string]projections.LateAcceptance{}
			for _, a := range lateAcceptances {
				acceptancesGot[a.DossierID] = a
			}
			wantGroups := map[string]*projections.LateGroup{}
			group := func(kind, key string) *projections.LateGroup {
				if wantGroups[kind+" "+key] == nil {
					wantGroups[kind+" "+key] = &projections.LateGroup{Key: key}
				}
				return wantGroups[kind+" "+key]
			}
			wantUnits, wantOfficials, wantHolding := map[string][2]float64{}, map[string][2]float64{}, map[string]int{}
			addOverruns := func(list []string) {
				for _, o := range list {
					parts := strings.Split(o, "|")
					var h float64
					fmt.Sscan(parts[3], &h)
					u := wantUnits[parts[1]]
					wantUnits[parts[1]] = [2]float64{u[0] + 1, u[1] + h}
					if parts[2] != "" {
						o := wantOfficials[parts[2]]
						wantOfficials[parts[2]] = [2]float64{o[0] + 1, o[1] + h}
					}
				}
			}
			var openCount, resolvedCount, dueCount, apologyCount, acceptanceCount int
			for _, b := range s.Books {
				if !b.visibleTo(agency) {
					continue
				}
				field := b.Procedure.Field.Code
				if verdict := legalRule(b.stateBefore(now), now); b.open() && verdict.Timeliness == domain.TimelinessOverdue {
					// The domain's legal verdict: past the statutory due date (an apology does not
					// move it), a paused dossier judged when its clock stopped.
					openCount++
					got, ok := openGot[b.Code]
					want := s.overrunsOf(b, now)
					lateHours := s.workingHoursBetween(verdict.DueDate, verdict.JudgedAt)
					switch {
					case !ok:
						t.Errorf("%s: open overdue dossier %s (due %v) missing", where, b.Code, verdict.DueDate)
					case !got.AppointmentDate.Equal(b.appointment()) || !got.DueDate.Equal(verdict.DueDate) || got.LateHours != lateHours ||
						got.HolderUnit != b.current().To.Unit || got.ApologyIssued != !b.ApologyAt.IsZero():
						t.Errorf("%s: open overdue %s: got appointment %v due %v late %.2fh holder %s apology %v; want %v %v %.2fh %s %v", where, b.Code,
							got.AppointmentDate, got.DueDate, got.LateHours, got.HolderUnit, got.ApologyIssued, b.appointment(), verdict.DueDate,
							lateHours, b.current().To.Unit, !b.ApologyAt.IsZero())
					case !equalStrings(gotOverruns(got), want):
						t.Errorf("%s: open overdue %s: overrun steps %q, want %q", where, b.Code, gotOverruns(got), want)
					}
					for _, st := range got.OverrunSteps {
						sawOngoing = sawOngoing || st.Ongoing
					}
					group("agency", b.CompetentAgency).OpenOverdue++
					group("procedure", b.Procedure.Code).OpenOverdue++
					group("field", field).OpenOverdue++
					addOverruns(want)
					wantHolding[b.current().To.Unit]++
				}
				if period.Contains(b.ResolvedAt) && b.resolvedVerdict(legalRule) == projections.VerdictLate {
					resolvedCount++
					got, ok := resolvedGot[b.Code]
					want := s.overrunsOf(b, now)
					due := legalRule(b.stateBefore(b.ResolvedAt.Add(time.Nanosecond)), b.ResolvedAt).DueDate
					switch {
					case !ok:
						t.Errorf("%s: late-resolved dossier %s missing", where, b.Code)
					case !got.ResolvedAt.Equal(b.ResolvedAt) || !got.AppointmentDate.Equal(b.ResolvedAppointment) || !got.DueDate.Equal(due) ||
						got.LateHours != s.workingHoursBetween(due, b.ResolvedAt) || got.Resolution != b.Resolution:
						t.Errorf("%s: late-resolved %s: got %v against %v, promised %v (%.2fh, %s); want %v against %v, promised %v (%.2fh, %s)", where, b.Code,
							got.ResolvedAt, got.DueDate, got.AppointmentDate, got.LateHours, got.Resolution, b.ResolvedAt, due, b.ResolvedAppointment,
							s.workingHoursBetween(due, b.ResolvedAt), b.Resolution)
					case !equalStrings(gotOverruns(got), want):
						t.Errorf("%s: late-resolved %s: overrun steps %q, want %q", where, b.Code, gotOverruns(got), want)
					}
					sawOverrunHours = sawOverrunHours || len(want) > 0
					group("agency", b.CompetentAgency).ResolvedLate++
					group("procedure", b.Procedure.Code).ResolvedLate++
					group("field", field).ResolvedLate++
					addOverruns(want)
				}
				if b.open() && b.Waiting == "" && !b.appointment().Before(now) && !b.appointment().After(dueBy) {
					dueCount++
					if got, ok := dueGot[b.Code]; !ok || got.WorkingHoursLeft != s.workingHoursBetween(now, b.appointment()) {
						t.Errorf("%s: due-soon dossier %s (due %v): got %+v", where, b.Code, b.appointment(), got)
					}
				}
				if period.Contains(b.ApologyAt) {
					apologyCount++
					got := apologiesGot[b.Code]
					if !got.OldAppointmentDate.Equal(b.ApologyOld) || !got.NewAppointmentDate.Equal(b.ApologyNew) || !got.IssuedAt.Equal(b.ApologyAt) || got.IssuedBy != b.ApologyBy {
						t.Errorf("%s: apology on %s: got %+v, want %v → %v at %v by %s", where, b.Code, got, b.ApologyOld, b.ApologyNew, b.ApologyAt, b.ApologyBy)
					}
					group("agency", b.CompetentAgency).Apologies++
					group("procedure", b.Procedure.Code).Apologies++
					group("field", field).Apologies++
				}
				if period.Contains(b.SubmittedAt) {
					until := firstTime(b.RespondedAt, firstTime(b.WithdrawnAt, now))
					if until.After(b.AcceptanceDeadline) {
						acceptanceCount++
						response := firstString(b.Response, "pending")
						got, ok := acceptancesGot[b.ID]
						if !ok || got.Response != response || got.OverrunHours != s.workingHoursBetween(b.AcceptanceDeadline, until) ||
							!got.AcceptanceDeadline.Equal(b.AcceptanceDeadline) {
							t.Errorf("%s: late acceptance of %s: got %+v, want %s %.2fh after %v", where, b.ID, got, response,
								s.workingHoursBetween(b.AcceptanceDeadline, until), b.AcceptanceDeadline)
						}
					}
				}
			}
			for code, n := range map[string][2]int{"open overdue": {len(openOverdue), openCount}, "resolved late": {len(resolvedLate), resolvedCount},
				"due soon": {len(dueSoon), dueCount}, "apologies": {len(apologies), apologyCount}, "late acceptances": {len(lateAcceptances), acceptanceCount}} {
				if n[0] != n[1] {
					t.Errorf("%s: %d %s listed, want %d", where, n[0], code, n[1])
				}
			}
			for kind, groups := range map[string][]projections.LateGroup{"agency": dash.ByAgency, "procedure": dash.ByProcedure, "field": dash.ByField} {
				seen := 0
				for _, g := range groups {
					want := wantGroups[kind+" "+g.Key]
					if want == nil || g.OpenOverdue != want.OpenOverdue || g.ResolvedLate != want.ResolvedLate || g.Apologies != want.Apologies {
						t.Errorf("%s: by %s %s: got %+v, want %+v", where, kind, g.Key, g, want)
					}
					seen++
				}
				for key := range wantGroups {
					if strings.HasPrefix(key, kind+" ") {
						seen--
					}
				}
				if seen != 0 {
					t.Errorf("%s: by %s lists %d groups too many", where, kind, seen)
				}
			}
			for _, g := range dash.ByUnit {
				if g.HoldingOverdue != wantHolding[g.Key] {
					t.Errorf("%s: unit %s holds %d overdue dossiers, want %d", where, g.Key, g.HoldingOverdue, wantHolding[g.Key])
				}
				delete(wantHolding, g.Key)
			}
			if len(wantHolding) > 0 {
				t.Errorf("%s: units holding overdue dossiers missing: %v", where, wantHolding)
			}
			checkOverrunGroups(t, where+" by unit", dash.ByUnit, wantUnits)
			checkOverrunGroups(t, where+" by official", dash.ByOfficial, wantOfficials)
			if name == "april" && agency == "" {
				t.Logf("April, all agencies: %d open overdue, %d resolved late, %d due within %d days, %d apologies, %d late acceptances",
					openCount, resolvedCount, dueCount, dueWithin, apologyCount, acceptanceCount)
				if openCount == 0 || resolvedCount == 0 || dueCount == 0 || apologyCount == 0 || acceptanceCount == 0 {
					t.Error("April's dashboard leaves a list empty; the scenario does not exercise it")
				}
			}
		}
	}
	if !sawOverrunHours || !sawOngoing {
		t.Errorf("no finished (%v) or ongoing (%v) overrun step was checked", sawOverrunHours, sawOngoing)
	}
}

// firstPage is the page size the scenario reads the late dashboard's lists with: small, so that
// most lists take several pages.
const firstPage = 2

// latePages reads the whole of one of the late dashboard's lists by chaining its pages from the
// dashboard's first one, and checks the pages: none longer than asked, each with the list's total,
// a next cursor exactly when more follow, every dossier once.
func latePages[T any](t *testing.T, s *scenario, f projections.LateFilter, list string, first projections.Page[T], id func(T) string) []T {
	t.Helper()
	all := append([]T(nil), first.Items...)
	page, pages := first, 1
	for page.Next != "" {
		if len(page.Items) != firstPage {
			t.Fatalf("%s: page %d holds %d items and is followed by another; want %d", list, pages, len(page.Items), firstPage)
		}
		after, err := projections.DecodeCursor(page.Next)
		if err != nil {
			t.Fatal(err)
		}
		got, err := projections.LateListPage(context.Background(), s.db, list, f, s.cal, projections.PageRequest{Limit: firstPage, After: after})
		if err != nil {
			t.Fatal(err)
		}
		page = got.(projections.Page[T])
		pages++
		all = append(all, page.Items...)
		if page.Total != first.Total {
			t.Errorf("%s: page %d says %d in all, the first %d", list, pages, page.Total, first.Total)
		}
	}
	if len(page.Items) > firstPage {
		t.Errorf("%s: last page holds %d items, more than %d", list, len(page.Items), firstPage)
	}
	seen := map[string]bool{}
	for _, item := range all {
		if seen[id(item)] {
			t.Errorf("%s: dossier %s listed twice", list, id(item))
		}
		seen[id(item)] = true
	}
	if len(all) != first.Total {
		t.Errorf("%s: %d items over %d pages, total says %d", list, len(all), pages, first.Total)
	}
	return all
}

func checkOverrunGroups(t *testing.T, where string, got []projections.OverrunGroup, want map[string][2]float64) {
	t.Helper()
	for _, g := range got {
		if g.Others > 0 { // the last line sums the groups past the cap: those not listed above
			var steps, hours float64
			for _, w := range want {
				steps, hours = steps+w[0], hours+w[1]
			}
			if g.Key != "" || g.Others != len(want) || float64(g.OverrunSteps) != steps || math.Abs(g.OverrunHours-hours) > 0.005*steps+1e-9 {
				t.Errorf("%s: the others' line %+v; want %d others, %v steps, %.2fh", where, g, len(want), steps, hours)
			}
			clear(want)
			continue
		}
		w, ok := want[g.Key]
		if g.OverrunSteps == 0 && !ok {
			continue // a unit listed only for holding overdue dossiers
		}
		if !ok || float64(g.OverrunSteps) != w[0] || math.Abs(g.OverrunHours-w[1]) > 0.005*w[0]+1e-9 {
			t.Errorf("%s %s: %d steps, %.2fh; want %v", where, g.Key, g.OverrunSteps, g.OverrunHours, w)
		}
		delete(want, g.Key)
	}
	for key, w := range want {
		t.Errorf("%s %s missing (want %v)", where, key, w)
	}
}

func equalStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// TestLateDashboardNamesWhoOverran checks one dossier by hand: the specialist holds a 12-hour step
// over a weekend, so the dashboard must name that step, unit and official with exactly 5.5 working
// hours of overrun, and the still-running signing step with its overrun so far.
func TestLateDashboardNamesWhoOverran(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sqliteBackend(t))
	desk, specialist, signer := s.staff[justice][0], s.staff[justice][2], s.staff[justice][4]
	b := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect, ReceivingUnit: justice, CompetentAgency: justice}
	b.Procedure, _ = s.app.Catalog().Procedure("2.000908") // 3 working days
	// Thursday 5 March 2026, 08:00: received and handed to the specialist at once.
	s.clock = time.Date(2026, 3, 5, 8, 0, 0, 0, domain.VietnamTime)
	if !s.receive(b, desk) || !s.act(b, desk, commands.TransferInput{ToUnit: "TP.HCTP", ToOfficialID: specialist.ID, ToOfficialName: specialist.Name, Step: "Thẩm định hồ sơ"}) {
		t.Fatal(s.err)
	}
	// 12 allotted hours: 7.5 on Thursday (lunch excluded), 4.5 on Friday: due Friday 6 March 13:30.
	if want := time.Date(2026, 3, 6, 13, 30, 0, 0, domain.VietnamTime); !b.current().Deadline.Equal(want) {
		t.Fatalf("step deadline %v, want %v", b.current().Deadline.In(domain.VietnamTime), want)
	}
	// Handed on Monday 9 March at 09:30: 5.5 working hours late (Friday 13:30–17:00, Monday 07:30–09:30).
	s.clock = time.Date(2026, 3, 9, 9, 30, 0, 0, domain.VietnamTime)
	if !s.act(b, specialist, commands.AppraiseInput{Conclusion: domain.ConclusionApprove, Opinion: "Đủ điều kiện"}) ||
		!s.act(b, specialist, commands.TransferInput{ToUnit: "TP.BGD", ToOfficialID: signer.ID, ToOfficialName: signer.Name, Step: "Trình ký"}) {
		t.Fatal(s.err)
	}
	// Two online submissions of Thursday 5 March 08:00, due for an answer Friday 08:00: one never
	// answered, one withdrawn unanswered on Monday 9 March at 09:30.
	pending := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelOnline, ReceivingUnit: justice, CompetentAgency: justice, Procedure: b.Procedure}
	withdrawn := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelOnline, ReceivingUnit: justice, CompetentAgency: justice, Procedure: b.Procedure}
	s.clock = time.Date(2026, 3, 5, 8, 0, 0, 0, domain.VietnamTime)
	if !s.receive(pending, desk) || !s.receive(withdrawn, desk) {
		t.Fatal(s.err)
	}
	// A third dossier, received with the first, is suspended on Monday before its appointment date:
	// its clock is paused, so it is not late on Tuesday although that date has passed.
	paused := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect, ReceivingUnit: justice, CompetentAgency: justice, Procedure: b.Procedure}
	if !s.receive(paused, desk) {
		t.Fatal(s.err)
	}
	s.clock = time.Date(2026, 3, 9, 9, 30, 0, 0, domain.VietnamTime)
	if !s.act(withdrawn, desk, commands.WithdrawInput{Reason: "Nộp nhầm thủ tục"}) ||
		!s.act(paused, s.staff[justice][1], commands.SuspendInput{Reason: "Chờ kết quả xác minh"}) {
		t.Fatal(s.err)
	}
	s.feed(t, projections.ProcessControlView{})
	// Read on Tuesday 10 March at 16:00: the dossier (due Tuesday 10 March 08:00) is 6.5 working
	// hours late; the 6-hour signing step (due Monday 9 March 17:00) has overrun by 7 hours so far.
	now := time.Date(2026, 3, 10, 16, 0, 0, 0, domain.VietnamTime)
	dash, err := projections.LateDashboardOf(context.Background(), s.db, projections.LateFilter{Agency: projections.OneAgency(justice), Now: now, DueWithinDays: 2}, s.cal, projections.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dash.OpenOverdue.Items) != 1 || dash.OpenOverdue.Items[0].Code != b.Code || dash.OpenOverdue.Total != 1 {
		t.Fatalf("open overdue (the suspended dossier is not): %+v", dash.OpenOverdue)
	}
	l := dash.OpenOverdue.Items[0]
	if l.LateHours != 6.5 || len(l.OverrunSteps) != 2 {
		t.Fatalf("late %.2fh, steps %+v", l.LateHours, l.OverrunSteps)
	}
	review, signing := l.OverrunSteps[0], l.OverrunSteps[1]
	if review.Step != "Thẩm định hồ sơ" || review.To.Unit != "TP.HCTP" || review.Responsible().OfficialID != specialist.ID ||
		review.OverrunHours != 5.5 || review.Verdict != projections.VerdictLate || review.Ongoing {
		t.Errorf("review step: %+v", review)
	}
	if signing.Step != "Trình ký" || signing.Responsible().OfficialID != signer.ID || signing.OverrunHours != 7 || !signing.Ongoing || signing.Verdict != "" {
		t.Errorf("signing step: %+v", signing)
	}
	if len(dash.ByOfficial) != 2 || dash.ByOfficial[0].OverrunHours+dash.ByOfficial[1].OverrunHours != 12.5 {
		t.Errorf("by official: %+v", dash.ByOfficial)
	}
	acceptances := map[string]projections.LateAcceptance{}
	for _, a := range dash.LateAcceptances.Items {
		acceptances[a.DossierID] = a
	}
	friday8 := time.Date(2026, 3, 6, 8, 0, 0, 0, domain.VietnamTime)
	// Friday 08:00–17:00 is 7.5 working hours, Monday 8, Tuesday until 16:00 another 7.
	if a := acceptances[pending.ID]; len(acceptances) != 2 || a.Response != "pending" || !a.AcceptanceDeadline.Equal(friday8) || a.OverrunHours != 22.5 {
		t.Errorf("pending submission: %+v", a)
	}
	if a := acceptances[withdrawn.ID]; a.Response != "withdrawn" || a.OverrunHours != 9.5 {
		t.Errorf("withdrawn submission: %+v", a)
	}
	other, err := projections.LateDashboardOf(context.Background(), s.db, projections.LateFilter{Agency: projections.OneAgency(building), Now: now}, s.cal, projections.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if other.OpenOverdue.Total != 0 || len(other.OpenOverdue.Items) != 0 {
		t.Errorf("another agency sees %+v", other.OpenOverdue)
	}
}

// TestLateDashboardCapsUnitsAndOfficials hands 60 late dossiers to 60 units and officials, each
// with its own allotted hours: the dashboard lists the LateGroupLimit with the most overrun hours
// (in key order) and one line summing exactly the other ten.
func TestLateDashboardCapsUnitsAndOfficials(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sqliteBackend(t))
	desk := s.staff[justice][0]
	procedure, _ := s.app.Catalog().Procedure("2.000908") // 3 working days: due Tuesday 10 March 08:00
	// Read on Tuesday 10 March at 16:00; steps handed out on Thursday 5 March at 08:00.
	now := time.Date(2026, 3, 10, 16, 0, 0, 0, domain.VietnamTime)
	s.clock = time.Date(2026, 3, 5, 8, 0, 0, 0, domain.VietnamTime)
	const handlers = projections.LateGroupLimit + 10
	type line struct {
		key   string
		hours float64
	}
	var want []line
	for i := range handlers {
		b := &dossierBook{Officials: map[string]string{}, Units: map[string]bool{}, Channel: domain.ChannelDirect, ReceivingUnit: justice,
			CompetentAgency: justice, Procedure: procedure}
		n := fmt.Sprintf("%02d", i)
		// 1 to 20 allotted hours, so that overruns differ and tie in places (ties go by key).
		if !s.receive(b, desk) || !s.act(b, desk, commands.TransferInput{ToUnit: "U" + n, ToOfficialID: "CB" + n, ToOfficialName: "Cán bộ " + n,
			Step: "Thẩm định hồ sơ", AllottedHours: float64(1 + i*7%20)}) {
			t.Fatal(s.err)
		}
		want = append(want, line{n, s.workingHoursBetween(b.current().Deadline, now)})
	}
	s.feed(t, projections.ProcessControlView{})
	dash, err := projections.LateDashboardOf(context.Background(), s.db, projections.LateFilter{Agency: projections.OneAgency(justice), Now: now}, s.cal, projections.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if dash.OpenOverdue.Total != handlers {
		t.Fatalf("%d open overdue, want %d", dash.OpenOverdue.Total, handlers)
	}
	slices.SortFunc(want, func(a, b line) int { return cmp.Or(cmp.Compare(b.hours, a.hours), strings.Compare(a.key, b.key)) })
	listed, rest := want[:projections.LateGroupLimit], want[projections.LateGroupLimit:]
	slices.SortFunc(listed, func(a, b line) int { return strings.Compare(a.key, b.key) })
	var restHours float64
	for _, l := range rest {
		restHours += l.hours
	}
	if restHours == 0 || want[0].hours == want[len(want)-1].hours {
		t.Fatalf("the fixture does not tell the worst from the rest: %v", want)
	}
	for _, by := range []struct {
		prefix string
		got    []projections.OverrunGroup
	}{{"U", dash.ByUnit}, {"CB", dash.ByOfficial}} {
		if len(by.got) != projections.LateGroupLimit+1 {
			t.Fatalf("by %s: %d lines, want %d and the others'", by.prefix, len(by.got), projections.LateGroupLimit)
		}
		for i, l := range listed {
			if g := by.got[i]; g.Key != by.prefix+l.key || g.OverrunSteps != 1 || g.OverrunHours != l.hours || g.Others != 0 {
				t.Errorf("by %s, line %d: %+v; want %s%s, 1 step, %.2fh", by.prefix, i, g, by.prefix, l.key, l.hours)
			}
		}
		others := by.got[projections.LateGroupLimit]
		if others.Key != "" || others.Others != len(rest) || others.OverrunSteps != len(rest) || others.OverrunHours != restHours {
			t.Errorf("by %s, the others' line: %+v; want %d others, %d steps, %.2fh", by.prefix, others, len(rest), len(rest), restHours)
		}
		if by.prefix == "U" && others.HoldingOverdue != len(rest) {
			t.Errorf("the other units hold %d overdue dossiers, want %d", others.HoldingOverdue, len(rest))
		}
	}
}
