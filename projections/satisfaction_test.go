package projections_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/commands"
	"github.com/motcua/motcua/domain"
	"github.com/motcua/motcua/l10n"
	"github.com/motcua/motcua/projections"
)

// statsBook is the test's own tally of a set of ratings.
type statsBook struct {
	ratings, complete, dissatisfied, totalPoints int
	levels                                       map[domain.Criterion]map[domain.RatingLevel]int
}

func (s *statsBook) add(scores map[domain.Criterion]domain.RatingLevel) {
	if s.levels == nil {
		s.levels = map[domain.Criterion]map[domain.RatingLevel]int{}
	}
	s.ratings++
	total, dissatisfied := 0, false
	for c, level := range scores {
		if s.levels[c] == nil {
			s.levels[c] = map[domain.RatingLevel]int{}
		}
		s.levels[c][level]++
		total += map[domain.RatingLevel]int{domain.VerySatisfied: 2, domain.Satisfied: 1}[level]
		// A late dossier's 0 on a time criterion is a fact, not the applicant's dissatisfaction.
		timeCriterion := c == domain.CriterionTotalTime || c == domain.CriterionUnitTime
		dissatisfied = dissatisfied || (level == domain.Dissatisfied && !timeCriterion)
	}
	if len(scores) == len(domain.Criteria) {
		s.complete++
		s.totalPoints += total
	}
	if dissatisfied {
		s.dissatisfied++
	}
}

// ratedScores are the scores a rating should count: the applicant's on the seven perception
// criteria, and on the two time criteria the facts' (TT 01/2018 art. 13) — the resolution against
// the statutory due date as the domain judges it, and the slowest step on the control sheet —
// under the levels that carry the same points.
func (b *dossierBook) ratedScores() map[domain.Criterion]domain.RatingLevel {
	level := map[projections.Verdict]domain.RatingLevel{projections.VerdictEarly: domain.VerySatisfied,
		projections.VerdictOnTime: domain.Satisfied, projections.VerdictLate: domain.Dissatisfied}
	scores := map[domain.Criterion]domain.RatingLevel{}
	for c, l := range b.Scores {
		scores[c] = l
	}
	scores[domain.CriterionTotalTime] = level[b.resolvedVerdict(legalRule)]
	scores[domain.CriterionUnitTime] = level[b.slowestStep("")]
	return scores
}

// ratedScoresOfUnit are the scores as a unit's line counts them: criterion 2 is the unit's own
// slowest step when it has one.
func (b *dossierBook) ratedScoresOfUnit(unit string) map[domain.Criterion]domain.RatingLevel {
	scores := b.ratedScores()
	if v := b.slowestStep(unit); v != "" {
		scores[domain.CriterionUnitTime] = map[projections.Verdict]domain.RatingLevel{projections.VerdictEarly: domain.VerySatisfied,
			projections.VerdictOnTime: domain.Satisfied, projections.VerdictLate: domain.Dissatisfied}[v]
	}
	return scores
}

// slowestStep is the worst verdict on the dossier's ended steps from receipt on — the unit's only
// when unit is given.
func (b *dossierBook) slowestStep(unit string) projections.Verdict {
	slowest := projections.Verdict("")
	rank := map[projections.Verdict]int{projections.VerdictEarly: 1, projections.VerdictOnTime: 2, projections.VerdictLate: 3}
	for _, h := range b.Handovers {
		if h.Kind == projections.HandoverSubmission || h.Deadline.IsZero() || h.EndedAt.IsZero() || (unit != "" && h.To.Unit != unit) {
			continue
		}
		if v := verdictOf(h.EndedAt, h.Deadline); rank[v] > rank[slowest] {
			slowest = v
		}
	}
	return slowest
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// gradeFor is TT 01/2018 art. 15's scale, written out again for the test.
func gradeFor(average float64) projections.Grade {
	for _, g := range []struct {
		min   float64
		grade projections.Grade
	}{{15, projections.GradeExcellent}, {12, projections.GradeGood}, {9, projections.GradeFair}, {6, projections.GradeAverage}} {
		if average >= g.min {
			return g.grade
		}
	}
	return projections.GradeWeak
}

func (s *statsBook) check(t *testing.T, where string, got projections.RatingStats) {
	t.Helper()
	if got.Ratings != s.ratings || got.CompleteRatings != s.complete || got.DissatisfiedRatings != s.dissatisfied {
		t.Errorf("%s: %d ratings (%d complete, %d dissatisfied), want %d (%d, %d)", where, got.Ratings, got.CompleteRatings,
			got.DissatisfiedRatings, s.ratings, s.complete, s.dissatisfied)
	}
	var grade projections.Grade
	var average float64
	if s.complete > 0 {
		average = float64(s.totalPoints) / float64(s.complete)
		grade = gradeFor(average)
	}
	if got.AverageTotal != round2(average) || got.Grade != grade {
		t.Errorf("%s: average total %.2f (%s), want %.2f (%s)", where, got.AverageTotal, got.Grade, average, grade)
	}
	if len(got.Criteria) != len(domain.Criteria) {
		t.Fatalf("%s: %d criteria", where, len(got.Criteria))
	}
	for i, c := range domain.Criteria {
		g, levels := got.Criteria[i], s.levels[c]
		n := levels[domain.VerySatisfied] + levels[domain.Satisfied] + levels[domain.Dissatisfied]
		var avg float64
		if n > 0 {
			avg = round2(float64(2*levels[domain.VerySatisfied]+levels[domain.Satisfied]) / float64(n))
		}
		if g.Criterion != c || g.VerySatisfied != levels[domain.VerySatisfied] || g.Satisfied != levels[domain.Satisfied] ||
			g.Dissatisfied != levels[domain.Dissatisfied] || g.AverageScore != avg {
			t.Errorf("%s: criterion %s: %+v, want %v (avg %.2f)", where, c, g, levels, avg)
		}
	}
}

func checkGroups(t *testing.T, where string, got []projections.SatisfactionGroup, want map[string]*statsBook) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d groups, want %d", where, len(got), len(want))
	}
	for _, g := range got {
		w, ok := want[g.Key]
		if !ok {
			t.Errorf("%s: unexpected group %s", where, g.Key)
			continue
		}
		w.check(t, where+" "+g.Key, g.RatingStats)
	}
}

// digitisationFacts are what the raw events say of a dossier's files: the components as the domain
// records them, those carrying a file, the results carrying theirs, and its first result.
type digitisationFacts struct {
	components, filed, resultFiled map[string]bool
	firstResult                    string
	firstResultAt                  time.Time
}

// digitisationFromEvents reads every dossier's files from the raw log, decoding each event itself.
func digitisationFromEvents(t *testing.T, s *scenario) map[string]*digitisationFacts {
	t.Helper()
	facts := map[string]*digitisationFacts{}
	for _, re := range s.log(t) {
		if !domain.IsDossierEvent(re.Type) {
			continue
		}
		e, err := domain.DecodeEvent(re.Type, re.Data)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(re.Stream, "dossier-")
		f := facts[id]
		if f == nil {
			f = &digitisationFacts{components: map[string]bool{}, filed: map[string]bool{}, resultFiled: map[string]bool{}}
			facts[id] = f
		}
		names := func(cs []domain.Component) map[string]bool {
			out := map[string]bool{}
			for _, c := range cs {
				out[c.Name] = true
			}
			return out
		}
		switch e := e.(type) {
		case domain.Submitted:
			f.components = names(e.Components)
		case domain.Received:
			f.components = names(e.Components)
		case domain.Supplemented:
			for name := range names(e.Components) {
				f.components[name] = true
			}
		case domain.DocumentAttached:
			if e.ResultCode != "" {
				f.resultFiled[e.ResultCode] = true
			} else {
				f.filed[e.Component] = true
			}
		case domain.ResultReady:
			if f.firstResult == "" {
				f.firstResult, f.firstResultAt = e.ResultCode, e.ReadyAt
			}
		}
	}
	return facts
}

// allFiled: every component carries a file.
func (f *digitisationFacts) allFiled() bool {
	for c := range f.components {
		if !f.filed[c] {
			return false
		}
	}
	return len(f.components) > 0
}

func checkSatisfaction(t *testing.T, s *scenario) {
	ctx := context.Background()
	files := digitisationFromEvents(t, s)
	periods := scenarioPeriods()
	// The counters sum whole months and edge days, or a month less the days left out: periods
	// made of days on both sides of a month, of edge days around whole months, of most of a month.
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, domain.VietnamTime) }
	periods["31-march-to-1-april"] = projections.Period{From: day(3, 31), To: day(4, 2)}
	periods["15-march-to-5-may"] = projections.Period{From: day(3, 15), To: day(5, 6)}
	periods["2-to-28-april"] = projections.Period{From: day(4, 2), To: day(4, 29)} // April less days at both ends
	feedback := tallyFeedback(t, s)
	for _, name := range sortedKeys(periods) {
		period := periods[name]
		for _, agency := range scenarioAgencies {
			where := fmt.Sprintf("%s, agency %q", name, agency)
			complained := feedback.expected(agency, period, s.End).ComplainedDossiers
			report, err := projections.SatisfactionOf(ctx, s.db, scenarioScope(agency), period)
			if err != nil {
				t.Fatal(err)
			}
			var overall statsBook
			groups := map[string]map[string]*statsBook{"agency": {}, "department": {}, "procedure": {}, "official": {}, "month": {}}
			add := func(kind, key string, scores map[domain.Criterion]domain.RatingLevel) {
				if groups[kind][key] == nil {
					groups[kind][key] = &statsBook{}
				}
				groups[kind][key].add(scores)
			}
			var dissatisfiedResolved, paid, paidOnline int
			var resulted, resultFiles, allFiles, componentFiles int
			for _, b := range s.Books {
				if !b.visibleTo(agency) {
					continue
				}
				if f := files[b.ID]; f != nil && f.firstResult != "" && period.Contains(f.firstResultAt) {
					resulted++
					if f.resultFiled[f.firstResult] {
						resultFiles++
					}
					if f.allFiled() {
						componentFiles++
					}
					if f.resultFiled[f.firstResult] && f.allFiled() {
						allFiles++
					}
				}
				if period.Contains(b.FirstPaidAt) {
					paid++
					if b.PaidOnline {
						paidOnline++
					}
				}
				if period.Contains(b.ResolvedAt) && b.Scores != nil {
					for c, level := range b.Scores {
						if level == domain.Dissatisfied && c != domain.CriterionTotalTime && c != domain.CriterionUnitTime {
							dissatisfiedResolved++
							break
						}
					}
				}
				if !period.Contains(b.RatedAt) {
					continue
				}
				scores := b.ratedScores()
				overall.add(scores)
				add("agency", b.CompetentAgency, scores)
				add("procedure", b.Procedure.Code, scores)
				add("month", b.RatedAt.In(domain.VietnamTime).Format("2006-01"), scores)
				for unit := range b.Units {
					add("department", unit, b.ratedScoresOfUnit(unit))
				}
				for id := range b.Officials {
					add("official", id, scores)
				}
			}
			overall.check(t, where+" overall", report.Overall)
			checkGroups(t, where+" by agency", report.ByAgency, groups["agency"])
			checkGroups(t, where+" by department", report.ByDepartment, groups["department"])
			checkGroups(t, where+" by procedure", report.ByProcedure, groups["procedure"])
			checkGroups(t, where+" by official", report.ByOfficial, groups["official"])
			checkGroups(t, where+" by month", report.ByMonth, groups["month"])

			var lines []projections.ResolutionCounts
			for _, c := range expectedResolution(s, agency, period, indicatorRule) {
				lines = append(lines, c)
			}
			r := sum(lines...)
			processed := r.ResolvedTotal + r.InProgressTotal
			late := r.ResolvedLate + r.InProgressOverdue
			rate := func(part, whole int) float64 {
				if whole == 0 {
					return 0
				}
				return round2(100 * float64(part) / float64(whole))
			}
			want := projections.Indicators766{
				Processed: processed, OnTime: r.ResolvedEarly + r.ResolvedOnTime + r.InProgressWithinTime,
				Late: late, Dissatisfied: dissatisfiedResolved,
				ReceivedInPeriod: r.ReceivedOnline + r.ReceivedInPersonOrPostal, ReceivedOnline: r.ReceivedOnline,
				PaidDossiers: paid, PaidOnline: paidOnline, ComplainedDossiers: complained,
				Resulted: resulted, ResultFiles: resultFiles, ComponentsAndResultFiles: allFiles, ComponentFiles: componentFiles,
			}
			want.ResultFileRate, want.ComponentsAndResultRate, want.DigitisedRate = rate(resultFiles, resulted), rate(allFiles, resulted), rate(componentFiles, resulted)
			want.OnTimeRate, want.LateRate, want.DissatisfiedShare = rate(want.OnTime, processed), rate(late, processed), rate(dissatisfiedResolved, processed)
			want.ComplaintShare = rate(complained, processed)
			if processed > 0 {
				unsatisfied := min(processed, dissatisfiedResolved+complained)
				want.SatisfactionRate = round2(math.Max(0, 100-100*float64(late+unsatisfied)/float64(processed)))
			}
			want.OnlineDossierRate, want.OnlinePaymentRate = rate(r.ReceivedOnline, want.ReceivedInPeriod), rate(paidOnline, paid)
			got := report.Indicators
			if len(got.NotComputed) == 0 {
				t.Errorf("%s: the indicators we cannot compute are not listed", where)
			}
			got.NotComputed = nil
			// The group 5 indicators are checked against the raw events by checkFeedback.
			if len(got.Feedback) != 4 {
				t.Errorf("%s: group 5 indicators %+v", where, got.Feedback)
			}
			got.Feedback = nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("%s: indicators\n got %+v\nwant %+v", where, got, want)
			}
			if name == "april" && agency == "" {
				t.Logf("April, all agencies: %d ratings, average total %.2f (%s); on time %.2f%%, satisfaction %.2f%%, online %.2f%%, paid online %.2f%%",
					report.Overall.Ratings, report.Overall.AverageTotal, report.Overall.Grade, got.OnTimeRate, got.SatisfactionRate,
					got.OnlineDossierRate, got.OnlinePaymentRate)
				t.Logf("April, all agencies: digitisation 4.1 %.2f%%, 4.2 %.2f%%, 4.3 %.2f%% of %d dossiers with a result",
					got.ResultFileRate, got.ComponentsAndResultRate, got.DigitisedRate, got.Resulted)
				if got.ResultFiles == 0 || got.ResultFiles == got.Resulted || got.ComponentFiles == 0 || got.ComponentFiles == got.Resulted ||
					got.ComponentsAndResultFiles == 0 || got.ComponentsAndResultFiles == min(got.ResultFiles, got.ComponentFiles) {
					t.Error("April's dossiers do not mix results with and without files, components filed or not: the digitisation indicators are not exercised")
				}
				if report.Overall.Ratings == 0 || report.Overall.CompleteRatings == report.Overall.Ratings || got.Dissatisfied == 0 || got.PaidOnline == 0 {
					t.Error("April's statistics lack partial ratings, dissatisfied dossiers or online payments; the scenario does not exercise them")
				}
			}
		}
	}
}

func TestGradeOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		average float64
		want    projections.Grade
		label   string
	}{
		{18, projections.GradeExcellent, "Xuất sắc"}, {15, projections.GradeExcellent, "Xuất sắc"}, {14.99, projections.GradeGood, "Tốt"},
		{12, projections.GradeGood, "Tốt"}, {11.5, projections.GradeFair, "Khá"}, {9, projections.GradeFair, "Khá"},
		{8.99, projections.GradeAverage, "Trung bình"}, {6, projections.GradeAverage, "Trung bình"}, {5.99, projections.GradeWeak, "Yếu"},
		{0, projections.GradeWeak, "Yếu"},
	} {
		if got := projections.GradeOf(c.average); got != c.want || l10n.VI.Grade(string(got)) != c.label {
			t.Errorf("GradeOf(%v) = %s (%s), want %s (%s)", c.average, got, l10n.VI.Grade(string(got)), c.want, c.label)
		}
	}
}

// TestSatisfactionScoresTimeFromTheFacts checks that TT 01/2018 art. 13's two time criteria are
// scored from what happened — early 2, on time 1, late 0 — whatever the applicant answered on them:
// neither the applicant's answers nor a factual 0 make a rating dissatisfied.
func TestSatisfactionScoresTimeFromTheFacts(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	ctx := context.Background()
	// Tuesday 3 March 2026, 08:00: two 3-day dossiers received, due Friday 6 March 08:00.
	h.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, domain.VietnamTime)
	late, early := h.receive(t), h.receive(t)
	// The second is resolved the same afternoon; the first on Monday 9 March, its 12-hour
	// appraisal step overrun by days.
	h.clock = time.Date(2026, 3, 3, 14, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, early)
	h.clock = time.Date(2026, 3, 9, 9, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, late)
	h.clock = time.Date(2026, 3, 10, 9, 0, 0, 0, domain.VietnamTime)
	h.do(t, late, h.desk, commands.ReturnResultInput{Channel: domain.ChannelDirect})
	h.do(t, early, h.desk, commands.ReturnResultInput{Channel: domain.ChannelDirect})
	// The applicant of the late one is very satisfied with everything, time included; the early
	// one's applicant is only satisfied with the total time and dissatisfied with the units' time.
	rate := func(b *dossierBook, totalTime, unitTime domain.RatingLevel) {
		scores := map[domain.Criterion]domain.RatingLevel{}
		for _, c := range domain.Criteria {
			scores[c] = domain.VerySatisfied
		}
		scores[domain.CriterionTotalTime], scores[domain.CriterionUnitTime] = totalTime, unitTime
		if _, err := h.app.Rate(ctx, b.Code, commands.RateInput{Secret: b.Secret, Scores: scores}); err != nil {
			t.Fatal(err)
		}
	}
	h.clock = h.clock.Add(time.Hour)
	rate(late, domain.VerySatisfied, domain.VerySatisfied)
	rate(early, domain.Satisfied, domain.Dissatisfied)
	h.feed(t, projections.SatisfactionView{}, projections.FeedbackView{}, projections.ResolutionReportView{}, projections.ProcessControlView{})

	// The unit-time criterion is the slowest step on the control sheet: the early dossier's
	// reception step ended on its deadline's day (on time), the late one's appraisal late.
	slowest := func(b *dossierBook) projections.Verdict {
		sheet, err := projections.ControlSheetOf(ctx, h.db, b.Code, h.cal, h.clock)
		if err != nil {
			t.Fatal(err)
		}
		worst, rank := projections.Verdict(""), map[projections.Verdict]int{projections.VerdictEarly: 1, projections.VerdictOnTime: 2, projections.VerdictLate: 3}
		for _, ho := range sheet.Handovers {
			if rank[ho.Verdict] > rank[worst] {
				worst = ho.Verdict
			}
		}
		return worst
	}
	if slowest(early) != projections.VerdictOnTime || slowest(late) != projections.VerdictLate {
		t.Fatalf("slowest steps: early dossier %s, late dossier %s; the history does not test what it should", slowest(early), slowest(late))
	}
	report, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice), secondWeekOfMarch)
	if err != nil {
		t.Fatal(err)
	}
	o := report.Overall
	total, unit := o.Criteria[0], o.Criteria[1]
	if total.Criterion != domain.CriterionTotalTime || total.VerySatisfied != 1 || total.Dissatisfied != 1 || total.Satisfied != 0 {
		t.Errorf("total time: %+v, want one early (2) and one late (0)", total)
	}
	if unit.Criterion != domain.CriterionUnitTime || unit.Satisfied != 1 || unit.Dissatisfied != 1 || unit.VerySatisfied != 0 {
		t.Errorf("unit time: %+v, want one on time (1) and one late (0)", unit)
	}
	// Late: 7×2 + 0 + 0 = 14; early: 7×2 + 2 + 1 = 17.
	if o.Ratings != 2 || o.CompleteRatings != 2 || o.DissatisfiedRatings != 0 || o.AverageTotal != 15.5 {
		t.Errorf("overall: %d ratings (%d complete, %d dissatisfied), average %.2f; want 2 (2, 0), 15.5", o.Ratings, o.CompleteRatings,
			o.DissatisfiedRatings, o.AverageTotal)
	}
	// A department's line scores criterion 2 by its own steps: the appraisal unit overran on the
	// late dossier; the signing board handed that one on the day its step was due (on time).
	departments := map[string]projections.CriterionStats{}
	for _, g := range report.ByDepartment {
		departments[g.Key] = g.Criteria[1]
	}
	if c := departments["TP.HCTP"]; c.VerySatisfied != 1 || c.Satisfied != 0 || c.Dissatisfied != 1 {
		t.Errorf("appraisal unit's own time: %+v, want one early and one late", c)
	}
	if c := departments["TP.BGD"]; c.VerySatisfied != 1 || c.Satisfied != 1 || c.Dissatisfied != 0 {
		t.Errorf("signing board's own time: %+v, want one early and one on time", c)
	}
	if in := report.Indicators; in.Dissatisfied != 0 || in.Late != 1 {
		t.Errorf("QĐ 766: %d dissatisfied, %d late; want 0 and 1", in.Dissatisfied, in.Late)
	}
}

// TestSatisfactionCountsARatingOnItsVietnamDay checks that the counters file a rating under the
// Vietnam civil day it was given — a rating at 06:00 on 1 April is still 31 March in UTC — and that
// a period sums exactly its days, whether they make whole months, edge days or both.
func TestSatisfactionCountsARatingOnItsVietnamDay(t *testing.T) {
	t.Parallel()
	h := newHandBuilt(t)
	ctx := context.Background()
	h.clock = time.Date(2026, 3, 24, 8, 0, 0, 0, domain.VietnamTime)
	endOfMarch, startOfApril := h.receive(t), h.receive(t)
	h.clock = time.Date(2026, 3, 25, 9, 0, 0, 0, domain.VietnamTime)
	h.resolve(t, endOfMarch)
	h.resolve(t, startOfApril)
	h.do(t, endOfMarch, h.desk, commands.ReturnResultInput{Channel: domain.ChannelDirect})
	h.do(t, startOfApril, h.desk, commands.ReturnResultInput{Channel: domain.ChannelDirect})
	rate := func(b *dossierBook, at time.Time) {
		h.clock = at
		if _, err := h.app.Rate(ctx, b.Code, commands.RateInput{Secret: b.Secret, Scores: map[domain.Criterion]domain.RatingLevel{
			domain.CriterionStaffAttitude: domain.VerySatisfied}}); err != nil {
			t.Fatal(err)
		}
	}
	rate(endOfMarch, time.Date(2026, 3, 31, 23, 59, 0, 0, domain.VietnamTime))
	rate(startOfApril, time.Date(2026, 4, 1, 6, 0, 0, 0, domain.VietnamTime)) // 31 March, 23:00 UTC
	// No process-control tables: a department's line comes from the satisfaction view's own counters.
	h.feed(t, projections.SatisfactionView{}, projections.FeedbackView{}, projections.ResolutionReportView{})

	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, domain.VietnamTime) }
	for _, c := range []struct {
		name   string
		period projections.Period
		months []string
	}{
		{"March", projections.Period{From: day(3, 1), To: day(4, 1)}, []string{"2026-03"}},
		{"April", projections.Period{From: day(4, 1), To: day(5, 1)}, []string{"2026-04"}},
		{"31 March", projections.Period{From: day(3, 31), To: day(4, 1)}, []string{"2026-03"}},
		{"1 April", projections.Period{From: day(4, 1), To: day(4, 2)}, []string{"2026-04"}},
		{"31 March to 1 April", projections.Period{From: day(3, 31), To: day(4, 2)}, []string{"2026-03", "2026-04"}},
		{"March and 1 April", projections.Period{From: day(3, 1), To: day(4, 2)}, []string{"2026-03", "2026-04"}},
		{"31 March and April", projections.Period{From: day(3, 31), To: day(5, 1)}, []string{"2026-03", "2026-04"}},
		{"15 March to 15 April", projections.Period{From: day(3, 15), To: day(4, 16)}, []string{"2026-03", "2026-04"}},
		{"February to May", projections.Period{From: day(2, 1), To: day(6, 1)}, []string{"2026-03", "2026-04"}},
		{"2 April on", projections.Period{From: day(4, 2), To: day(6, 1)}, nil},
		// Most of a month: its month row less the days left out.
		{"2 to 30 March", projections.Period{From: day(3, 2), To: day(3, 31)}, nil},
		{"2 to 31 March", projections.Period{From: day(3, 2), To: day(4, 1)}, []string{"2026-03"}},
		{"1 to 29 April", projections.Period{From: day(4, 1), To: day(4, 30)}, []string{"2026-04"}},
		{"2 to 30 April", projections.Period{From: day(4, 2), To: day(5, 1)}, nil},
	} {
		report, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice), c.period)
		if err != nil {
			t.Fatal(err)
		}
		var months []string
		for _, m := range report.ByMonth {
			if m.Ratings != 1 {
				t.Errorf("%s: %d ratings in %s, want 1", c.name, m.Ratings, m.Key)
			}
			months = append(months, m.Key)
		}
		if fmt.Sprint(months) != fmt.Sprint(c.months) || report.Overall.Ratings != len(c.months) {
			t.Errorf("%s: %d ratings in months %v, want %v", c.name, report.Overall.Ratings, months, c.months)
		}
		lines := map[string]int{}
		for _, g := range report.ByDepartment {
			lines[g.Key] = g.Ratings
		}
		for _, g := range report.ByOfficial {
			lines[g.Key] = g.Ratings
		}
		for _, key := range []string{"TP.HCTP", "TP.BGD", h.desk.ID, h.specialist.ID, h.signer.ID} {
			if lines[key] != len(c.months) {
				t.Errorf("%s: %s's line has %d ratings, want %d", c.name, key, lines[key], len(c.months))
			}
		}
	}
	// The counters count whole civil days: a period cut inside a day is refused, not rounded.
	if _, err := projections.SatisfactionOf(ctx, h.db, projections.OneAgency(justice),
		projections.Period{From: day(3, 31).Add(12 * time.Hour), To: day(4, 2)}); err == nil {
		t.Error("a period starting at noon was answered")
	}
}
